"""Real envelopes for route step tests."""

from __future__ import annotations

from typing import Any

from polestar.model.envelope import Envelope


def custody_opened(number: int = 1, **data: Any) -> Envelope:
    return Envelope(
        source="/connectors/custody",
        type="custody.episode.opened",
        subject=f"01CX/{number:06d}/26",
        classification="OFFICIAL-SENSITIVE [PERSONAL]",
        partitionkey=f"01CX/{number:06d}/26",
        actor="system:custody",
        data={"kind": "custody", "custody_record_number": f"01CX/{number:06d}/26", **data},
    )
