import json

from tests_support_mapping import CUSTODY
from typer.testing import CliRunner

from conftest import EXAMPLES, REPO
from polestar.cli.mapping import app
from polestar.mapping import load_mappings, read_records, run_mapping_tests
from polestar.mapping.reference import with_reference

FIXTURES = """
tests:
  - name: passes
    mapping: custody
    input: {ref: R1, suite: Brixton, arrived: 24/11/2026 10:00, surname: Doe, sex: M}
    events:
      - {type: custody.episode.opened, schema: custody-episode, subject: R1}
      - {type: person.created, data: {gender: "1", name: {family: Doe}}}
      - {type: link.created, data: {id: "<any>", role: detainee}}
  - name: wrong gender expected
    mapping: custody
    input: {ref: R1, suite: Brixton, arrived: 24/11/2026 10:00, surname: Doe, sex: M}
    events:
      - {type: custody.episode.opened}
      - {type: person.created, data: {gender: "2"}}
  - name: failure expected but none
    mapping: custody
    input: {ref: R1, suite: Brixton, arrived: 24/11/2026 10:00, surname: Doe, sex: M}
    failure: {field: detainee.gender}
  - name: failure as expected
    mapping: custody
    format: csv
    raw: |
      ref,suite,arrived,surname,sex
      R1,Brixton,24/11/2026 10:00,Doe,Q
    failure: {field: detainee.gender, reason: "no code 'Q'"}
  - name: exact match finds an extra key
    mapping: custody
    match: exact
    input: {ref: R1, suite: Brixton, arrived: 24/11/2026 10:00, surname: Doe, sex: M}
    events:
      - {type: custody.episode.opened, data: {custody_record_number: R1}}
      - {type: person.created}
      - {type: link.created}
"""


def write(tmp_path):
    (tmp_path / "custody.yaml").write_text(CUSTODY, encoding="utf-8")
    (tmp_path / "custody.test.yaml").write_text(FIXTURES, encoding="utf-8")
    return tmp_path


def test_the_runner_reports_each_fixture_with_problems_and_a_diff(tmp_path):
    report = run_mapping_tests(load_mappings([write(tmp_path)]))
    outcome = {r.name: r for r in report.results}
    assert outcome["passes"].passed
    assert outcome["failure as expected"].passed
    wrong = outcome["wrong gender expected"]
    assert not wrong.passed
    assert "expected 2 event(s), got 3" in wrong.problems[0]
    assert 'events[1].data.gender: expected "2", got "1"' in wrong.problems
    assert '-      "gender": "2"' in wrong.diff
    assert '+      "gender": "1"' in wrong.diff
    assert "expected the mapping to fail" in outcome["failure expected but none"].problems[0]
    assert any("not expected" in p for p in outcome["exact match finds an extra key"].problems)
    assert not report.passed
    assert report.to_json()["failed"] == 3
    assert outcome["passes"].where.endswith("custody.test.yaml:3:5")


def test_cli_prints_a_table_and_exits_1_when_a_fixture_fails(tmp_path):
    result = CliRunner().invoke(app, ["test", str(write(tmp_path))])
    assert result.exit_code == 1
    assert "wrong gender expected" in result.output
    assert "2 passed, 3 failed" in result.output


def test_cli_json_report_for_ci(tmp_path):
    result = CliRunner().invoke(app, ["test", "--json", str(write(tmp_path))])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["passed"], report["failed"]) == (2, 3)


def test_cli_reports_load_problems_with_their_place(tmp_path):
    (tmp_path / "bad.yaml").write_text("mappings:\n  - name: x\n    direction: inbound\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'bad.yaml'}:2:5 mappings[0].outputs: Field required" in result.stderr


def test_the_shipped_example_mappings_pass_their_fixtures():
    result = CliRunner().invoke(app, ["test", str(EXAMPLES.relative_to(REPO))], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output
    mappings = load_mappings([EXAMPLES])
    assert mappings.names() == [
        "cad-incident-json",
        "custody-csv",
        "footwear-subject-xml",
        "warehouse-custody-csv",
    ]
    assert len(mappings.fixtures) >= 12


def test_records_are_read_from_csv_json_and_xml():
    assert read_records("a,b\n1,\n", "csv") == [{"a": "1", "b": ""}]
    assert read_records('[{"a": 1}, {"a": 2}]', "json") == [{"a": 1}, {"a": 2}]
    xml = '<inc id="7"><unit>CX21</unit><unit>CX30</unit><note lang="en">late</note><empty/></inc>'
    assert read_records(xml, "xml") == [
        {
            "inc": {
                "@id": "7",
                "unit": ["CX21", "CX30"],
                "note": {"@lang": "en", "#text": "late"},
                "empty": None,
            }
        }
    ]


def test_the_committed_mapping_reference_is_what_the_models_generate():
    page = (REPO / "docs" / "mappings.md").read_text(encoding="utf-8")
    assert page == with_reference(page), "run: python -m polestar.mapping.reference docs/mappings.md"
