"""A hub that dies the hard way after the store commits an erasure and before its audit entry is written.

Run by ``test_store_erasure_audit.py``, with the arguments of ``store_crash_child.py``. It starts
the whole hub, stores one arrest (its collection entry is appended as usual), then makes the
audit log's drain, which the erasure's after-commit step runs, kill the process (SIGKILL) and
erases the person: the store's transaction has committed by then, with the erasure's intent.
"""

import asyncio
import os
import signal
import sys
from pathlib import Path

from store_crash_child import arrest, crash_config, until_the_store_runs

from polestar.api import create_app
from polestar.config import HubConfig


async def main(config: HubConfig) -> None:
    app = create_app(config)
    async with app.router.lifespan_context(app):
        hub = app.state.hub
        await until_the_store_runs(hub)
        await hub.store.writer.handle(arrest())
        audit_log = hub.audit.log
        real_drain = audit_log.drain_intents

        async def die_at_the_erasure(*, min_age=0.0):
            if min_age == 0.0:  # the erasure's own drain, not the periodic one
                print("committed", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
            return await real_drain(min_age=min_age)

        audit_log.drain_intents = die_at_the_erasure
        await hub.store.store.erase_subject("p-crash", actor="user:dpo1", reason="erasure request 2026/9")
        print("survived", flush=True)  # never reached


if __name__ == "__main__":
    args = [*sys.argv[2:], None, None, None]
    asyncio.run(main(crash_config(Path(sys.argv[1]), args[0], args[1], args[2])))
