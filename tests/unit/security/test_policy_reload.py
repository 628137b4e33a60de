"""Policies are files a force edits: a change applies without a restart; a broken edit changes nothing."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from polestar.config import HubConfig
from polestar.security import Principal, Resource, SecurityService
from polestar.security import service as service_module

BUILT_IN = Path(service_module.__file__).parent / "policies"


def _touch_later(path: Path, text: str) -> None:
    path.write_text(text)
    later = time.time() + 5
    os.utime(path, (later, later))


async def test_an_edited_policy_applies_without_a_restart_and_a_broken_edit_is_ignored(
    tmp_path, monkeypatch
) -> None:
    policies = tmp_path / "policy"
    shutil.copytree(BUILT_IN, policies)
    monkeypatch.setattr(service_module, "POLICY_RELOAD_SECONDS", 0.0)
    security = SecurityService(HubConfig(data_dir=tmp_path, security={"policy_dir": policies}))
    await security.start()
    auditor = Principal(subject="user:aud1", roles=frozenset({"auditor"}))
    stats = Resource.api("/bus/stats")
    assert not (await security.decide(auditor, "bus.read", stats)).allowed

    extra = (
        '@id("auditors-see-bus-stats")\n'
        'permit (principal in Role::"auditor", action == Action::"bus.read", resource);\n'
    )
    _touch_later(policies / "local.cedar", extra)
    decision = await security.decide(auditor, "bus.read", stats)
    assert decision.allowed
    assert decision.policies == ("auditors-see-bus-stats",)

    (policies / "broken.cedar").write_text("permit (principal")
    assert (await security.decide(auditor, "bus.read", stats)).allowed
