"""API keys, stored hashed: the key is shown once when created and never kept.

A key reads ``vok_<id>_<secret>``. The store keeps the id, a name, the role and the SHA-256
of the whole key (a 256-bit random secret needs no slow hash: nothing can be guessed from
its digest). Checking a key looks its id up and compares digests in constant time.
SQLite under ``VOICEOPS_HOME/access`` by default; ``VOICEOPS_ACCESS_URL`` moves it to
Postgres so every API replica sees the same keys and revocations.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from core.access.roles import check_role

PREFIX = "vok"
_METADATA = sa.MetaData()
API_KEYS = sa.Table(
    "api_keys",
    _METADATA,
    sa.Column("key_id", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40), nullable=True),
)


@dataclass(frozen=True)
class ApiKey:
    """One stored key (without its secret)."""

    key_id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str | None:
    """The id part of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


class KeyStore:
    """Create, list, revoke and check API keys in a SQL database."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url)
        _METADATA.create_all(self.engine)

    def create(self, name: str, role: str) -> tuple[ApiKey, str]:
        """A new key for ``name`` with ``role``; the key itself is returned only here."""
        check_role(role)
        if not name.strip():
            raise ValueError("a key needs a name (who or what uses it)")
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(key_id, name, role, _now(), None)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    API_KEYS.insert().values(
                        key_id=key_id,
                        name=name,
                        role=role,
                        digest=digest(key),
                        created_at=record.created_at,
                    )
                )
        except sa.exc.IntegrityError:
            raise ValueError(f"a key named {name!r} already exists") from None
        return record, key

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as connection:
            rows = connection.execute(API_KEYS.select().order_by(API_KEYS.c.created_at))
            return [_record(row) for row in rows]

    def revoke(self, name: str) -> ApiKey:
        """Revoke the key named ``name`` (or with that id); ``KeyError`` if none."""
        with self.engine.begin() as connection:
            match = sa.or_(API_KEYS.c.name == name, API_KEYS.c.key_id == name)
            row = connection.execute(API_KEYS.select().where(match)).first()
            if row is None:
                raise KeyError(f"no API key named {name!r}")
            if row.revoked_at is None:
                connection.execute(
                    API_KEYS.update()
                    .where(API_KEYS.c.key_id == row.key_id)
                    .values(revoked_at=_now())
                )
        return next(key for key in self.list() if key.key_id == row.key_id)

    def check(self, key: str) -> ApiKey | None:
        """The stored key ``key`` is (revoked ones too: see ``active``), or None."""
        key_id = key_id_of(key)
        if key_id is None:
            return None
        with self.engine.connect() as connection:
            row = connection.execute(API_KEYS.select().where(API_KEYS.c.key_id == key_id)).first()
        if row is None or not hmac.compare_digest(row.digest, digest(key)):
            return None
        return _record(row)

    def close(self) -> None:
        self.engine.dispose()


def _record(row: sa.Row) -> ApiKey:
    return ApiKey(row.key_id, row.name, row.role, row.created_at, row.revoked_at)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
