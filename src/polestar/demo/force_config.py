"""The running force's hub configuration, and the PostgreSQL and JetStream room a cluster run needs.

``examples/force/polestar.yaml`` (embedded) and ``examples/force/cluster.yaml``
(cluster) say how the force's hub is set up; ``force_hub_config`` reads one
and puts in what only the run knows: its data folder, its port, the
integration folder and, in the cluster profile, the servers and namespace.
The file is read as written, without ``POLESTAR_*`` overrides, so what the
demo and the tests run does not depend on the shell they run in.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from polestar.bus.config import JetStreamBusConfig
from polestar.config import HubConfig, Profile
from polestar.config.models import redact_url
from polestar.config.yaml_document import YamlProblem, read_yaml_document
from polestar.errors import BusError, ConfigError, PolestarError
from polestar.security import AuthenticationMode, issue_token
from polestar.security.testing import ALL_ROLES, FULL_CLEARANCE

FORCE_EXAMPLE_DIR = Path(__file__).resolve().parents[3] / "examples" / "force"
"""``examples/force`` in this checkout: the hub configurations and the ``integration/`` folder."""
CONFIG_FILES = {Profile.EMBEDDED: "polestar.yaml", Profile.CLUSTER: "cluster.yaml"}
"""The hub configuration file of each profile, in the example folder."""
_POSTGRES_SCHEMES = ("postgresql", "postgres")
DEMO_SUBJECT = "user:polestar-demo"
"""Who the demo's and the flow tests' token says is calling."""
DEMO_TOKEN_TTL_SECONDS = 86_400


class ForceFailedToStart(PolestarError):  # noqa: N818 - reads as what the operator sees
    """A simulator or the hub did not start or become ready, or a server it needs is out of reach."""


@dataclass(frozen=True, slots=True)
class ClusterResources:
    """Where a cluster run keeps its state: one PostgreSQL schema, one JetStream namespace."""

    postgres_url: str
    """The server as given (``postgresql://USER@HOST:PORT/DB``)."""
    schema: str
    store_url: str
    """The hub's store URL: asyncpg, with the search path set to ``schema``."""
    bus: JetStreamBusConfig

    async def remove(self) -> None:
        """Delete the streams and drop the schema (only for a namespace the harness made)."""
        from polestar.bus.jetstream import JetStreamEngine  # noqa: PLC0415 - optional extra (nats)

        engine = JetStreamEngine(self.bus)
        with contextlib.suppress(BusError):
            await engine.start()
            await engine.destroy()
        await engine.close()
        await _on_schema(self.postgres_url, "DROP SCHEMA IF EXISTS {} CASCADE", self.schema)


def cluster_resources(postgres_url: str, nats_url: str, namespace: str) -> ClusterResources:
    """The schema, store URL and JetStream configuration of ``namespace`` (no I/O)."""
    parts = urlsplit(postgres_url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in _POSTGRES_SCHEMES:
        raise ValueError(f"postgres_url must be a postgresql:// URL, not {parts.scheme or 'no'} scheme")
    plain = urlunsplit(parts._replace(scheme="postgresql"))
    search_path = f"options=-csearch_path%3D{namespace}"
    query = f"{parts.query}&{search_path}" if parts.query else search_path
    store_url = urlunsplit(parts._replace(scheme="postgresql+asyncpg", query=query))
    bus = JetStreamBusConfig(
        servers=(nats_url,), stream_prefix=namespace.upper(), subject_prefix=namespace.replace("_", "-")
    )
    return ClusterResources(postgres_url=plain, schema=namespace, store_url=store_url, bus=bus)


async def prepare_cluster(cluster: ClusterResources) -> None:
    """Create the run's schema if it is missing (the store migrates inside it)."""
    await _on_schema(cluster.postgres_url, "CREATE SCHEMA IF NOT EXISTS {}", cluster.schema)


async def _on_schema(url: str, statement: LiteralString, schema: str) -> None:
    try:
        import psycopg  # noqa: PLC0415 - optional extra (postgres)
        from psycopg import sql  # noqa: PLC0415 - optional extra (postgres)
    except ImportError as exc:
        raise ForceFailedToStart(
            "the cluster profile needs PostgreSQL support: pip install 'polestar[postgres]'"
        ) from exc
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=5) as conn:
            await conn.execute(sql.SQL(statement).format(sql.Identifier(schema)))
    except psycopg.Error as exc:
        raise ForceFailedToStart(f"PostgreSQL at {redact_url(url)}: {exc}") from exc


def force_hub_config(
    profile: Profile,
    data_dir: Path,
    *,
    example_dir: Path,
    host: str = "127.0.0.1",
    port: int,
    cluster: ClusterResources | None = None,
) -> HubConfig:
    """The hub configuration of ``profile`` from ``example_dir``, set up for this run.

    Raises:
        ConfigError: the file is missing or invalid; each problem is located in it.
    """
    path = example_dir / CONFIG_FILES[profile]
    try:
        document = read_yaml_document(path)
    except OSError as exc:
        raise ConfigError(str(path), [(str(path), exc.strerror or str(exc))]) from None
    except YamlProblem as exc:
        raise ConfigError(
            str(path), [(f"{path}:{p[0]}:{p[1]}" if p else str(path), why) for p, why in exc.problems]
        ) from None
    changes: dict[str, Any] = {
        "profile": profile.value,
        "data_dir": str(data_dir / "hub"),
        "integration_dir": str(example_dir / "integration"),
        "api": {"host": host, "port": port, "public_url": None},
    }
    if cluster is not None:
        changes["store"] = {"url": cluster.store_url}
        # Only where the bus is and the names it uses; the file's other bus settings stand.
        changes["bus"] = {
            "kind": "jetstream",
            "servers": list(cluster.bus.servers),
            "stream_prefix": cluster.bus.stream_prefix,
            "subject_prefix": cluster.bus.subject_prefix,
        }
    try:
        return HubConfig.model_validate(_merge(document.data, changes))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            dotted = ".".join(str(part) for part in error["loc"])
            where = document.position(tuple(error["loc"]))
            place = f"{path}:{where[0]}:{where[1]}" if where else str(path)
            problems.append((f"{place} {dotted}".rstrip(), error["msg"]))
        raise ConfigError(str(path), problems) from None


def mint_token(config: HubConfig) -> str | None:
    """A bearer token for ``config``'s hub, or None when the hub asks for none.

    The demo and the flow tests stand for every officer, operator and system at once, so the
    token carries every built-in role and full clearance; it is signed by the keys in the hub's
    data folder (made if absent), exactly as ``polestar token issue`` signs one.
    """
    security = config.security
    if security.authentication is AuthenticationMode.OFF:
        return None
    return issue_token(
        config,
        subject=DEMO_SUBJECT,
        roles=ALL_ROLES,
        clearance=FULL_CLEARANCE,
        ttl=min(DEMO_TOKEN_TTL_SECONDS, security.max_token_ttl),
    )


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
