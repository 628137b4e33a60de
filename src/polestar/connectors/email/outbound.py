"""Sending email by SMTP (aiosmtplib): one connection per message, outcome by SMTP reply code.

==============================================  ===================================
what happened                                   outcome
==============================================  ===================================
accepted (some recipients may be refused)       ``DeliveryReceipt``; refused ones in ``response``
4xx (greylisting, mailbox busy, try later)      ``DeliveryFailed`` (retry)
5xx (no such user, rejected, auth refused)      ``DeliveryRefused`` (dead-letter)
cannot connect, timeout, disconnected           ``DeliveryFailed``
a template field missing, a bad recipient       ``DeliveryRefused``
==============================================  ===================================

The password comes from ``password_env`` or ``password_file``, never from
the YAML. The Message-ID is ``<event-id@domain>``, so a retried delivery
carries the same id and mail systems can recognise the repeat.
"""

from __future__ import annotations

import os

from polestar.connectors.contract import DeliveryReceipt, OutboundMessage
from polestar.connectors.email._client import aiosmtplib
from polestar.connectors.email.codec import TemplateFieldMissingError, build_email
from polestar.connectors.email.config import EmailOutboundConfig
from polestar.errors import ConfigError, DeliveryFailed, DeliveryRefused


def _by_code(code: int, what: str) -> DeliveryFailed | DeliveryRefused:
    return DeliveryRefused(what) if 500 <= code < 600 else DeliveryFailed(what)


class EmailOutbound:
    """Renders each message as an email and sends it through the configured SMTP server."""

    def __init__(self, name: str, config: EmailOutboundConfig) -> None:
        self.name = name
        self.config = config
        self._password: str | None = None
        self._started = False

    async def start(self) -> None:
        """Read the password (``ConfigError`` if it is configured but missing); no connection yet."""
        config = self.config
        if config.password_env is not None:
            self._password = os.environ.get(config.password_env)
            if self._password is None:
                raise ConfigError(
                    self.name, [("password_env", f"environment variable {config.password_env} is not set")]
                )
        elif config.password_file is not None:
            try:
                self._password = config.password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(self.name, [("password_file", f"cannot read it: {exc}")]) from exc
        self._started = True

    async def stop(self) -> None:
        """Nothing is held open between messages; idempotent."""
        self._started = False
        self._password = None

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Render and send ``message``; see the module docstring for the outcomes."""
        if not self._started:
            raise DeliveryFailed(f"email connector {self.name!r} is not started")
        where = f"email connector {self.name!r} via {self.config.host}:{self.config.port}"
        try:
            email = build_email(self.config, message)
        except (TemplateFieldMissingError, ValueError) as exc:
            raise DeliveryRefused(f"{where}: cannot build the email: {exc}") from exc
        config = self.config
        try:
            refused, reply = await aiosmtplib.send(
                email,
                hostname=config.host,
                port=config.port,
                use_tls=config.security == "tls",
                start_tls=config.security == "starttls",
                validate_certs=config.validate_certs,
                username=config.username,
                password=self._password,
                timeout=config.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            what = f"{where}: every recipient refused ({detail})"
            raise (
                DeliveryRefused(what) if all(500 <= c < 600 for c in codes) else DeliveryFailed(what)
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, f"{where}: SMTP {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryFailed(f"{where}: {type(exc).__name__}: {exc}") from exc
        return DeliveryReceipt(
            reference=str(email["Message-ID"]),
            response={
                "reply": reply,
                "refused": {address: f"{r.code} {r.message}" for address, r in refused.items()},
            },
        )
