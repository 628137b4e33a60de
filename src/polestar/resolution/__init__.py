"""Entity resolution: is an incoming person someone the store already holds?

::

    resolver = Resolver(store, index)                 # index: polestar.search.SearchIndex on the same store
    store.hooks.register(resolver)                    # the review queue goes with an erasure too
    await resolver.start()
    outcome = await resolver.resolve(person_id)       # merged, review or new
    for review in await resolver.reviews():
        await resolver.decide(review.id, same=True, actor="user:DS7", reason="same custody photo")

Deterministic on strong identifiers, Fellegi-Sunter on names and dates of birth
for the rest; merges are the store's (reversible, recorded).
"""

from typing import TYPE_CHECKING, Any

from polestar.resolution.config import ResolutionPolicy
from polestar.resolution.errors import ResolutionError, ReviewDecided, ReviewNotFound
from polestar.resolution.records import Outcome, Resolution, Review, ReviewStatus

if TYPE_CHECKING:
    from polestar.resolution.resolver import Resolver

__all__ = [
    "Outcome",
    "Resolution",
    "ResolutionError",
    "ResolutionPolicy",
    "Resolver",
    "Review",
    "ReviewDecided",
    "ReviewNotFound",
    "ReviewStatus",
]


def __getattr__(name: str) -> Any:
    # The hub configuration imports ``ResolutionPolicy`` from here; the resolver (and the
    # search and store under it) loads only when asked for, so reading a config stays light.
    if name == "Resolver":
        from polestar.resolution.resolver import Resolver  # noqa: PLC0415 - lazy on purpose (above)

        return Resolver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
