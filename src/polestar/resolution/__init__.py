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

from polestar.resolution.errors import ResolutionError, ReviewDecided, ReviewNotFound
from polestar.resolution.records import Outcome, Resolution, ResolutionPolicy, Review, ReviewStatus
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
