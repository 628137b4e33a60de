"""The email connector against a local SMTP server: rendering, Message-ID, 4xx retried, 5xx refused."""

from __future__ import annotations

import json

import pytest
from contract_harness import EmailHarness, a_record, outbound_message

from polestar.errors import ConfigError, DeliveryFailed, DeliveryRefused


@pytest.fixture
async def smtp(unique, tmp_path):
    async with EmailHarness(unique, tmp_path) as harness:
        yield harness


async def send(smtp, message, **changes):
    connector = smtp.outbound(**changes)
    await connector.start()
    try:
        return await connector.deliver(message)
    finally:
        await connector.stop()


async def test_a_stop_and_search_copy_is_rendered_with_the_record_attached(smtp, unique):
    record = {**a_record(unique), "person": {"email": "stopped.person@example.org"}}
    message = outbound_message(record)
    receipt = await send(
        smtp,
        message,
        to=(),
        to_field="person.email",
        html="<p>Record for {{ name }}</p>",
        subject="Your stop and search record {{ ref }}",
    )
    [email] = smtp.parsed()
    assert email["To"] == "stopped.person@example.org"
    assert email["Subject"] == f"Your stop and search record REF-{unique}"
    assert email["Message-ID"] == f"<{message.envelope.id}@force.example.police.uk>"
    assert receipt.reference == email["Message-ID"]
    plain = email.get_body(preferencelist=("plain",))
    html = email.get_body(preferencelist=("html",))
    assert "A record for O'Brien, Siobhán is attached." in plain.get_content()
    assert "<p>Record for O&#x27;Brien, Siobhán</p>" in html.get_content()
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == f"record-REF-{unique}.json"
    assert json.loads(attachment.get_content()) == record


async def test_a_temporary_smtp_failure_is_retried(smtp, unique):
    smtp.recorder.data_reply = "451 4.3.0 Mail server temporarily rejected message"
    with pytest.raises(DeliveryFailed, match="451"):
        await send(smtp, outbound_message(a_record(unique)))


async def test_a_permanent_smtp_refusal_is_dead_lettered(smtp, unique):
    smtp.recorder.rcpt_reply = "550 5.1.1 No such user"
    with pytest.raises(DeliveryRefused, match=r"550 5\.1\.1 No such user"):
        await send(smtp, outbound_message(a_record(unique)))


async def test_an_invalid_recipient_in_the_record_is_refused_before_any_smtp(smtp, unique):
    record = {**a_record(unique), "email": "not an address\r\nBcc: everyone@example.org"}
    with pytest.raises(DeliveryRefused, match="is not an email address"):
        await send(smtp, outbound_message(record), to=(), to_field="email")
    assert smtp.recorder.messages == []


async def test_a_template_field_the_record_lacks_is_named(smtp, unique):
    with pytest.raises(DeliveryRefused, match=r"'officer\.collar'"):
        await send(smtp, outbound_message(a_record(unique)), subject="Stop by {{ officer.collar }}")


async def test_a_missing_password_is_a_configuration_error_at_start(smtp, monkeypatch):
    monkeypatch.delenv("POLESTAR_TEST_SMTP_PASSWORD", raising=False)
    connector = smtp.outbound(username="hub", password_env="POLESTAR_TEST_SMTP_PASSWORD")
    with pytest.raises(ConfigError, match="POLESTAR_TEST_SMTP_PASSWORD is not set"):
        await connector.start()
