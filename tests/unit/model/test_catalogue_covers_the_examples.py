"""Every event type the example integrations publish is in the canonical catalogue.

The force in a box (``examples/force``) and the single-system examples
(``examples/integration``) are what a force copies: a type they publish and the
catalogue does not list has no documented schema, and ``polestar schema export``
leaves it out of the data dictionary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from polestar.connectors.registry import default_registry
from polestar.demo.harness import force_variables
from polestar.devices.config import load_device_config
from polestar.mapping.inbound import DeclarativeInboundMapping
from polestar.model import EVENT_TYPES
from polestar.routes.config import SubjectOutput
from polestar.routes.loader import IntegrationConfig, load_integration_config
from polestar.routes.step_config import AggregateStep, SetStep
from polestar.sims.runner import SIM_ORDER

EXAMPLES = Path(__file__).parents[3] / "examples"
FOLDERS = [EXAMPLES / "force" / "integration", EXAMPLES / "integration"]


def _loaded(folder: Path, tmp_path: Path) -> IntegrationConfig:
    sims = {name: f"http://127.0.0.1:{9000 + n}" for n, name in enumerate(SIM_ORDER)}
    variables = force_variables("http://127.0.0.1:8999", sims, tmp_path)
    return load_integration_config(folder, default_registry(), variables=variables)


def published_types(folder: Path, tmp_path: Path) -> dict[str, str]:
    """Each event type the folder's mappings, routes and device gateway publish, with where."""
    config = _loaded(folder, tmp_path)
    found: dict[str, str] = {}
    for name in config.mappings.names():
        if config.mappings.direction(name) != "inbound":
            continue
        mapping = config.mappings.inbound(name)
        if isinstance(mapping, DeclarativeInboundMapping):
            for output in mapping.outputs:
                found.setdefault(output.type, f"mapping {name}, output {output.name}")
    for name, route in config.routes.items():
        for number, step in enumerate(route.steps):
            if isinstance(step, AggregateStep) and step.type is not None:
                found.setdefault(step.type, f"route {name}, step {number} (aggregate)")
            if isinstance(step, SetStep) and "type" in step.values:
                literal = step.values["type"].strip("'` ")
                found.setdefault(literal, f"route {name}, step {number} (set type)")
        for output in route.to:
            if isinstance(output, SubjectOutput):
                found.setdefault(output.subject, f"route {name}, output {output.name or output.subject}")
    gateway = load_device_config(folder)
    if gateway is not None:
        found.setdefault(gateway.status.event_type, "devices: status.event_type")
    return found


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: str(f.relative_to(EXAMPLES)))
def test_every_event_type_the_examples_publish_is_catalogued(folder: Path, tmp_path: Path) -> None:
    published = published_types(folder, tmp_path)
    assert published, f"nothing found to check in {folder}"
    missing = {kind: where for kind, where in published.items() if kind not in EVENT_TYPES}
    assert not missing, f"published by the examples but not in polestar.model.catalogue: {missing}"


def test_the_unit_status_a_device_reports_is_catalogued_with_its_own_schema(tmp_path: Path) -> None:
    published = published_types(EXAMPLES / "force" / "integration", tmp_path)
    assert "incident.unit.status.reported" in published
    assert EVENT_TYPES["incident.unit.status.reported"].schema == "unit-status-report"
