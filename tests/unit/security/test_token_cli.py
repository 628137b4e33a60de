"""``polestar token``: tokens the hub accepts, keys kept owner-only in the data folder."""

from __future__ import annotations

import stat

from typer.testing import CliRunner

from polestar.cli.app import root
from polestar.config import HubConfig
from polestar.security import SecurityService, verify_secret


async def test_an_issued_token_is_accepted_by_the_hub_with_that_data_folder(tmp_path) -> None:
    result = CliRunner().invoke(
        root,
        [
            "token", "issue", "--subject", "user:pc1234", "--role", "officer", "--role", "operator",
            "--clearance", "SECRET [UK EYES ONLY]", "--ttl", "600", "--data-dir", str(tmp_path),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    key = tmp_path / "security" / "token-signing-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    principal = await SecurityService(HubConfig(data_dir=tmp_path)).authenticate(f"Bearer {token}")
    assert principal.subject == "user:pc1234"
    assert principal.roles == {"officer", "operator"}
    assert principal.clearance.label == "SECRET [UK EYES ONLY]"


def test_a_bad_clearance_or_ttl_is_refused_with_a_reason(tmp_path) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        root,
        ["token", "issue", "--subject", "user:x", "--clearance", "RESTRICTED", "--data-dir", str(tmp_path)],
    )
    assert bad.exit_code == 2
    assert "unknown protective marking" in bad.output
    long = runner.invoke(
        root, ["token", "issue", "--subject", "user:x", "--ttl", "99999999", "--data-dir", str(tmp_path)]
    )
    assert long.exit_code == 2
    assert "ttl must be between" in long.output


def test_hash_secret_prints_a_hash_that_verifies_the_secret() -> None:
    result = CliRunner().invoke(root, ["token", "hash-secret"], input="a long client secret\n")
    assert result.exit_code == 0, result.output
    assert verify_secret("a long client secret", result.stdout.strip())


async def test_a_token_can_be_bound_to_a_device(tmp_path) -> None:
    result = CliRunner().invoke(
        root,
        [
            "token", "issue", "--subject", "user:pc4471", "--role", "officer",
            "--device", "TAB-0042", "--data-dir", str(tmp_path),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    principal = await SecurityService(HubConfig(data_dir=tmp_path)).authenticate(
        f"Bearer {result.stdout.strip()}"
    )
    assert principal.device == "TAB-0042"
