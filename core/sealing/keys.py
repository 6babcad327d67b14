"""The per-subject key store: one random AES-256 key per data subject, outside the lake.

Three tables (SQLite under ``$VOICEOPS_HOME/keys`` by default, Postgres with
``VOICEOPS_SUBJECT_KEYS_URL``):

* ``voiceops_subject_keys``: ``subject_ref`` (HMAC of the customer id under the pseudonym
  key, so the store holds no raw id), a random ``key_id`` (the only thing the lake holds)
  and the key;
* ``voiceops_destroyed_keys``: ids of destroyed keys, so a reader can tell "erased" from
  "a key store that never held this key" (a wrong ``VOICEOPS_SUBJECT_KEYS_URL``);
* ``voiceops_erased_subjects``: the suppression list (a second HMAC of each erased id), so
  records of an erased subject that a source sends again are refused at landing.

Losing this store makes every sealed value in the lake unreadable: back it up with the
database it lives in, never into the lake.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from core.errors import VoiceOpsError
from core.pseudonym import customer_key, pseudonym_key
from core.settings import Settings
from core.trail.store import trail_engine

KEY_BYTES = 32
_CHUNK = 500  # ids per IN (...) query
METADATA = sa.MetaData()
keys_table = sa.Table(
    "voiceops_subject_keys",
    METADATA,
    sa.Column("subject_ref", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.String(32), nullable=False, unique=True),
    sa.Column("secret", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
destroyed_table = sa.Table(
    "voiceops_destroyed_keys",
    METADATA,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("destroyed_at", sa.String(40), nullable=False),
)
erased_table = sa.Table(
    "voiceops_erased_subjects",
    METADATA,
    sa.Column("erased_ref", sa.String(64), primary_key=True),
    sa.Column("erased_at", sa.String(40), nullable=False),
)


class SubjectErasedError(VoiceOpsError):
    """The subject was erased: their data may not be landed again."""


class KeyUnknownError(VoiceOpsError):
    """Sealed data names a key this store never held (the wrong key store?)."""


@dataclass(frozen=True)
class Destroyed:
    """What ``destroy`` did: the key id destroyed (``None``: the subject had no key) and
    whether the subject was already on the suppression list."""

    key_id: str | None
    already_erased: bool


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class SubjectKeyStore:
    """Keys by subject, lookups by key id, destruction on erasure."""

    def __init__(self, url: str, pseudonym: bytes):
        self.url = url
        self.pseudonym = pseudonym
        if url.startswith("sqlite:///"):
            _private_directory(url.removeprefix("sqlite:///"))
        self.engine = trail_engine(url)
        with self.engine.begin() as connection:
            METADATA.create_all(connection, checkfirst=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> SubjectKeyStore:
        return cls(settings.subject_keys_location, pseudonym_key(settings))

    def _subject_ref(self, customer_id: str) -> str:
        return customer_key(customer_id, self.pseudonym)

    def _erased_ref(self, customer_id: str) -> str:
        return customer_key(f"erased:{customer_id}", self.pseudonym)

    def is_erased(self, customer_id: str) -> bool:
        query = sa.select(erased_table.c.erased_ref).where(
            erased_table.c.erased_ref == self._erased_ref(customer_id)
        )
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def key_for(self, customer_id: str) -> tuple[str, bytes]:
        """The subject's (key id, key), made on first use; refused for an erased subject."""
        ref = self._subject_ref(customer_id)
        with self.engine.begin() as connection:
            erased = connection.execute(
                sa.select(erased_table.c.erased_ref).where(
                    erased_table.c.erased_ref == self._erased_ref(customer_id)
                )
            ).first()
            if erased is not None:
                raise SubjectErasedError(f"customer {customer_id} was erased")
            row = connection.execute(
                sa.select(keys_table.c.key_id, keys_table.c.secret).where(
                    keys_table.c.subject_ref == ref
                )
            ).first()
            if row is None:
                key_id, secret = secrets.token_hex(16), secrets.token_hex(KEY_BYTES)
                connection.execute(
                    keys_table.insert().values(
                        subject_ref=ref, key_id=key_id, secret=secret, created_at=_now()
                    )
                )
                row = (key_id, secret)
        return row[0], bytes.fromhex(row[1])

    def keys_for(self, customer_ids: Iterable[str]) -> dict[str, tuple[str, bytes] | None]:
        """``key_for`` of many subjects in one transaction (one commit, however many keys
        are made); ``None`` for an erased subject instead of raising."""
        refs = {customer_id: self._subject_ref(customer_id) for customer_id in set(customer_ids)}
        erased_refs = {self._erased_ref(customer_id): customer_id for customer_id in refs}
        found: dict[str, tuple[str, bytes] | None] = {}
        with self.engine.begin() as connection:
            for chunk in _chunks(list(erased_refs)):
                query = sa.select(erased_table.c.erased_ref).where(
                    erased_table.c.erased_ref.in_(chunk)
                )
                found |= {erased_refs[ref]: None for ref in connection.execute(query).scalars()}
            by_ref = {ref: customer_id for customer_id, ref in refs.items()}
            for chunk in _chunks([ref for ref, c in by_ref.items() if c not in found]):
                query = sa.select(
                    keys_table.c.subject_ref, keys_table.c.key_id, keys_table.c.secret
                ).where(keys_table.c.subject_ref.in_(chunk))
                for ref, key_id, secret in connection.execute(query):
                    found[by_ref[ref]] = (key_id, bytes.fromhex(secret))
            made = [
                {
                    "subject_ref": refs[customer_id],
                    "key_id": secrets.token_hex(16),
                    "secret": secrets.token_hex(KEY_BYTES),
                    "created_at": _now(),
                }
                for customer_id in refs
                if customer_id not in found
            ]
            if made:
                connection.execute(keys_table.insert(), made)
            for row in made:
                found[by_ref[row["subject_ref"]]] = (row["key_id"], bytes.fromhex(row["secret"]))
        return found

    def lookup(self, key_id: str) -> bytes | None:
        """The key of ``key_id``; ``None`` when it was destroyed."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(keys_table.c.secret).where(keys_table.c.key_id == key_id)
            ).first()
            if row is not None:
                return bytes.fromhex(row[0])
            gone = connection.execute(
                sa.select(destroyed_table.c.key_id).where(destroyed_table.c.key_id == key_id)
            ).first()
        if gone is None:
            raise KeyUnknownError(
                f"sealed data names key {key_id}, which the subject key store {self.where()} "
                "never held: is VOICEOPS_SUBJECT_KEYS_URL the store this lake was landed with?"
            )
        return None

    def key_id_of(self, customer_id: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(keys_table.c.key_id).where(
                    keys_table.c.subject_ref == self._subject_ref(customer_id)
                )
            ).scalar()

    def destroy(self, customer_id: str) -> Destroyed:
        """Destroy the subject's key and put them on the suppression list (one transaction)."""
        ref, erased_ref, now = self._subject_ref(customer_id), self._erased_ref(customer_id), _now()
        with self.engine.begin() as connection:
            key_id = connection.execute(
                sa.select(keys_table.c.key_id).where(keys_table.c.subject_ref == ref)
            ).scalar()
            if key_id is not None:
                connection.execute(keys_table.delete().where(keys_table.c.subject_ref == ref))
                connection.execute(destroyed_table.insert().values(key_id=key_id, destroyed_at=now))
            already = connection.execute(
                sa.select(erased_table.c.erased_ref).where(erased_table.c.erased_ref == erased_ref)
            ).first()
            if already is None:
                connection.execute(
                    erased_table.insert().values(erased_ref=erased_ref, erased_at=now)
                )
        return Destroyed(key_id, already is not None)

    def counts(self) -> dict[str, int]:
        """Live keys, destroyed keys and erased subjects."""
        with self.engine.connect() as connection:
            return {
                name: int(connection.execute(sa.select(sa.func.count()).select_from(t)).scalar())
                for name, t in (
                    ("keys", keys_table),
                    ("destroyed_keys", destroyed_table),
                    ("erased_subjects", erased_table),
                )
            }

    def where(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK)]


def _private_directory(path: str) -> None:
    """The SQLite file's directory, created 0700 (the keys are as secret as the data)."""
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
