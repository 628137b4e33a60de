"""The regulator's export: entries with their leaves and inclusion proofs, under one signed head.

JSON Lines: a ``log`` line (log id, public key, who exported what, when), a
``signed_tree_head`` line, then one ``entry`` line per entry. CSV: one row per
entry, and the log and head lines in ``OUT.head.json`` beside it. Each entry
carries its leaf (base64) and audit path, so anyone with the public key can
check, without the hub, that the leaf is in the signed tree (``verify_export``).
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from polestar.audit.heads import SignedTreeHead
from polestar.audit.leaf import ERASED, AuditRecord
from polestar.audit.merkle import leaf_hash, verify_inclusion


class ExportFormat(StrEnum):
    """How the export is written."""

    JSONL = "jsonl"
    CSV = "csv"


CSV_COLUMNS = (
    "seq", "at", "operation", "outcome", "actor_person", "actor_device", "actor_system", "on_behalf_of",
    "service", "purpose", "legal_basis", "correlation_id", "operation_id", "subjects", "recipients",
    "query", "record_ids", "details", "leaf_hash", "leaf_base64", "inclusion_path",
)  # fmt: skip


def head_sidecar(path: Path) -> Path:
    """Where a CSV export's log and head lines go."""
    return path.with_name(path.name + ".head.json")


def write_export(
    path: Path,
    fmt: ExportFormat,
    preamble: dict[str, Any],
    head: SignedTreeHead,
    items: Sequence[tuple[AuditRecord, bytes, list[bytes]]],
) -> None:
    """Write ``(record, leaf, audit path)`` items with the preamble and head."""
    head_line = {"type": "signed_tree_head", **head.model_dump(mode="json")}
    if fmt is ExportFormat.JSONL:
        with path.open("w", encoding="utf-8") as f:
            f.write(json.dumps({"type": "log", **preamble}) + "\n")
            f.write(json.dumps(head_line) + "\n")
            for record, leaf, proof in items:
                line = {
                    "type": "entry",
                    "seq": record.seq,
                    "leaf_hash": record.leaf_hash,
                    "leaf_base64": base64.b64encode(leaf).decode(),
                    "inclusion_path": [p.hex() for p in proof],
                    "record": record.model_dump(mode="json"),
                }
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    head_sidecar(path).write_text(
        json.dumps({"log": preamble, "signed_tree_head": head_line}, indent=2) + "\n"
    )
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for record, leaf, proof in items:
            writer.writerow(_csv_row(record, leaf, proof))


def _csv_row(record: AuditRecord, leaf: bytes, proof: list[bytes]) -> list[str]:
    personal_gone = ERASED if record.personal_erased else ""
    return [
        str(record.seq),
        record.at.isoformat(),
        record.operation.value,
        record.outcome.value,
        record.actor.person or "",
        record.actor.device or "",
        record.actor.system or "",
        record.on_behalf_of or "",
        record.service,
        record.purpose or "",
        record.legal_basis.value if record.legal_basis else "",
        record.correlation_id or "",
        record.operation_id,
        " ".join(str(s) for s in record.subjects),
        " ".join(record.recipients),
        record.query if record.query is not None else personal_gone,
        " ".join(record.record_ids),
        json.dumps(record.details, sort_keys=True) if record.details is not None else personal_gone,
        record.leaf_hash,
        base64.b64encode(leaf).decode(),
        " ".join(p.hex() for p in proof),
    ]


class ExportInvalid(ValueError):  # noqa: N818 - reads as the verdict
    """An export does not check out; the message names the line or entry."""


def verify_export(path: Path, public_key: Ed25519PublicKey | None = None) -> int:
    """Check a JSONL or CSV export on its own; returns the entries checked, or raises ``ExportInvalid``.

    ``public_key`` should come from somewhere other than the export (a witness, the force);
    without it the key written in the export is used.
    """
    if path.suffix == ".csv":
        meta = json.loads(head_sidecar(path).read_text(encoding="utf-8"))
        preamble, head_line = meta["log"], meta["signed_tree_head"]
        with path.open(encoding="utf-8", newline="") as f:
            entries = [
                (
                    int(r["seq"]),
                    base64.b64decode(r["leaf_base64"]),
                    r["leaf_hash"],
                    r["inclusion_path"].split(),
                )
                for r in csv.DictReader(f)
            ]
    else:
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if len(lines) < 2 or lines[0].get("type") != "log" or lines[1].get("type") != "signed_tree_head":
            raise ExportInvalid("an export starts with a log line and a signed_tree_head line")
        preamble, head_line = lines[0], lines[1]
        entries = [
            (e["seq"], base64.b64decode(e["leaf_base64"]), e["leaf_hash"], e["inclusion_path"])
            for e in lines[2:]
        ]
    key = public_key
    if key is None:
        loaded = load_pem_public_key(preamble["public_key_pem"].encode())
        if not isinstance(loaded, Ed25519PublicKey):
            raise ExportInvalid("the export's public key is not an Ed25519 key")
        key = loaded
    head = SignedTreeHead.model_validate({k: v for k, v in head_line.items() if k != "type"})
    if not head.signature_valid(key):
        raise ExportInvalid(
            f"the signed tree head (size {head.tree_size}) does not verify with the public key"
        )
    for seq, leaf, stated_hash, path_hex in entries:
        h = leaf_hash(leaf)
        if h.hex() != stated_hash:
            raise ExportInvalid(f"entry {seq}: the leaf does not hash to the stated leaf hash")
        if not verify_inclusion(h, seq, head.tree_size, [bytes.fromhex(p) for p in path_hex], head.root):
            raise ExportInvalid(f"entry {seq}: the inclusion proof does not lead to the signed root")
    return len(entries)
