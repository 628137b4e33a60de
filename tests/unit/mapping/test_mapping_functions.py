import jmespath
import pytest

from polestar.errors import MappingFailed
from polestar.mapping.codelists import CodeList, CodeListSpec
from polestar.mapping.function_docs import FUNCTION_DOCS
from polestar.mapping.functions import CUSTOM_FUNCTIONS, OPTIONS, Scope, scoped

GENDER = CodeList("gender", CodeListSpec(codes={"M": "1", "F": "2"}, reverse_default="U"))


def search(expression, data=None, context=None):
    with scoped(Scope(data, context, {"gender": GENDER})):
        return jmespath.search(expression, data, options=OPTIONS)


def test_every_custom_function_is_documented():
    documented = {call.split("(")[0] for call, _, _ in FUNCTION_DOCS}
    assert documented == set(CUSTOM_FUNCTIONS)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("to_utc('2026-11-23', '21:40', 'Europe/London')", "2026-11-23T21:40:00Z"),
        ("to_utc('2026-07-14', '09:05:30', 'Europe/London')", "2026-07-14T08:05:30Z"),
        # the autumn hour that happens twice: the first (BST) reading is taken
        ("to_utc('2026-10-25', '01:30', 'Europe/London')", "2026-10-25T00:30:00Z"),
        ("to_utc(`null`, '01:30', 'Europe/London')", None),
        ("to_utc('', '01:30', 'Europe/London')", None),
        ("datetime('14/07/2026 09:40', '%d/%m/%Y %H:%M', 'Europe/London')", "2026-07-14T08:40:00Z"),
        ("datetime('2026-07-14 09:40 +0200', '%Y-%m-%d %H:%M %z', 'Europe/London')", "2026-07-14T07:40:00Z"),
        ("date('17/03/1994', '%d/%m/%Y')", "1994-03-17"),
        ("date(`null`, '%d/%m/%Y')", None),
        ("format_date('1994-03-17', '%d/%m/%Y')", "17/03/1994"),
        ("local_time('2026-07-14T08:40:00Z', '%d/%m/%Y %H:%M', 'Europe/London')", "14/07/2026 09:40"),
        ("upper('se1 7ab')", "SE1 7AB"),
        ("lower('A@B.UK')", "a@b.uk"),
        ("strip('  Okafor ')", "Okafor"),
        ("upper(`null`)", None),
        ("split('Daniel  James ', ' ')", ["Daniel", "James"]),
        ("split('', ' ')", None),
        ("replace('01 CX', ' ', '')", "01CX"),
        ("concat('01CX', '/', `4512`, `null`)", "01CX/4512"),
        ("default('', 'Charing Cross')", "Charing Cross"),
        ("default('Brixton', 'Charing Cross')", "Brixton"),
        ("coalesce(`null`, '', 'mobile', 'home')", "mobile"),
        ("coalesce(`null`, '')", None),
        ("code('gender', 'M')", "1"),
        ("code('gender', ' F ')", "2"),
        ("code('gender', `null`)", None),
        ("decode('gender', '2')", "F"),
        ("decode('gender', '9')", "U"),
    ],
)
def test_functions_give_what_the_table_says(expression, expected):
    assert search(expression) == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("to_utc('2026-03-29', '01:30', 'Europe/London')", "the clocks went forward"),
        ("to_utc('2026-03-29', '25:00', 'Europe/London')", "is not a date and time"),
        ("datetime('2026-07-14 09:40', '%Y-%m-%d %H:%M', 'Mars/Olympus')", "not a known time zone"),
        ("date('31/02/1990', '%d/%m/%Y')", "'31/02/1990' is not a date in the format '%d/%m/%Y'"),
        ("local_time('yesterday', '%H:%M', 'Europe/London')", "not an ISO 8601"),
        ("local_time('2026-07-14T08:40:00', '%H:%M', 'Europe/London')", "has no UTC offset"),
        ("code('gender', 'Q')", "code list 'gender' has no code 'Q' and no default"),
        ("code('nope', 'Q')", "no code list is named 'nope'"),
        ("upper(`5`)", "upper()"),
        ("split('a', '')", "separator"),
        ("stable_id('person', `null`)", "part 1 is empty"),
        ("stable_id_from('cad', 'incident', '')", "part 1 is empty"),
        ("stable_id_from(' ', 'incident', 'INC-1')", "needs a connector name"),
        ("id_of('detainee')", "has produced no entity yet"),
        ("context('password')", "context() knows"),
    ],
)
def test_functions_fail_with_a_reason_not_a_crash(expression, reason):
    with pytest.raises(MappingFailed) as caught:
        search(expression)
    assert reason in caught.value.reason


def test_stable_id_depends_on_connector_kind_and_reference_only(context):
    custody = context(connector="custody-files")
    first = search("stable_id('person', ref)", {"ref": "01CX/4512/26"}, custody)
    again = search("stable_id('person', ref)", {"ref": "01CX/4512/26 "}, custody)
    assert first == again
    assert first != search("stable_id('custody-episode', ref)", {"ref": "01CX/4512/26"}, custody)
    assert first != search("stable_id('person', ref)", {"ref": "01CX/4512/26"}, context(connector="other"))


def test_stable_id_from_gives_the_id_another_connectors_mapping_gave(context):
    cad = search("stable_id('incident', n)", {"n": "INC-20261123-0311"}, context(connector="cad"))
    route = context(connector="route:call-to-crime")
    assert search("stable_id_from('cad', 'incident', n)", {"n": "INC-20261123-0311"}, route) == cad
    assert search("stable_id('incident', n)", {"n": "INC-20261123-0311"}, route) != cad


def test_context_record_and_index_are_readable(context):
    data = {"a": 1}
    ctx = context(reference="custody-20261124.csv")
    assert search("context('reference')", data, ctx) == "custody-20261124.csv"
    assert search("context('received_at')", data, ctx) == "2026-11-24T12:00:00Z"
    assert search("record().a", data, ctx) == 1
    assert search("index()", data, ctx) is None


def test_functions_outside_a_mapping_say_so():
    with pytest.raises(MappingFailed, match="only be used inside a mapping"):
        jmespath.search("stable_id('person', 'x')", {}, options=OPTIONS)
