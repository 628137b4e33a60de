"""The route step contract: envelope in, zero or more envelopes out.

A step is a plain async callable. Returning ``[]`` filters the message out;
returning several splits it; raising marks the message for retry
(``DeliveryFailed``, any unexpected error) or dead letter (``Reject``,
``DeliveryRefused``, ``MappingFailed``) — a step never drops a message
silently. Stateful steps (aggregator, throttle, circuit breaker) are small
classes whose instances are such callables.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from polestar.model.envelope import Envelope

Step = Callable[[Envelope], Awaitable[Sequence[Envelope]]]
"""One stage of a route."""
