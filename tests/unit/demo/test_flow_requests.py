"""What the flows send the hub: the token says who is acting; no header claims it any more."""

from __future__ import annotations

from pathlib import Path

import httpx

from polestar.config import HubConfig
from polestar.demo.contract import Force
from polestar.demo.flows._far_end import DeadLetterWatch, cad_sends_to_hub
from polestar.sims.synthetic import World


def _force(tmp_path: Path) -> Force:
    return Force(
        hub_url="http://hub",
        sims={"cad": "http://cad"},
        world=World.build(7, people=20, vehicles=10),
        config=HubConfig(data_dir=tmp_path),
        data_dir=tmp_path,
        token="t0ken",
    )


class Recorder:
    """The hub's and CAD's side of the conversation: every request kept, simple answers given."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/bus/dead-letters":
            return httpx.Response(200, json={"dead_letters": []})
        if request.url.path == "/_sim/events":
            return httpx.Response(200, json={"url": None, "events": []})
        return httpx.Response(200, json={})


async def test_listing_dead_letters_sends_the_token_and_no_actor_header(tmp_path: Path) -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as http:
        watch = DeadLetterWatch(_force(tmp_path), http, ["call-to-crime", "feed-to-intelligence"])
        await watch.start()
        assert await watch.new() == []
    assert len(recorder.requests) == 4
    for request in recorder.requests:
        assert request.headers["authorization"] == "Bearer t0ken"
        assert not [name for name in request.headers if name.lower() == "x-polestar-actor"]


async def test_cad_is_given_the_hubs_ingest_and_token(tmp_path: Path) -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as http:
        await cad_sends_to_hub(http, _force(tmp_path))
    hook = recorder.requests[-1]
    assert (hook.url.host, hook.url.path) == ("cad", "/_sim/webhook")
    assert hook.read() == b'{"url":"http://hub/ingest/cad","headers":{"Authorization":"Bearer t0ken"}}'
