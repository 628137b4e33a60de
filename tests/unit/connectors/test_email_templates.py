"""Email rendering: tiny templates that only name fields, validated recipients."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from polestar.connectors.contract import OutboundMessage
from polestar.connectors.email.codec import TemplateFieldMissingError, build_email, render
from polestar.connectors.email.config import EmailOutboundConfig
from polestar.model.envelope import Envelope


def config(**changes):
    settings = {
        "host": "smtp.example.org",
        "sender": "no-reply@force.example.police.uk",
        "to": ("review@force.example.police.uk",),
        "subject": "Stop and search {{ ref }}",
        "text": "Officer {{ officer.collar }} at {{ event.time }}",
        **changes,
    }
    return EmailOutboundConfig(**settings)


def message(record):
    envelope = Envelope(source="/tests", type="stop-search.record.completed", id="evt-1")
    return OutboundMessage(
        envelope=envelope, body=json.dumps(record).encode(), content_type="application/json"
    )


def test_placeholders_name_fields_only():
    assert render("{{ a.b }}/{{a.c.0}}", {"a": {"b": 1, "c": ["x"]}}) == "1/x"
    assert render("{{ a.__class__ }}", {"a": {"__class__": "safe"}}) == "safe"
    with pytest.raises(TemplateFieldMissingError, match=r"'a\.__init__'"):
        render("{{ a.__init__ }}", {"a": {}})
    assert render("{0.__class__}", {}) == "{0.__class__}"  # no str.format here


def test_the_message_id_is_derived_from_the_event_id():
    email = build_email(config(), message({"ref": "SS-1", "officer": {"collar": "PC 1234"}}))
    assert email["Message-ID"] == "<evt-1@force.example.police.uk>"
    assert email["Subject"] == "Stop and search SS-1"


def test_a_subject_cannot_be_split_into_headers_by_the_data():
    email = build_email(config(), message({"ref": "SS-1\r\nBcc: x@example.org", "officer": {"collar": "1"}}))
    assert email["Subject"] == "Stop and search SS-1 Bcc: x@example.org"
    assert email["Bcc"] is None


@pytest.mark.parametrize("address", ["nobody", "a@b", "x@example.org\nBcc: y@example.org", "a b@example.org"])
def test_configured_recipients_are_validated(address):
    with pytest.raises(ValidationError, match="is not an email address"):
        config(to=(address,))
