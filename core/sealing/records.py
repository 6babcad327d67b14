"""Seal records at landing and open them on read.

At landing, every field of a record with a ``customer_id`` is sealed under that customer's
key except the structural ones of ``NOT_PERSONAL`` (ids of calls and tickets, times,
language, channel, intent, audio facts), so a lake object keeps its schema and an erased
subject's rows still say *that* a call happened, never who called or what was said.
Nested values (slots) are sealed as the JSON text the raw layer stores them as. A
quarantined record is sealed whole (with its reason, which may quote it) when a customer
id can be found in it; one without (an unparseable line) stays plain and the quarantine's
retention removes it.

On read, :meth:`Sealer.open_table` opens every sealed value; rows holding a value whose key
was destroyed are dropped and counted (:class:`Opened`), so readers report erased rows
instead of loading noise.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from core.sealing import codec
from core.sealing.keys import SubjectErasedError, SubjectKeyStore
from core.settings import Settings

SUBJECT_FIELD = "customer_id"
NOT_PERSONAL = frozenset(
    {
        "call_id",
        "ticket_id",
        "started_at",
        "created_at",
        "updated_at",
        "language",
        "channel",
        "duration_s",
        "intent",
        "recording",
        "speaker",
        "sample_rate",
        "status",
    }
)
_CUSTOMER_IN_TEXT = re.compile(r'"customer_id"\s*:\s*"([^"]+)"')


@dataclass
class Opened:
    """A table with its sealed values opened, and how many rows were erased (dropped)."""

    table: pa.Table
    erased_rows: int = 0


def _as_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value if isinstance(value, str) else json.dumps(value, default=str)


class Sealer:
    """Seals and opens with one key store; keys are cached for the object's lifetime."""

    def __init__(self, store: SubjectKeyStore):
        self.store = store
        self._keys: dict[str, tuple[str, bytes] | None] = {}
        self._lookups: dict[str, bytes | None] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        return cls(SubjectKeyStore.from_settings(settings))

    # ---- sealing ------------------------------------------------------------------------
    def key(self, customer_id: str) -> tuple[str, bytes] | None:
        """The subject's (key id, key); ``None`` when the subject was erased."""
        if customer_id not in self._keys:
            try:
                self._keys[customer_id] = self.store.key_for(customer_id)
            except SubjectErasedError:
                self._keys[customer_id] = None
        return self._keys[customer_id]

    def preload(self, customer_ids: Iterable[str]) -> None:
        """Fetch (or make) the keys of many subjects in one store transaction, so sealing a
        day's records does not commit once per new customer."""
        missing = {c for c in customer_ids if isinstance(c, str) and c and c not in self._keys}
        if missing:
            self._keys |= self.store.keys_for(missing)

    def is_erased(self, customer_id: str) -> bool:
        return self.key(customer_id) is None

    def seal_record(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """``record`` with its personal fields sealed; ``None`` when its subject was erased;
        unchanged when it names no customer."""
        subject = record.get(SUBJECT_FIELD)
        if not isinstance(subject, str) or not subject:
            return record
        key = self.key(subject)
        if key is None:
            return None
        return {
            name: value
            if name in NOT_PERSONAL or value is None or codec.is_sealed_text(value)
            else codec.seal_text(_as_text(value), *key)
            for name, value in record.items()
        }

    def seal_reject(self, reject: dict[str, Any]) -> dict[str, Any] | None:
        """A quarantine entry (``reason``, ``record``) sealed whole when a customer id is found
        in the record; ``None`` when that customer was erased."""
        subject = _customer_in(reject.get("record"))
        if subject is None:
            return reject
        key = self.key(subject)
        if key is None:
            return None
        return reject | {
            "reason": codec.seal_text(str(reject.get("reason", "")), *key),
            "record": codec.seal_text(_as_text(reject.get("record")), *key),
        }

    def seal_blob(self, customer_id: str, data: bytes) -> bytes | None:
        key = self.key(customer_id)
        return None if key is None else codec.seal_blob(data, *key)

    # ---- opening ------------------------------------------------------------------------
    def lookup(self, key_id: str) -> bytes | None:
        if key_id not in self._lookups:
            self._lookups[key_id] = self.store.lookup(key_id)
        return self._lookups[key_id]

    def open_text(self, value: Any) -> tuple[Any, bool]:
        """(plain value, erased): non-sealed values pass through."""
        if not codec.is_sealed_text(value):
            return value, False
        plain = codec.open_text(value, self.lookup)
        return plain, plain is None

    def open_blob(self, data: bytes) -> bytes | None:
        return codec.open_blob(data, self.lookup)

    def open_table(self, table: pa.Table) -> Opened:
        """Every sealed value opened; rows with a value under a destroyed key dropped."""
        erased = None
        columns = []
        for name in table.column_names:
            column = table.column(name)
            if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                columns.append(column)
                continue
            sealed = pc.starts_with(pc.fill_null(column, ""), codec.TOKEN_PREFIX)
            if not pc.any(sealed).as_py():
                columns.append(column)
                continue
            values, gone = [], []
            for value in column.to_pylist():
                plain, lost = self.open_text(value)
                values.append(plain)
                gone.append(lost)
            columns.append(pa.array(values, column.type))
            mask = pa.array(gone, pa.bool_())
            erased = mask if erased is None else pc.or_(erased, mask)
        opened = pa.table(columns, schema=table.schema)
        if erased is None:
            return Opened(opened)
        dropped = int(pc.sum(erased).as_py() or 0)
        return Opened(opened.filter(pc.invert(erased)), dropped)

    def open_entry(self, entry: dict[str, Any]) -> dict[str, Any] | None:
        """A quarantine entry with its sealed ``reason``/``record`` opened (the record parsed
        back from JSON); ``None`` when its subject was erased."""
        opened = dict(entry)
        for name in ("reason", "record"):
            plain, lost = self.open_text(entry.get(name))
            if lost:
                return None
            if name == "record" and codec.is_sealed_text(entry.get(name)):
                with contextlib.suppress(ValueError):  # a raw line stays text
                    plain = json.loads(plain)
            opened[name] = plain
        return opened


def _customer_in(record: Any) -> str | None:
    if isinstance(record, dict):
        value = record.get(SUBJECT_FIELD)
        return value if isinstance(value, str) and value else None
    if isinstance(record, str):
        match = _CUSTOMER_IN_TEXT.search(record)
        return match.group(1) if match else None
    return None
