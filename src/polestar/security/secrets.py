"""Secrets come from environment variables or files, never from the YAML itself.

A ``SecretRef`` is written ``{env: NAME}`` or ``{file: /run/secrets/name}`` and
read when it is needed (at start), so a configuration file can be shared,
diffed and committed without leaking anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polestar.security.errors import SecretUnavailable


class SecretRef(BaseModel):
    """Where a secret is found: an environment variable or a file (e.g. a mounted Kubernetes secret)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$",
        description="Environment variable holding it.",
        examples=["POLESTAR_CLIENT_CAD_SECRET_HASH"],
    )
    file: Path | None = Field(
        default=None,
        description="File holding it (surrounding whitespace ignored).",
        examples=["/run/secrets/cad-client"],
    )

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        if (self.env is None) == (self.file is None):
            raise ValueError("name exactly one of 'env' or 'file'")
        return self

    @property
    def where(self) -> str:
        """Where the secret is looked for, in words (never its value)."""
        return f"environment variable {self.env}" if self.env is not None else f"file {self.file}"

    def read(self) -> str:
        """The secret's value; ``SecretUnavailable`` naming the place when missing or empty."""
        if self.env is not None:
            value = os.environ.get(self.env, "")
        else:
            assert self.file is not None
            try:
                value = self.file.read_text(encoding="utf-8")
            except OSError as exc:
                raise SecretUnavailable(f"{self.where} cannot be read: {exc.strerror}") from None
        if not value.strip():
            raise SecretUnavailable(f"{self.where} is missing or empty")
        return value.strip()
