import pytest
from tests_support_mapping import CUSTODY

from polestar.errors import ConfigError
from polestar.mapping import MappingSet

BROKEN = """\
code_lists:
  sex:
    canonical: Gender
    codes: {"M": "1", "F": "7"}
mappings:
  - name: custody
    direction: inbound
    outputs:
      - name: detainee
        schema: person
        type: person.created
        fields:
          provenance: {organisation: {$const: "01"}, system: {$const: custody}}
          name: {family: "surname["}
          date_of_birth: {valeu: dob}
          gender: code('sexes', sex)
          nickname: alias
      - schema: persn
        type: person.created
        fields: {}
      - schema: link
        type: link.created
        fields:
          role: {$const: detainee}
          from_ref: {type: {$const: person}, id: id_of('nobody')}
          to_ref: {type: {$const: person}, id: "upper(ref, ref)"}
          provenance: {organisation: {$const: "01"}, system: {$const: custody}}
tests:
  - name: t
    mapping: nothere
    input: {}
    events: []
"""


def problems_of(load, *texts):
    with pytest.raises(ConfigError) as caught:
        load(*texts)
    return caught.value.problems


def test_every_problem_is_reported_with_file_line_column_and_path(load, tmp_path):
    problems = dict(problems_of(load, BROKEN))
    file = tmp_path / "m0.yaml"
    expected = {
        f"{file}:4:28 code_lists.sex.codes.F": "'7' is not a Gender code",
        f"{file}:14:26 mappings[0].outputs[0].fields.name.family": "not a valid JMESPath expression",
        f"{file}:15:34 mappings[0].outputs[0].fields.date_of_birth.valeu": (
            "detainee.date_of_birth has no field 'valeu'; did you mean 'value'?"
        ),
        f"{file}:16:19 mappings[0].outputs[0].fields.gender": "names code list 'sexes', which is not defined",
        f"{file}:17:21 mappings[0].outputs[0].fields.nickname": "detainee has no field 'nickname'",
        f"{file}:18:17 mappings[0].outputs[1].schema": "no canonical schema is named 'persn'",
        f"{file}:25:50 mappings[0].outputs[2].fields.from_ref.id": "id_of() names output 'nobody'",
        f"{file}:26:48 mappings[0].outputs[2].fields.to_ref.id": "upper() takes 1 argument(s), not 2",
        f"{file}:30:14 tests[0].mapping": "no mapping is named 'nothere'",
    }
    for where, reason in expected.items():
        assert where in problems, f"{where} not in {sorted(problems)}"
        assert reason in problems[where]


def test_structural_mistakes_in_one_entry_do_not_hide_others(load, tmp_path):
    problems = problems_of(
        load,
        """
        code_lists:
          yesno: {codes: {Y: yes}}
        mappings:
          - name: a
            direction: sideways
            outputs: []
          - name: b
            direction: outbound
            format: csv
            record: {x: "nope("}
        extra: 1
        """,
    )
    text = "\n".join(f"{w} {r}" for w, r in problems)
    assert "code_lists.yesno.codes.Y" in text
    assert "quote the code" in text
    assert "mappings[0].direction" in text
    assert "mappings[1].record.x" in text
    assert "unknown section 'extra'" in text


def test_event_type_must_follow_the_scheme_and_the_catalogue(load):
    problems = problems_of(
        load,
        """
        mappings:
          - name: a
            direction: inbound
            outputs:
              - schema: person
                type: person.create
                fields: {}
          - name: b
            direction: inbound
            outputs:
              - schema: link
                type: person.created
                fields: {}
        """,
    )
    text = "\n".join(f"{w} {r}" for w, r in problems)
    assert "must end in a past-tense verb" in text
    assert "'person.created' carries 'person', not 'link'" in text
    assert "link needs 'provenance', which is not mapped" in text


def test_invalid_yaml_and_repeated_names_are_reported(load, tmp_path):
    problems = problems_of(load, "mappings: [\n", CUSTODY, CUSTODY)
    text = "\n".join(f"{w} {r}" for w, r in problems)
    assert f"{tmp_path / 'm0.yaml'}:2:1" in text
    assert "not valid YAML" in text
    assert "code list 'sex' is also defined at" in text
    assert "mapping 'custody' is also defined at" in text


def test_a_directory_loads_its_yaml_files_including_fixtures(tmp_path):
    (tmp_path / "custody.yaml").write_text(CUSTODY, encoding="utf-8")
    (tmp_path / "custody.test.yaml").write_text(
        "tests:\n  - {name: t, mapping: custody, input: {}, failure: {}}\n", encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("not a mapping", encoding="utf-8")
    mappings = MappingSet.from_directory(tmp_path)
    assert mappings.names() == ["custody"]
    assert mappings.direction("custody") == "inbound"
    assert len(mappings.fixtures) == 1
    with pytest.raises(KeyError, match="no outbound mapping is named 'custody'; known: none"):
        mappings.outbound("custody")
