"""``python -m polestar.sims [--seed N] [--base-port P] [--host H] [--data-dir D] [--hub-url U]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from polestar.sims.runner import run_all


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run every simulator."""
    parser = argparse.ArgumentParser(
        prog="python -m polestar.sims", description="Run every Polestar simulator."
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the synthetic world")
    parser.add_argument("--base-port", type=int, default=8100, help="port of the first simulator (PNC)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument(
        "--data-dir", type=Path, default=Path("var/sims"), help="custody and warehouse folders"
    )
    parser.add_argument("--hub-url", default=None, help="hub base URL; CAD events go to <hub>/ingest/cad")
    args = parser.parse_args(argv)
    run_all(args.seed, args.base_port, host=args.host, data_dir=args.data_dir, hub_url=args.hub_url)


if __name__ == "__main__":
    main()
