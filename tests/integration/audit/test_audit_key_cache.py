"""Two hub processes on one log: a subject key cached by one and erased by the other is never used again."""

from _audit_helpers import PEOPLE, consultation

from polestar.audit import Actor, AuditLog, AuditQuery, PostgresAuditStore, SqliteAuditStore


def _second_store(store):
    if isinstance(store, SqliteAuditStore):
        return SqliteAuditStore(store.path, synchronous="NORMAL")
    return PostgresAuditStore(str(store.engine.url), schema=store.tables.entries.schema, pool_size=2)


async def test_a_person_erased_by_another_process_reappears_readable_under_a_new_key(backend, keys):
    store, _ = backend
    first = AuditLog(store, keys, checkpoint_interval=None, intent_interval=None)
    second = AuditLog(_second_store(store), keys, checkpoint_interval=None, intent_interval=None)
    await first.start()
    await second.start()
    try:
        person = PEOPLE[0]
        before = await first.append(consultation(0))  # the first process now holds the key in memory
        await second.erase_subject(person, actor=Actor(person="user:dpo"), service="rights")
        after = await first.append(consultation(0, query="seen again after the erasure"))

        old = await first.record(before.seq)
        new = await first.record(after.seq)
        assert old.subjects[0].erased
        assert new.subjects[0].value == person.value  # not sealed under the destroyed key
        assert new.query == "seen again after the erasure"
        found = await first.find(AuditQuery(subject=person))
        assert [r.seq for r in found] == [after.seq]
        assert (await first.verify()).ok
    finally:
        await second.close()
        await first.close()


async def test_both_processes_naming_a_new_person_at_once_share_one_key(backend, keys):
    store, _ = backend
    first = AuditLog(store, keys, checkpoint_interval=None, intent_interval=None)
    second = AuditLog(_second_store(store), keys, checkpoint_interval=None, intent_interval=None)
    await first.start()
    await second.start()
    try:
        # Each prepares with a key of its own for the same new person; the second to commit
        # must adopt the first's key and encrypt again.
        one = first._batches.prepare([consultation(1)])
        two = second._batches.prepare([consultation(1)])
        a = first._batches.commit(one)
        b = second._batches.commit(two)
        assert [
            r.subjects[0].value for r in (await first.record(a[0].seq), await first.record(b[0].seq))
        ] == [
            PEOPLE[1].value,
            PEOPLE[1].value,
        ]
        assert len(await first.find(AuditQuery(subject=PEOPLE[1]))) == 2
        assert (await first.verify()).ok
    finally:
        await second.close()
        await first.close()
