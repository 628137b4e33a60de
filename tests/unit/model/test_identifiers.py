import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polestar.model import identifiers as ids
from polestar.model.countries import check_country_code
from polestar.model.testing import (
    cro_numbers,
    driving_licences,
    imeis,
    ninos,
    pnc_id_spellings,
    uk_postcodes,
    vins,
)

# Generous: the first example pays for imports and regex compilation.
PROPERTY = settings(deadline=None)

# Published HMPPS person-record test vectors.
HMPPS_VALID_PNCS = [
    "2008/0056560Z", "20030011985X", "20120052494Q", "20230583843L",
    "2001/0171310W", "2011/0275516Q", "2003/0062845E", "1981/0154257C",
]  # fmt: skip


@pytest.mark.parametrize("pnc", HMPPS_VALID_PNCS)
def test_published_pnc_ids_are_valid(pnc):
    assert ids.canonical_pnc_id(pnc).replace("/", "") == pnc.replace("/", "")


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("81/34U", "1981/0000034U"),
        ("02/73319Z", "2002/0073319Z"),
        ("00/223R", "2000/0000223R"),
        ("79/163001B", "1979/0163001B"),
        ("0273319Z", "2002/0073319Z"),
        ("20020073319Z", "2002/0073319Z"),
        (" 1979/0163001b ", "1979/0163001B"),
    ],
)
def test_pnc_ids_are_canonicalised_to_the_long_form(written, canonical):
    assert ids.canonical_pnc_id(written) == canonical


@pytest.mark.parametrize("wrong", ["20030011985Z", "20120052494O", "20230583843N", "2001/0171310S"])
def test_pnc_id_with_the_wrong_check_character_is_refused(wrong):
    with pytest.raises(ValueError, match="check character"):
        ids.canonical_pnc_id(wrong)


def test_pnc_check_character_error_says_what_it_should_be():
    with pytest.raises(ValueError) as caught:
        ids.canonical_pnc_id("2001/0012345Z")
    assert str(caught.value) == "PNC ID '2001/0012345Z' has check character 'Z' but should be 'H'"


@pytest.mark.parametrize("bad", ["TOTALLYINVALID", "1X23/1234567A", "1923[1234567A", "1923/1Z34567A", ""])
def test_malformed_pnc_ids_are_refused(bad):
    with pytest.raises(ValueError, match="not in the form"):
        ids.canonical_pnc_id(bad)


def test_pnc_id_from_a_future_year_is_refused():
    with pytest.raises(ValueError, match="in the future"):
        ids.canonical_pnc_id("2999/0000001A")


@PROPERTY
@given(pnc_id_spellings())
def test_every_spelling_of_a_pnc_id_canonicalises_to_one_value(pair):
    written, canonical = pair
    assert ids.canonical_pnc_id(written) == canonical


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("SF05/482703J", "SF05/482703J"),
        ("SF83/50058Z", "SF83/50058Z"),
        ("265416/21G", "265416/21G"),
        ("65656/91H", "065656/91H"),
    ],
)
def test_cro_numbers_in_both_forms(written, canonical):
    assert ids.canonical_cro_number(written) == canonical


def test_cro_number_with_wrong_check_character_is_refused():
    with pytest.raises(ValueError, match="should be 'G'"):
        ids.canonical_cro_number("265416/21H")


def test_malformed_cro_number_is_refused():
    with pytest.raises(ValueError, match="NNNNNN/YYA"):
        ids.canonical_cro_number("85227/6G")


@PROPERTY
@given(cro_numbers())
def test_generated_cro_numbers_are_canonical(cro):
    assert ids.canonical_cro_number(cro) == cro


def test_driving_licence_is_compacted():
    assert ids.canonical_driving_licence("morga 753116 sm9ij") == "MORGA753116SM9IJ"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("MORGA753116SM9I", "16-character"),
        ("MO9GA753116SM9IJ", "surname letters"),
        ("MORGA713116SM9IJ", "birth month"),
        ("MORGA702306SM9IJ", "birth day"),
        ("MORGA7531169M9IJ", "initials"),
    ],
)
def test_bad_driving_licences_say_why(bad, reason):
    with pytest.raises(ValueError, match=reason):
        ids.canonical_driving_licence(bad)


@PROPERTY
@given(driving_licences())
def test_generated_driving_licences_are_valid(licence):
    assert ids.canonical_driving_licence(licence) == licence


