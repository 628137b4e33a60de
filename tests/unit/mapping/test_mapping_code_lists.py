import pytest

from polestar.errors import ConfigError, MappingFailed
from polestar.mapping.codelists import CodeList, CodeListSpec
from polestar.model import Envelope

LIST_FILE = """
code_lists:
  custody-sex:
    canonical: Gender
    codes: {"M": "1", "F": "2", "U": "0", "X": "9"}
    default: "0"
    reverse_default: "U"
"""

MAPPING_FILE = """
mappings:
  - name: footwear
    direction: outbound
    record:
      Sex: decode('custody-sex', data.gender)
      Code: code('custody-sex', data.code)
"""


def test_a_miss_fails_naming_the_list_and_the_value():
    codes = CodeList("sex", CodeListSpec(codes={"M": "1"}))
    with pytest.raises(MappingFailed, match="code list 'sex' has no code 'Q' and no default"):
        codes.lookup("Q")
    with pytest.raises(MappingFailed, match="has no canonical code '2' and no reverse_default"):
        codes.reverse("2")


def test_defaults_answer_a_miss_and_case_can_be_ignored():
    codes = CodeList("sex", CodeListSpec(codes={"M": "1", "Male": "1"}, default="0", ignore_case=True))
    assert codes.lookup("m") == "1"
    assert codes.lookup("q") == "0"
    assert codes.reverse("1") == "M"  # the first system code listed wins


def test_lists_in_a_file_of_their_own_serve_every_mapping(load):
    mappings = load(MAPPING_FILE, LIST_FILE)
    event = Envelope(source="/t", type="person.updated", data={"gender": "2", "code": "Z"})
    assert mappings.outbound("footwear").from_canonical(event) == {"Sex": "F", "Code": "0"}


def test_targets_are_checked_against_the_canonical_list(load):
    with pytest.raises(ConfigError) as caught:
        load(
            """
            code_lists:
              sex: {canonical: Gender, codes: {"M": male}, default: unknown}
              grade: {canonical: Grades, codes: {"G1": immediate}}
              folded: {codes: {"m": "1", "M": "1"}, ignore_case: true}
            """
        )
    text = "\n".join(f"{w} {r}" for w, r in caught.value.problems)
    assert "code_lists.sex.codes.M: 'male' is not a Gender code" not in text  # the location is separate
    assert "code_lists.sex.codes.M" in text
    assert "'male' is not a Gender code (0, 1, 2, 9)" in text
    assert "code_lists.sex.default" in text
    assert "no canonical code list is named 'Grades'" in text
    assert "differ only in case" in text
