"""Customer pseudonyms: stable under one key, different under another, key kept outside."""

from __future__ import annotations

import stat
from pathlib import Path

from pydantic import SecretStr

from core.pseudonym import customer_key, key_path, pseudonym_key
from core.settings import Settings


def test_a_pseudonym_is_a_keyed_hash_of_the_id() -> None:
    one = customer_key("CUST-000001", b"k1")
    assert one == customer_key("CUST-000001", b"k1") and one.startswith("ck_") and len(one) == 35
    assert one != customer_key("CUST-000001", b"k2")  # without the key, no one can recompute it
    assert one != customer_key("CUST-000002", b"k1")
    assert "CUST" not in one


def test_the_embedded_key_is_made_once_private_and_outside_the_data(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    first = pseudonym_key(settings)
    assert len(first) == 64 and pseudonym_key(settings) == first
    path = key_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.parent.name == "keys" and not path.is_relative_to(tmp_path / "lake")
    configured = settings.model_copy(update={"pseudonym_key": SecretStr("from-the-vault")})
    assert pseudonym_key(configured) == b"from-the-vault"
