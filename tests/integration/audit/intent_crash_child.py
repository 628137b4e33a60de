"""A hub process that dies the hard way between its own commit and the audit append.

Run by ``test_audit_intents.py``: ``python intent_crash_child.py DATA_DIR DB_URL SCHEMA KEY``.
It opens the audit log, then, in one transaction of its own, records a case note and the
audit intent for it, commits, and kills itself with SIGKILL before ``append`` is called.
"""

import asyncio
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, create_engine

from polestar.audit import Actor, AuditEntry, AuditKeys, AuditLog, Operation, SubjectRef, open_store
from polestar.audit.intents import record_intent


def case_notes(schema: str | None) -> Table:
    return Table(
        "case_notes",
        MetaData(schema=schema),
        Column("id", String(64), primary_key=True),
        Column("note", String(500)),
    )


def the_entry(key: str) -> AuditEntry:
    return AuditEntry(
        operation=Operation.ALTERATION,
        actor=Actor(person="user:pc1234", system="system:polestar-store"),
        service="store",
        subjects=[SubjectRef(type="PNC", value="2001/0012345X")],
        record_ids=[f"case-note:{key}"],
        details={"fields": ["note"]},
        correlation_id=f"flow-{key}",
    )


async def main(data_dir: Path, url: str, schema: str | None, key: str) -> None:
    log = AuditLog(open_store(url, schema=schema), AuditKeys.load_or_create(data_dir), intent_interval=None)
    await log.start()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    notes = case_notes(schema)
    notes.create(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(notes.insert().values(id=key, note="suspect's vehicle seen on the A34"))
        record_intent(conn, the_entry(key), key=f"case-note:{key}", schema=schema)
    print("committed", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # after the commit, before log.append(...)
    await log.append(the_entry(key), key=f"case-note:{key}")  # never reached


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3] or None, sys.argv[4]))
