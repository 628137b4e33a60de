"""The s62 audit log as a component of the running API, and the recorders it hands the others.

The API is the composition root: the bus, connectors, routes and store know
nothing of ``polestar.audit``; each takes one small callback (``OperatorActionSink``,
``CollectionRecorder``, ``DeliveryRecorder``; the store's ``ApplyIntent``,
``MergeIntent`` and ``ErasureIntent``, which run inside its own transaction, come from
``store_audit.StoreAudit``) and this component supplies them, turning what each says
into ``AuditEntry`` values:

=========================================  ===================  ==================================
seam (component)                           operation            who / to whom
=========================================  ===================  ==================================
``BusAdmin`` operator actions (bus)        ``operator_action``  the operator (``X-Polestar-Actor``)
``BusIngest.on_collected`` (connectors)    ``collection``       the event's actor, via the system
``ConnectorDelivery.on_delivered`` (routes) ``disclosure``      recipient: the connector (and target)
``SqlStore.apply_intent`` (store)          ``collection`` or    created / updated (field names only)
                                           ``alteration``
``SqlStore.merge_intent`` (store)          ``combination``      who merged or unmerged
``SqlStore.erasure_intent`` (store)        ``erasure``          who erased which record ids
``GET /bus/dead-letters/{id}`` (api)       ``consultation``     the reader, with the stated purpose
=========================================  ===================  ==================================

Subjects are taken from the events: every typed identifier (``identifiers: [{type,
value}]``) anywhere in the payload, and the entity's own id as ``POLESTAR``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pydantic import ValidationError

from polestar.api.health import ComponentStatus
from polestar.audit import (
    Actor,
    AuditEntry,
    AuditError,
    AuditKeys,
    AuditLog,
    AuditPolicy,
    FileWitness,
    HttpWitness,
    Operation,
    Outcome,
    SubjectRef,
    Witness,
    open_store,
)
from polestar.audit.operator import operator_entry
from polestar.bus.admin import OperatorAction
from polestar.config import HubConfig
from polestar.model.envelope import Envelope
from polestar.store.records import ErasureSummary

log = logging.getLogger(__name__)

SERVICE = "polestar"
"""The hub's own name in entries whose service is the hub itself."""
HUB_SYSTEM = "system:polestar"
CHECK_REQUEST_SUFFIX = ".check.requested"
"""Event types that ask about someone (a street check from a device): recorded as consultations."""
MAX_SUBJECTS = 1000
"""The most subjects one entry names (a huge file is recorded in several collection entries)."""


RETRY_INITIAL_SECONDS = 1.0
"""Seconds before the first retry of an audit log that did not start."""
RETRY_MAX_SECONDS = 30.0
"""The longest wait between retries."""


class AuditNotRunning(AuditError):  # noqa: N818 - named as the state, like AuditKeysMissing
    """The audit log did not start or has stopped; the operation that needed it was not done."""


