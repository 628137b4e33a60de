"""Dead letters: a stream of their own, one subject per group.

JetStream 2.9 does not move exhausted messages anywhere; the engine does. A
dead letter is the original event (same bytes) stored on ``<prefix>.dlq.<group>``
in ``<PREFIX>_DLQ`` with headers for the group, reason, attempt history and
original sequence. Its id is its sequence in that stream. The write carries a
``Nats-Msg-Id`` of ``dl:<group>:<sequence>``, so a hub that dies between
writing the dead letter and terminating the original cannot store it twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from polestar.bus.contract import AttemptRecord, BusMessage, DeadLetter
from polestar.bus.jetstream import _codec
from polestar.bus.jetstream._names import HEADER_MSG_ID, Names
from polestar.errors import DeadLetterNotFound


class DeadLetterStore:
    """Writes, lists, reads and removes dead letters."""

    def __init__(self, js: JetStreamContext, names: Names) -> None:
        self._js = js
        self._names = names

    async def bury(
        self, group: str, message: BusMessage, raw: bytes, reason: str, attempts: Sequence[AttemptRecord]
    ) -> int:
        """Store a dead letter for ``message`` in ``group``; returns its sequence."""
        headers = _codec.dead_letter_headers(group, reason, attempts, message)
        msg_id = f"dl:{group}:{message.sequence}"
        subject = self._names.dead_letter_subject(group)
        ack = await self._js.publish(subject, raw, headers={**headers, HEADER_MSG_ID: msg_id})
        if ack.duplicate and not await self._exists(ack.seq):
            # The earlier dead letter of this message was replayed or discarded inside the
            # dedupe window; this is a new failure, not a repeat, so store it under a new id.
            ack = await self._js.publish(
                subject, raw, headers={**headers, HEADER_MSG_ID: f"{msg_id}:after:{ack.seq}"}
            )
        return ack.seq

    async def _exists(self, sequence: int) -> bool:
        try:
            await self._js.get_msg(self._names.dead_letter_stream, seq=sequence, direct=True)
        except NotFoundError:
            return False
        return True

    async def get(self, dead_letter_id: str) -> tuple[DeadLetter, bytes]:
        """One dead letter and its original bytes, or ``DeadLetterNotFound``."""
        try:
            sequence = int(dead_letter_id)
        except ValueError:
            raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}") from None
        if sequence < 1:
            raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}")
        try:
            raw = await self._js.get_msg(self._names.dead_letter_stream, seq=sequence, direct=True)
        except NotFoundError:
            raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}") from None
        if raw.seq != sequence:
            raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}")
        return self._decode(raw), raw.data or b""

    async def list(self, group: str | None, limit: int) -> list[DeadLetter]:
        """Dead letters oldest first, for one group or all."""
        subject = self._names.dead_letter_subject(group) if group else self._names.dead_letter_subjects
        found: list[DeadLetter] = []
        sequence = 1
        while len(found) < limit:
            try:
                # Direct get of the next message on the subject: a round trip each, which is
                # fine for an operator's page of dead letters and leaves no consumer behind.
                raw = await self._js.get_msg(
                    self._names.dead_letter_stream, seq=sequence, subject=subject, direct=True, next=True
                )
            except NotFoundError:
                break
            assert raw.seq is not None
            found.append(self._decode(raw))
            sequence = raw.seq + 1
        return found

    async def delete(self, dead_letter_id: str) -> None:
        """Remove a dead letter, or ``DeadLetterNotFound``."""
        await self.get(dead_letter_id)
        try:
            await self._js.delete_msg(self._names.dead_letter_stream, int(dead_letter_id))
        except NotFoundError:
            raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}") from None

    async def count(self, group: str | None = None) -> int:
        """How many dead letters are kept, for one group or all."""
        if group is None:
            info = await self._js.stream_info(self._names.dead_letter_stream)
            return info.state.messages
        subject = self._names.dead_letter_subject(group)
        info = await self._js.stream_info(self._names.dead_letter_stream, subjects_filter=subject)
        return (info.state.subjects or {}).get(subject, 0)

    async def counts(self) -> dict[str, int]:
        """Dead letters per group."""
        info = await self._js.stream_info(
            self._names.dead_letter_stream, subjects_filter=self._names.dead_letter_subjects
        )
        return {self._names.dead_letter_group(s): n for s, n in (info.state.subjects or {}).items()}

    def _decode(self, raw: api.RawStreamMsg) -> DeadLetter:
        assert raw.seq is not None
        assert raw.time is not None
        headers = {str(k): str(v) for k, v in (raw.headers or {}).items()}
        return _codec.dead_letter(raw.seq, headers, raw.data or b"", raw.time)
