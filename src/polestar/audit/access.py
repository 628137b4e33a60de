"""Reading the log: only the auditor role may, and every attempt, allowed or refused, is itself logged.

``AuditReader`` is the one way in for people (the CLI and, later, the API). It
takes an ``AuditAccess`` (who, with which roles) per call; the security
component will supply real identities. The entry recording an access names
the criteria (a subject asked about is recorded encrypted, like any subject)
and the audit entries returned, so "who looked at the audit trail of this
person" is itself answerable. If that entry cannot be written, nothing is
returned: the log is never read without a record of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from polestar.audit.bases import LegalBasis
from polestar.audit.entry import Actor, AuditEntry, Operation, Outcome, SubjectRef
from polestar.audit.errors import AuditAccessDenied, AuditError
from polestar.audit.export import ExportFormat, write_export
from polestar.audit.heads import SignedTreeHead
from polestar.audit.leaf import AuditRecord
from polestar.audit.log import AuditLog
from polestar.audit.merkle import SubtreeHasher, inclusion_path
from polestar.audit.proofs import ConsistencyProof, InclusionProof
from polestar.audit.query import AuditQuery
from polestar.audit.verify import VerifyReport
from polestar.model.timeutil import utcnow

AUDITOR_ROLE = "auditor"
AUDIT_SERVICE = "polestar-audit"


class AuditAccess(BaseModel):
    """Who is reading the log, with which roles (and device and purpose, where known)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: str = Field(min_length=1, max_length=256, examples=["user:dc5678"])
    roles: frozenset[str] = Field(default=frozenset(), examples=[["auditor"]])
    device: str | None = None
    purpose: str | None = Field(default=None, examples=["professional standards investigation 2026/114"])


class ExportSummary(BaseModel):
    """What an export wrote."""

    model_config = ConfigDict(frozen=True)

    path: Path
    format: ExportFormat
    entries: int
    head: SignedTreeHead


def seq_ranges(seqs: Sequence[int]) -> list[str]:
    """``[1, 2, 3, 7]`` → ``["audit:1-3", "audit:7"]``: the entries returned, compactly."""
    out: list[str] = []
    ordered = sorted(set(seqs))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(f"audit:{ordered[i]}" if i == j else f"audit:{ordered[i]}-{ordered[j]}")
        i = j + 1
    return out


class AuditReader:
    """The auditor's operations on an ``AuditLog``, each checked and recorded."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    async def query(self, access: AuditAccess, query: AuditQuery) -> list[AuditRecord]:
        """Entries matching ``query`` ("who has looked at this person", by actor, system, purpose, time)."""
        await self._allow(access, "query", query)
        found = await self.log.find(query)
        await self._record(access, "query", query, [r.seq for r in found])
        return found

    async def export(
        self, access: AuditAccess, query: AuditQuery, path: Path, fmt: ExportFormat
    ) -> ExportSummary:
        """Write matching entries, a fresh checkpoint head and an inclusion proof per entry to ``path``."""
        await self._allow(access, "export", query)
        head = await self.log.checkpoint()
        if head is None:
            raise AuditError("the audit log is empty: there is nothing to export")
        records = [r for r in await self.log.find(query) if r.seq < head.tree_size]

        def leaves_and_proofs() -> list[tuple[AuditRecord, bytes, list[bytes]]]:
            with self.log.store.transaction(write=False) as tx:
                hasher = SubtreeHasher(tx.leaf_hashes(0, head.tree_size))
                items = []
                for r in records:
                    found = tx.entry(r.seq)
                    assert found is not None
                    items.append((r, found[0], inclusion_path(r.seq, head.tree_size, hasher)))
                return items

        items = await asyncio.to_thread(leaves_and_proofs)
        preamble: dict[str, Any] = {
            "log_id": head.log_id,
            "public_key_pem": self.log.public_key_pem(),
            "exported_at": utcnow().isoformat(),
            "exported_by": access.actor,
            "criteria": query.describe(),
        }
        await asyncio.to_thread(write_export, path, fmt, preamble, head, items)
        await self._record(access, "export", query, [r.seq for r in records], extra={"format": fmt.value})
        return ExportSummary(path=path, format=fmt, entries=len(items), head=head)

    async def verify(self, access: AuditAccess) -> tuple[VerifyReport, str | None]:
        """Verify the whole log; returns the report and, if this access could not be logged, why."""
        await self._allow(access, "verify", None)
        report = await self.log.verify()
        result = "ok" if report.failure is None else f"failed: {report.failure.message}"
        try:
            await self._record(access, "verify", None, [], extra={"result": result})
        except AuditError as exc:  # a corrupt log refuses appends; the report is what matters now
            return report, str(exc)
        return report, None

    async def inclusion_proof(
        self, access: AuditAccess, seq: int, tree_size: int | None = None
    ) -> tuple[InclusionProof, AuditRecord]:
        """The proof for entry ``seq`` and the entry itself."""
        await self._allow(access, "proof", None, detail={"entry": seq})
        proof = await self.log.inclusion_proof(seq, tree_size)
        record = await self.log.record(seq)
        await self._record(access, "proof", None, [seq])
        return proof, record

    async def consistency_proof(
        self, access: AuditAccess, first: int, second: int | None
    ) -> ConsistencyProof:
        """Proof that the tree grew only by appending between two sizes."""
        await self._allow(access, "consistency", None, detail={"first": first, "second": second})
        proof = await self.log.consistency_proof(first, second)
        await self._record(access, "consistency", None, [], extra={"first": first, "second": proof.second})
        return proof

    async def head(self, access: AuditAccess) -> SignedTreeHead | None:
        """The latest signed head."""
        await self._allow(access, "head", None)
        head = await self.log.latest_head()
        await self._record(access, "head", None, [])
        return head

    # --- the guard and the record --------------------------------------------------------------

    async def _allow(
        self, access: AuditAccess, action: str, query: AuditQuery | None, detail: dict[str, Any] | None = None
    ) -> None:
        if AUDITOR_ROLE in access.roles:
            return
        await self.log.append(
            self._entry(
                access, action, query, [], Outcome.REFUSED, {**(detail or {}), "reason": "not an auditor"}
            )
        )
        raise AuditAccessDenied(
            f"{access.actor} may not read the audit log: the {AUDITOR_ROLE!r} role is required "
            "(this attempt has been recorded)"
        )

    async def _record(
        self,
        access: AuditAccess,
        action: str,
        query: AuditQuery | None,
        seqs: Sequence[int],
        extra: dict[str, Any] | None = None,
    ) -> None:
        await self.log.append(self._entry(access, action, query, seqs, Outcome.SUCCEEDED, extra or {}))

    def _entry(  # noqa: PLR0917 - private, called twice with every part of the record
        self,
        access: AuditAccess,
        action: str,
        query: AuditQuery | None,
        seqs: Sequence[int],
        outcome: Outcome,
        details: dict[str, Any],
    ) -> AuditEntry:
        actor = Actor.parse(access.actor)
        if access.device is not None:
            actor = actor.model_copy(update={"device": access.device})
        subjects: list[SubjectRef] = (
            [query.subject] if query is not None and query.subject is not None else []
        )
        return AuditEntry(
            operation=Operation.AUDIT_ACCESS,
            actor=actor,
            service=AUDIT_SERVICE,
            outcome=outcome,
            purpose=access.purpose,
            legal_basis=LegalBasis.AUDIT_LOGGING,
            subjects=subjects,
            query=f"{action}: {query.describe()}" if query is not None else action,
            record_ids=seq_ranges(seqs),
            details={"action": action, "roles": sorted(access.roles), **details},
        )
