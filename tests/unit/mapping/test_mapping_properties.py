from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from polestar.errors import MappingFailed
from polestar.mapping import MappingContext, load_mappings
from polestar.model import from_envelope

MAPPINGS = load_mappings([EXAMPLES])
CONTEXT = MappingContext(
    connector="custody-files",
    source="/connectors/custody-files",
    where="custody.csv:2",
    received_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
)


def either(*plausible):
    """Mostly values a custody system would send; sometimes anything at all."""
    return st.one_of(st.sampled_from(plausible), st.text(max_size=30))


def local_datetime():
    moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2026, 11, 1))  # noqa: DTZ001
    return st.one_of(moments.map(lambda m: m.strftime("%d/%m/%Y %H:%M")), st.text(max_size=20))


ROWS = st.fixed_dictionaries(
    {
        "custody_no": either("01CX/004512/26", "48BX/1/26", ""),
        "suite": either("Charing Cross", ""),
        "arrived": local_datetime(),
        "authorised": local_datetime(),
        "recorded": st.just("01/11/2026 00:00:00"),
        "surname": either("Okafor", "O'Brien", "", " "),
        "forenames": either("Daniel James", "", "  "),
        "dob": either("17/03/1994", "31/02/1990", "01/01/2099", ""),
        "sex": either("M", "f", "U", "X", "Q", ""),
        "pnc_id": either("2012/0052494Q", "12/52494Q", "not a pnc", ""),
        "arrest_date": either("23/11/2026", "29/03/2026", ""),
        "arrest_time": either("21:15", "01:30", "9", ""),
        "offence": either("robbery", ""),
        "offence_code": either("034/01", "34/1", "x", ""),
        "arrest_grounds": either("seen by officer", ""),
        "necessity": either("PI", "PI;PH", "ZZ", ";;", ""),
        "address": either("Flat 2, 14 Acacia Avenue", ",,", ""),
        "postcode": either("se13 7ab", "not a postcode", ""),
    },
    optional={"grounds_for_detention": st.text(max_size=20)},
)


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS)
def test_any_custody_row_gives_model_valid_events_or_a_mapping_failure(row):
    try:
        events = MAPPINGS.inbound("custody-csv").to_canonical(row, CONTEXT)
    except MappingFailed as exc:
        failure = exc
    else:
        failure = None
    if failure is not None:
        assert failure.where == "custody.csv:2"
        assert failure.reason
        return
    assert events
    for event in events:
        from_envelope(event)  # raises if the data is not a valid canonical record


@settings(deadline=None, max_examples=150)
@given(
    st.fixed_dictionaries(
        {
            "incidentNumber": either("INC-20261124-0042", ""),
            "created": either("2026-11-24T14:03:12", "24/11/2026", ""),
            "lastUpdated": either("2026-11-24T14:10:00", ""),
            "description": either("noise", ""),
            "grade": either("G1", "G9", ""),
            "status": either("OPEN", "GRADED", "ONSCENE", "Closed", ""),
            "statusLog": st.lists(
                st.fixed_dictionaries(
                    {"status": either("GRADED", "ASSIGNED"), "at": either("2026-11-24T14:05:00", "")}
                ),
                max_size=3,
            ),
            "location": st.one_of(st.none(), st.fixed_dictionaries({"street": either("Strand", "")})),
        }
    )
)
def test_any_cad_incident_gives_model_valid_events_or_a_mapping_failure(incident):
    try:
        events = MAPPINGS.inbound("cad-incident-json").to_canonical(incident, CONTEXT)
    except MappingFailed:
        return
    for event in events:
        from_envelope(event)
