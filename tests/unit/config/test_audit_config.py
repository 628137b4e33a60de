"""The ``audit:`` section of ``polestar.yaml``."""

import pytest
from pydantic import ValidationError

from polestar.api.audit_component import AuditComponent
from polestar.audit import Operation
from polestar.config import HubConfig


def test_by_default_the_log_is_on_and_consultation_and_disclosure_need_a_purpose(tmp_path):
    config = HubConfig(data_dir=tmp_path)
    assert config.audit.enabled
    required = AuditComponent(config).policy.purpose_required_for
    assert required == {Operation.CONSULTATION, Operation.DISCLOSURE}


def test_policy_follows_the_configuration(tmp_path):
    config = HubConfig(data_dir=tmp_path, audit={"purpose_required_for": ["consultation", "erasure"]})
    assert AuditComponent(config).policy.purpose_required_for == {Operation.CONSULTATION, Operation.ERASURE}


@pytest.mark.parametrize(
    "audit",
    [{"enabeld": False}, {"purpose_required_for": ["reading"]}, {"max_batch": 0}, {"checkpoint_interval": 0}],
)
def test_mistakes_in_the_audit_section_are_refused(tmp_path, audit):
    with pytest.raises(ValidationError):
        HubConfig(data_dir=tmp_path, audit=audit)


def test_building_the_component_touches_nothing(tmp_path):
    AuditComponent(HubConfig(data_dir=tmp_path / "data", audit={"witness_file": "heads.jsonl"}))
    assert not (tmp_path / "data").exists()
