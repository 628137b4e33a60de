"""Witnesses: somewhere outside the hub's database that keeps every checkpoint head.

A witness holding a head makes rewriting history detectable even by someone
holding the signing key: the rewritten log cannot reproduce the witnessed root
at that size (check with a consistency proof). Two are provided: a JSON Lines
file (on other storage, e.g. a write-once bucket mount) and an HTTP endpoint
that receives each head as a JSON ``POST``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Protocol

import httpx

from polestar.audit.heads import SignedTreeHead


def witness_record(head: SignedTreeHead, public_key_pem: str) -> dict[str, Any]:
    """What a witness receives: the head and the key to check it with."""
    return {"type": "signed_tree_head", **head.model_dump(mode="json"), "public_key_pem": public_key_pem}


class Witness(Protocol):
    """Receives each checkpoint head; raising reports the failure (the head stays in the log)."""

    async def publish(self, head: SignedTreeHead, public_key_pem: str) -> None:
        """Keep ``head``."""
        ...


class FileWitness:
    """Appends each head as one JSON line to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def publish(self, head: SignedTreeHead, public_key_pem: str) -> None:
        """Append the head and flush it to disk."""
        line = json.dumps(witness_record(head, public_key_pem), sort_keys=True) + "\n"
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()

    def heads(self) -> list[SignedTreeHead]:
        """Every head the file holds, in the order written."""
        if not self.path.exists():
            return []
        fields = set(SignedTreeHead.model_fields)
        return [
            SignedTreeHead.model_validate({k: v for k, v in json.loads(line).items() if k in fields})
            for line in self.path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]


class HttpWitness:
    """POSTs each head as JSON to ``url``; a non-2xx answer is an error.

    Args:
        url: the witness endpoint.
        client: an ``httpx.AsyncClient`` to use (default: one per publish).
        timeout: seconds to wait for the witness.
    """

    def __init__(self, url: str, *, client: httpx.AsyncClient | None = None, timeout: float = 10.0) -> None:
        self.url = url
        self._client = client
        self._timeout = timeout

    async def publish(self, head: SignedTreeHead, public_key_pem: str) -> None:
        """Send the head; ``httpx.HTTPError`` if the witness did not take it."""
        body = witness_record(head, public_key_pem)
        if self._client is not None:
            (await self._client.post(self.url, json=body, timeout=self._timeout)).raise_for_status()
            return
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            (await client.post(self.url, json=body)).raise_for_status()
