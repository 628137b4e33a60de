"""Estimating the m/u probabilities from the data: u from random pairs, m (and u) by EM on blocked pairs.

A *comparison vector* is the level each field landed on for one pair of records
(``{"given": "nickname", "family": "exact", "birth": "year"}``; a field either
side lacks is absent). ``u`` is estimated from random pairs, nearly all of which
are different people (as Splink does). ``m`` is then estimated by
expectation-maximisation over pairs that share a blocking key, where matches are
common enough to learn from: each round weighs every pair by its current match
probability and recounts the levels.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from polestar.search.keys import BirthDate
from polestar.search.people import Candidate, score
from polestar.search.query import PersonQuery
from polestar.search.scoring import MatchModel

Vector = Mapping[str, str]
"""field -> level, for one pair."""

FLOOR = 1e-6
FIELDS = ("given", "family", "birth", "gender")


def query_of(candidate: Candidate) -> PersonQuery | None:
    """A record's first name and date of birth as a query, to compare it with another record."""
    name = candidate.names[0]
    if not (name.given or name.family):
        return None
    return PersonQuery(
        given=name.given or None,
        family=name.family or None,
        date_of_birth=_iso(candidate.born),
        gender=candidate.gender if candidate.gender in {"1", "2"} else None,
        include_below=True,
    )


def _iso(born: BirthDate) -> str | None:
    if born.year is None:
        return None
    return "-".join(
        f"{p:02d}" if i else f"{p:04d}" for i, p in enumerate((born.year, born.month, born.day)) if p
    )


def compare(a: Candidate, b: Candidate, model: MatchModel) -> Vector:
    """The comparison vector of two records."""
    query = query_of(a)
    if query is None:
        return {}
    return {f.field: f.level for f in score(query, b, model).fields if f.field in FIELDS}


def random_pair_vectors(
    records: Sequence[Candidate], pairs: int, model: MatchModel, seed: int = 0
) -> list[Vector]:
    """Vectors of ``pairs`` random pairs of distinct records."""
    rng = random.Random(seed)  # noqa: S311 - sampling, not security
    if len(records) < 2:
        return []
    out = []
    for _ in range(pairs):
        a, b = rng.sample(range(len(records)), 2)
        out.append(compare(records[a], records[b], model))
    return out


def estimate_u(vectors: Iterable[Vector], model: MatchModel) -> MatchModel:
    """``model`` with each field's ``u`` taken from random pairs (``m`` kept)."""
    counts: dict[str, Counter[str]] = {f: Counter() for f in FIELDS}
    for vector in vectors:
        for field, level in vector.items():
            counts[field][level] += 1
    for field, levels in model.fields().items():
        total = sum(counts.get(field, Counter()).values())
        if total == 0:
            continue
        updated = {lvl: (m, max(counts[field][lvl] / total, FLOOR)) for lvl, (m, _u) in levels.items()}
        model = model.with_levels(field, updated)
    return model


def expectation_maximisation(
    vectors: Sequence[Vector],
    model: MatchModel,
    *,
    prior: float = 0.1,
    iterations: int = 25,
    fix_u: bool = True,
    fix_share: bool = False,
) -> tuple[MatchModel, float]:
    """Fit ``m`` (and ``u`` unless ``fix_u``; the share of matches unless ``fix_share``); (model, share).

    EM left free to move the share of matches can settle on a "match" class that
    is really "same common name"; fixing the share at a deterministic estimate
    (``share_estimate``) and ``u`` from random pairs, as Splink does, keeps it honest.
    """
    share = prior
    fields = model.fields()
    for _ in range(iterations):
        m_counts: dict[str, defaultdict[str, float]] = {f: defaultdict(float) for f in fields}
        u_counts: dict[str, defaultdict[str, float]] = {f: defaultdict(float) for f in fields}
        total_p = 0.0
        for vector in vectors:
            log_m = math.log(share)
            log_u = math.log(1 - share)
            for field, level in vector.items():
                m, u = fields[field][level]
                log_m += math.log(max(m, FLOOR))
                log_u += math.log(max(u, FLOOR))
            p = 1.0 / (1.0 + math.exp(min(700.0, log_u - log_m)))
            total_p += p
            for field, level in vector.items():
                m_counts[field][level] += p
                u_counts[field][level] += 1 - p
        if not vectors:
            break
        if not fix_share:
            share = min(max(total_p / len(vectors), FLOOR), 1 - FLOOR)
        for field, levels in fields.items():
            m_total = sum(m_counts[field].values())
            u_total = sum(u_counts[field].values())
            if m_total <= 0:
                continue
            fields[field] = {
                lvl: (
                    max(m_counts[field][lvl] / m_total, FLOOR),
                    u if fix_u or u_total <= 0 else max(u_counts[field][lvl] / u_total, FLOOR),
                )
                for lvl, (_m, u) in levels.items()
            }
    return MatchModel(**fields, swap_penalty=model.swap_penalty), share


def share_estimate(vectors: Sequence[Vector], recall: float = 0.7) -> float:
    """The share of matches among pairs, estimated as Splink does from a strict rule.

    Pairs agreeing on both names and the full date of birth, over ``recall``: the
    share of true matches such a strict rule is believed to find.
    """
    if not vectors:
        return 0.5
    sure = sum(
        1
        for v in vectors
        if v.get("given") in {"exact", "nickname"}
        and v.get("family") == "exact"
        and v.get("birth") == "exact"
    )
    return min(max(sure / recall / len(vectors), FLOOR), 1 - FLOOR)
