import random
import re
from collections import Counter
from datetime import date

import pytest

from polestar.sims.synthetic import (
    Variation,
    World,
    age_identifier,
    make_pnc_id,
    nicknames,
    pnc_check_character,
    spelling_variants,
    typo,
    valid_pnc_id,
    valid_postcode,
    valid_registration,
)


@pytest.fixture(scope="module")
def world():
    return World.build(11, people=1500, vehicles=800)


def test_the_same_seed_builds_the_same_world():
    first, again = World.build(5, people=300, vehicles=100), World.build(5, people=300, vehicles=100)
    assert first.people == again.people
    assert first.vehicles == again.vehicles
    assert first.places == again.places
    other = World.build(6, people=300, vehicles=100)
    assert [p.pnc_id for p in other.people] != [p.pnc_id for p in first.people]


def test_the_world_has_a_few_thousand_people_by_default():
    world = World.build(1)
    assert len(world.people) == 3000
    assert len(world.vehicles) == 2000
    assert len({p.id for p in world.people}) == 3000


def test_pnc_check_character_follows_the_modulus_23_rule():
    assert make_pnc_id(2012, 52494) == "2012/0052494Q"  # the example custody extract's detainee
    assert pnc_check_character(2012, 52494) == "ZABCDEFGHJKLMNPQRTUVWXY"[int("120052494") % 23]
    assert valid_pnc_id("2012/0052494Q")
    assert not valid_pnc_id("2012/0052494R")
    assert not valid_pnc_id("12/52494Q")


def test_every_identifier_in_the_world_is_valid(world):
    assert world.known_to_police
    assert all(valid_pnc_id(p.pnc_id) for p in world.known_to_police)
    assert all(valid_postcode(a.postcode) for a in [*world.addresses, *(pl.address for pl in world.places)])
    assert all(valid_registration(v.vrm, v.first_registered) for v in world.vehicles)
    assert len(world.vehicles_by_vrm) == len(world.vehicles)
    keepers = world.people_by_id
    assert all(v.keeper_id in keepers for v in world.vehicles)


def test_postcodes_cover_the_uk_formats(world):
    outward_shapes = Counter(
        re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", a.postcode.split()[0])) for a in world.addresses
    )
    assert {"A9", "A99", "AA9", "AA99"} <= set(outward_shapes)
    assert not valid_postcode("SE13 7CB")  # C is never an inward letter
    assert not valid_postcode("se13 7ab")


def test_age_identifiers_change_in_march_and_september():
    assert age_identifier(date(2020, 3, 1)) == "20"
    assert age_identifier(date(2020, 9, 1)) == "70"
    assert age_identifier(date(2021, 2, 28)) == "70"
    assert valid_registration("LB70 XYZ", date(2021, 1, 5))
    assert not valid_registration("LB20 XYZ", date(2021, 1, 5))
    assert not valid_registration("IB20 XYZ")  # I is never an area letter
    assert not valid_registration("LB20 XQZ")  # Q is never issued


def test_names_carry_variants_nicknames_and_typos_across_systems(world):
    kinds = Counter(world.recorded_name(p, "custody")[2] for p in world.people)
    assert kinds[Variation.EXACT] > len(world.people) * 0.6
    assert all(kinds[kind] for kind in (Variation.NICKNAME, Variation.SPELLING, Variation.TYPO))
    assert world.recorded_name(world.people[0], "cad") == world.recorded_name(world.people[0], "cad")
    assert "Muhammad" in spelling_variants("Mohammed")
    assert {"Katherine", "Kathryn"} <= set(spelling_variants("Catherine"))
    assert {"Bob", "Rob"} <= set(nicknames("Robert"))
    assert {"Bill", "Will"} <= set(nicknames("William"))
    assert {"Liz", "Beth"} <= set(nicknames("Elizabeth"))


def test_typos_swap_drop_or_double_one_letter():
    rng = random.Random(3)
    for _ in range(50):
        made = typo(rng, "Okafor")
        assert made != "Okafor"
        assert abs(len(made) - len("Okafor")) <= 1
        assert sorted(made) == sorted("Okafor") or len(made) != len("Okafor")


def test_given_names_follow_a_frequency_head_and_tail(world):
    counts = Counter(p.given for p in world.people)
    assert len(counts) > 100
    assert counts.most_common(1)[0][1] > 5 * min(counts.values())


def test_wanted_missing_and_warning_markers_occur(world):
    assert any(m.kind == "wanted" for p in world.people for m in p.markers)
    assert any(m.kind == "missing" for p in world.people for m in p.markers)
    assert any(p.warnings for p in world.people)
    assert any(v.stolen_since for v in world.vehicles)
