"""Hubs wired to the PNC and CAD simulators with only the device gateway's integration files.

The force's own ``polestar.yaml`` with its devices, PNC and CAD files, the
code lists they use and the agreements for PNC and CAD, run by
``running_force``. Authentication and agreements are on, as in production: a
device carries its officer's token, bound to the device (``device_token``).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml
from fastapi import FastAPI

from polestar.api import create_app
from polestar.audit import AuditLog
from polestar.config import HubConfig
from polestar.demo.force_config import FORCE_EXAMPLE_DIR
from polestar.security import issue_token
from polestar.sims import pnc
from polestar.sims.serving import serve
from polestar.sims.synthetic import World

GATEWAY_FILES = (
    "connectors/pnc.yaml",
    "connectors/cad.yaml",
    "mappings/cad.yaml",
    "mappings/codes.yaml",
    "routes/cad.yaml",
    "devices/gateway.yaml",
    "agreements/pnc.yaml",
    "agreements/cad.yaml",
)
OFFICER_CLEARANCE = "OFFICIAL-SENSITIVE [PERSONAL]"


def gateway_example(folder: Path, *, gateway: str | None = None) -> Path:
    """A copy of examples/force with only the gateway's files (``gateway`` replaces its YAML)."""
    config = yaml.safe_load((FORCE_EXAMPLE_DIR / "polestar.yaml").read_text(encoding="utf-8"))
    folder.mkdir(parents=True)
    (folder / "polestar.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    for name in GATEWAY_FILES:
        target = folder / "integration" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FORCE_EXAMPLE_DIR / "integration" / name, target)
    if gateway is not None:
        (folder / "integration" / "devices" / "gateway.yaml").write_text(gateway, encoding="utf-8")
    return folder


@dataclass
class CheckingHub:
    """A hub (in this process) whose gateway asks a real PNC simulator over HTTP."""

    app: FastAPI
    client: httpx.AsyncClient
    pnc_url: str
    pnc: httpx.AsyncClient

    async def outage(self, on: bool) -> None:
        """Take the PNC simulator down, or bring it back."""
        answer = await self.pnc.post(f"{self.pnc_url}/_sim/outage", json={"on": on})
        answer.raise_for_status()

    def audit(self) -> AuditLog:
        """The hub's audit log."""
        log = self.app.state.hub.audit.log
        assert isinstance(log, AuditLog)
        return log


DEVICE_HEADERS = {"X-Device-Id": "TAB-0042", "X-Officer-Id": "PC4471"}


def device_token(
    config: HubConfig, officer: str, device: str, *, roles: tuple[str, ...] = ("officer",)
) -> str:
    """A token for ``officer`` signed in on ``device``, as the force's sign-on would issue it."""
    return issue_token(
        config, subject=f"user:{officer}", roles=roles, clearance=OFFICER_CLEARANCE, device=device
    )


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def checking_hub(
    tmp_path: Path, world: World, *, gateway: str | None = None
) -> AsyncIterator[CheckingHub]:
    """Serve the PNC simulator, start a hub with the gateway's files against it, yield both."""
    example = gateway_example(tmp_path / "example", gateway=gateway)
    async with serve(pnc.create_app(world)) as pnc_url, httpx.AsyncClient(timeout=10) as sims:
        config = HubConfig.model_validate(
            {
                "data_dir": str(tmp_path / "hub"),
                "integration_dir": str(example / "integration"),
                "bus": {"kind": "sqlite", "poll_interval": 0.02},
            }
        )
        headers = {**DEVICE_HEADERS, **bearer(device_token(config, "PC4471", "TAB-0042"))}
        variables = {"POLESTAR_SIM_PNC_URL": pnc_url, "POLESTAR_SIM_CAD_URL": "http://127.0.0.1:9"}
        app = create_app(config, integration_variables=variables)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://hub", headers=headers) as client,
        ):
            deadline = time.monotonic() + 20
            while (await client.get("/ready")).status_code != 200:
                assert time.monotonic() < deadline, (await client.get("/ready")).text
                await asyncio.sleep(0.05)
            yield CheckingHub(app=app, client=client, pnc_url=pnc_url, pnc=sims)
