"""The events of ``bench/bus.py`` and its routing rule, shared with the raw references."""

from __future__ import annotations

import time

from polestar.model.envelope import Envelope

NATS_URL = "nats://127.0.0.1:4222"
PAD = "x" * 700  # brings the encoded event to about 1 KiB
KINDS = ("custody", "incident")


def make_event(i: int) -> Envelope:
    """Event ``i``: custody and incident in turn, 64 partition keys, stamped when made."""
    kind = KINDS[i % 2]
    return Envelope(
        source="/bench/producer",
        type=f"{kind}.record.created",
        subject=f"{kind.upper()}-{i:08d}",
        partitionkey=f"K{i % 64}",
        data={"kind": kind, "n": i, "sent_ns": time.perf_counter_ns(), "pad": PAD},
    )


def routed(env: Envelope, tag: str) -> tuple[Envelope, str]:
    """Content-based routing: custody events to sink A, the rest to sink B, as a caused event."""
    sink = "a" if (env.data or {}).get("kind") == "custody" else "b"
    out = env.caused(source="/bench/router", type=env.type, subject=env.subject, data=env.data)
    return out, f"out{tag}.{sink}.{env.type.split('.')[0]}"
