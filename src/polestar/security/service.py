"""The security component: one object the API and the routes call to identify, decide and record.

::

    security = SecurityService(config, record=audit.record)    # no I/O
    await security.start()                                      # keys, policies, agreements, clients
    principal = await security.authenticate("Bearer eyJ...")   # AuthenticationFailed
    await security.authorize(principal, "record.read", Resource.record(r), purpose="...")  # AccessDenied
    visible = await security.visible(principal, records, purpose="...")   # filtered and redacted
    envelope = await security.gate("footwear-api", None, envelope)       # AgreementRefused

Every decision, allow or deny, is appended to the audit log as an
``access_decision`` entry naming the policies (or the agreement) that decided it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from polestar.audit import Actor, AuditEntry, AuditError, Operation, Outcome
from polestar.model.envelope import Envelope
from polestar.security.agreements import AgreementBook
from polestar.security.clients import ClientRegistry
from polestar.security.config import AgreementMode, AuthenticationMode, SecurityConfig
from polestar.security.errors import AccessDenied, AgreementRefused, AuthenticationFailed, PurposeRequired
from polestar.security.keys import SigningKeys
from polestar.security.oidc import RemoteJwks
from polestar.security.policy import Decision, PolicyEngine, Resource
from polestar.security.principal import ANONYMOUS_OPERATOR, Principal
from polestar.security.ratelimit import RateLimiter
from polestar.security.redaction import redact
from polestar.security.tokens import TokenVerifier, mint

if TYPE_CHECKING:
    from polestar.config import HubConfig

log = logging.getLogger(__name__)

SERVICE = "polestar-security"
DecisionSink = Callable[[AuditEntry], Awaitable[None]]
"""Appends a decision to the audit log (``AuditComponent.record``); raising fails the request."""
POLICY_RELOAD_SECONDS = 2.0


class SecurityService:
    """Identity, policy, redaction and agreements for one hub."""

    def __init__(
        self,
        config: HubConfig,
        *,
        record: DecisionSink | None = None,
        jwks_transport: Any = None,
    ) -> None:
        self.config: SecurityConfig = config.security
        self._data_dir = config.data_dir
        integration = config.integration_dir
        self._agreements_dir = self.config.agreements_dir or (
            None if integration is None else Path(integration) / "agreements"
        )
        self._record = record
        self._jwks_transport = jwks_transport
        self.keys: SigningKeys | None = None
        self.verifier: TokenVerifier | None = None
        self.clients = ClientRegistry(self.config.clients)
        self.limiter = RateLimiter(self.config.rate_limit.requests_per_second, self.config.rate_limit.burst)
        self._engine: PolicyEngine | None = None
        self._engine_checked = 0.0
        self._engine_signature: tuple[tuple[str, float], ...] = ()
        self._book: AgreementBook | None = None
        self._starting = asyncio.Lock()

    @property
    def required(self) -> bool:
        """Whether callers must present a token."""
        return self.config.authentication is AuthenticationMode.REQUIRED

    async def start(self) -> None:
        """Load or create the signing keys, the policies, the agreements and the client hashes."""
        if self.config.local_issuer:
            self.keys = await asyncio.to_thread(SigningKeys.load_or_create, self._data_dir)
        oidc = self.config.oidc
        remote = (
            None
            if oidc is None
            else RemoteJwks(
                str(oidc.jwks_url),
                cache_seconds=oidc.cache_seconds,
                min_refresh_seconds=oidc.min_refresh_seconds,
                transport=self._jwks_transport,
            )
        )
        self.verifier = TokenVerifier(self.config, local=self.keys, remote=remote)
        self._engine = await asyncio.to_thread(PolicyEngine.load, self.config.policy_dir)
        self._engine_signature = _signature(self.config.policy_dir)
        self._book = await asyncio.to_thread(AgreementBook.load, self._agreements_dir)
        self.clients.resolve()

    async def ensure_started(self) -> None:
        """Start now if the lifespan has not (a request to an app under test): once, under a lock."""
        if self.verifier is None:
            async with self._starting:
                if self.verifier is None:
                    await self.start()

    # --- identity --------------------------------------------------------------------------------

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller proven by an ``Authorization: Bearer`` header value; ``AuthenticationFailed`` if not."""
        if not self.required:
            return ANONYMOUS_OPERATOR
        await self.ensure_started()
        if self.verifier is None:
            raise AuthenticationFailed("the hub is starting; try again shortly")
        if not authorization:
            raise AuthenticationFailed("a bearer token is required (Authorization: Bearer ...)")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        return await self.verifier.verify(token.strip())

    def issue_client_token(self, client_id: str, secret: str) -> tuple[str, int]:
        """A token for a system presenting its client credentials: ``(token, lifetime seconds)``."""
        client = self.clients.authenticate(client_id, secret)
        if self.keys is None:
            raise AuthenticationFailed("this hub issues no tokens (security.local_issuer is off)")
        ttl = min(client.config.token_ttl, self.config.max_token_ttl)
        token = mint(
            self.keys,
            issuer=self.config.issuer,
            audience=self.config.audience,
            subject=client.subject,
            roles=client.config.roles,
            clearance=client.config.clearance,
            ttl=ttl,
            client_id=client_id,
        )
        return token, ttl

    # --- policy ----------------------------------------------------------------------------------

    @property
    def engine(self) -> PolicyEngine:
        """The policies in force, reloaded (at most every 2 s) when a file in the policy folder changes."""
        if self._engine is None:
            raise AuthenticationFailed("the hub is starting; try again shortly")
        now = time.monotonic()
        if self.config.policy_dir is not None and now - self._engine_checked > POLICY_RELOAD_SECONDS:
            self._engine_checked = now
            signature = _signature(self.config.policy_dir)
            if signature != self._engine_signature:
                self._engine_signature = signature
                try:
                    self._engine = PolicyEngine.load(self.config.policy_dir)
                    log.info("policies reloaded from %s", self.config.policy_dir)
                except Exception:  # an invalid edit keeps the policies in force
                    log.exception("policies not reloaded; the previous ones stay in force")
        return self._engine

    async def decide(
        self, principal: Principal, action: str, resource: Resource, *, purpose: str | None = None
    ) -> Decision:
        """Ask policy and record the decision (allow or deny); never raises for a deny."""
        decision = self.engine.decide(principal, action, resource, purpose=purpose)
        await self._audit(principal, decision, resource, purpose)
        return decision

    async def authorize(
        self, principal: Principal, action: str, resource: Resource, *, purpose: str | None = None
    ) -> Decision:
        """Like ``decide`` but raises ``PurposeRequired`` or ``AccessDenied`` when refused."""
        decision = await self.decide(principal, action, resource, purpose=purpose)
        if decision.needs_purpose:
            raise PurposeRequired(
                f"{action} needs a stated purpose: say why in the X-Polestar-Purpose header", decision
            )
        if not decision.allowed:
            raise AccessDenied(f"{action} is not allowed ({', '.join(decision.policies)})", decision)
        return decision

    async def refuse(
        self, principal: Principal, action: str, resource: Resource, reason: str, *, policy: str
    ) -> NoReturn:
        """Record a refusal no Cedar policy decides (a caller claiming another's identity), then raise it.

        ``policy`` names the rule in the audit entry, as a Cedar ``@id`` would.
        """
        decision = Decision(
            allowed=False,
            principal=principal.subject,
            action=action,
            resource=resource.id,
            policies=(policy,),
        )
        await self._audit(principal, decision, resource, None)
        raise AccessDenied(f"{action} is not allowed: {reason}", decision)

    def redact(self, principal: Principal, record: Mapping[str, Any]) -> dict[str, Any]:
        """``record`` without the fields policy hides from ``principal``."""
        return redact(self.engine, principal, record)[0]

    async def visible(
        self,
        principal: Principal,
        records: Iterable[Mapping[str, Any]],
        *,
        action: str = "record.read",
        purpose: str | None = None,
    ) -> list[dict[str, Any]]:
        """The records ``principal`` may see, each redacted; the rest are left out (not "forbidden").

        Raises ``PurposeRequired`` when policy wants a purpose and none was given.
        """
        shown: list[dict[str, Any]] = []
        for record in records:
            decision = await self.decide(principal, action, Resource.record(record), purpose=purpose)
            if decision.needs_purpose:
                raise PurposeRequired(f"{action} needs a stated purpose (X-Polestar-Purpose)", decision)
            if decision.allowed:
                shown.append(self.redact(principal, record))
        return shown

    async def screen(
        self,
        principal: Principal,
        action: str,
        resources: Iterable[Resource],
        *,
        purpose: str | None = None,
    ) -> set[str]:
        """The ids of ``resources`` that ``principal`` may ``action``; the rest are to be left out.

        For result lists: every decision is recorded, but in one audit entry per outcome and
        deciding policies rather than one per record. Raises ``PurposeRequired`` like ``visible``.
        """
        groups: dict[tuple[bool, tuple[str, ...]], list[tuple[Resource, Decision]]] = {}
        for resource in {r.id: r for r in resources}.values():
            decision = self.engine.decide(principal, action, resource, purpose=purpose)
            groups.setdefault((decision.allowed, decision.policies), []).append((resource, decision))
        for (allowed, policies), decided in groups.items():
            await self._record_entry(
                AuditEntry(
                    operation=Operation.ACCESS_DECISION,
                    actor=Actor.parse(principal.subject),
                    service=SERVICE,
                    outcome=Outcome.SUCCEEDED if allowed else Outcome.REFUSED,
                    purpose=(purpose or "").strip()[:500] or None,
                    record_ids=[r.id[:256] for r, _ in decided],
                    details={
                        "decision": "allow" if allowed else "deny",
                        "action": action,
                        "policies": list(policies),
                        "roles": sorted(principal.roles),
                        "clearance": principal.clearance.label,
                        "markings": sorted({r.marking.label for r, _ in decided}),
                        "resource_kind": "record",
                    },
                )
            )
            if any(d.needs_purpose for _, d in decided):
                raise PurposeRequired(f"{action} needs a stated purpose (X-Polestar-Purpose)", decided[0][1])
        return {r.id for (allowed, _), decided in groups.items() if allowed for r, _ in decided}

    # --- agreements ------------------------------------------------------------------------------

    async def gate(self, connector: str, target: str | None, envelope: Envelope) -> Envelope:
        """What to deliver to ``connector`` (minimised); ``AgreementRefused`` if no agreement allows it."""
        if self.config.agreements is AgreementMode.OFF:
            return envelope
        if self._book is None:
            raise AgreementRefused(f"agreements are not loaded yet; nothing goes to {connector}")
        self._book = self._book.reloaded()
        verdict = self._book.check(connector, envelope)
        resource = Resource.event(envelope.id, envelope.type, envelope.classification)
        await self._record_entry(
            AuditEntry(
                operation=Operation.ACCESS_DECISION,
                actor=Actor(system=f"system:{connector}"),
                service=SERVICE,
                outcome=Outcome.SUCCEEDED if verdict.allowed else Outcome.REFUSED,
                on_behalf_of=envelope.actor,
                purpose=verdict.purpose,
                correlation_id=envelope.correlationid or envelope.id,
                recipients=[f"system:{connector}"] + ([f"system:{connector}:{target}"] if target else []),
                record_ids=[resource.id],
                details={
                    "decision": "allow" if verdict.allowed else "deny",
                    "action": "deliver",
                    "agreement": verdict.agreement,
                    "policies": [f"agreement:{verdict.agreement}" if verdict.agreement else "no-agreement"],
                    "reason": verdict.reason,
                    "category": resource.category,
                    "marking": resource.marking.label,
                },
            )
        )
        if not verdict.allowed:
            raise AgreementRefused(
                f"no data-sharing agreement allows this flow to {connector}: {verdict.reason}"
            )
        return verdict.envelope

    # --- recording -------------------------------------------------------------------------------

    async def _audit(
        self, principal: Principal, decision: Decision, resource: Resource, purpose: str | None
    ) -> None:
        await self._record_entry(
            AuditEntry(
                operation=Operation.ACCESS_DECISION,
                actor=Actor.parse(principal.subject),
                service=SERVICE,
                outcome=Outcome.SUCCEEDED if decision.allowed else Outcome.REFUSED,
                purpose=(purpose or "").strip()[:500] or None,
                record_ids=[resource.id[:256]],
                details={
                    "decision": "allow" if decision.allowed else "deny",
                    "action": decision.action,
                    "policies": list(decision.policies),
                    "roles": sorted(principal.roles),
                    "clearance": principal.clearance.label,
                    "marking": resource.marking.label,
                    "resource_kind": resource.kind,
                },
            )
        )

    async def record_refusal(self, address: str, path: str, reason: str) -> None:
        """Record a refused authentication (best effort: the caller is refused either way)."""
        entry = AuditEntry(
            operation=Operation.ACCESS_DECISION,
            actor=Actor(system=f"unauthenticated:{address}"[:256]),
            service=SERVICE,
            outcome=Outcome.REFUSED,
            record_ids=[path[:256] or "/"],
            details={
                "decision": "deny",
                "action": "authenticate",
                "policies": ["authentication"],
                "reason": reason,
            },
        )
        try:
            await self._record_entry(entry)
        except AuditError:
            log.warning("could not record a refused authentication on %s: %s", path, reason)

    async def _record_entry(self, entry: AuditEntry) -> None:
        if self._record is None:
            log.info("access decision %s", entry.details)
            return
        await self._record(entry)


def _signature(folder: Path | None) -> tuple[tuple[str, float], ...]:
    if folder is None or not folder.is_dir():
        return ()
    try:
        return tuple((p.name, p.stat().st_mtime) for p in sorted(folder.iterdir()) if p.is_file())
    except OSError:
        return ()
