"""Constructors do no I/O: building a connector opens no connection and touches no file."""

from __future__ import annotations

import pytest
from contract_harness import HARNESSES, Listener


@pytest.mark.parametrize("kind", list(HARNESSES))
def test_constructing_a_connector_opens_no_connection_and_touches_no_file(kind, unique, tmp_path):
    listener = Listener()
    folder = tmp_path / "not-yet"
    try:
        connectors = HARNESSES[kind](unique, tmp_path).idle_connectors(listener.port, folder)
        assert connectors
        assert not listener.connected()
        assert not folder.exists()
    finally:
        listener.close()
