"""Every name the engine uses on the NATS server, derived from the configuration.

Layout under ``subject_prefix`` (``polestar`` by default)::

    polestar.ev.<partition>.<subject>   events            stream <PREFIX>_EVENTS
    polestar.dlq.<group>                dead letters      stream <PREFIX>_DLQ
    $KV.<PREFIX>_ATTEMPTS.<group>.<seq> failure history   KV bucket <PREFIX>_ATTEMPTS
    polestar.rpc.<subject>              request/reply     core NATS, not stored

Every event carries a partition token so that groups ordered by key can bind
one consumer to each partition; groups that do not care match any partition.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from polestar.bus.config import JetStreamBusConfig

HEADER_MSG_ID = "Nats-Msg-Id"
HEADER_REPLAY_GROUP = "Polestar-Replay-Group"
"""On a dead letter sent back to the stream: only this group takes it, the others skip it."""
HEADER_GROUP = "Polestar-Group"
HEADER_REASON = "Polestar-Reason"
HEADER_ATTEMPTS = "Polestar-Attempts"
HEADER_ORIGINAL_SEQUENCE = "Polestar-Original-Sequence"
HEADER_ORIGINAL_SUBJECT = "Polestar-Original-Subject"
HEADER_PUBLISHED_AT = "Polestar-Published-At"

API_PREFIX = "$JS.API"


@dataclass(frozen=True, slots=True)
class Names:
    """Stream, bucket, subject and consumer names for one installation."""

    events_stream: str
    dead_letter_stream: str
    history_bucket: str
    subject_prefix: str
    partitions: int

    @classmethod
    def from_config(cls, config: JetStreamBusConfig) -> Names:
        """The names for ``config``'s prefixes."""
        return cls(
            events_stream=f"{config.stream_prefix}_EVENTS",
            dead_letter_stream=f"{config.stream_prefix}_DLQ",
            history_bucket=f"{config.stream_prefix}_ATTEMPTS",
            subject_prefix=config.subject_prefix,
            partitions=config.partitions,
        )

    # --- events ---------------------------------------------------------------------------------

    @property
    def events_subjects(self) -> str:
        """What the events stream captures."""
        return f"{self.subject_prefix}.ev.>"

    def partition_of(self, key: str) -> int:
        """The partition of a key: stable across processes, releases and restarts (crc32)."""
        return zlib.crc32(key.encode()) % self.partitions

    def event_subject(self, subject: str, partition: int) -> str:
        """The NATS subject an event on bus ``subject`` is stored under."""
        return f"{self.subject_prefix}.ev.{partition}.{subject}"

    def event_filter(self, pattern: str, partition: int | None = None) -> str:
        """A consumer filter for bus filter ``pattern`` in one partition, or in all of them."""
        token = "*" if partition is None else str(partition)
        return f"{self.subject_prefix}.ev.{token}.{pattern}"

    @staticmethod
    def bus_subject(nats_subject: str) -> str:
        """The bus subject of a stored event (prefix and partition removed)."""
        return nats_subject.split(".", 3)[3]

    # --- dead letters ---------------------------------------------------------------------------

    @property
    def dead_letter_subjects(self) -> str:
        """What the dead-letter stream captures."""
        return f"{self.subject_prefix}.dlq.>"

    def dead_letter_subject(self, group: str) -> str:
        """Where one group's dead letters are stored."""
        return f"{self.subject_prefix}.dlq.{group}"

    def dead_letter_group(self, nats_subject: str) -> str:
        """The group a stored dead letter belongs to."""
        return nats_subject.rsplit(".", 1)[1]

    # --- consumers and history ------------------------------------------------------------------

    @staticmethod
    def durable(group: str, partition: int | None = None) -> str:
        """The durable consumer name for a group, or for one partition of an ordered group."""
        return group if partition is None else f"{group}_p{partition}"

    @staticmethod
    def description(group: str, partition: int | None = None, partitions: int | None = None) -> str:
        """The consumer description that marks it as a Polestar group's (read back by replay/stats)."""
        base = f"polestar group {group}"
        return base if partition is None else f"{base} partition {partition}/{partitions}"

    @staticmethod
    def group_of_description(description: str | None) -> str | None:
        """The group a consumer belongs to, or None when Polestar did not create it."""
        if not description or not description.startswith("polestar group "):
            return None
        return description.split(" ")[2]

    @staticmethod
    def history_key(group: str, sequence: int) -> str:
        """The KV key holding the failures of one message in one group."""
        return f"{group}.{sequence}"

    def history_subjects(self, group: str) -> str:
        """The KV stream subjects holding one group's histories (purged on replay)."""
        return f"$KV.{self.history_bucket}.{group}.>"

    # --- request/reply --------------------------------------------------------------------------

    def rpc_subject(self, subject: str) -> str:
        """The core NATS subject requests on bus ``subject`` travel on."""
        return f"{self.subject_prefix}.rpc.{subject}"

    @property
    def responder_queue(self) -> str:
        """The queue group responders join, so that each request reaches one of them."""
        return f"{self.subject_prefix}-responders"