class AuditComponent:
    """Opens the audit log in the lifespan and records what the other components report.

    Args:
        config: the hub configuration (``audit``, ``data_dir``, ``store_url``).
        keys: the keys to use (default: loaded or created in ``data_dir/audit`` at start).
    """

    def __init__(self, config: HubConfig, *, keys: AuditKeys | None = None) -> None:
        self.config = config.audit
        self._data_dir = config.data_dir
        self._store_url = config.store_url
        self._keys = keys
        self._witness_file = (
            None if config.audit.witness_file is None else config.resolve(config.audit.witness_file)
        )
        self.policy = AuditPolicy(
            purpose_required_for=frozenset(Operation(o) for o in config.audit.purpose_required_for)
        )
        self.log: AuditLog | None = None
        self.retry_initial = RETRY_INITIAL_SECONDS
        """Seconds before opening again a log that did not start; doubles up to ``retry_max``."""
        self.retry_max = RETRY_MAX_SECONDS
        self._retrying: asyncio.Task[None] | None = None
        self.status = ComponentStatus.STARTING if config.audit.enabled else ComponentStatus.OK
        self.reason: str | None = None if config.audit.enabled else "disabled by audit.enabled"

    @property
    def enabled(self) -> bool:
        """Whether the hub records anything (``audit.enabled``)."""
        return self.config.enabled

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load (or create) the keys and open the log in the store's database.

        One attempt now; if it fails, /ready says why, every audited operation is refused (the
        hub fails closed), and the log is opened again in the background with a capped
        exponential delay, so a database that comes back later is picked up without a restart.
        """
        if not self.enabled or self.log is not None or self._retrying is not None:
            return
        if not await self._open():
            self._retrying = asyncio.create_task(self._keep_opening(), name="polestar-audit-open")

    async def _open(self) -> bool:
        store = None
        try:
            keys = self._keys
            if keys is None:
                keys = await asyncio.to_thread(AuditKeys.load_or_create, self._data_dir)
            store = open_store(self._store_url)
            audit_log = AuditLog(
                store,
                keys,
                witnesses=self._witnesses(),
                max_batch=self.config.max_batch,
                checkpoint_interval=self.config.checkpoint_interval,
            )
            await audit_log.start()
        except Exception as exc:  # noqa: BLE001 - reported by /ready and retried; never fatal to the hub
            self.status, self.reason = ComponentStatus.FAILED, f"{type(exc).__name__}: {exc}"
            log.warning(
                "the audit log did not start (%s); audited operations fail until it does", self.reason
            )
            if store is not None:
                # A half-opened store holds connections; release them before the next attempt.
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(store.close)
            return False
        self.log = audit_log
        self.status, self.reason = ComponentStatus.OK, None
        return True

    async def _keep_opening(self) -> None:
        delay = self.retry_initial
        while True:
            self.reason = f"{self.reason}; retrying in {delay:g} s"
            await asyncio.sleep(delay)
            if await self._open():
                log.info("the audit log started")
                return
            delay = min(delay * 2, self.retry_max)

    async def close(self) -> None:
        """Write what is queued, checkpoint and close (after every component that records)."""
        retrying, self._retrying = self._retrying, None
        if retrying is not None:
            retrying.cancel()
            await asyncio.gather(retrying, return_exceptions=True)
        audit_log, self.log = self.log, None
        if audit_log is not None:
            self.status = ComponentStatus.STOPPING
            await audit_log.close()

    def check(self) -> tuple[ComponentStatus, str | None]:
        """The component's readiness."""
        return self.status, self.reason

    def _witnesses(self) -> list[Witness]:
        witnesses: list[Witness] = []
        if self._witness_file is not None:
            witnesses.append(FileWitness(self._witness_file))
        if self.config.witness_url is not None:
            witnesses.append(HttpWitness(str(self.config.witness_url)))
        return witnesses

    async def record(self, entry: AuditEntry) -> None:
        """Append ``entry``; ``AuditNotRunning`` if the log is not open (the caller's work fails)."""
        if not self.enabled:
            return
        if self.log is None:
            raise AuditNotRunning(f"the audit log is not running ({self.reason or 'not started'})")
        await self.log.append(entry)

    # --- recorders handed to the other components --------------------------------------------------

    async def operator_action(self, action: OperatorAction) -> None:
        """``OperatorActionSink``: a bus operator's action (a dead-letter replay, a listing)."""
        await self.record(operator_entry(action, service="polestar-bus"))

    async def collected(self, connector: str, envelopes: Sequence[Envelope]) -> None:
        """``CollectionRecorder``: what one inbound message brought in from ``connector``.

        A check asked from a device (an event type ending ``.check.requested``) is a
        consultation by the person asking, with their purpose; everything else is collection.
        """
        checks = [e for e in envelopes if e.type.endswith(CHECK_REQUEST_SUFFIX)]
        for check in checks:
            await self.record(
                AuditEntry(
                    operation=Operation.CONSULTATION,
                    actor=_actor(check.actor, f"system:{connector}"),
                    service=connector,
                    purpose=check.purpose,
                    correlation_id=check.correlationid or check.id,
                    subjects=subjects_of([check]),
                    query=canonical_query(check),
                    record_ids=[f"event:{check.id}"],
                )
            )
        envelopes = [e for e in envelopes if not e.type.endswith(CHECK_REQUEST_SUFFIX)]
        if not envelopes:
            return
        first = envelopes[0]
        subjects = subjects_of(envelopes)
        for start in range(0, max(len(subjects), 1), MAX_SUBJECTS):
            await self.record(
                AuditEntry(
                    operation=Operation.COLLECTION,
                    actor=_actor(first.actor, f"system:{connector}"),
                    service=connector,
                    purpose=first.purpose,
                    correlation_id=first.correlationid or first.id,
                    subjects=subjects[start : start + MAX_SUBJECTS],
                    record_ids=[f"event:{e.id}" for e in envelopes],
                    details={"event_types": sorted({e.type for e in envelopes})},
                )
            )

    async def delivered(self, connector: str, target: str | None, envelope: Envelope) -> None:
        """``DeliveryRecorder``: ``envelope`` was disclosed to the system behind ``connector``."""
        recipients = [f"system:{connector}"] + ([f"system:{connector}:{target}"] if target else [])
        await self.record(
            AuditEntry(
                operation=Operation.DISCLOSURE,
                actor=_actor(envelope.actor, HUB_SYSTEM),
                service=connector,
                on_behalf_of=envelope.actor,
                # A configured route is the standing purpose of an automatic transfer; a
                # person's own purpose travels with the event and is kept when given.
                purpose=envelope.purpose or f"configured flow to {connector}",
                correlation_id=envelope.correlationid or envelope.id,
                subjects=subjects_of([envelope]),
                recipients=recipients,
                record_ids=[f"event:{envelope.id}"],
                details={"event_type": envelope.type},
            )
        )

    async def erased(self, summary: ErasureSummary) -> None:
        """``ErasureCallback`` for a store without ``StoreAudit``: logs the erasure after its commit.

        The hub wires ``StoreAudit.erased`` instead, which promises the entry in the erasure's
        own transaction; this remains for stores opened without it.
        """
        if not self.enabled:
            return
        if self.log is None:
            raise AuditNotRunning(f"the audit log is not running ({self.reason or 'not started'})")
        await self.log.erase_subject(
            SubjectRef(type="POLESTAR", value=summary.subject_id),
            actor=Actor.parse(summary.actor),
            service="polestar-store",
            record_ids=list(summary.record_ids),
        )

    async def consulted(
        self,
        *,
        actor: str,
        service: str,
        purpose: str | None,
        query: str,
        envelopes: Iterable[Envelope] = (),
        record_ids: Sequence[str] = (),
        outcome: Outcome = Outcome.SUCCEEDED,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Someone read personal data through the API (or was refused: ``outcome``)."""
        await self.record(
            AuditEntry(
                operation=Operation.CONSULTATION,
                actor=Actor.parse(actor),
                service=service,
                outcome=outcome,
                purpose=purpose,
                subjects=subjects_of(envelopes),
                query=query,
                record_ids=list(record_ids),
                details=details or {},
            )
        )


def canonical_query(envelope: Envelope) -> str:
    """The check as asked: its type and payload (stored encrypted under the subjects' keys)."""
    return json.dumps({"type": envelope.type, "data": envelope.data}, sort_keys=True, default=str)[:10_000]


def _actor(stated: str | None, system: str) -> Actor:
    """The event's actor (a person or device) acting through ``system``; the system alone if none."""
    if not stated:
        return Actor(system=system)
    parsed = Actor.parse(stated)
    if parsed.system is not None:
        return Actor(system=parsed.system)
    return Actor(person=parsed.person, device=parsed.device, system=system)


def subjects_of(envelopes: Iterable[Envelope]) -> list[SubjectRef]:
    """Every typed identifier in the events' payloads, and each entity's own id as ``POLESTAR``."""
    found: dict[str, SubjectRef] = {}
    for envelope in envelopes:
        if not isinstance(envelope.data, dict):
            continue
        own = envelope.data.get("id")
        if isinstance(own, str) and own:
            _add(found, "POLESTAR", own)
        for kind, value in _identifiers(envelope.data, depth=0):
            _add(found, kind, value)
    return list(found.values())


def _add(found: dict[str, SubjectRef], kind: str, value: str) -> None:
    try:
        ref = SubjectRef(type=kind, value=value)
    except ValidationError:
        return  # not an identifier scheme the log can index (an odd type name): skipped, not fatal
    found.setdefault(ref.canonical, ref)


def _identifiers(data: Any, depth: int) -> Iterator[tuple[str, str]]:
    if depth > 6:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "identifiers" and isinstance(value, list):
                for item in value:
                    if (
                        isinstance(item, dict)
                        and isinstance(item.get("type"), str)
                        and isinstance(item.get("value"), str)
                        and item["value"]
                    ):
                        yield item["type"], item["value"]
            else:
                yield from _identifiers(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            yield from _identifiers(item, depth + 1)
