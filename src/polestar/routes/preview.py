"""``polestar routes test``: run a route's steps on a sample event without sending anything.

Steps that would talk to another system (``enrich``, ``wiretap``) and the
``throttle`` are shown but not run; an ``aggregate`` completes at once with
the one message. Outputs show what would be sent: the connector, content type
and encoded body, or the subject and the event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from polestar.model.envelope import Envelope
from polestar.routes.loader import IntegrationConfig
from polestar.routes.pipeline import Resources, Routed, build_pipeline
from polestar.routes.runner import verdict


class StepPreview(BaseModel):
    """What one step made of what it was given."""

    model_config = ConfigDict(extra="forbid")

    index: int
    step: str
    given: int = Field(description="Envelopes the step received.")
    produced: list[dict[str, Any]] = Field(description="Envelopes it returned (empty: filtered).")
    note: str | None = Field(default=None, description="Why the step was not really run.")


class OutputPreview(BaseModel):
    """What would be sent to one output."""

    model_config = ConfigDict(extra="forbid")

    output: str
    to: str = Field(description="`connector NAME` or `subject NAME`.")
    would_send: dict[str, Any]


class RoutePreview(BaseModel):
    """The whole dry run of a route on one event."""

    model_config = ConfigDict(extra="forbid")

    route: str
    steps: list[StepPreview]
    outputs: list[OutputPreview]
    failure: str | None = Field(default=None, description="What the route would do with the message instead.")


async def preview_route(config: IntegrationConfig, name: str, envelope: Envelope) -> RoutePreview:
    """Run route ``name`` of ``config`` on ``envelope``, sending nothing; ``KeyError`` if no such route."""
    route = config.routes[name]
    resources = Resources(mappings=config.mappings, connectors=config.connectors, preview=True)
    pipeline = build_pipeline(route, resources)
    preview = RoutePreview(route=name, steps=[], outputs=[])
    routed = Routed()
    try:
        await pipeline.process(envelope, trace=True, into=routed)
        for item, names in routed.deliveries:
            for output_name in names:
                output = pipeline.outputs[output_name]
                preview.outputs.append(
                    OutputPreview(output=output_name, to=output.describe(), would_send=output.preview(item))
                )
    except Exception as exc:  # noqa: BLE001 - the dry run reports what the route would do
        decided = verdict(exc, attempt=1, spec=route.consumer_spec())
        preview.failure = f"{decided.action.value}: {decided.reason}"
    preview.steps = [
        StepPreview(
            index=t.index,
            step=t.kind,
            given=t.given,
            produced=[e.model_dump(mode="json", exclude_none=True) for e in t.produced],
            note=t.note,
        )
        for t in routed.trace
    ]
    return preview
