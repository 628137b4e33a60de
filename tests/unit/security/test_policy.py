"""Authorisation by the Cedar policies: roles, clearance against markings, caveats, purpose, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from polestar.errors import ConfigError
from polestar.model.marking import ProtectiveMarking
from polestar.security import PolicyEngine, Principal, Resource
from polestar.security.policy import DEFAULT_DENY, EVALUATION_ERROR
from polestar.security.redaction import redact

PURPOSE = "roadside check"


def caller(clearance: str = "OFFICIAL", *roles: str, subject: str = "user:pc1234") -> Principal:
    return Principal(
        subject=subject, roles=frozenset(roles or {"officer"}), clearance=ProtectiveMarking.parse(clearance)
    )


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.load()


@pytest.mark.parametrize(
    ("clearance", "marking", "allowed"),
    [
        ("OFFICIAL", "OFFICIAL", True),
        ("OFFICIAL", "OFFICIAL-SENSITIVE", False),
        ("OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE", True),
        ("OFFICIAL-SENSITIVE", "SECRET", False),
        ("SECRET", "OFFICIAL-SENSITIVE", True),
        ("SECRET", "TOP SECRET", False),
        ("TOP SECRET", "SECRET", True),
    ],
)
def test_a_caller_never_reads_a_record_marked_above_its_clearance(
    engine, clearance, marking, allowed
) -> None:
    record = {"id": "person-1", "marking": marking}
    decision = engine.decide(caller(clearance), "record.read", Resource.record(record), purpose=PURPOSE)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.policies[0] in {
            "clearance-must-cover-the-marking",
            "official-sensitive-needs-sensitive-clearance",
        }


def test_a_caller_needs_every_handling_caveat_of_the_record(engine) -> None:
    record = {"id": "int-7", "marking": "SECRET [UK EYES ONLY, PERSONAL]"}
    partial = engine.decide(
        caller("SECRET [PERSONAL]"), "record.read", Resource.record(record), purpose=PURPOSE
    )
    assert not partial.allowed
    assert partial.policies == ("every-handling-caveat-must-be-held",)
    full = engine.decide(
        caller("TOP SECRET [PERSONAL, UK EYES ONLY]"), "record.read", Resource.record(record), purpose=PURPOSE
    )
    assert full.allowed
    assert full.policies == ("officers-check-search-and-submit",)


def test_reading_personal_data_without_a_purpose_is_refused_for_want_of_one(engine) -> None:
    decision = engine.decide(caller(), "record.read", Resource.record({"id": "p"}), purpose="  ")
    assert not decision.allowed
    assert decision.needs_purpose
    assert decision.policies == ("purpose-required-to-read-personal-data",)


def test_roles_decide_what_a_caller_may_do_and_nothing_is_allowed_by_default(engine) -> None:
    api = Resource.api("/bus/stats", "/bus/stats")
    assert engine.decide(caller("OFFICIAL", "operator"), "bus.read", api).allowed
    refused = engine.decide(caller("OFFICIAL", "officer"), "bus.read", api)
    assert not refused.allowed
    assert refused.policies == (DEFAULT_DENY,)
    assert not engine.decide(caller("OFFICIAL", "nobody"), "record.read", api, purpose=PURPOSE).allowed
    assert engine.decide(caller("OFFICIAL", "system"), "ingest", Resource.api("/ingest/cad")).allowed


def test_an_unreadable_marking_is_treated_as_the_most_restricted(engine) -> None:
    record = {"id": "odd", "marking": "RESTRICTED"}
    assert not engine.decide(
        caller("TOP SECRET"), "record.read", Resource.record(record), purpose=PURPOSE
    ).allowed


PERSON = {
    "id": "person-1",
    "name": {"given": "Sam", "family": "Okafor"},
    "date_of_birth": {"value": "1990-01-02"},
    "identifiers": [{"type": "PNC", "value": "2001/0012345X"}],
    "description": {"height_cm": 180, "ethnic_appearance": "W1"},
    "contact_points": [{"kind": "phone", "number": "+447700900123"}],
}


def test_field_redaction_hides_special_category_data_from_officers(engine) -> None:
    shown, removed = redact(engine, caller("OFFICIAL", "officer"), PERSON)
    assert removed == ["description.ethnic_appearance"]
    assert shown["description"] == {"height_cm": 180}
    assert shown["identifiers"] == PERSON["identifiers"]


def test_field_redaction_shows_investigators_everything(engine) -> None:
    shown, removed = redact(engine, caller("OFFICIAL", "investigator"), PERSON)
    assert removed == []
    assert shown == PERSON


def test_field_redaction_hides_identifiers_and_contacts_from_partners(engine) -> None:
    shown, removed = redact(engine, caller("OFFICIAL", "partner", subject="system:probation"), PERSON)
    assert set(removed) == {"date_of_birth", "identifiers", "description.ethnic_appearance", "contact_points"}
    assert shown == {"id": "person-1", "name": PERSON["name"], "description": {"height_cm": 180}}


def test_a_policy_that_fails_to_evaluate_denies(tmp_path: Path) -> None:
    (tmp_path / "policy.cedar").write_text(
        '@id("everyone")\npermit (principal, action, resource);\n'
        '@id("overflows")\nforbid (principal, action, resource)\n'
        "when { principal.clearance + 9223372036854775807 > 0 };\n"
    )
    engine = PolicyEngine.load(tmp_path)
    decision = engine.decide(caller("SECRET"), "record.read", Resource.api("/x"), purpose=PURPOSE)
    assert not decision.allowed
    assert EVALUATION_ERROR in decision.policies


def test_a_misspelt_attribute_or_unknown_action_is_refused_at_load_naming_file_and_policy(
    tmp_path: Path,
) -> None:
    (tmp_path / "local.cedar").write_text(
        '@id("typo")\nforbid (principal, action, resource) when { principal.clerance > 1 };\n'
        '@id("new-action")\npermit (principal, action == Action::"store.wipe", resource);\n'
    )
    with pytest.raises(ConfigError) as caught:
        PolicyEngine.load(tmp_path)
    problems = dict(caught.value.problems)
    assert "clerance" in problems[f"{tmp_path / 'local.cedar'} policy typo"]
    assert "unable to find an applicable action" in problems[f"{tmp_path / 'local.cedar'} policy new-action"]


def test_a_policy_file_that_does_not_parse_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.cedar").write_text("permit (principal, action resource);")
    with pytest.raises(ConfigError) as caught:
        PolicyEngine.load(tmp_path)
    assert "broken.cedar" in caught.value.problems[0][0]


def test_an_empty_policy_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nothing would be allowed"):
        PolicyEngine.load(tmp_path)
