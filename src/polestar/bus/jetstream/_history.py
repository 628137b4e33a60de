"""Failure history across redeliveries, kept in a JetStream key-value bucket.

JetStream redelivers the very message it stored, so the reasons for earlier
failures cannot travel with it. They are kept in a replicated, file-backed KV
bucket keyed by ``<group>.<stream sequence>``: durable like the stream itself,
readable by whichever hub process gets the next delivery, and removed when the
message is finally settled (the bucket's TTL equals the stream's ``max_age``, so
nothing outlives the message it describes). Only failures cost a write;
deliveries that succeed first time never touch the bucket.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from polestar.bus.config import JetStreamBusConfig
from polestar.bus.contract import AttemptRecord
from polestar.bus.jetstream._codec import clip, decode_attempts, encode_attempts
from polestar.bus.jetstream._names import Names
from polestar.bus.jetstream._streams import history_bucket_config
from polestar.model.timeutil import utcnow

_STREAM_NAME_IN_USE = 10058
_CAS_RETRIES = 5


class AttemptHistory:
    """Reads and appends the failures of one message in one group."""

    def __init__(self, js: JetStreamContext, names: Names) -> None:
        self._js = js
        self._names = names
        self._kv: KeyValue | None = None

    async def open(self, config: JetStreamBusConfig) -> None:
        """Create the bucket if needed and bind to it."""
        try:
            self._kv = await self._js.create_key_value(history_bucket_config(config, self._names))
        except BadRequestError as exc:
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
            self._kv = await self._js.key_value(self._names.history_bucket)

    @property
    def _bucket(self) -> KeyValue:
        assert self._kv is not None, "AttemptHistory.open() not called"
        return self._kv

    async def read(self, group: str, sequence: int) -> tuple[AttemptRecord, ...]:
        """The failures recorded so far (none if the message never failed)."""
        try:
            entry = await self._bucket.get(Names.history_key(group, sequence))
        except KeyNotFoundError:
            return ()
        return decode_attempts(entry.value)

    async def record(self, group: str, sequence: int, attempt: int, reason: str) -> tuple[AttemptRecord, ...]:
        """Append one failure and return the whole history, oldest first."""
        key = Names.history_key(group, sequence)
        record = AttemptRecord(attempt=attempt, at=utcnow(), reason=clip(reason))
        for _ in range(_CAS_RETRIES):
            # Compare-and-set: a slow member settling a redelivered copy must not erase a failure.
            try:
                entry = await self._bucket.get(key)
            except KeyNotFoundError:
                entry = None
            history = decode_attempts(entry.value) if entry is not None else ()
            history = (*(a for a in history if a.attempt != attempt), record)
            history = tuple(sorted(history, key=lambda a: a.attempt))
            value = encode_attempts(history).encode()
            try:
                if entry is None:
                    await self._bucket.create(key, value)
                else:
                    await self._bucket.update(key, value, last=entry.revision)
            except (KeyWrongLastSequenceError, BadRequestError):
                continue
            return history
        return history

    async def forget(self, group: str, sequence: int) -> None:
        """Drop the history of a message that is settled for good."""
        await self._bucket.purge(Names.history_key(group, sequence))

    async def forget_group(self, group: str) -> None:
        """Drop every history of a group (its consumer was moved back by ``replay``)."""
        stream = f"KV_{self._names.history_bucket}"
        await self._js.purge_stream(stream, subject=self._names.history_subjects(group))
