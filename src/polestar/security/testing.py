"""Test doubles: tokens and clients for a hub under test, signed by the keys in its data folder.

::

    async with authorised_client(app, config) as client:       # every role, TOP SECRET, all caveats
        await client.get("/bus/stats")

Real tokens, real verification: nothing here bypasses authentication.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from polestar.security.tokens import issue_token

if TYPE_CHECKING:
    from polestar.config import HubConfig

ALL_ROLES = ("admin", "operator", "officer", "investigator", "reviewer", "auditor", "system")
"""Every built-in role: a test that is not about authorisation acts as someone allowed everything."""
FULL_CLEARANCE = "TOP SECRET [PERSONAL, SENSITIVE, UK EYES ONLY]"
DEFAULT_PURPOSE = "automated test of the hub"


def auth_headers(
    config: HubConfig,
    *,
    subject: str = "user:pc1234",
    roles: Iterable[str] = ALL_ROLES,
    clearance: str = FULL_CLEARANCE,
    ttl: float = 3600,
    purpose: str | None = None,
) -> dict[str, str]:
    """``Authorization: Bearer ...`` (and ``X-Polestar-Purpose`` when given) for ``config``'s hub."""
    token = issue_token(config, subject=subject, roles=roles, clearance=clearance, ttl=ttl)
    headers = {"Authorization": f"Bearer {token}"}
    if purpose is not None:
        headers["X-Polestar-Purpose"] = purpose
    return headers


def authorised_client(
    app: Any, config: HubConfig, *, base_url: str = "http://hub", **claims: Any
) -> httpx.AsyncClient:
    """An in-process client for ``app`` whose every request carries a token (see ``auth_headers``)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=base_url, headers=auth_headers(config, **claims)
    )


TEST_CATEGORIES = ("custody", "person", "incident", "crime", "checks", "pnc", "vehicle", "case", "stop")


def allow_flows(
    integration_dir: Path,
    recipients: Iterable[str],
    *,
    categories: Iterable[str] = TEST_CATEGORIES,
    purposes: Iterable[str] = ("automated test of the hub", "roadside check", "configured flow"),
    name: str = "test-flows",
) -> Path:
    """Write a data-sharing agreement letting ``recipients`` receive ``categories``; returns its file.

    Outbound flows need an agreement (deny by default): a test about something else writes one.
    """
    folder = integration_dir / "agreements"
    folder.mkdir(parents=True, exist_ok=True)
    agreement = {
        "name": name,
        "partner": "systems under test",
        "recipients": sorted(set(recipients)),
        "categories": list(categories),
        "purposes": list(purposes),
        "clearance": "TOP SECRET [PERSONAL, SENSITIVE, UK EYES ONLY]",
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"agreements": [agreement]}), encoding="utf-8")
    return path
