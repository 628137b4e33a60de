"""The POLE store: entities and links with full history, field provenance, merges and real erasure.

::

    store = SqliteStore(data_dir / "store.sqlite3")        # or PostgresStore(url), open_store(url)
    await store.start()                                    # runs the Alembic migrations
    result = await store.apply(envelope)                   # idempotent by envelope id
    person = await store.get(person_id)
    await store.traverse(person_id, hops=2, roles=["suspect", "associate"])
    merge = await store.merge(survivor_id, other_id, actor="user:dc42", reason="same PNC id")
    await store.unmerge(merge.id, actor="user:dc42", reason="different people")
    await store.rows_for_subject(person_id)                # the erasure map
    await store.erase_subject(person_id, actor="user:dpo", reason="s47 erasure")

    await StoreWriter(bus, store).run(stop)                # canonical events from the bus

``docs/store.md`` describes the tables and the rules.
"""

from polestar.store.contract import ErasureCallback, Store
from polestar.store.erasure import ErasureHook, ErasureHooks, RecordingHook
from polestar.store.errors import (
    EntityNotFound,
    ErasureIncomplete,
    MergeNotFound,
    MergeRefused,
    NotAnEntity,
    StoreError,
)
from polestar.store.migrate import differences, upgrade
from polestar.store.reads import MAX_HOPS
from polestar.store.records import (
    ApplyResult,
    Associate,
    ErasureSummary,
    FieldClaim,
    HistoryEntry,
    MergeRecord,
    Operation,
    Outcome,
    StoredEntity,
    StoredLink,
    SubjectRow,
    Traversal,
)
from polestar.store.sql_store import PostgresStore, SqliteStore, SqlStore, open_store
from polestar.store.writer import StoreWriter

__all__ = [
    "MAX_HOPS",
    "ApplyResult",
    "Associate",
    "EntityNotFound",
    "ErasureCallback",
    "ErasureHook",
    "ErasureHooks",
    "ErasureIncomplete",
    "ErasureSummary",
    "FieldClaim",
    "HistoryEntry",
    "MergeNotFound",
    "MergeRecord",
    "MergeRefused",
    "NotAnEntity",
    "Operation",
    "Outcome",
    "PostgresStore",
    "RecordingHook",
    "SqlStore",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreWriter",
    "StoredEntity",
    "StoredLink",
    "SubjectRow",
    "Traversal",
    "differences",
    "open_store",
    "upgrade",
]