def test_uk_passport_is_nine_digits():
    assert ids.canonical_uk_passport("925 076 473") == "925076473"
    with pytest.raises(ValueError, match="9 digits"):
        ids.canonical_uk_passport("92507647")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("QQ123456C", "letter HMRC never does"),
        ("AO123456C", "letter HMRC never does"),
        ("DA123456C", "letter HMRC never does"),
        ("GB123456A", "never allocates"),
        ("TN123456A", "never allocates"),
        ("AB123456E", "suffix 'E'"),
        ("AB12345C", "of the form"),
    ],
)
def test_national_insurance_number_rules(bad, reason):
    with pytest.raises(ValueError, match=reason):
        ids.canonical_nino(bad)


def test_national_insurance_number_is_canonicalised_and_displayed():
    nino = ids.canonical_nino("ab 12 34 56 c")
    assert nino == "AB123456C"
    assert ids.nino_display(nino) == "AB 12 34 56 C"


@PROPERTY
@given(ninos())
def test_generated_ninos_are_valid(nino):
    assert ids.canonical_nino(nino) == nino


def test_imei_luhn_check():
    assert ids.canonical_imei("49-015420-323751-8") == "490154203237518"
    with pytest.raises(ValueError, match="Luhn"):
        ids.canonical_imei("490154203237519")
    with pytest.raises(ValueError, match="15 digits"):
        ids.canonical_imei("4901542032375")


@PROPERTY
@given(imeis())
def test_generated_imeis_pass_luhn(imei):
    assert ids.luhn_valid(imei)


def test_vin_rules():
    assert ids.canonical_vin("wf0axxgcda8r12345") == "WF0AXXGCDA8R12345"
    with pytest.raises(ValueError, match="contains O"):
        ids.canonical_vin("WF0AXXGCDA8R1234O")
    with pytest.raises(ValueError, match="17"):
        ids.canonical_vin("WF0AXXGCDA8R1234")


@PROPERTY
@given(vins())
def test_generated_vins_are_valid(vin):
    assert ids.canonical_vin(vin) == vin


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("sw1a1aa", "SW1A 1AA"), ("M1  1AE", "M1 1AE"), ("B33 8TH", "B33 8TH"), ("CR2 6XH", "CR2 6XH"),
     ("DN55 1PT", "DN55 1PT"), ("W1A 0AX", "W1A 0AX"), ("EC1A 1BB", "EC1A 1BB"), ("GIR 0AA", "GIR 0AA")],
)  # fmt: skip
def test_postcodes_are_normalised(written, canonical):
    assert ids.canonical_postcode(written) == canonical


@pytest.mark.parametrize("bad", ["SW1A 1AAA", "SW1A", "QW1 1AA", "W1 1CA", "123 456", ""])
def test_bad_postcodes_are_refused(bad):
    with pytest.raises(ValueError, match="is not a valid UK postcode"):
        ids.canonical_postcode(bad)


def test_postcode_error_names_the_value():
    with pytest.raises(ValueError) as caught:
        ids.canonical_postcode("SW1A 1AAA")
    assert str(caught.value) == "postcode 'SW1A 1AAA' is not a valid UK postcode"


@PROPERTY
@given(uk_postcodes(), st.sampled_from([str.lower, str.upper, lambda s: s.replace(" ", "")]))
def test_generated_postcodes_survive_respelling(postcode, respell):
    assert ids.canonical_postcode(respell(postcode)) == postcode


def test_phone_numbers_become_e164():
    assert ids.canonical_phone("07911 123456") == "+447911123456"
    assert ids.canonical_phone("+33 1 42 68 53 00") == "+33142685300"
    with pytest.raises(ValueError, match="not a valid number"):
        ids.canonical_phone("07700 900123")  # Ofcom's drama range is never allocated
    with pytest.raises(ValueError, match="cannot be read"):
        ids.canonical_phone("call me")


def test_email_addresses():
    assert ids.canonical_email("M.Harris@Example.ORG") == "M.Harris@example.org"
    for bad in ["m.harris", "m..harris@example.org", "m@localhost", "a b@example.org"]:
        with pytest.raises(ValueError, match="not a valid address"):
            ids.canonical_email(bad)


def test_offence_codes_are_padded():
    assert ids.canonical_offence_code("8/1") == "008/01"
    assert ids.canonical_offence_code("105/01") == "105/01"
    with pytest.raises(ValueError, match="NNN/NN"):
        ids.canonical_offence_code("robbery")


def test_country_codes_are_alpha3():
    assert check_country_code("gbr") == "GBR"
    assert check_country_code("XXA") == "XXA"
    with pytest.raises(ValueError, match="alpha-2"):
        check_country_code("GB")
    with pytest.raises(ValueError, match="not an ISO"):
        check_country_code("UKK")
