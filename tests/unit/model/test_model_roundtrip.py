"""Any valid model survives JSON and the envelope unchanged."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polestar.model import CANONICAL_MODELS, ENTITY_MODELS, Envelope, from_envelope, to_envelope
from polestar.model.catalogue import event_types_for
from polestar.model.testing import ENTITY_STRATEGIES

ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_there_is_a_strategy_for_every_entity_schema():
    assert set(ENTITY_STRATEGIES) == {m.schema_name for m in ENTITY_MODELS}


@pytest.mark.parametrize("schema", sorted(ENTITY_STRATEGIES))
def test_any_valid_model_round_trips_through_json(schema):
    model = CANONICAL_MODELS[schema]

    @ROUND_TRIP
    @given(ENTITY_STRATEGIES[schema]())
    def check(entity):
        assert model.model_validate_json(entity.model_dump_json()) == entity

    check()


@pytest.mark.parametrize("schema", sorted(ENTITY_STRATEGIES))
def test_any_valid_model_round_trips_through_the_envelope(schema):
    @ROUND_TRIP
    @given(ENTITY_STRATEGIES[schema](), st.data())
    def check(entity, data):
        event_type = data.draw(st.sampled_from([spec.type for spec in event_types_for(schema)]))
        envelope = to_envelope(entity, type=event_type, source="/tests/round-trip")
        received = Envelope.from_json(envelope.to_json())
        assert received == envelope
        assert from_envelope(received, type(entity)) == entity

    check()
