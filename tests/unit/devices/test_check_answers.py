"""PNC's SOAP replies read into the canonical answers a device is shown, and check requests validated."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from pydantic import ValidationError

from polestar.connectors.codecs import element_to_record
from polestar.devices.answers import person_answer, vehicle_answer
from polestar.devices.checks import PersonCheck, VehicleCheck
from polestar.errors import DeliveryRefused

PERSON_REPLY = b"""<PersonEnquiryResponse xmlns="urn:pnc:enquiry:1">
  <TransactionId>PNC00000007</TransactionId><Matches>1</Matches>
  <Person>
    <PNCId>2012/0052494Q</PNCId><Surname>OKAFOR</Surname><Forenames>DANIEL JAMES</Forenames>
    <DateOfBirth>1994-03-17</DateOfBirth><Sex>M</Sex>
    <LastKnownAddress>
      <Line>12 Cable Street</Line><Line>London</Line><Postcode>E1 8JG</Postcode>
    </LastKnownAddress>
    <WarningSignals><Warning code="VI">VIOLENT</Warning><Warning code="WE">WEAPONS</Warning></WarningSignals>
    <Wanted force="01" since="2026-10-01">failed to appear at court</Wanted>
    <Convictions>4</Convictions>
  </Person>
</PersonEnquiryResponse>"""

VEHICLE_REPLY = b"""<VehicleEnquiryResponse xmlns="urn:pnc:enquiry:1">
  <TransactionId>PNC00000008</TransactionId><Matches>1</Matches>
  <Vehicle>
    <VRM>AB12 CDE</VRM><Make>FORD</Make><Model>FIESTA</Model><Colour>BLUE</Colour>
    <FirstRegistered>2012-03-01</FirstRegistered><ReportedStolen since="2026-11-20">true</ReportedStolen>
    <Keeper><Surname>SMITH</Surname><Forenames>JO</Forenames><DateOfBirth>1980-01-02</DateOfBirth></Keeper>
  </Vehicle>
</VehicleEnquiryResponse>"""


def _reply(xml: bytes) -> dict[str, Any]:
    element = etree.fromstring(xml)
    return {etree.QName(element).localname: element_to_record(element)}


def test_a_wanted_person_with_warnings_is_flagged() -> None:
    answer = person_answer(_reply(PERSON_REPLY), "pnc")
    assert (answer.wanted, answer.missing, answer.warnings) == (True, False, ["VI", "WE"])
    person = answer.people[0]
    assert person.pnc_id == "2012/0052494Q"
    assert person.wanted[0].reason == "failed to appear at court"
    assert person.wanted[0].since == "2026-10-01"
    assert person.address is not None
    assert person.address.lines == ["12 Cable Street", "London"]
    assert person.convictions == 4
    assert answer.transaction == "PNC00000007"


def test_a_stolen_vehicle_is_flagged_with_its_keeper() -> None:
    answer = vehicle_answer(_reply(VEHICLE_REPLY), "pnc")
    assert answer.stolen is True
    assert answer.vehicle is not None
    assert answer.vehicle.stolen_since == "2026-11-20"
    assert answer.vehicle.keeper is not None
    assert answer.vehicle.keeper.surname == "SMITH"


def test_no_match_is_an_empty_answer() -> None:
    reply = {"PersonEnquiryResponse": {"TransactionId": "PNC1", "Matches": "0"}}
    answer = person_answer(reply, "pnc")
    assert (answer.matches, answer.people, answer.wanted) == (0, [], False)


def test_a_reply_of_another_kind_is_refused_naming_what_came() -> None:
    with pytest.raises(
        DeliveryRefused, match="pnc answered VehicleEnquiryResponse, not a PersonEnquiryResponse"
    ):
        person_answer(_reply(VEHICLE_REPLY), "pnc")


def test_a_person_check_needs_a_pnc_id_or_a_surname_and_date_of_birth() -> None:
    with pytest.raises(ValidationError, match="needs pncId, or surname and dateOfBirth"):
        PersonCheck.model_validate({"surname": "OKAFOR", "reason": "2"})
    check = PersonCheck.model_validate({"surname": "Okafor", "dateOfBirth": "1994-03-17", "reason": "2"})
    assert check.terms() == {"Surname": "Okafor", "DateOfBirth": "1994-03-17"}


def test_a_vehicle_check_sends_the_registration_without_spaces() -> None:
    assert VehicleCheck(vrm="ab12 cde", reason="3").terms() == {"VRM": "AB12CDE"}


def test_a_check_needs_a_reason() -> None:
    with pytest.raises(ValidationError, match="reason"):
        VehicleCheck.model_validate({"vrm": "AB12CDE"})
