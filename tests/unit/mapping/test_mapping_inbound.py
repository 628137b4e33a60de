import pytest
from tests_support_mapping import CUSTODY

from polestar.errors import MappingFailed
from polestar.model import CustodyEpisode, Link, Person, from_envelope

ROW = {
    "ref": "01CX/004512/26",
    "suite": "Charing Cross",
    "arrived": "23/11/2026 21:40",
    "surname": "Okafor",
    "forenames": "Daniel James",
    "dob": "17/03/1994",
    "sex": "M",
    "pnc": "2012/0052494Q",
    "aliases": [{"family": "Oke", "given": "Danny"}],
    "co_accused": [],
}


@pytest.fixture
def custody(load):
    return load(CUSTODY).inbound("custody")


def test_a_row_becomes_model_valid_events_in_order(custody, context):
    events = custody.to_canonical(ROW, context())
    assert [e.type for e in events] == ["custody.episode.opened", "person.created", "link.created"]
    episode = from_envelope(events[0], CustodyEpisode)
    person = from_envelope(events[1], Person)
    link = from_envelope(events[2], Link)
    assert episode.arrived_at.isoformat() == "2026-11-23T21:40:00+00:00"
    assert person.name.given == "Daniel"
    assert person.name.middle == ("James",)
    assert person.gender.value == "1"
    assert person.aliases[0].family == "Oke"
    assert person.identifiers[0].value == "2012/0052494Q"
    assert (link.from_ref.id, link.to_ref.id) == (person.id, episode.id)
    assert events[0].subject == "01CX/004512/26"
    assert events[1].classification == "OFFICIAL-SENSITIVE [PERSONAL]"
    assert person.marking.label == "OFFICIAL-SENSITIVE [PERSONAL]"  # the classification marks the record
    assert events[0].source == "/connectors/custody-files"


def test_reingesting_the_same_row_gives_the_same_entity_and_event_ids(custody, context):
    first = custody.to_canonical(ROW, context())
    again = custody.to_canonical(dict(ROW), context(where="custody.csv:9"))
    assert [e.data["id"] for e in first] == [e.data["id"] for e in again]
    assert [e.id for e in first] == [e.id for e in again]  # so the bus drops the repeat
    changed = custody.to_canonical({**ROW, "surname": "Okafor-Hughes"}, context())
    assert changed[1].data["id"] == first[1].data["id"]  # the same person...
    assert changed[1].id != first[1].id  # ...but a new event: a change is never taken for a repeat
    other = custody.to_canonical({**ROW, "ref": "01CX/004513/26"}, context())
    assert {e.data["id"] for e in other}.isdisjoint(e.data["id"] for e in first)


def test_empty_cells_leave_optional_fields_out(custody, context):
    events = custody.to_canonical({**ROW, "forenames": "", "dob": "", "pnc": "", "aliases": []}, context())
    person = events[1].data
    assert person["name"] == {"family": "Okafor", "middle": []}
    assert "date_of_birth" not in person
    assert person["identifiers"] == []


def test_a_repeated_output_makes_one_event_per_item(custody, context):
    row = {**ROW, "co_accused": [{"surname": "Smith"}, {"surname": "Jones"}]}
    events = custody.to_canonical(row, context())
    names = [e.data["name"]["family"] for e in events if e.type == "person.updated"]
    assert names == ["Smith", "Jones"]
    assert len({e.data["id"] for e in events if e.type == "person.updated"}) == 2


def test_a_model_rule_broken_by_the_data_names_the_canonical_field_and_the_record(custody, context):
    with pytest.raises(MappingFailed) as caught:
        custody.to_canonical({**ROW, "dob": "17/03/2094"}, context())
    assert caught.value.field == "detainee.date_of_birth.value"
    assert "in the future" in caught.value.reason
    assert caught.value.where == "custody.csv:2"


def test_a_function_failure_names_the_field_it_was_computing(custody, context):
    with pytest.raises(MappingFailed) as caught:
        custody.to_canonical({**ROW, "sex": "Q"}, context())
    assert caught.value.field == "detainee.gender"
    assert "code list 'sex' has no code 'Q'" in caught.value.reason


def test_a_missing_required_value_is_named(custody, context):
    with pytest.raises(MappingFailed) as caught:
        custody.to_canonical({**ROW, "arrived": ""}, context())
    assert caught.value.field == "episode.arrived_at"


def test_a_classification_below_the_records_marking_is_refused(load, context):
    mapping = load(
        """
        mappings:
          - name: m
            direction: inbound
            outputs:
              - schema: location
                type: location.created
                classification: "'OFFICIAL'"
                fields:
                  provenance: {organisation: {$const: "01"}, system: {$const: cad}}
                  description: place
                  marking: {$const: SECRET}
        """
    ).inbound("m")
    with pytest.raises(MappingFailed) as caught:
        mapping.to_canonical({"place": "bus shelter"}, context())
    assert caught.value.field == "location.classification"
    assert "lower than" in caught.value.reason
