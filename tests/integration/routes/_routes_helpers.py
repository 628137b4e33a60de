"""Writing integration configs and waiting for outcomes in route tests."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polestar.model.envelope import Envelope


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def http_connector(folder: Path, url: str, name: str = "crime-system", *, timeout: float = 2.0) -> Path:
    return write(
        folder / "connectors" / f"{name}.yaml",
        f"""
        connectors:
          - name: {name}
            kind: http
            description: The force's crime recording system
            format: json
            outbound:
              url: {url}/api/crimes
              timeout: {timeout}
              connect_timeout: 1
        """,
    )


def custody_event(number: int = 1, *, key: str | None = None, **data: Any) -> Envelope:
    return Envelope(
        source="/connectors/custody",
        type="custody.episode.opened",
        subject=f"01CX/{number:06d}/26",
        partitionkey=key,
        data={"kind": "custody", "custody_record_number": f"01CX/{number:06d}/26", **data},
    )


async def eventually(check: Callable[[], Any], *, timeout: float = 10.0, every: float = 0.02) -> Any:
    """Wait until ``check()`` is truthy (returning it) or fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(every)


async def dead_letters_of(bus: Any, group: str, timeout: float = 10.0) -> list[Any]:
    """The group's dead letters, waiting for at least one."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        found = await bus.dead_letters(group)
        if found:
            return list(found)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no dead letter in {group} within {timeout}s")
