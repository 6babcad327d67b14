"""core.sealing: round trips, tampering, destroyed and unknown keys, suppression, and the key
store on SQLite and Postgres."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from core.sealing import (
    BLOB_MAGIC,
    KeyUnknownError,
    Sealer,
    SubjectErasedError,
    SubjectKeyStore,
    is_sealed_text,
)
from core.sealing.codec import SealedDataError
from tests.postgres import throwaway_database

PSEUDONYM = b"p" * 32
ALICE = {
    "customer_id": "CUST-1",
    "call_id": "C1",
    "full_name": "Алиса Иванова",
    "phone": "+7 900 000-00-01",
    "slots": {"card_last4": "1234"},
    "language": "ru",
    "duration_s": 1.5,
}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SubjectKeyStore]:
    if request.param == "sqlite":
        yield SubjectKeyStore(f"sqlite:///{tmp_path / 'keys' / 'subjects.sqlite3'}", PSEUDONYM)
        return
    with throwaway_database("voiceops_subject_keys") as url:
        keys = SubjectKeyStore(url, PSEUDONYM)
        try:
            yield keys
        finally:
            keys.engine.dispose()


def test_a_record_round_trips_and_only_personal_fields_are_sealed(store: SubjectKeyStore) -> None:
    sealer = Sealer(store)
    sealed = sealer.seal_record(ALICE)
    assert sealed is not None
    assert {k for k, v in sealed.items() if is_sealed_text(v)} == {
        "customer_id",
        "full_name",
        "phone",
        "slots",
    }
    assert (sealed["call_id"], sealed["language"], sealed["duration_s"]) == ("C1", "ru", 1.5)
    assert "Алиса" not in json.dumps(sealed, ensure_ascii=False)
    opened = Sealer(store).open_table(pa.Table.from_pylist([sealed]))  # a fresh cache
    assert opened.erased_rows == 0
    row = opened.table.to_pylist()[0]
    assert row["full_name"] == ALICE["full_name"] and row["customer_id"] == "CUST-1"
    assert json.loads(row["slots"]) == ALICE["slots"]


def test_a_blob_round_trips_and_plain_bytes_pass_through(store: SubjectKeyStore) -> None:
    sealer = Sealer(store)
    sealed = sealer.seal_blob("CUST-1", b"RIFF....WAVEfmt audio")
    assert sealed is not None and sealed.startswith(BLOB_MAGIC) and b"audio" not in sealed
    assert Sealer(store).open_blob(sealed) == b"RIFF....WAVEfmt audio"
    assert sealer.open_blob(b"RIFF plain") == b"RIFF plain"


def test_tampered_tokens_and_blobs_do_not_open(store: SubjectKeyStore) -> None:
    sealer = Sealer(store)
    token = sealer.seal_record(ALICE)["full_name"]
    body = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SealedDataError):
        sealer.open_text(body)
    blob = bytearray(sealer.seal_blob("CUST-1", b"audio bytes"))
    blob[-1] ^= 1
    with pytest.raises(SealedDataError):
        sealer.open_blob(bytes(blob))


def test_a_destroyed_key_erases_rows_entries_and_blobs(store: SubjectKeyStore) -> None:
    sealer = Sealer(store)
    bob = ALICE | {"customer_id": "CUST-2", "call_id": "C2", "full_name": "Bob"}
    table = pa.Table.from_pylist([sealer.seal_record(ALICE), sealer.seal_record(bob)])
    blob = sealer.seal_blob("CUST-1", b"audio")
    entry = sealer.seal_reject({"reason": "intent: unknown", "record": ALICE})
    destroyed = store.destroy("CUST-1")
    assert destroyed.key_id is not None and not destroyed.already_erased
    reader = Sealer(store)
    opened = reader.open_table(table)
    assert opened.erased_rows == 1
    assert opened.table.column("full_name").to_pylist() == ["Bob"]
    assert reader.open_blob(blob) is None
    assert reader.open_entry(entry) is None
    assert store.counts() == {"keys": 1, "destroyed_keys": 1, "erased_subjects": 1}
    assert store.destroy("CUST-1").already_erased


def test_an_erased_subject_is_suppressed_at_sealing(store: SubjectKeyStore) -> None:
    store.destroy("CUST-1")
    sealer = Sealer(store)
    assert sealer.seal_record(ALICE) is None
    assert sealer.seal_reject({"reason": "x", "record": ALICE}) is None
    assert sealer.seal_reject({"reason": "x", "record": json.dumps(ALICE)}) is None
    assert sealer.seal_blob("CUST-1", b"audio") is None
    with pytest.raises(SubjectErasedError):
        store.key_for("CUST-1")
    assert sealer.seal_record({"call_id": "C9", "transcript": "no customer"})["transcript"] == (
        "no customer"
    )


def test_a_key_the_store_never_held_is_an_error_not_an_erasure(
    store: SubjectKeyStore, tmp_path: Path
) -> None:
    sealed = Sealer(store).seal_record(ALICE)
    other = SubjectKeyStore(f"sqlite:///{tmp_path / 'other' / 'keys.sqlite3'}", PSEUDONYM)
    with pytest.raises(KeyUnknownError, match="VOICEOPS_SUBJECT_KEYS_URL"):
        Sealer(other).open_table(pa.Table.from_pylist([sealed]))


def test_keys_of_many_subjects_come_in_one_go_and_agree_with_key_for(
    store: SubjectKeyStore,
) -> None:
    before = store.key_for("CUST-1")
    store.destroy("CUST-2")
    ids = ["CUST-1", "CUST-2"] + [f"NEW-{n}" for n in range(600)]  # more than one IN chunk
    keys = store.keys_for(ids)
    assert keys["CUST-1"] == before and keys["CUST-2"] is None
    assert all(keys[f"NEW-{n}"] == store.key_for(f"NEW-{n}") for n in (0, 599))
    assert store.counts()["keys"] == 601
    sealer = Sealer(store)
    sealer.preload(["CUST-2", "NEW-5", ""])
    assert sealer.seal_record(ALICE | {"customer_id": "CUST-2"}) is None
    assert sealer.key("NEW-5") == keys["NEW-5"]
