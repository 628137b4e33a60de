"""The lawful audit trail (DPA 2018 Part 3 s62): every processing operation logged, provably unaltered.

::

    log = AuditLog(open_store(hub.store_url), AuditKeys.load_or_create(hub.data_dir))
    await log.start()
    await log.append(AuditEntry(
        operation=Operation.CONSULTATION, actor=Actor(person="user:pc1234"), service="pnc",
        purpose="roadside check", subjects=[SubjectRef(type="PNC", value=…)]))
    report = await log.verify()                      # names the first bad entry, if any
    records = await AuditReader(log).query(access, AuditQuery(subject=…))   # auditors only; logged

The log is an RFC 6962 Merkle tree with Ed25519-signed tree heads; personal
fields are encrypted per subject, so erasing a person destroys a key and never
a leaf. ``docs/audit.md`` explains the whole design.
"""

from polestar.audit.access import AUDITOR_ROLE, AuditAccess, AuditReader, ExportSummary
from polestar.audit.bases import LegalBasis
from polestar.audit.entry import Actor, AuditEntry, AuditPolicy, Operation, Outcome, SubjectRef
from polestar.audit.errors import (
    AuditAccessDenied,
    AuditEntryNotFound,
    AuditError,
    AuditKeysMissing,
    AuditLogCorrupt,
    PurposeRequired,
)
from polestar.audit.export import ExportFormat, ExportInvalid, verify_export
from polestar.audit.heads import SignedTreeHead
from polestar.audit.keys import AuditKeys
from polestar.audit.leaf import ERASED, AuditRecord, SubjectView
from polestar.audit.log import AuditLog
from polestar.audit.operator import AuditActionSink
from polestar.audit.proofs import ConsistencyProof, InclusionProof
from polestar.audit.query import AuditQuery
from polestar.audit.sql_store import PostgresAuditStore, SqliteAuditStore, open_store
from polestar.audit.store import AuditStore
from polestar.audit.verify import Problem, VerifyFailure, VerifyReport
from polestar.audit.witness import FileWitness, HttpWitness, Witness
from polestar.audit.writer import AppendReceipt

__all__ = [
    "AUDITOR_ROLE",
    "ERASED",
    "Actor",
    "AppendReceipt",
    "AuditAccess",
    "AuditAccessDenied",
    "AuditActionSink",
    "AuditEntry",
    "AuditEntryNotFound",
    "AuditError",
    "AuditKeys",
    "AuditKeysMissing",
    "AuditLog",
    "AuditLogCorrupt",
    "AuditPolicy",
    "AuditQuery",
    "AuditReader",
    "AuditRecord",
    "AuditStore",
    "ConsistencyProof",
    "ExportFormat",
    "ExportInvalid",
    "ExportSummary",
    "FileWitness",
    "HttpWitness",
    "InclusionProof",
    "LegalBasis",
    "Operation",
    "Outcome",
    "PostgresAuditStore",
    "Problem",
    "PurposeRequired",
    "SignedTreeHead",
    "SqliteAuditStore",
    "SubjectRef",
    "SubjectView",
    "VerifyFailure",
    "VerifyReport",
    "Witness",
    "open_store",
    "verify_export",
]
