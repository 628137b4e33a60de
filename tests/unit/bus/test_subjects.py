from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polestar.bus.contract import check_filter, check_subject, subject_matches
from polestar.bus.sqlite.rules import GroupRules

tokens = st.sampled_from(["custody", "incident", "s1", "s2", "released", "assigned", "a-b", "x_y"])
subjects = st.lists(tokens, min_size=1, max_size=5).map(".".join)
filters = st.builds(
    lambda parts, tail: ".".join([*parts, *([">"] if tail else [])]) if parts or tail else "*",
    st.lists(st.one_of(tokens, st.just("*")), min_size=0, max_size=4),
    st.booleans(),
)


def rules(*patterns: str) -> GroupRules:
    return GroupRules("g", patterns, ordered=False, ack_wait=1.0, max_attempts=1)


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("custody.>", "custody.detainee.released", True),
        ("custody.>", "custody", False),
        ("custody.*.released", "custody.s1.released", True),
        ("custody.*.released", "custody.s1.x.released", False),
        ("*", "custody", True),
        ("*", "custody.s1", False),
        (">", "anything.at.all", True),
        ("custody.detainee.released", "custody.detainee.released", True),
        ("custody.detainee", "custody.detainee.released", False),
    ],
)
def test_nats_style_filters_match_as_nats_does(pattern, subject, expected):
    assert subject_matches(pattern, subject) is expected
    assert rules(pattern).matches(subject) is expected


@given(pattern=filters, subject=subjects)
def test_the_compiled_matcher_agrees_with_the_contract(pattern, subject):
    check_filter(pattern)
    assert rules(pattern).matches(subject) == subject_matches(pattern, subject)


@given(patterns=st.lists(filters, min_size=1, max_size=3), subject=subjects)
def test_a_group_matches_when_any_of_its_filters_does(patterns, subject):
    assert rules(*patterns).matches(subject) == any(subject_matches(p, subject) for p in patterns)


@pytest.mark.parametrize("bad", ["", "a..b", "a.*", "a.>", "has space", ".a", "a."])
def test_publish_subjects_refuse_wildcards_and_empty_tokens(bad):
    with pytest.raises(ValueError, match="invalid subject"):
        check_subject(bad)


@pytest.mark.parametrize("bad", ["a.>.b", ">.a", "a b", ""])
def test_filters_allow_greater_than_only_at_the_end(bad):
    with pytest.raises(ValueError, match="invalid subject filter"):
        check_filter(bad)
