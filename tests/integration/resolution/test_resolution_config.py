"""The resolution cut-offs come from the hub configuration: other thresholds, other outcomes.

Each test loads a ``polestar.yaml`` the way the hub does and resolves over a
real store and index (SQLite and PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _resolution_helpers import T0, arrive, person

from polestar.api.store_component import StoreComponent
from polestar.config import HubConfig, load_config
from polestar.errors import ConfigError
from polestar.model import Location, to_envelope
from polestar.resolution import Outcome, ResolutionPolicy, Resolver
from polestar.resolution.objects import ObjectResolver
from polestar.search import SearchIndex
from polestar.search.place_index import PlaceIndex
from polestar.store import SqlStore

HOME = {"lines": ["14 Acacia Avenue", "Sketty"], "town": "Swansea", "postcode": "SA2 0AB"}


PROV = {"organisation": "01", "system": "cad", "observed_at": T0, "recorded_at": T0}


def _policy(tmp_path: Path, section: str) -> ResolutionPolicy:
    file = tmp_path / "polestar.yaml"
    file.write_text(f"data_dir: {tmp_path}\nresolution:\n{section}", encoding="utf-8")
    return load_config(file).resolution


async def _resolver(indexed: tuple[SqlStore, SearchIndex], policy: ResolutionPolicy) -> Resolver:
    store, index = indexed
    made = Resolver(store, index, policy=policy)
    await made.start()
    return made


async def _two_robert_smiths_born_1985(resolver: Resolver) -> Outcome:
    await arrive(resolver, person("c1", "Robert", "Smith", date_of_birth="1985"))
    await arrive(resolver, person("d1", "Robert", "Smith", date_of_birth="1985", system="cad"))
    return (await resolver.resolve("d1")).outcome


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("", Outcome.REVIEW),  # the defaults: a name and a year of birth are for a person to decide
        ("  merge_at: 12\n  review_at: 8\n", Outcome.MERGED),
        ("  merge_at: 40\n  review_at: 30\n", Outcome.NEW),
    ],
)
async def test_person_thresholds_in_the_hub_config_decide_the_outcome(
    indexed: tuple[SqlStore, SearchIndex], tmp_path: Path, section: str, expected: Outcome
) -> None:
    resolver = await _resolver(indexed, _policy(tmp_path, section or "  {}\n"))
    assert await _two_robert_smiths_born_1985(resolver) is expected


@pytest.mark.parametrize(
    ("section", "expected"), [("  {}\n", Outcome.NEW), ("  address_review_at: 40\n", Outcome.REVIEW)]
)
async def test_the_address_threshold_in_the_hub_config_decides_the_outcome(
    indexed: tuple[SqlStore, SearchIndex], tmp_path: Path, section: str, expected: Outcome
) -> None:
    # Next door at the same postcode: new under the defaults (test_object_resolution), reviewed here.
    places = PlaceIndex(indexed[0].engine)
    await places.start()
    objects = ObjectResolver(await _resolver(indexed, _policy(tmp_path, section)), places)
    next_door = {**HOME, "lines": ["16 Cedar Road", "Sketty"]}
    for entity in (
        Location(id="l1", address=HOME, provenance=PROV),
        Location(id="l5", address=next_door, provenance=PROV),
    ):
        await objects.store.apply(to_envelope(entity, type="location.updated", source="/t", actor="system:t"))
        outcome = await objects.resolve(entity.id)
    assert outcome.outcome is expected


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ("  merge_at: 10\n  review_at: 15\n", "review_at (15) is above merge_at (10)"),
        ("  address_review_at: 120\n", "resolution.address_review_at"),
        ("  merge_when: 10\n", "resolution.merge_when"),
    ],
)
def test_a_bad_resolution_section_is_refused_naming_the_field(
    tmp_path: Path, section: str, named: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        _policy(tmp_path, section)
    assert named in str(refused.value)


def test_the_hub_store_component_resolves_with_the_configured_policy(tmp_path: Path) -> None:
    config = HubConfig(data_dir=tmp_path, resolution={"merge_at": 25, "review_at": 18})
    component = StoreComponent(config, bus=None)  # type: ignore[arg-type] # built, never started
    assert component.resolver.policy == ResolutionPolicy(merge_at=25, review_at=18)
    assert component.objects.people.policy.merge_at == 25
