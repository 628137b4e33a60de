"""Data-sharing agreements: no agreement, no flow; what is sent is minimised to what it allows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from polestar.errors import ConfigError
from polestar.model.envelope import Envelope
from polestar.security import AgreementBook

FOOTWEAR = {
    "name": "footwear-impressions",
    "partner": "National Footwear Database",
    "recipients": ["footwear-api"],
    "categories": ["custody"],
    "purposes": ["footwear comparison"],
    "clearance": "OFFICIAL-SENSITIVE",
    "minimise": {"keep": ["id", "custody_reference", "footwear.pattern"]},
}


def book(tmp_path: Path, *agreements: dict) -> AgreementBook:
    folder = tmp_path / "agreements"
    folder.mkdir(exist_ok=True)
    (folder / "partners.yaml").write_text(yaml.safe_dump({"agreements": list(agreements)}))
    return AgreementBook.load(folder)


def custody_event(**changes) -> Envelope:
    fields = {
        "source": "/systems/custody",
        "type": "custody.footwear.recorded",
        "classification": "OFFICIAL-SENSITIVE",
        "data": {
            "id": "c-1",
            "custody_reference": "01/2026/000123",
            "detainee": {"name": "Sam Okafor", "pnc": "2001/0012345X"},
            "footwear": {"pattern": "zigzag", "size": 9, "notes": "mud"},
        },
    }
    return Envelope(**{**fields, **changes})


def test_an_agreed_flow_is_allowed_and_minimised_to_what_the_agreement_lists(tmp_path) -> None:
    verdict = book(tmp_path, FOOTWEAR).check("footwear-api", custody_event())
    assert verdict.allowed
    assert verdict.agreement == "footwear-impressions"
    assert verdict.purpose == "footwear comparison"
    assert verdict.envelope.data == {
        "id": "c-1",
        "custody_reference": "01/2026/000123",
        "footwear": {"pattern": "zigzag"},
    }


def test_a_flow_to_a_recipient_with_no_agreement_does_not_happen(tmp_path) -> None:
    verdict = book(tmp_path, FOOTWEAR).check("warehouse", custody_event())
    assert not verdict.allowed
    assert verdict.reason == "no data-sharing agreement covers recipient 'warehouse'"


def test_a_partner_asking_for_a_category_its_agreement_lacks_is_refused(tmp_path) -> None:
    intelligence = custody_event(type="intelligence.report.created")
    verdict = book(tmp_path, FOOTWEAR).check("footwear-api", intelligence)
    assert not verdict.allowed
    assert "does not cover category 'intelligence' (covers custody)" in verdict.reason


def test_a_stated_purpose_the_agreement_does_not_serve_is_refused(tmp_path) -> None:
    refused = book(tmp_path, FOOTWEAR).check("footwear-api", custody_event(purpose="general curiosity"))
    assert not refused.allowed
    assert "does not serve the purpose 'general curiosity'" in refused.reason
    detailed = custody_event(purpose="Footwear comparison: burglary at 12 High St")
    assert book(tmp_path, FOOTWEAR).check("footwear-api", detailed).allowed


def test_data_marked_above_the_partners_clearance_is_refused(tmp_path) -> None:
    verdict = book(tmp_path, FOOTWEAR).check("footwear-api", custody_event(classification="SECRET"))
    assert not verdict.allowed
    assert "marked SECRET, above the partner's OFFICIAL-SENSITIVE" in verdict.reason
    caveated = custody_event(classification="OFFICIAL [UK EYES ONLY]")
    assert not book(tmp_path, FOOTWEAR).check("footwear-api", caveated).allowed


def test_an_agreement_out_of_its_dates_allows_nothing(tmp_path) -> None:
    lapsed = {**FOOTWEAR, "valid_until": "2025-12-31"}
    verdict = book(tmp_path, lapsed).check("footwear-api", custody_event(), today=date(2026, 11, 24))
    assert not verdict.allowed
    assert "not in force on 2026-11-24" in verdict.reason


def test_an_invalid_agreement_file_is_refused_naming_file_and_field(tmp_path) -> None:
    with pytest.raises(ConfigError) as caught:
        book(tmp_path, {**FOOTWEAR, "categories": ["Custody Data!"]})
    where, _ = caught.value.problems[0]
    assert "partners.yaml" in where
    assert "categories.0" in where


def test_no_agreements_folder_means_nothing_flows(tmp_path) -> None:
    verdict = AgreementBook.load(tmp_path / "absent").check("footwear-api", custody_event())
    assert not verdict.allowed


def test_an_edited_agreement_file_is_picked_up_and_a_broken_edit_keeps_the_old_one(tmp_path) -> None:
    current = book(tmp_path, FOOTWEAR)
    assert not current.check("warehouse", custody_event()).allowed
    warehouse = {**FOOTWEAR, "name": "warehouse-mi", "recipients": ["warehouse"], "minimise": None}
    (tmp_path / "agreements" / "warehouse.yaml").write_text(yaml.safe_dump({"agreements": [warehouse]}))
    current = current.reloaded()
    assert current.check("warehouse", custody_event()).allowed
    (tmp_path / "agreements" / "broken.yaml").write_text("agreements: [{name: 3}]")
    assert current.reloaded() is current
