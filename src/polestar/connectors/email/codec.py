"""Rendering an email from a record: ``{{ dotted.path }}`` templates, Message-ID from the event id.

Templates are deliberately tiny: a placeholder names a field, nothing else
(no attribute access, no expressions), so a template can never reach beyond
the record. A missing field is an error naming it, not an empty string.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from polestar.connectors.contract import OutboundMessage
from polestar.connectors.email.config import EmailOutboundConfig, check_address

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*\}\}")


class TemplateFieldMissingError(LookupError):
    """A template names a field the record does not have."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"the template needs field {path!r}, which the record does not have")


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (list items by index), or ``TemplateFieldMissingError``."""
    value: Any = context
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise TemplateFieldMissingError(path)
    return value


def render(template: str, context: Mapping[str, Any], *, escape: Callable[[str], str] | None = None) -> str:
    """Fill every ``{{ path }}`` in ``template`` from ``context``."""

    def fill(match: re.Match[str]) -> str:
        value = lookup(context, match.group(1))
        text = "" if value is None else str(value)
        return escape(text) if escape else text

    return PLACEHOLDER.sub(fill, template)


def record_of(message: OutboundMessage) -> dict[str, Any]:
    """The record to render: the JSON body when it is an object, else the envelope's data."""
    if message.content_type.split(";", 1)[0].strip().lower().endswith("json"):
        try:
            value = json.loads(message.body)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    return dict(message.envelope.data or {})


def template_context(message: OutboundMessage) -> dict[str, Any]:
    """The record's fields, plus ``event`` (id, type, time, subject) from the envelope."""
    envelope = message.envelope
    event = {
        "id": envelope.id,
        "type": envelope.type,
        "time": envelope.time.isoformat(),
        "subject": envelope.subject,
    }
    return {**record_of(message), "event": event}


def recipients(
    config: EmailOutboundConfig, message: OutboundMessage, context: Mapping[str, Any]
) -> list[str]:
    """Fixed ``to``, the target, and the record's ``to_field``; each validated (``ValueError``)."""
    found: list[str] = list(config.to)
    if message.target:
        found.append(message.target)
    if config.to_field:
        value = lookup(context, config.to_field)
        found.extend(str(v) for v in (value if isinstance(value, list) else [value]) if v)
    addresses = [check_address(a.strip()) for a in found]
    if not addresses:
        raise ValueError("the message has no recipient")
    return list(dict.fromkeys(addresses))


def build_email(config: EmailOutboundConfig, message: OutboundMessage) -> EmailMessage:
    """The email for ``message``; ``TemplateFieldMissingError`` / ``ValueError`` say what is wrong."""
    context = template_context(message)
    email = EmailMessage()
    email["From"] = config.sender
    email["To"] = ", ".join(recipients(config, message, context))
    if config.cc:
        email["Cc"] = ", ".join(config.cc)
    if config.reply_to:
        email["Reply-To"] = config.reply_to
    email["Subject"] = " ".join(render(config.subject, context).split())
    email["Date"] = format_datetime(message.envelope.time)
    domain = config.message_id_domain or config.sender.rsplit("@", 1)[1]
    email["Message-ID"] = f"<{message.envelope.id}@{domain}>"
    email.set_content(render(config.text, context))
    if config.html is not None:
        email.add_alternative(render(config.html, context, escape=html.escape), subtype="html")
    if config.attach_body:
        maintype, _, subtype = message.content_type.split(";", 1)[0].strip().partition("/")
        filename = render(config.attachment_name, context).replace("/", "_").replace("\\", "_")
        email.add_attachment(
            message.body,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=filename,
        )
    return email
