"""Client credentials: secrets kept only as scrypt hashes, read from the config, env or a file."""

from __future__ import annotations

import pytest

from polestar.security import (
    ClientConfig,
    ClientRefused,
    SecretRef,
    SecretUnavailable,
    hash_secret,
    verify_secret,
)
from polestar.security.clients import ClientRegistry


def test_a_hashed_secret_verifies_only_the_right_secret() -> None:
    stored = hash_secret("correct horse battery staple")
    assert stored.startswith("scrypt$")
    assert "correct horse" not in stored
    assert verify_secret("correct horse battery staple", stored)
    assert not verify_secret("correct horse battery stapler", stored)


@pytest.mark.parametrize(
    "stored", ["", "plain-text", "scrypt$1$1$1$x$y", "scrypt$1048577$8$1$AA$AA", "md5$x"]
)
def test_a_malformed_or_hostile_hash_never_matches(stored) -> None:
    assert not verify_secret("anything", stored)


def test_the_registry_names_neither_which_client_nor_why(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CAD_SECRET_HASH", hash_secret("cad-secret"))
    hash_file = tmp_path / "custody.hash"
    hash_file.write_text(hash_secret("custody-secret") + "\n")
    registry = ClientRegistry(
        [
            ClientConfig(id="cad", secret_hash=SecretRef(env="CAD_SECRET_HASH"), roles=["system"]),
            ClientConfig(id="custody", secret_hash=SecretRef(file=hash_file)),
            ClientConfig(id="warehouse", secret_hash=hash_secret("warehouse-secret")),
        ]
    )
    registry.resolve()
    assert registry.authenticate("cad", "cad-secret").subject == "system:cad"
    assert registry.authenticate("custody", "custody-secret").subject == "system:custody"
    assert registry.authenticate("warehouse", "warehouse-secret").config.id == "warehouse"
    for client_id, secret in [("cad", "wrong"), ("nobody", "cad-secret")]:
        with pytest.raises(ClientRefused, match="unknown client or wrong secret"):
            registry.authenticate(client_id, secret)


def test_a_missing_secret_is_reported_naming_where_it_was_looked_for(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(SecretUnavailable, match="environment variable NOT_SET_ANYWHERE is missing"):
        SecretRef(env="NOT_SET_ANYWHERE").read()
    with pytest.raises(SecretUnavailable, match="cannot be read"):
        SecretRef(file=tmp_path / "absent").read()
    with pytest.raises(ValueError, match="exactly one"):
        SecretRef(env="A", file=tmp_path)
