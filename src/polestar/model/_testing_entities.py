"""Hypothesis strategies for People, Objects and Locations (see ``polestar.model.testing``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

from polestar.model import codes
from polestar.model._testing_values import (
    code,
    cro_numbers,
    driving_licences,
    emails,
    entity_base,
    imeis,
    ninos,
    past_dates,
    phone_numbers,
    pnc_ids,
    references,
    texts,
    uk_marks,
    uk_passports,
    uk_postcodes,
    vins,
)
from polestar.model.locations import Location
from polestar.model.objects import Document, Drug, Phone, PropertyItem, Vehicle, Weapon
from polestar.model.people import Person

D = dict[str, Any]


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def _names(draw: st.DrawFn) -> D:
    return {
        "given": draw(texts(20)),
        "middle": draw(st.lists(texts(20), max_size=2)),
        "family": draw(_opt(texts(20))),
    }


@st.composite
def _dates_of_birth(draw: st.DrawFn) -> D | str:
    first = draw(past_dates())
    kind = draw(st.sampled_from(["day", "month", "year", "range"]))
    if kind == "range":
        return {"earliest": first.replace(day=1).isoformat(), "latest": first.isoformat()}
    return {"day": first.isoformat(), "month": first.isoformat()[:7], "year": first.isoformat()[:4]}[kind]


@st.composite
def _identifiers(draw: st.DrawFn, born: date | None) -> list[D]:
    makers = {
        "PNC": pnc_ids(),
        "CRO": cro_numbers(),
        "NINO": ninos(),
        "DRIVING-LICENCE": driving_licences(born),
        "PASSPORT": uk_passports(),
    }
    kinds = draw(st.lists(st.sampled_from(sorted(makers)), unique=True, max_size=5))
    return [{"type": kind, "value": draw(makers[kind])} for kind in kinds]


@st.composite
def persons(draw: st.DrawFn) -> Person:
    """A valid person with identifiers, description and contact points."""
    alias = st.builds(lambda n, t: {**n, "type": t}, _names(), code(codes.NameType))
    mark = st.fixed_dictionaries(
        {"type": code(codes.MarkType), "body_location": texts(20), "description": _opt(texts())}
    )
    description = st.fixed_dictionaries(
        {
            "height_cm": _opt(st.integers(120, 210)),
            "build": _opt(code(codes.Build)),
            "eye_colour": _opt(code(codes.EyeColour)),
            "hair_colour": _opt(code(codes.HairColour)),
            "ethnic_appearance": _opt(code(codes.EthnicAppearance)),
            "marks": st.lists(mark, max_size=2),
        }
    )
    contact = st.one_of(
        st.fixed_dictionaries({"kind": st.just("phone"), "number": phone_numbers()}),
        st.fixed_dictionaries({"kind": st.just("email"), "address": emails()}),
    )
    born = draw(_opt(_dates_of_birth()))
    exact = date.fromisoformat(born) if isinstance(born, str) and len(born) == 10 else None
    return Person.model_validate(
        {
            **draw(entity_base()),
            "name": draw(_names()),
            "aliases": draw(st.lists(alias, max_size=2)),
            "date_of_birth": born,
            "gender": draw(code(codes.Gender)),
            "nationalities": draw(
                st.lists(st.sampled_from(["GBR", "IRL", "POL", "NGA"]), max_size=2, unique=True)
            ),
            "identifiers": draw(_identifiers(exact)),
            "description": draw(_opt(description)),
            "contact_points": draw(st.lists(contact, max_size=2)),
        }
    )


@st.composite
def vehicles(draw: st.DrawFn) -> Vehicle:
    """A valid vehicle, UK or foreign."""
    registration = st.one_of(
        st.fixed_dictionaries({"mark": uk_marks()}),
        st.fixed_dictionaries({"mark": st.just("M-AB 1234"), "country": st.just("DEU")}),
    )
    return Vehicle.model_validate(
        {
            **draw(entity_base()),
            "registration": draw(registration),
            "vin": draw(_opt(vins())),
            "make": draw(_opt(texts(20))),
            "colour": draw(_opt(code(codes.VehicleColour))),
        }
    )


@st.composite
def phones(draw: st.DrawFn) -> Phone:
    """A valid phone with an IMEI and a number."""
    return Phone.model_validate(
        {**draw(entity_base()), "imei": draw(imeis()), "number": draw(phone_numbers())}
    )


@st.composite
def weapons(draw: st.DrawFn) -> Weapon:
    """A valid weapon."""
    return Weapon.model_validate(
        {
            **draw(entity_base()),
            "weapon_type": draw(code(codes.WeaponType)),
            "description": draw(_opt(texts())),
        }
    )


@st.composite
def drugs(draw: st.DrawFn) -> Drug:
    """A valid drug seizure."""
    quantity = st.fixed_dictionaries(
        {"amount": st.floats(0.01, 10_000, allow_nan=False), "unit": code(codes.QuantityUnit)}
    )
    return Drug.model_validate(
        {**draw(entity_base()), "drug_class": draw(code(codes.DrugClass)), "quantity": draw(_opt(quantity))}
    )


@st.composite
def property_items(draw: st.DrawFn) -> PropertyItem:
    """A valid property item."""
    return PropertyItem.model_validate(
        {
            **draw(entity_base()),
            "category": draw(code(codes.PropertyCategory)),
            "description": draw(texts()),
            "estimated_value_pence": draw(_opt(st.integers(0, 10**7))),
        }
    )


@st.composite
def documents(draw: st.DrawFn) -> Document:
    """A valid document."""
    return Document.model_validate(
        {
            **draw(entity_base()),
            "document_type": draw(code(codes.DocumentType)),
            "number": draw(_opt(references())),
            "expires_on": draw(_opt(past_dates())),
        }
    )


@st.composite
def locations(draw: st.DrawFn) -> Location:
    """A valid location with an address, coordinates or both."""
    address = st.fixed_dictionaries(
        {
            "lines": st.lists(texts(30), min_size=1, max_size=3),
            "postcode": _opt(uk_postcodes()),
            "uprn": _opt(st.integers(1, 10**12 - 1).map(str)),
        }
    )
    coordinates = st.fixed_dictionaries({"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)})
    area = st.fixed_dictionaries({"force": st.sampled_from(["01", "48"]), "beat": _opt(st.just("CX12"))})
    found = draw(st.fixed_dictionaries({"address": _opt(address), "coordinates": _opt(coordinates)}))
    if found["address"] is None and found["coordinates"] is None:
        found["description"] = draw(texts())
    return Location.model_validate({**draw(entity_base()), **found, "area": draw(_opt(area))})
