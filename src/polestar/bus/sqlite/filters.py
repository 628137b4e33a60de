"""Subject filters as SQL: the GLOB patterns and queries a claim reads and leases with.

A filter's literal tokens and a final ``>`` translate exactly to GLOB; a ``*``
token becomes GLOB's ``*``, which also crosses dots, so a claim whose filters
have one checks each row again with the compiled regular expression.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=256)
def compile_filters(filters: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regular expression matching what any of ``filters`` matches (None: everything)."""
    if ">" in filters:
        return None
    parts = []
    for pattern in filters:
        tokens = [r"[^.]+" if t == "*" else r".+" if t == ">" else re.escape(t) for t in pattern.split(".")]
        parts.append(r"\.".join(tokens))
    return re.compile("(?:" + "|".join(parts) + r")\Z")


@lru_cache(maxsize=16)
def scan_query(globs: int) -> str:
    """The page query of a claim: only rows that may match come back, the rest stay in SQLite."""
    where = " OR ".join("subject GLOB ?" for _ in range(globs))
    return (
        "SELECT seq, subject, pkey, body, published_at FROM messages "  # noqa: S608 - placeholders only
        f"WHERE seq > ? AND seq <= ? {f'AND ({where}) ' if where else ''}ORDER BY seq LIMIT ?"
    )


@lru_cache(maxsize=16)
def claim_head_query(globs: int, *, listing: bool) -> str:
    """What a claim reads first, in one statement.

    The group's (``?1``) cursor, how far it may look (the newest message, at most ``?3``
    past the cursor), its earliest ``ready_at`` below ``?2`` and, when ``listing``, the
    sequences after the cursor its filters (``?5``...) pass, at most ``?4``, as one JSON list.

    One statement rather than four: the sqlite3 module gives up the GIL for every step,
    and behind a busy event loop the writer waits to take it back each time.
    """
    where = " OR ".join(f"subject GLOB ?{5 + i}" for i in range(globs))
    picked = (
        ", picked AS (SELECT seq FROM messages "  # noqa: S608 - placeholders only
        "WHERE seq > (SELECT start FROM g) AND seq <= (SELECT stop FROM g) "
        f"{f'AND ({where}) ' if where else ''}ORDER BY seq LIMIT ?4)"
    )
    return (
        "WITH g AS (SELECT cursor AS start, "  # noqa: S608 - placeholders only
        "min(cursor + ?3, (SELECT coalesce(max(seq), 0) FROM messages)) AS stop "
        f"FROM groups WHERE name = ?1){picked if listing else ''} "
        "SELECT start, stop, (SELECT min(ready_at) FROM pending WHERE grp = ?1 AND ready_at < ?2), "
        f"{'(SELECT json_group_array(seq) FROM picked)' if listing else 'NULL'} FROM g"
    )


@lru_cache(maxsize=256)
def globs_of(filters: tuple[str, ...]) -> tuple[str, ...]:
    """GLOB patterns passing every subject ``filters`` match (none: pass everything).

    Exact for literal tokens and a final ``>``; a ``*`` token becomes GLOB's ``*``,
    which also crosses dots, so ``GroupRules.matches`` has the last word.
    """
    if ">" in filters:
        return ()
    return tuple(".".join(_GLOB_OF.get(t, t) for t in pattern.split(".")) for pattern in filters)


@lru_cache(maxsize=256)
def globs_exact(filters: tuple[str, ...]) -> bool:
    """True when ``globs_of`` passes exactly the subjects ``filters`` match (no ``*`` token)."""
    return not any(token == "*" for pattern in filters for token in pattern.split("."))


@lru_cache(maxsize=16)
def lease_range_query(globs: int) -> str:
    """Lease every message of a range the group's filter passes (an unordered group's claim)."""
    where = " OR ".join("subject GLOB ?" for _ in range(globs))
    return (
        "INSERT INTO pending (grp, seq, pkey, attempt, ready_at, token) "  # noqa: S608 - placeholders only
        "SELECT ?1, seq, pkey, 1, ?2, ?3 FROM messages "
        f"WHERE seq > ?4 AND seq <= ?5 {f'AND ({where}) ' if where else ''}"
    )


_GLOB_OF = {">": "?*", "*": "*"}
"""Filter wildcards as GLOB; literal tokens (letters, digits, '_', '-') stand for themselves."""
