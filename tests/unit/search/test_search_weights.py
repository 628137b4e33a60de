import random

import pytest

from polestar.search import MatchModel
from polestar.search.weights import estimate_u, expectation_maximisation, share_estimate

TRUE_M = {"exact": 0.9, "close": 0.07, "different": 0.03}
TRUE_U = {"exact": 0.02, "close": 0.03, "different": 0.95}


def _draw(rng, probabilities):
    return rng.choices(list(probabilities), weights=list(probabilities.values()))[0]


def _vectors(n, share, seed=1):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        table = TRUE_M if rng.random() < share else TRUE_U
        out.append({"family": _draw(rng, table)})
    return out


def test_u_from_random_pairs_is_the_level_frequency():
    model = estimate_u([{"family": "different"}] * 9 + [{"family": "exact"}], MatchModel())
    assert model.family["different"][1] == pytest.approx(0.9)
    assert model.family["exact"][1] == pytest.approx(0.1)


def test_em_recovers_m_from_blocked_pairs():
    start = MatchModel()
    u_fixed = {lvl: (1 / 4, TRUE_U.get(lvl, 1e-6)) for lvl in start.family}
    model = start.with_levels("family", u_fixed)
    fitted, share = expectation_maximisation(_vectors(4000, 0.3), model, prior=0.1)
    assert share == pytest.approx(0.3, abs=0.05)
    assert fitted.family["exact"][0] == pytest.approx(0.9, abs=0.05)
    assert (
        fitted.weight("family", "exact")
        > fitted.weight("family", "close")
        > fitted.weight("family", "different")
    )


def test_share_estimate_counts_pairs_agreeing_on_everything():
    sure = {"given": "exact", "family": "exact", "birth": "exact"}
    assert share_estimate([sure, {"family": "different"}] * 7, recall=1.0) == pytest.approx(0.5)
