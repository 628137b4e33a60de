"""Entries and raw-SQL tampering shared by the audit integration tests."""

from sqlalchemy import text

from polestar.audit import Actor, AuditEntry, Operation, SubjectRef


class Tamperer:
    """Runs SQL straight on the store's tables, as someone with database access would."""

    def __init__(self, store, schema=None):
        self.store = store
        self.prefix = f'"{schema}".' if schema else ""

    def sql(self, statement, **params):
        with self.store.engine.begin() as conn:
            return conn.execute(text(statement.replace("{t}", self.prefix)), params)

    def row(self, seq):
        return self.sql("SELECT * FROM {t}audit_entries WHERE seq = :s", s=seq).mappings().one()


PEOPLE = [SubjectRef(type="PNC", value=f"2001/00{i:05d}X") for i in range(4)]


def consultation(i: int, **changes) -> AuditEntry:
    fields = {
        "operation": Operation.CONSULTATION,
        "actor": Actor(person=f"user:pc{i % 3}", device="device:tablet-0042"),
        "service": "pnc",
        "purpose": "roadside check" if i % 2 else "intelligence review",
        "subjects": [PEOPLE[i % len(PEOPLE)]],
        "query": f"check on person {i}",
        "record_ids": [f"person:{i}"],
        "correlation_id": f"flow-{i // 5}",
    }
    return AuditEntry(**{**fields, **changes})


async def fill(log, n=20):
    """``n`` entries, written in several batches so that several heads have existed."""
    for start in range(0, n, 5):
        await log.append_many([consultation(i) for i in range(start, min(n, start + 5))])
        if start == 10:
            await log.checkpoint()
