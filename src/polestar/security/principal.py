"""Who is calling: an identity with roles and a clearance, as proven by a verified token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from polestar.model.marking import OFFICIAL, ProtectiveMarking

DeviceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
"""A device id as the gateway names devices (``IVMA-CX21``, ``TAB-0042``)."""
Subject = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\s\x00-\x1f]+$")]


class Principal(BaseModel):
    """A verified caller: a person (``user:``), a device (``device:``) or a system (``system:``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: Subject = Field(description="Who: user:pc1234, device:tablet-0042 or system:cad.")
    roles: frozenset[str] = Field(default=frozenset(), description="What they do, e.g. officer, operator.")
    clearance: ProtectiveMarking = Field(
        default=OFFICIAL, description="The highest marking they may see, and the caveats they hold."
    )
    issuer: str = Field(default="polestar", description="Who vouched for them (the token's iss).")
    client_id: str | None = Field(default=None, description="The OAuth2 client, for system tokens.")
    token_id: str | None = Field(default=None, description="The token's jti, for tracing.")
    expires_at: datetime | None = Field(default=None, description="When the token stops being accepted.")
    device: DeviceId | None = Field(
        default=None,
        description="The device the token is bound to (its ``device`` claim, or a ``device:`` subject's id).",
    )

    @property
    def kind(self) -> str:
        """``user``, ``device``, ``system`` or whatever prefix the subject has."""
        return self.subject.split(":", 1)[0] if ":" in self.subject else "user"

    @property
    def person(self) -> str | None:
        """The person's id (``pc1234`` of ``user:pc1234``), or None for a device or system token."""
        return self.subject.split(":", 1)[1] if self.kind == "user" and ":" in self.subject else None

    @property
    def rate_key(self) -> str:
        """What rate limits are counted against: the client for systems, else the subject."""
        return self.client_id or self.subject


ANONYMOUS_OPERATOR = Principal(
    subject="user:anonymous",
    roles=frozenset({"operator", "officer", "auditor", "system", "admin"}),
    clearance=ProtectiveMarking.parse("OFFICIAL"),
    issuer="none",
)
"""Who acts when ``security.authentication`` is off (throwaway local hubs): every role, OFFICIAL only."""
