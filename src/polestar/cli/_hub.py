"""What operator commands share: which hub they act on, and who is acting."""

from __future__ import annotations

import getpass
from pathlib import Path

from pydantic import ValidationError

from polestar.cli._output import fail, fail_config
from polestar.config import HubConfig, load_config
from polestar.errors import ConfigError


def hub_config(config: Path | None, data_dir: Path | None) -> HubConfig:
    """The hub named by ``--config`` (default: embedded) with ``--data-dir`` applied; exits on errors."""
    try:
        hub = load_config(config)
    except ConfigError as exc:
        fail_config(exc)
    if data_dir is not None:
        try:
            hub = hub.with_changes({"data_dir": data_dir})
        except ValidationError as exc:
            fail(f"command-line options: {exc.errors()[0]['msg']}", code=2)
    return hub


def default_actor() -> str:
    """``user:<login name>`` of whoever runs the command."""
    try:
        return f"user:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in the environment or the password database
        return "user:unknown"
