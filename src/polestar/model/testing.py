"""Hypothesis strategies for valid identifiers and valid POLE entities: the model's test double.

Use them in any package's tests to get realistic, valid values::

    from hypothesis import given
    from polestar.model.testing import persons, pnc_ids

    @given(persons())
    def test_store_keeps_a_person(person): ...

Identifier strategies give canonical strings (``pnc_ids()``,
``uk_postcodes()``...); entity strategies give validated models, and
``ENTITY_STRATEGIES`` maps every entity schema name to one. Hypothesis is a
development dependency, so this module is for tests only.
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401 - imported only to fail early with a clear message
except ImportError as exc:  # pragma: no cover - exercised only without the dev extra
    raise ImportError(
        "polestar.model.testing needs hypothesis, a development dependency: pip install -e '.[dev]'"
    ) from exc

from polestar.model._testing_entities import (
    documents,
    drugs,
    locations,
    persons,
    phones,
    property_items,
    vehicles,
    weapons,
)
from polestar.model._testing_events import (
    ENTITY_STRATEGIES,
    arrests,
    calls,
    crimes,
    custody_episodes,
    entities,
    incidents,
    intelligence_reports,
    links,
    stop_searches,
    uses_of_force,
    witness_statements,
)
from polestar.model._testing_values import (
    code,
    codes_tuple,
    cro_numbers,
    driving_licences,
    emails,
    entity_base,
    imeis,
    markings,
    ninos,
    officers,
    past_dates,
    phone_numbers,
    pnc_id_spellings,
    pnc_ids,
    provenances,
    references,
    texts,
    times,
    uk_marks,
    uk_passports,
    uk_postcodes,
    vins,
)

__all__ = [
    "ENTITY_STRATEGIES",
    "arrests",
    "calls",
    "code",
    "codes_tuple",
    "crimes",
    "cro_numbers",
    "custody_episodes",
    "documents",
    "driving_licences",
    "drugs",
    "emails",
    "entities",
    "entity_base",
    "imeis",
    "incidents",
    "intelligence_reports",
    "links",
    "locations",
    "markings",
    "ninos",
    "officers",
    "past_dates",
    "persons",
    "phone_numbers",
    "phones",
    "pnc_id_spellings",
    "pnc_ids",
    "property_items",
    "provenances",
    "references",
    "stop_searches",
    "texts",
    "times",
    "uk_marks",
    "uk_passports",
    "uk_postcodes",
    "uses_of_force",
    "vehicles",
    "vins",
    "weapons",
    "witness_statements",
]
