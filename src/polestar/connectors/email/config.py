"""Configuration of the ``email`` connector kind: messages out by SMTP (e.g. a stop and search copy)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SmtpSecurity = Literal["starttls", "tls", "none"]

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS_PATTERN = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
"""A plain mailbox address (no display name, no comments): what the connector sends to."""


def check_address(value: str) -> str:
    """Validate one mailbox address, raising ``ValueError`` that quotes it."""
    if len(value) > 254 or not ADDRESS_PATTERN.match(value):
        raise ValueError(f"{value!r} is not an email address (expected name@example.police.uk)")
    return value


class EmailOutboundConfig(BaseModel):
    """An SMTP relay, who the message is from and to, and the templates it is rendered from.

    Templates use ``{{ field }}`` with dotted paths into the record (``{{ person.surname }}``)
    and ``{{ event.id }}``, ``{{ event.type }}``, ``{{ event.time }}``, ``{{ event.subject }}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(description="SMTP server.", examples=["smtp.force.police.uk"])
    port: int = Field(default=587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 TLS, 25 plain).")
    security: SmtpSecurity = Field(
        default="starttls", description="starttls (upgrade, required), tls (implicit TLS), none (tests only)."
    )
    validate_certs: bool = Field(default=True, description="Check the server's TLS certificate.")
    username: str | None = Field(default=None, description="SMTP AUTH user name.")
    password_env: str | None = Field(
        default=None,
        description="Environment variable holding the SMTP password.",
        examples=["SMTP_PASSWORD"],
    )
    password_file: Path | None = Field(default=None, description="File holding the SMTP password.")
    timeout: float = Field(default=15.0, gt=0, le=300, description="Seconds for each SMTP step.")
    sender: str = Field(description="The From address.", examples=["no-reply@force.police.uk"])
    reply_to: str | None = Field(default=None, description="A Reply-To address.")
    to: tuple[str, ...] = Field(
        default=(), description="Fixed recipients.", examples=[["stop-search-review@force.police.uk"]]
    )
    to_field: str | None = Field(
        default=None,
        description="Dotted path in the record to the recipient address (or a list of them).",
        examples=["person.email"],
    )
    cc: tuple[str, ...] = Field(default=(), description="Fixed copy recipients.")
    subject: str = Field(
        description="Subject template (one line).", examples=["Your stop and search record {{ reference }}"]
    )
    text: str = Field(description="Plain-text body template.")
    html: str | None = Field(
        default=None, description="Optional HTML body template; field values are HTML-escaped."
    )
    attach_body: bool = Field(
        default=False, description="Attach the encoded record (the message body) as a file."
    )
    attachment_name: str = Field(
        default="record-{{ event.id }}.json",
        description="File name template of the attachment.",
        examples=["stop-search-{{ reference }}.pdf"],
    )
    message_id_domain: str | None = Field(
        default=None, description="Domain of the Message-ID; default: the sender's domain."
    )

    @field_validator("sender", "reply_to")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        return None if value is None else check_address(value)

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_address(v) for v in value)

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("the subject template must be one line")
        return value
