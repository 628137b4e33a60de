from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from polestar.model import DateOfBirth, IdentifierType, Person, VehicleRegistration
from polestar.model.timeutil import local_today

PROVENANCE = {"organisation": "01", "system": "custody", "recorded_at": "2026-11-23T21:52:10Z"}


def person(**fields):
    return Person.model_validate(
        {"provenance": PROVENANCE, "name": {"given": "Sarah", "family": "Morgan"}, **fields}
    )


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("1975-03-11", date(1975, 3, 11), date(1975, 3, 11)),
        ("1975-02", date(1975, 2, 1), date(1975, 2, 28)),
        ("1976-02", date(1976, 2, 1), date(1976, 2, 29)),
        ("1975", date(1975, 1, 1), date(1975, 12, 31)),
    ],
)
def test_partial_dates_of_birth_cover_their_whole_span(value, first, last):
    assert DateOfBirth.model_validate(value).bounds == (first, last)


def test_a_range_of_dates_of_birth():
    dob = DateOfBirth(earliest=date(1990, 1, 1), latest=date(1995, 12, 31))
    assert dob.bounds == (date(1990, 1, 1), date(1995, 12, 31))
    assert dob.exact is None


def test_partial_date_this_year_is_clamped_to_today():
    this_year = str(local_today().year)
    assert DateOfBirth.model_validate(this_year).bounds[1] == local_today()


@pytest.mark.parametrize(
    ("dob", "reason"),
    [
        ("2999-01-01", "is in the future"),
        (str(local_today().year + 1), "is in the future"),
        (
            {"earliest": "1990-01-01", "latest": (local_today() + timedelta(days=1)).isoformat()},
            "in the future",
        ),
        ("1975-02-30", "not a real date"),
        ("75-02-03", "not YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"earliest": "1995-01-01", "latest": "1990-01-01"}, "range is reversed"),
        ({"earliest": "1995-01-01"}, "both 'earliest' and 'latest'"),
        ({"value": "1990", "earliest": "1990-01-01", "latest": "1990-02-01"}, "not both"),
    ],
)
def test_bad_dates_of_birth_are_refused_with_a_reason(dob, reason):
    with pytest.raises(ValidationError, match=reason) as caught:
        person(date_of_birth=dob)
    assert caught.value.errors()[0]["loc"][0] == "date_of_birth"


def test_a_person_needs_a_name():
    with pytest.raises(ValidationError, match="given name or a family name"):
        person(name={"middle": ["James"]})


def test_aliases_carry_their_type():
    p = person(aliases=[{"family": "Jones", "type": "maiden"}, {"given": "Saz", "type": "nickname"}])
    assert [a.type.value for a in p.aliases] == ["maiden", "nickname"]
    with pytest.raises(ValidationError, match=r"aliases\.0\.type"):
        person(aliases=[{"family": "Jones", "type": "stage-name"}])


def test_identifiers_are_validated_by_type_and_canonicalised():
    p = person(
        identifiers=[
            {"type": "PNC", "value": "79/163001B"},
            {"type": "CRO", "value": "SF05/482703J"},
            {"type": "NINO", "value": "ab 12 34 56 c"},
            {"type": "PASSPORT", "value": "925076473"},
            {"type": "PASSPORT", "issuing_country": "FRA", "value": "15AB12345"},
        ]
    )
    assert p.identifier(IdentifierType.PNC) == "1979/0163001B"
    assert p.identifier(IdentifierType.NINO) == "AB123456C"
    assert p.identifier(IdentifierType.DRIVING_LICENCE) is None


def test_a_bad_pnc_id_fails_naming_the_field_and_the_reason():
    with pytest.raises(ValidationError) as caught:
        person(identifiers=[{"type": "PNC", "value": "2001/0012345Z"}])
    error = caught.value.errors()[0]
    assert error["loc"] == ("identifiers", 0, "PNC", "value")
    assert "has check character 'Z' but should be 'H'" in error["msg"]


def test_unknown_identifier_types_are_refused():
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        person(identifiers=[{"type": "SSN", "value": "078-05-1120"}])


def test_repeated_identifiers_are_refused():
    with pytest.raises(ValidationError, match="repeated"):
        person(
            identifiers=[{"type": "PNC", "value": "79/163001B"}, {"type": "PNC", "value": "1979/0163001B"}]
        )


def test_driving_licence_must_agree_with_an_exact_date_of_birth():
    ok = person(
        date_of_birth="1976-03-11", identifiers=[{"type": "DRIVING-LICENCE", "value": "MORGA753116SM9IJ"}]
    )
    assert ok.date_of_birth is not None
    with pytest.raises(ValidationError, match="encodes a date of birth other than 1976-03-12"):
        person(
            date_of_birth="1976-03-12", identifiers=[{"type": "DRIVING-LICENCE", "value": "MORGA753116SM9IJ"}]
        )


def test_description_and_contact_points():
    p = person(
        gender="2",
        nationalities=["GBR", "IRL"],
        description={
            "height_cm": 165,
            "build": "slim",
            "eye_colour": "green",
            "hair_colour": "red",
            "marks": [{"type": "scar", "body_location": "left eyebrow"}],
        },
        contact_points=[
            {"kind": "phone", "number": "020 7946 0018"},
            {"kind": "email", "address": "s@example.org"},
        ],
    )
    assert p.contact_points[0].kind == "phone"
    assert p.contact_points[0].number == "+442079460018"
    with pytest.raises(ValidationError, match="height_cm"):
        person(description={"height_cm": 500})
    with pytest.raises(ValidationError, match=r"contact_points\.0\.phone\.number"):
        person(contact_points=[{"kind": "phone", "number": "12"}])
    with pytest.raises(ValidationError, match="gender"):
        person(gender="M")
    with pytest.raises(ValidationError, match=r"nationalities\.0"):
        person(nationalities=["GB"])


@pytest.mark.parametrize(
    ("written", "mark", "display", "fmt"),
    [
        ("ab12cde", "AB12CDE", "AB12 CDE", "current"),
        ("A123 BCD", "A123BCD", "A123 BCD", "prefix"),
        ("ABC 123D", "ABC123D", "ABC 123D", "suffix"),
        ("ABZ 1234", "ABZ1234", "ABZ 1234", "northern-ireland"),
        ("IA 99", "IA99", "IA 99", "northern-ireland"),
        ("ABC 123", "ABC123", "ABC 123", "dateless"),
        ("1 A", "1A", "1 A", "dateless"),
    ],
)
def test_uk_registration_marks(written, mark, display, fmt):
    reg = VehicleRegistration.model_validate(written)
    assert (reg.mark, reg.display, reg.format.value) == (mark, display, fmt)
    assert VehicleRegistration.model_validate_json(reg.model_dump_json()) == reg


@pytest.mark.parametrize("bad", ["AB12 CDEF", "AI12 CDE", "I123 BCD", "ABC 123I", "0 A", ""])
def test_bad_uk_registration_marks_are_refused(bad):
    with pytest.raises(ValidationError, match="not a valid UK mark"):
        VehicleRegistration.model_validate({"mark": bad})


def test_foreign_plates_keep_their_spelling():
    reg = VehicleRegistration.model_validate({"mark": "m-ab 1234", "country": "DEU"})
    assert (reg.mark, reg.display, reg.format.value, reg.country) == (
        "MAB1234",
        "M-AB 1234",
        "foreign",
        "DEU",
    )


def test_a_stated_format_must_match_the_mark():
    with pytest.raises(ValidationError, match="in the current format, not 'prefix'"):
        VehicleRegistration.model_validate({"mark": "AB12 CDE", "format": "prefix"})
