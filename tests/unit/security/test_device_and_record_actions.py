"""Built-in policy for devices, search, pre-fill and review; device-bound tokens; screening results."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from polestar.audit import AuditEntry, Outcome
from polestar.config import HubConfig
from polestar.security import (
    AuthenticationFailed,
    PolicyEngine,
    Principal,
    PurposeRequired,
    Resource,
    SecurityConfig,
    SecurityService,
    SigningKeys,
    TokenVerifier,
    mint,
)
from polestar.security.keys import ALGORITHM

CLAIMS = {"issuer": "polestar", "audience": "polestar-api"}


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.load()


def _caller(
    *roles: str, device: str | None = None, clearance: str = "OFFICIAL-SENSITIVE [PERSONAL]"
) -> Principal:
    return Principal.model_validate(
        {"subject": "user:pc1", "roles": roles, "device": device, "clearance": clearance}
    )


def test_an_officer_reads_only_the_feed_of_the_device_their_token_is_bound_to(engine: PolicyEngine) -> None:
    officer = _caller("officer", device="IVMA-CX21")
    assert engine.decide(officer, "device.read", Resource.device("IVMA-CX21")).allowed
    assert engine.decide(officer, "device.status", Resource.device("IVMA-CX21")).allowed
    other = engine.decide(officer, "device.read", Resource.device("IVMA-CX22"))
    assert not other.allowed
    assert other.policies == ("default-deny",)
    unbound = _caller("officer")
    assert not engine.decide(unbound, "device.read", Resource.device("IVMA-CX21")).allowed
    assert engine.decide(_caller("operator"), "device.read", Resource.device("IVMA-CX22")).allowed
    assert not engine.decide(_caller("operator"), "device.status", Resource.device("IVMA-CX22")).allowed


def test_officers_check_search_and_prefill_and_reviewers_decide(engine: PolicyEngine) -> None:
    api = Resource.api("/x")
    officer, reviewer, auditor = _caller("officer"), _caller("reviewer"), _caller("auditor")
    for action in ("device.check", "record.search", "record.prefill", "record.read"):
        assert engine.decide(officer, action, api, purpose="roadside check").allowed, action
        assert not engine.decide(auditor, action, api, purpose="roadside check").allowed, action
    for action in ("review.read", "review.decide", "record.merge"):
        assert engine.decide(reviewer, action, api).allowed, action
        assert not engine.decide(officer, action, api).allowed, action
    assert engine.decide(officer, "record.prefill", api).needs_purpose


def test_a_record_above_clearance_or_lacking_a_caveat_is_refused_whatever_the_role(
    engine: PolicyEngine,
) -> None:
    officer = _caller("officer")
    secret = Resource.record({"id": "p5", "marking": "SECRET"})
    eyes = Resource.record({"id": "p6", "marking": "OFFICIAL [UK EYES ONLY]"})
    assert engine.decide(officer, "record.search", secret, purpose="x").policies == (
        "clearance-must-cover-the-marking",
    )
    assert engine.decide(officer, "record.search", eyes, purpose="x").policies == (
        "every-handling-caveat-must-be-held",
    )
    admin = _caller("admin", clearance="TOP SECRET")
    assert not engine.decide(admin, "record.read", eyes, purpose="x").allowed


async def test_a_token_carries_the_device_it_is_bound_to() -> None:
    keys = SigningKeys.generate()
    verifier = TokenVerifier(SecurityConfig(), local=keys)
    bound = await verifier.verify(mint(keys, subject="user:PC1", device="IVMA-CX21", **CLAIMS))
    assert (bound.person, bound.device) == ("PC1", "IVMA-CX21")
    itself = await verifier.verify(mint(keys, subject="device:TAB-0042", **CLAIMS))
    assert (itself.person, itself.device) == (None, "TAB-0042")
    forged = jwt.encode(
        {
            **(jwt.decode(mint(keys, subject="user:PC1", **CLAIMS), options={"verify_signature": False})),
            "device": 7,
        },
        keys.private_key,
        algorithm=ALGORITHM,
        headers={"kid": keys.kid},
    )
    with pytest.raises(AuthenticationFailed, match="'device' claim"):
        await verifier.verify(forged)
    with pytest.raises(AuthenticationFailed, match="device"):
        await verifier.verify(mint(keys, subject="user:PC1", device="no spaces allowed", **CLAIMS))


async def test_screening_a_result_list_keeps_what_may_be_seen_and_records_each_outcome_once(
    tmp_path: Path,
) -> None:
    recorded: list[AuditEntry] = []

    async def record(entry: AuditEntry) -> None:
        recorded.append(entry)

    security = SecurityService(HubConfig(data_dir=tmp_path), record=record)
    await security.start()
    officer = _caller("officer")
    records = [
        Resource.record({"id": "p1", "marking": "OFFICIAL"}),
        Resource.record({"id": "p2", "marking": "OFFICIAL-SENSITIVE [PERSONAL]"}),
        Resource.record({"id": "p5", "marking": "SECRET"}),
        Resource.record({"id": "p9", "marking": "not a marking"}),
    ]
    shown = await security.screen(officer, "record.search", records, purpose="roadside check")
    assert shown == {"p1", "p2"}
    # One entry per outcome and deciding policies: an unreadable marking is refused on two counts.
    outcomes = {(e.outcome, tuple(e.record_ids), tuple(e.details["policies"])) for e in recorded}
    assert outcomes == {
        (Outcome.SUCCEEDED, ("p1", "p2"), ("officers-check-search-and-submit",)),
        (Outcome.REFUSED, ("p5",), ("clearance-must-cover-the-marking",)),
        (
            Outcome.REFUSED,
            ("p9",),
            ("clearance-must-cover-the-marking", "every-handling-caveat-must-be-held"),
        ),
    }
    with pytest.raises(PurposeRequired):
        await security.screen(officer, "record.search", records[:1])
