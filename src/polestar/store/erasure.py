"""The erasure map's seam: every component that keeps a subject's data registers a hook.

The store knows its own tables. Search keys, caches and anything else built
from the store's records live elsewhere, so each of those components registers
an ``ErasureHook`` here; the store calls every hook when it lists a subject's
rows (``locate``) and when it erases them (``erase``). The ids given are all the
records erased with the subject: the person's own record, records merged into
it, and the links that touch any of them.

A hook must be idempotent: an erasure whose hook failed is run again, and the
hook then sees ids the store no longer holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from polestar.store.records import SubjectRow


@runtime_checkable
class ErasureHook(Protocol):
    """A component's part of an erasure: find and delete what it keeps for some record ids."""

    @property
    def name(self) -> str:
        """The component, as it appears in erasure summaries (``search``, ``cache``)."""
        ...

    async def locate(self, record_ids: Sequence[str]) -> list[SubjectRow]:
        """Every row or key this component holds for ``record_ids``."""
        ...

    async def erase(self, record_ids: Sequence[str]) -> int:
        """Delete everything this component holds for ``record_ids``; how many rows or keys went."""
        ...


class ErasureHooks:
    """The hooks a store calls. Build one per hub (tests build their own, empty)."""

    def __init__(self) -> None:
        self._hooks: dict[str, ErasureHook] = {}

    def register(self, hook: ErasureHook) -> None:
        """Add ``hook``; a second hook with the same name is refused."""
        if hook.name in self._hooks:
            raise ValueError(f"an erasure hook named {hook.name!r} is already registered")
        self._hooks[hook.name] = hook

    def unregister(self, name: str) -> None:
        """Remove the hook called ``name`` (nothing if there is none)."""
        self._hooks.pop(name, None)

    def __iter__(self) -> Iterator[ErasureHook]:
        return iter(tuple(self._hooks.values()))

    def __len__(self) -> int:
        return len(self._hooks)


class RecordingHook:
    """A test double: an in-memory "index" of record ids, erased on request."""

    def __init__(self, name: str = "search", ids: Sequence[str] = ()) -> None:
        self._name = name
        self.held: set[str] = set(ids)
        self.erased: list[tuple[str, ...]] = []
        self.fail_with: Exception | None = None

    @property
    def name(self) -> str:
        """The component name."""
        return self._name

    async def locate(self, record_ids: Sequence[str]) -> list[SubjectRow]:
        """The held ids among ``record_ids``."""
        return [SubjectRow(self._name, "index", rid) for rid in sorted(self.held & set(record_ids))]

    async def erase(self, record_ids: Sequence[str]) -> int:
        """Forget ``record_ids``; raise ``fail_with`` instead if it is set."""
        if self.fail_with is not None:
            raise self.fail_with
        gone = self.held & set(record_ids)
        self.held -= gone
        self.erased.append(tuple(record_ids))
        return len(gone)
