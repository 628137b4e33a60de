"""The hub as an operator starts it: a real process, real HTTP."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from polestar.config import HubConfig

STARTUP_SECONDS = 20


def hub_environment():
    env = {
        name: value
        for name, value in os.environ.items()
        if not (
            name.upper().startswith("POLESTAR_") and name[9:].lower().split("__")[0] in HubConfig.model_fields
        )
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def polestar_up(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "polestar.cli",
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        cwd=tmp_path,
        env=hub_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def wait_for_health(process, base_url):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"polestar up exited with {process.returncode}: {process.communicate()}")
        try:
            return httpx.get(f"{base_url}/health", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("polestar up did not answer /health in time")


def test_polestar_up_serves_health_and_stops_cleanly_on_ctrl_c(polestar_up, tmp_path):
    process, base_url = polestar_up
    response = wait_for_health(process, base_url)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["profile"] == "embedded"
    assert httpx.get(f"{base_url}/ready", timeout=5).json()["status"] == "ok"
    assert (tmp_path / "data").is_dir()

    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=STARTUP_SECONDS)
    assert process.returncode == 0, stderr
    assert f"API:     {base_url}" in stdout
    assert "stopped" in stdout
    assert "Traceback" not in stderr


def test_polestar_demo_once_fails_when_it_cannot_listen(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "polestar.cli", "demo", "--once", "--port", str(port)],
            cwd=tmp_path,
            env=hub_environment(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
