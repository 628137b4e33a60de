"""How a step learns what became of the message it is working on.

The runner opens a ``Settlement`` around each message; a step that must wait
for a message's fate (the aggregator, whose inputs are acknowledged only when
the aggregate has been delivered) registers a callback with ``on_settled``.
Outside a runner (``polestar routes test``) there is no settlement and
``current()`` is None.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

SettledCallback = Callable[[BaseException | None], None]


@dataclass(slots=True)
class Settlement:
    """The fate of one message: callbacks to run once it is known."""

    callbacks: list[SettledCallback] = field(default_factory=list)
    absorbed: bool = False
    """True when an aggregator took the message into an aggregate (so no output is not 'filtered')."""

    def on_settled(self, callback: SettledCallback) -> None:
        """Call ``callback(None)`` on success or ``callback(error)`` on failure."""
        self.callbacks.append(callback)

    def settled(self, error: BaseException | None) -> None:
        """Tell every callback; each is called once."""
        callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            callback(error)


_current: ContextVar[Settlement | None] = ContextVar("polestar_route_settlement", default=None)


def current() -> Settlement | None:
    """The settlement of the message being handled, if a runner is handling one."""
    return _current.get()


@contextlib.contextmanager
def settlement_scope() -> Iterator[Settlement]:
    """Open a settlement for one message; the caller must call ``settled`` on it."""
    settlement = Settlement()
    token = _current.set(settlement)
    try:
        yield settlement
    finally:
        _current.reset(token)
