"""Pseudonymous customer keys: HMAC-SHA256 of the CRM id under a key kept outside the data.

The warehouse loader adds ``customer_key`` beside every ``customer_id`` it loads, and the
curated layers (dbt intermediate and marts) carry only the key: joining a mart row back to a
person needs the key, which lives in ``VOICEOPS_PSEUDONYM_KEY`` (production: a secret
manager) or, embedded, in ``$VOICEOPS_HOME/keys/pseudonym.key`` (created once, mode 0600),
never in the lake, the warehouse or MLflow. The same id always gives the same key, so
erasure finds a subject's curated rows by computing theirs. Rotating the key changes every
pseudonym: reload the warehouse from the lake after a rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from core.settings import Settings

PREFIX = "ck_"
KEY_BYTES = 32


def customer_key(customer_id: str, key: bytes) -> str:
    """``ck_`` + 32 hex digits of HMAC-SHA256(key, id): stable, not reversible without key."""
    digest = hmac.new(key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:32]


def key_path(settings: Settings) -> Path:
    return settings.home / "keys" / "pseudonym.key"


def pseudonym_key(settings: Settings) -> bytes:
    """The key: ``VOICEOPS_PSEUDONYM_KEY`` when set, else the home's key file (made once)."""
    configured = settings.pseudonym_key.get_secret_value()
    if configured:
        return configured.encode("utf-8")
    path = key_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES))
        try:
            os.link(temporary, path)  # the first writer wins; a concurrent one reads its key
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text(encoding="utf-8").strip().encode("utf-8")
