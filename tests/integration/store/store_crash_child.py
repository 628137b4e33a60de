"""A hub that dies the hard way after the store commits an event and before its audit entry is appended.

Run by ``test_store_audit_intents.py``:
``python store_crash_child.py DATA_DIR [STORE_URL NATS_URL PREFIX]`` (embedded without the
last three, cluster with them). It starts the whole hub, makes the audit log's append kill
the process (SIGKILL) the moment the store's entry reaches it, and hands the store's
writer one arrest event: the store's transaction has committed by then, with its intent.
"""

import asyncio
import os
import signal
import sys
from pathlib import Path

from _store_helpers import event, person

from polestar.api import create_app
from polestar.bus.config import JetStreamBusConfig, SqliteBusConfig
from polestar.config import HubConfig, Profile, StoreConfig
from polestar.model.envelope import Envelope


def crash_config(
    data_dir: Path, store_url: str | None, nats_url: str | None, prefix: str | None
) -> HubConfig:
    """The hub the child runs and the test starts again: embedded, or a cluster on PostgreSQL and NATS."""
    if store_url is None:
        return HubConfig(data_dir=data_dir, bus=SqliteBusConfig(poll_interval=0.02))
    assert nats_url is not None
    assert prefix is not None
    return HubConfig(
        profile=Profile.CLUSTER,
        data_dir=data_dir,
        bus=JetStreamBusConfig(servers=(nats_url,), stream_prefix=prefix.upper(), subject_prefix=prefix),
        store=StoreConfig(url=store_url),
    )


def arrest() -> Envelope:
    """The event the dead hub stored: a person, new to the store (a collection)."""
    return event(
        person(
            "p-crash",
            given="Daniel",
            family="Okafor",
            identifiers=[{"type": "PNC", "value": "2012/0052494Q"}],
        ),
        id="evt-arrest-1",
        correlationid="custody-17",
    )


async def until_the_store_runs(hub, timeout: float = 30.0) -> None:
    """Wait for the store component to open (it starts after the audit log)."""
    for _ in range(int(timeout / 0.05)):
        if hub.store.running:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the store did not start: {hub.store.reason}")


async def main(config: HubConfig) -> None:
    app = create_app(config)
    async with app.router.lifespan_context(app):
        hub = app.state.hub
        await until_the_store_runs(hub)
        audit_log = hub.audit.log
        real_append = audit_log.append

        async def die_at_the_store_entry(entry, *, key=None):
            if key is not None and key.startswith("store:"):
                print("committed", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
            return await real_append(entry, key=key)

        audit_log.append = die_at_the_store_entry
        await hub.store.writer.handle(arrest())
        print("survived", flush=True)  # never reached


if __name__ == "__main__":
    args = [*sys.argv[2:], None, None, None]
    asyncio.run(main(crash_config(Path(sys.argv[1]), args[0], args[1], args[2])))
