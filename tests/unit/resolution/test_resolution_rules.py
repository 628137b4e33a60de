import pytest
from pydantic import ValidationError

from polestar.resolution import ResolutionPolicy
from polestar.resolution.resolver import _conflicts, _strong


def test_only_strong_identifiers_count():
    document = {
        "identifiers": [{"type": "PNC", "value": "2004/0123456Z"}, {"type": "NINO", "value": "AB123456C"}]
    }
    assert _strong(document, ResolutionPolicy().strong_identifiers) == {"PNC": "2004/0123456Z"}


def test_different_values_of_one_identifier_conflict():
    assert _conflicts({"PNC": "a", "CRO": "x"}, {"PNC": "b", "CRO": "x"}) == ["PNC"]
    assert _conflicts({"PNC": "a"}, {"CRO": "x"}) == []


def test_policy_thresholds_are_configuration():
    policy = ResolutionPolicy(merge_at=30, review_at=15)
    assert policy.merge_at > policy.review_at
    with pytest.raises(ValidationError):
        ResolutionPolicy(merge_at=30, unknown=1)
