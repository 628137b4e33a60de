"""Seals are HMAC-SHA256, byte for byte, whatever the key's length."""

import hmac

from hypothesis import given
from hypothesis import strategies as st

from polestar.audit.seals import Sealer


@given(st.binary(max_size=150), st.lists(st.binary(max_size=100), max_size=20))
def test_a_seal_is_the_hmac_of_the_message(key, messages):
    sealer = Sealer(key)
    expected = [hmac.digest(key, m, "sha256") for m in messages]
    assert sealer.many(messages) == expected
    assert [sealer(m) for m in messages] == expected


def test_a_seal_under_another_key_differs():
    assert Sealer(b"k" * 32)(b"leaf hash") != Sealer(b"K" * 32)(b"leaf hash")
