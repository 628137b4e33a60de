import pytest

from polestar.errors import ConfigError, MappingFailed
from polestar.model import Envelope, to_envelope
from polestar.model.people import Person

PERSON = Person.model_validate(
    {
        "provenance": {
            "organisation": "01",
            "system": "custody",
            "reference": "01CX/4512/26",
            "recorded_at": "2026-11-23T21:52:10Z",
        },
        "name": {"given": "Daniel", "family": "Okafor"},
        "date_of_birth": "1994-03-17",
        "gender": "1",
        "identifiers": [{"type": "NINO", "value": "JT471293B"}, {"type": "PNC", "value": "2012/0052494Q"}],
    }
)
EVENT = to_envelope(PERSON, type="person.created", source="/connectors/custody-files")

MAPPINGS = """
code_lists:
  sex: {codes: {"M": "1", "F": "2"}, reverse_default: "U"}
mappings:
  - name: subject-json
    direction: outbound
    schema: person
    types: [person.created]
    record:
      ref: data.provenance.reference
      person:
        pnc: data.identifiers[?type=='PNC'].value | [0]
        names: [data.name.given, data.name.family, data.name.title]
        dob: format_date(data.date_of_birth.value, '%d/%m/%Y')
        sex: decode('sex', data.gender)
  - name: subject-csv
    direction: outbound
    schema: person
    format: csv
    record:
      surname: data.name.family
      title: data.name.title
      known: "!(data.date_of_birth)"
      ids: length(data.identifiers)
  - name: subject-xml
    direction: outbound
    format: xml
    record:
      Subject:
        "@ref": data.provenance.reference
        Name: {"@type": "'family'", "#text": data.name.family}
        Id:
          $each: data.identifiers
          $item: {"@type": type, "#text": value}
"""


@pytest.fixture
def mappings(load):
    return load(MAPPINGS)


def test_json_records_leave_absent_values_out(mappings):
    record = mappings.outbound("subject-json").from_canonical(EVENT)
    assert record == {
        "ref": "01CX/4512/26",
        "person": {"pnc": "2012/0052494Q", "names": ["Daniel", "Okafor"], "dob": "17/03/1994", "sex": "M"},
    }


def test_csv_rows_have_every_column_as_text(mappings):
    row = mappings.outbound("subject-csv").from_canonical(EVENT)
    assert row == {"surname": "Okafor", "title": "", "known": "false", "ids": "2"}
    assert list(row) == ["surname", "title", "known", "ids"]


def test_xml_records_use_the_attribute_and_text_convention(mappings):
    record = mappings.outbound("subject-xml").from_canonical(EVENT)
    assert record == {
        "Subject": {
            "@ref": "01CX/4512/26",
            "Name": {"@type": "family", "#text": "Okafor"},
            "Id": [{"@type": "NINO", "#text": "JT471293B"}, {"@type": "PNC", "#text": "2012/0052494Q"}],
        }
    }


def test_an_event_of_another_type_or_schema_is_refused(mappings):
    with pytest.raises(MappingFailed) as caught:
        mappings.outbound("subject-json").from_canonical(EVENT.caused(type="person.updated", source="/x"))
    assert caught.value.field == "type"
    bare = Envelope(source="/x", type="person.created", data={"name": "x"})
    with pytest.raises(MappingFailed, match="carries no person data"):
        mappings.outbound("subject-json").from_canonical(bare)


def test_invalid_canonical_data_is_named_before_mapping(mappings):
    broken = EVENT.model_copy(update={"data": {**EVENT.data, "gender": "7"}})
    with pytest.raises(MappingFailed) as caught:
        mappings.outbound("subject-csv").from_canonical(broken)
    assert caught.value.field == "data.gender"
    assert caught.value.where == f"event {EVENT.id}"


def test_templates_are_checked_against_the_schema_and_the_format(load):
    with pytest.raises(ConfigError) as caught:
        load(
            """
            mappings:
              - name: bad-csv
                direction: outbound
                schema: person
                format: csv
                record:
                  surname: data.name.familyname
                  born: data.dob
                  nested: {a: data.gender}
              - name: bad-xml
                direction: outbound
                format: xml
                record: {A: x, B: y}
            """
        )
    text = "\n".join(f"{w} {r}" for w, r in caught.value.problems)
    assert "record.surname data.name has no field 'familyname'; did you mean 'family'?" in text
    assert "record.born data has no field 'dob'" in text
    assert "record.nested a CSV column holds one value" in text
    assert "exactly one root element" in text
