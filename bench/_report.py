"""Shared by the benchmarks: print a Rich table and write the results to bench/results/."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-100) of ``values``, 0.0 when empty."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[min(998, int(q * 10) - 1)]


def report(
    name: str, title: str, columns: Sequence[str], rows: Sequence[dict[str, Any]], notes: str = ""
) -> Path:
    """Print ``rows`` as a table and write them, with the machine, to ``results/<name>.json``."""
    table = Table(title=title)
    for column in columns:
        table.add_column(
            column, justify="right" if column not in {"engine", "pipeline", "mode", "target"} else "left"
        )
    for row in rows:
        table.add_row(*(_fmt(row.get(c, "")) for c in columns))
    console = Console(width=150)  # a wide table reads better in CI logs than a wrapped one
    console.print(table)
    if notes:
        console.print(notes)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "title": title,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "rows": rows,
        "notes": notes,
    }
    out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    console.print(f"results written to {out}")
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
