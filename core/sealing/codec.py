"""The sealed formats: AES-256-GCM under a subject's key, the key's id bound as associated data.

* text: ``vos1:<key id>:<base64url(nonce | ciphertext | tag)>`` (a string column stays a
  string column, so raw Parquet keeps its schema);
* blob (a recording): ``VOSEAL1\\n`` + 32-character key id + nonce + ciphertext + tag.

``open_*`` returns ``None`` when the key is gone (erased): the bytes are then noise.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_PREFIX = "vos1:"
BLOB_MAGIC = b"VOSEAL1\n"
KEY_ID_CHARS = 32
NONCE_BYTES = 12

#: key id -> the key, or None when it was destroyed (raises when it was never known)
KeyLookup = Callable[[str], bytes | None]


class SealedDataError(ValueError):
    """Sealed bytes that do not open under their key (corrupt or tampered)."""


def is_sealed_text(value: object) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def is_sealed_blob(data: bytes) -> bool:
    return data[: len(BLOB_MAGIC)] == BLOB_MAGIC


def token_key_id(token: str) -> str:
    return token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + KEY_ID_CHARS]


def seal_text(value: str, key_id: str, key: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, value.encode("utf-8"), key_id.encode("ascii"))
    body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
    return f"{TOKEN_PREFIX}{key_id}:{body}"


def open_text(token: str, lookup: KeyLookup) -> str | None:
    """The plain text of ``token``; ``None`` when its key was destroyed."""
    key_id = token_key_id(token)
    key = lookup(key_id)
    if key is None:
        return None
    raw = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) + KEY_ID_CHARS + 1 :])
    return _decrypt(key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id).decode("utf-8")


def seal_blob(data: bytes, key_id: str, key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, data, key_id.encode("ascii"))
    return BLOB_MAGIC + key_id.encode("ascii") + nonce + sealed


def blob_key_id(data: bytes) -> str:
    start = len(BLOB_MAGIC)
    return data[start : start + KEY_ID_CHARS].decode("ascii")


def open_blob(data: bytes, lookup: KeyLookup) -> bytes | None:
    """``data`` itself when it is not sealed, its plain bytes, or ``None`` (key destroyed)."""
    if not is_sealed_blob(data):
        return data
    key_id = blob_key_id(data)
    key = lookup(key_id)
    if key is None:
        return None
    start = len(BLOB_MAGIC) + KEY_ID_CHARS
    nonce, sealed = data[start : start + NONCE_BYTES], data[start + NONCE_BYTES :]
    return _decrypt(key, nonce, sealed, key_id)


def _decrypt(key: bytes, nonce: bytes, sealed: bytes, key_id: str) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, sealed, key_id.encode("ascii"))
    except InvalidTag as err:
        raise SealedDataError(f"sealed data under key {key_id} does not open: corrupt") from err
