"""Search: people by phonetic and fuzzy names, nicknames, swapped names and partial dates of birth.

::

    index = SearchIndex(store.engine)
    store.hooks.register(index)                 # a person's search keys go with an erasure
    await index.start()
    await index.rebuild()                       # or refresh(ids) after store applies
    for match in await index.search(PersonQuery(given="Bob", family="Smyth", date_of_birth="1985")):
        print(match.person_id, match.band, match.score, [f.detail for f in match.fields])

``docs/search.md`` describes the keys, the blocking rules and the model.
"""

from polestar.search.index import SearchIndex
from polestar.search.keys import BirthDate, NameKeys, PersonKeys, keys_from_document
from polestar.search.people import Thresholds
from polestar.search.query import Band, IdentifierQuery, PersonMatch, PersonQuery
from polestar.search.scoring import FieldMatch, MatchModel

__all__ = [
    "Band",
    "BirthDate",
    "FieldMatch",
    "IdentifierQuery",
    "MatchModel",
    "NameKeys",
    "PersonKeys",
    "PersonMatch",
    "PersonQuery",
    "SearchIndex",
    "Thresholds",
    "keys_from_document",
]
