from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from polestar.bus.contract import BackoffPolicy


def test_delays_grow_exponentially_until_the_cap_without_jitter():
    policy = BackoffPolicy(initial=1.0, multiplier=2.0, maximum=10.0, jitter=0.0)
    assert [policy.delay(a) for a in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


@given(
    attempt=st.integers(min_value=1, max_value=50),
    jitter=st.floats(min_value=0, max_value=1),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_jitter_stays_within_its_fraction_of_the_capped_delay(attempt, jitter, seed):
    policy = BackoffPolicy(initial=0.5, multiplier=3.0, maximum=60.0, jitter=jitter)
    base = min(60.0, 0.5 * 3.0 ** (attempt - 1))
    delay = policy.delay(attempt, random.Random(seed))
    assert base * (1 - jitter) - 1e-9 <= delay <= base * (1 + jitter) + 1e-9
    assert delay >= 0
