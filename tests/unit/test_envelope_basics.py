import pytest
from pydantic import ValidationError

from polestar.model import Envelope, ProtectiveMarking


def test_envelope_refuses_an_event_type_that_does_not_end_in_a_past_tense_verb():
    with pytest.raises(ValidationError, match="past-tense verb"):
        Envelope(source="/sims/cad", type="incident.unit.assign")


def test_envelope_normalises_classification_label():
    env = Envelope(
        source="/sims/custody",
        type="custody.detainee.released",
        classification="OFFICIAL-SENSITIVE [PERSONAL]",
    )
    assert env.marking == ProtectiveMarking.parse("OFFICIAL-SENSITIVE [PERSONAL]")
    assert Envelope.from_json(env.to_json()) == env


def test_unknown_classification_is_refused_naming_the_field():
    with pytest.raises(ValidationError, match="classification"):
        Envelope(source="/x", type="person.created", classification="RESTRICTED")
