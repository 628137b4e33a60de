"""``polestar demo --once`` as a newcomer runs it: every flow through a real hub, a summary, an exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from polestar.demo.flows import all_flows


def _run_demo(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLESTAR_")}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "polestar.cli", "demo", "--once", "--port", "0", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_demo_once_runs_every_flow_prints_the_summary_and_exits_zero(tmp_path):
    # The default folder, as `make demo` uses it.
    result = _run_demo(tmp_path, "--count", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    # Not a terminal: plain progress lines instead of a live display.
    for flow in all_flows():
        assert f"flow {flow.number} {flow.title}: started" in lines
        assert any(line.startswith(f"flow {flow.number} {flow.title}: passed in ") for line in lines)
    assert "Summary" in result.stdout
    assert "p50 ms" in result.stdout
    assert "demo check passed" in lines
    assert "/health -> 200" in result.stdout
    assert (tmp_path / ".polestar" / "demo" / "polestar.log").is_file()
    # Each simulator and the hub was announced with its URL.
    for name in ("hub", "pnc", "cad", "custody", "footwear", "prosecutor", "intelligence"):
        assert any(line.strip().startswith(f"{name}:") and "http://127.0.0.1:" in line for line in lines), (
            name
        )


def test_demo_keeps_the_force_running_until_ctrl_c_and_hands_out_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLESTAR_")}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "polestar.cli",
            "demo",
            "--flow",
            "1",
            "--count",
            "1",
            "--port",
            "0",
            "--data-dir",
            "run",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "keep running" in line:
                break
        hub = next(line.split()[1] for line in lines if line.strip().startswith("hub:"))
        token = (tmp_path / "run" / "token").read_text(encoding="utf-8").strip()
        routes = httpx.get(f"{hub}/routes", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert routes.status_code == 200, routes.text
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "stopped" in stdout
    assert "Traceback" not in stderr
    assert process.returncode == 0, stdout + stderr
