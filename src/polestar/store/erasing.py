"""The erasure map: every store row that holds a subject's data, found from the subject's id.

A subject's records are the record named, the record it was merged into (if
any), and every record merged with that one: together the person as the hub
knows them. Their data lives in

* ``store_entities``: the current documents;
* ``store_entity_versions``: every earlier document (history);
* ``store_field_provenance``: each source's claimed values;
* ``store_links`` and the link records themselves (entity, history and
  provenance rows): a link says who the person was with, where, in what role;
* ``store_merges``: merges either side of which is one of the records.

``store_applied_messages`` holds envelope ids only and is kept, so a
redelivery of an erased person's event is still recognised as applied.
Components outside the store (search keys, caches) answer through
each ``ErasureHook``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, delete, or_, select

from polestar.store.records import SubjectRow
from polestar.store.sqlbase import lock_ids, members, resolve
from polestar.store.tables import entities, entity_versions, field_provenance, links, merges

COMPONENT = "store"


@dataclass(frozen=True, slots=True)
class SubjectRecords:
    """The record ids a subject's data lives under."""

    subject: tuple[str, ...]
    """The subject's own records (merged together)."""
    links: tuple[str, ...]
    """Links touching any of them."""

    @property
    def all(self) -> tuple[str, ...]:
        """Every record id, subject's and links'."""
        return self.subject + self.links


def subject_records(conn: Connection, subject_id: str) -> SubjectRecords:
    """The records holding ``subject_id``'s data (it need not be in the store: links may name it)."""
    cluster = set(members(conn, [resolve(conn, subject_id)])) | {subject_id}
    link_ids = conn.execute(
        select(links.c.id).where(or_(links.c.from_id.in_(cluster), links.c.to_id.in_(cluster)))
    ).scalars()
    return SubjectRecords(tuple(sorted(cluster)), tuple(sorted(set(link_ids))))


def rows_for_subject(conn: Connection, records: SubjectRecords) -> list[SubjectRow]:
    """Every store row holding data of the subject whose records are ``records``."""
    ids = list(records.all)
    ev, fp = entity_versions, field_provenance
    found = [
        *(
            SubjectRow(COMPONENT, entities.name, rid)
            for rid in conn.execute(select(entities.c.id).where(entities.c.id.in_(ids))).scalars()
        ),
        *(
            SubjectRow(COMPONENT, ev.name, f"{r.entity_id}#{r.seq}")
            for r in conn.execute(select(ev.c.entity_id, ev.c.seq).where(ev.c.entity_id.in_(ids)))
        ),
        *(
            SubjectRow(COMPONENT, fp.name, f"{r.entity_id}/{r.path}/{r.system}")
            for r in conn.execute(
                select(fp.c.entity_id, fp.c.path, fp.c.system).where(fp.c.entity_id.in_(ids))
            )
        ),
        *(
            SubjectRow(COMPONENT, links.name, rid)
            for rid in conn.execute(select(links.c.id).where(links.c.id.in_(ids))).scalars()
        ),
        *(
            SubjectRow(COMPONENT, merges.name, rid)
            for rid in conn.execute(
                select(merges.c.id).where(_merge_touches(list(records.subject)))
            ).scalars()
        ),
    ]
    return sorted(found, key=lambda r: (r.table, r.key))


def erase_records(conn: Connection, subject_id: str) -> tuple[SubjectRecords, dict[str, int]]:
    """Delete every store row of ``subject_id``; the records erased and rows deleted per table."""
    records = subject_records(conn, subject_id)
    lock_ids(conn, records.all)
    records = subject_records(conn, subject_id)  # again, under the locks: nothing new can join now
    ids = list(records.all)
    counts = {
        merges.name: conn.execute(delete(merges).where(_merge_touches(list(records.subject)))).rowcount,
        links.name: conn.execute(delete(links).where(links.c.id.in_(ids))).rowcount,
        field_provenance.name: conn.execute(
            delete(field_provenance).where(field_provenance.c.entity_id.in_(ids))
        ).rowcount,
        entity_versions.name: conn.execute(
            delete(entity_versions).where(entity_versions.c.entity_id.in_(ids))
        ).rowcount,
        entities.name: conn.execute(delete(entities).where(entities.c.id.in_(ids))).rowcount,
    }
    return records, counts


def _merge_touches(ids: list[str]) -> ColumnElement[bool]:
    return or_(merges.c.survivor_id.in_(ids), merges.c.merged_id.in_(ids))
