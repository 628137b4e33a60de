"""The audit component's errors, under ``PolestarError``.

::

PolestarError
└── AuditError                   the audit log
    ├── AuditAccessDenied        the caller lacks the auditor role (the refusal is itself logged)
    ├── PurposeRequired          policy wants a stated purpose for this operation
    ├── AuditEntryNotFound       no entry (or tree head) with that number
    ├── AuditKeysMissing         the data folder has no audit keys (the hub creates them on first start)
    └── AuditLogCorrupt          the stored log does not fit its signed head: appends stop; run verify
"""

from __future__ import annotations

from polestar.errors import PolestarError


class AuditError(PolestarError):
    """Something went wrong with the audit log."""


class AuditAccessDenied(AuditError):  # noqa: N818 - reads as the answer the caller gets
    """Only the auditor role may read the audit log; the refused attempt has been logged."""


class PurposeRequired(AuditError, ValueError):  # noqa: N818 - reads as the answer the caller gets
    """Policy requires a stated purpose for this operation; nothing was processed."""


class AuditEntryNotFound(AuditError, LookupError):  # noqa: N818 - reads as the answer the caller gets
    """No audit entry (or tree head) has the number given."""


class AuditKeysMissing(AuditError):  # noqa: N818 - a state, named as operators say it
    """The audit signing key or installation secret is not in the data folder."""


class AuditLogCorrupt(AuditError):  # noqa: N818 - a state, named as operators say it
    """The stored log does not fit its latest signed head (rows added or removed outside the hub)."""
