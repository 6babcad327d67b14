"""Loading a lake commit into the warehouse (DuckDB and Postgres): counts, lineage columns,
recording headers, quarantine reasons, idempotent and incremental re-loads, bad input."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from core.pseudonym import customer_key
from core.sealing import Sealer
from core.settings import Settings, get_settings
from ingestion import lake_landing, schemas, validation
from tests.factories import call_record, wav_bytes
from versioning.lake import NotFoundError
from versioning.lake.local import LocalLake
from warehouse import (
    LoadError,
    Warehouse,
    WarehouseError,
    audit_schema,
    connect,
    load_commit,
    raw_schema,
)
from warehouse.connection import _pg_placeholders
from warehouse.load import TABLES, loaded_commit
from warehouse.schemas import MAX_IDENTIFIER, all_schemas, layer_schema, sanitize

REPO = "contact-center"
DAY = date(2026, 1, 1)
DAY2 = date(2026, 1, 2)
RUN = "2b84072b-ce41"
BRANCH = "ingest-20260101-2b84072b-ce4"
FIVE = ("call_exports_calls", "crm_customers", "crm_tickets", "quarantine", "recordings")
#: Every table a load creates.
TABLE_NAMES = (*FIVE, "voice_corpus_utterances", "voice_corpus_audio")


# ---- the test lake ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _scratch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A scratch ``VOICEOPS_HOME``: the subject key store landing seals with and the loader
    opens with (by default, from the settings) lives there."""
    monkeypatch.setenv("VOICEOPS_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _sealer() -> Sealer:
    return Sealer.from_settings(get_settings())


def _call(call_id: str, **overrides: object) -> dict:
    return call_record(call_id, day="2026-01-01", **overrides)


def _customer(customer_id: str, **overrides: object) -> dict:
    return {
        "customer_id": customer_id,
        "full_name": "Иван Петров",
        "phone": "+7 900 000-00-01",
        "email": "ivan@example.com",
        "passport": "4500 123456",
        "language": "ru",
        "segment": "retail",
        "city": "Москва",
        "created_at": "2025-12-01T10:00:00+00:00",
        "updated_at": "2026-01-01T08:00:00+00:00",
    } | overrides


def _ticket(ticket_id: str) -> dict:
    return {
        "ticket_id": ticket_id,
        "customer_id": "CUST-000001",
        "call_id": "C1",
        "status": "open",
        "subject": "card",
        "note": "",
        "created_at": "2026-01-01T09:20:00+00:00",
        "updated_at": "2026-01-01T09:20:00+00:00",
    }


def _wav(path: Path, *, rate: int = 8000, frames: int = 8000) -> None:
    path.write_bytes(wav_bytes(rate=rate, frames=frames))


@dataclass
class LandedLake:
    lake: LocalLake
    root: Path
    commit: str

    def land_calls(self, day: date, calls: list[dict], run: str) -> str:
        """Land (valid) calls of ``day`` on the branch and commit; return the commit id."""
        checked = validation.check_calls(calls)
        landing = lake_landing.land_records(
            self.lake, REPO, BRANCH, run_id=run, source="call_exports", stream="calls",
            day=day, checked=checked, schema=schemas.CALLS, sealer=_sealer(),
        )  # fmt: skip
        return lake_landing.commit_ingestion(
            self.lake, REPO, BRANCH, run_id=run, day=day, landings=[landing]
        ).id


def _build_lake(root: Path) -> LandedLake:
    lake = LocalLake(root / "lake", fsync=False)
    lake_landing.ensure_ingest_branch(lake, REPO, BRANCH)
    calls = validation.check_calls(
        [
            _call("C1"),
            _call("C2", duration_s=1.25),
            _call("C3", language="en"),
            _call("C4", intent="make_coffee"),
            _call("C5", transcript=" "),
            "not an object",
        ]
    )
    customers = validation.check_crm(
        "customers",
        [
            _customer("CUST-000001"),
            _customer("CUST-000002", loyalty_tier="gold"),  # unknown field -> _extra
            _customer("", full_name="Nobody"),
        ],
    )
    tickets = validation.check_crm("tickets", [_ticket("T1")])
    wavs = root / "wavs"
    wavs.mkdir()
    _wav(wavs / "C1.wav", frames=16000)  # 2 s
    _wav(wavs / "C2.wav", frames=10000)  # 1.25 s
    _wav(wavs / "C3.wav", rate=44100, frames=4410)  # breaks the contract -> quarantine
    land, sealer = lake_landing.land_records, _sealer()
    owners = {"C1": "CUST-000001", "C3": "CUST-000002"}  # C2's WAV lands unattributed (plain)
    landings = [
        land(lake, REPO, BRANCH, run_id=RUN, source="call_exports", stream="calls", day=DAY,
             checked=calls, schema=schemas.CALLS, sealer=sealer),
        land(lake, REPO, BRANCH, run_id=RUN, source="crm", stream="customers", day=DAY,
             checked=customers, schema=schemas.CUSTOMERS, sealer=sealer),
        land(lake, REPO, BRANCH, run_id=RUN, source="crm", stream="tickets", day=DAY,
             checked=tickets, schema=schemas.TICKETS, sealer=sealer),
        lake_landing.land_recordings(lake, REPO, BRANCH, run_id=RUN, day=DAY, directory=wavs,
                                     sealer=sealer, owners=owners),
    ]  # fmt: skip
    commit = lake_landing.commit_ingestion(
        lake, REPO, BRANCH, run_id=RUN, day=DAY, landings=landings
    )
    return LandedLake(lake, root, commit.id)


#: What the test lake's first commit loads.
FIRST_ROWS = {
    "call_exports_calls": 3,
    "crm_customers": 2,
    "crm_tickets": 1,
    "recordings": 2,
    "quarantine": 3 + 1 + 1,  # 3 bad calls, 1 bad customer, 1 bad recording
    "voice_corpus_utterances": 0,
    "voice_corpus_audio": 0,
}
#: 3 parts + 2 WAVs + rejects.jsonl of calls and customers + reasons.jsonl of recordings
FIRST_OBJECTS = 3 + 2 + 2 + 1


@pytest.fixture
def test_lake(tmp_path: Path) -> LandedLake:
    return _build_lake(tmp_path)


# ---- the warehouses -----------------------------------------------------------------------


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Warehouse, str]]:
    """(warehouse, base schema) on each engine; Postgres schemas are dropped afterwards."""
    schema = audit_schema(f"{BRANCH}-t{uuid.uuid4().hex[:8]}")
    if request.param == "duckdb":
        settings = Settings(home=tmp_path / "home", dbt_target="duckdb")
    else:
        settings = Settings(home=tmp_path / "home", dbt_target="postgres", pg_database="test")
    try:
        wh = connect(settings)
    except WarehouseError as err:
        pytest.skip(f"Postgres is not available: {err}")
    try:
        yield wh, schema
    finally:
        for name in all_schemas(schema):
            wh.drop_schema(name)
        wh.close()


def _counts(wh: Warehouse, schema: str) -> dict[str, int]:
    return {table: wh.count(raw_schema(schema), table) for table in TABLE_NAMES}


def _q(schema: str, table: str) -> str:
    return f'"{raw_schema(schema)}"."{table}"'


# ---- schemas ------------------------------------------------------------------------------


def test_audit_schema_names() -> None:
    assert audit_schema(BRANCH) == "audit_ingest_20260101_2b84072b_ce4"
    assert raw_schema(audit_schema(BRANCH)) == "audit_ingest_20260101_2b84072b_ce4_raw"
    assert audit_schema("Feature/X.Y") == "audit_feature_x_y"
    long_a, long_b = "ingest-" + "a" * 200 + "-1", "ingest-" + "a" * 200 + "-2"
    assert audit_schema(long_a) != audit_schema(long_b)
    for name in (audit_schema(long_a), audit_schema(long_b)):
        assert all(len(s) <= MAX_IDENTIFIER for s in all_schemas(name))
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")
    assert len(sanitize("x" * 100)) == MAX_IDENTIFIER
    with pytest.raises(ValueError, match="longer than 63"):
        layer_schema("s" * 60, "staging")


def test_postgres_placeholders_skip_quoted_text() -> None:
    sql = "SELECT '?', \"a?\" FROM t WHERE x = ? AND y LIKE 'a%' AND z = ?"
    assert _pg_placeholders(sql) == (
        "SELECT '?', \"a?\" FROM t WHERE x = %s AND y LIKE 'a%%' AND z = %s"
    )


# ---- loading ------------------------------------------------------------------------------


def test_load_commit(test_lake: LandedLake, warehouse: tuple[Warehouse, str]) -> None:
    wh, schema = warehouse
    report = load_commit(test_lake.lake, REPO, BRANCH, wh, schema, key=b"test-key")
    print(f"\n{wh.engine}: loaded the test lake in {report.seconds:.3f}s: {report.to_dict()}")

    # every customer_id gets its pseudonym under the key (what curated layers carry)
    for table in ("crm_customers", "call_exports_calls"):
        pairs = wh.fetchall(f"SELECT customer_id, customer_key FROM {_q(schema, table)}")
        assert pairs and all(key == customer_key(cid, b"test-key") for cid, key in pairs)

    assert report.commit_id == test_lake.commit
    assert report.raw_schema == raw_schema(schema)
    assert report.rows == FIRST_ROWS
    assert report.objects_loaded == FIRST_OBJECTS
    assert report.objects_skipped == 0
    assert report.objects_ignored == 1  # the quarantined WAV itself (reasons.jsonl covers it)
    assert _counts(wh, schema) == FIRST_ROWS
    assert loaded_commit(wh, schema) == test_lake.commit

    # every row knows its commit and its object
    for table in FIVE:
        rows = wh.fetchall(f"SELECT DISTINCT _lake_commit FROM {_q(schema, table)}")
        assert rows == [(test_lake.commit,)], table
        assert not wh.fetchall(f"SELECT 1 FROM {_q(schema, table)} WHERE _lake_path IS NULL")

    # record columns keep their types: duration_s double, sample_rate bigint, the rest text
    calls = wh.fetchall(
        f"SELECT call_id, duration_s, sample_rate, slots, language, _lake_path "
        f"FROM {_q(schema, 'call_exports_calls')} ORDER BY call_id"
    )
    assert calls == [
        ("C1", 2.5, 8000, '{"card_last4": "1234"}', "ru",
         "raw/call_exports/calls/dt=2026-01-01/part-00000.parquet"),
        ("C2", 1.25, 8000, '{"card_last4": "1234"}', "ru",
         "raw/call_exports/calls/dt=2026-01-01/part-00000.parquet"),
        ("C3", 2.5, 8000, '{"card_last4": "1234"}', "en",
         "raw/call_exports/calls/dt=2026-01-01/part-00000.parquet"),
    ]  # fmt: skip
    assert wh.columns(raw_schema(schema), "call_exports_calls") == [
        name for name, _ in TABLES["call_exports_calls"]
    ]
    extra = wh.fetchall(
        f"SELECT customer_id, _extra, city FROM {_q(schema, 'crm_customers')} ORDER BY customer_id"
    )
    assert extra == [
        ("CUST-000001", "{}", "Москва"),  # landing writes {} for no extras
        ("CUST-000002", '{"loyalty_tier": "gold"}', "Москва"),
    ]
    assert wh.fetchall(f"SELECT ticket_id, note FROM {_q(schema, 'crm_tickets')}") == [("T1", "")]

    # recordings: header fields of each WAV
    recordings = wh.fetchall(
        "SELECT call_id, lake_path, size_bytes, sample_rate, channels, sample_width, "
        f"duration_s, dt FROM {_q(schema, 'recordings')} ORDER BY call_id"
    )
    assert recordings == [
        ("C1", "raw/recordings/dt=2026-01-01/C1.wav",
         (test_lake.root / "wavs" / "C1.wav").stat().st_size, 8000, 1, 2, 2.0, "2026-01-01"),
        ("C2", "raw/recordings/dt=2026-01-01/C2.wav",
         (test_lake.root / "wavs" / "C2.wav").stat().st_size, 8000, 1, 2, 1.25, "2026-01-01"),
    ]  # fmt: skip

    # quarantine: every reject with its reason, the record as JSON text
    rows = wh.fetchall(
        "SELECT source, stream, dt, reason, record, run_id, lake_path, _lake_path "
        f"FROM {_q(schema, 'quarantine')} ORDER BY source, stream, line"
    )
    by_source = [(r[0], r[1]) for r in rows]
    assert by_source == [("call_exports", "calls")] * 3 + [("crm", "customers")] + [
        ("recordings", "wav")
    ]
    assert all(r[2] == "2026-01-01" and r[3] and r[5] == RUN for r in rows)
    calls_rejects = "quarantine/call_exports/calls/dt=2026-01-01/rejects.jsonl"
    assert "intent" in rows[0][3] and json.loads(rows[0][4])["call_id"] == "C4"
    assert "transcript" in rows[1][3]
    assert "not an object" in rows[2][3] and json.loads(rows[2][4]) == "not an object"
    assert rows[0][6] == rows[0][7] == calls_rejects
    assert "call_id" not in rows[3][3] and "customer_id" in rows[3][3]
    wav_reject = rows[4]
    assert "sample rate 44100" in wav_reject[3]
    assert wav_reject[6] == "quarantine/recordings/dt=2026-01-01/C3.wav"
    assert wav_reject[7] == "quarantine/recordings/dt=2026-01-01/reasons.jsonl"
    assert json.loads(wav_reject[4])["file"] == "C3.wav"


def test_voice_corpus_rows_and_wavs_load_into_their_own_tables(
    test_lake: LandedLake, warehouse: tuple[Warehouse, str]
) -> None:
    wh, schema = warehouse
    wavs = test_lake.root / "corpus"
    wavs.mkdir()
    _wav(wavs / "en-0001.wav", frames=12000)  # 1.5 s
    _wav(wavs / "en-0002.wav", rate=16000)  # breaks the contract -> quarantine
    row = {
        "utterance_id": "en-0001",
        "text": "Your card is blocked.",
        "language": "en",
        "speaker": "festival:cmu_us_slt_arctic_hts:t1.00:p+0:g+0",
        "audio_file": "en-0001.wav",
        "sample_rate": 8000,
        "duration_s": 1.5,
        "script": "script_en_v1",
    }
    checked = validation.Checked(valid=[row])
    day, run, sealer = DAY2, "run-corpus", _sealer()
    landings = [
        lake_landing.land_records(
            test_lake.lake, REPO, BRANCH, run_id=run, source="voice_corpus", stream="utterances",
            day=day, checked=checked, schema=schemas.VOICE_CORPUS, sealer=sealer,
        ),
        lake_landing.land_wavs(
            test_lake.lake, REPO, BRANCH, run_id=run, day=day, files=sorted(wavs.glob("*.wav")),
            sealer=sealer, owners={}, area=lake_landing.VOICE_CORPUS_AUDIO_AREA,
        ),
    ]  # fmt: skip
    assert landings[1].unattributed == 0  # studio audio has no caller to attribute it to
    commit = lake_landing.commit_ingestion(
        test_lake.lake, REPO, BRANCH, run_id=run, day=day, landings=landings
    )
    report = load_commit(test_lake.lake, REPO, commit.id, wh, schema, key=b"test-key")
    assert report.rows["voice_corpus_utterances"] == 1
    assert report.rows["voice_corpus_audio"] == 1
    assert report.rows["recordings"] == 2  # the calls' recordings, not the corpus's
    audio = wh.fetchall(
        "SELECT utterance_id, lake_path, sample_rate, duration_s "
        f"FROM {_q(schema, 'voice_corpus_audio')}"
    )
    assert audio == [("en-0001", "raw/voice_corpus/audio/dt=2026-01-02/en-0001.wav", 8000, 1.5)]
    texts = wh.fetchall(f"SELECT utterance_id, text FROM {_q(schema, 'voice_corpus_utterances')}")
    assert texts == [("en-0001", "Your card is blocked.")]
    reasons = wh.fetchall(
        f"SELECT source, stream, reason, lake_path FROM {_q(schema, 'quarantine')} "
        "WHERE source = 'voice_corpus'"
    )
    assert reasons == [
        (
            "voice_corpus",
            "audio",
            "sample rate 16000 Hz, expected 8000 Hz",
            "quarantine/voice_corpus/audio/dt=2026-01-02/en-0002.wav",
        )
    ]


def test_rerun_loads_nothing(test_lake: LandedLake, warehouse: tuple[Warehouse, str]) -> None:
    wh, schema = warehouse
    first = load_commit(test_lake.lake, REPO, BRANCH, wh, schema)
    again = load_commit(test_lake.lake, REPO, test_lake.commit[:10], wh, schema)
    assert again.commit_id == first.commit_id
    assert again.objects_loaded == 0 and again.objects_removed == 0
    assert again.objects_skipped == first.objects_loaded == FIRST_OBJECTS
    assert again.rows_loaded == 0
    assert _counts(wh, schema) == FIRST_ROWS


def test_later_commit_loads_only_what_is_new(
    test_lake: LandedLake, warehouse: tuple[Warehouse, str]
) -> None:
    wh, schema = warehouse
    load_commit(test_lake.lake, REPO, BRANCH, wh, schema)
    second = test_lake.land_calls(DAY2, [_call("C10"), _call("C11")], run="run-2")

    report = load_commit(test_lake.lake, REPO, BRANCH, wh, schema)
    assert report.commit_id == second != test_lake.commit
    assert report.objects_loaded == 1
    assert report.objects_skipped == FIRST_OBJECTS
    assert report.rows == dict.fromkeys(TABLE_NAMES, 0) | {"call_exports_calls": 2}
    assert _counts(wh, schema) == FIRST_ROWS | {"call_exports_calls": 5}
    lineage = wh.fetchall(
        f"SELECT call_id, _lake_commit, _lake_path FROM {_q(schema, 'call_exports_calls')} "
        "WHERE call_id IN ('C10', 'C11') ORDER BY call_id"
    )
    part = "raw/call_exports/calls/dt=2026-01-02/part-00000.parquet"
    assert lineage == [("C10", second, part), ("C11", second, part)]
    assert loaded_commit(wh, schema) == second


def test_changed_and_deleted_objects_replace_their_rows(
    test_lake: LandedLake, warehouse: tuple[Warehouse, str]
) -> None:
    wh, schema = warehouse
    lake = test_lake.lake
    load_commit(lake, REPO, BRANCH, wh, schema)
    # the same day landed again with one call: part-00000 of dt=2026-01-01 changes
    lake.delete_object(REPO, BRANCH, "quarantine/call_exports/calls/dt=2026-01-01/rejects.jsonl")
    changed = test_lake.land_calls(DAY, [_call("C9", language="en")], run="rerun")

    report = load_commit(lake, REPO, BRANCH, wh, schema)
    assert report.commit_id == changed
    assert report.objects_loaded == 1
    assert report.objects_removed == 1
    assert report.objects_skipped == FIRST_OBJECTS - 2
    assert _counts(wh, schema) == FIRST_ROWS | {"call_exports_calls": 1, "quarantine": 2}
    calls = wh.fetchall(
        f"SELECT call_id, language, _lake_commit FROM {_q(schema, 'call_exports_calls')}"
    )
    assert calls == [("C9", "en", changed)]
    # untouched objects keep the commit they were loaded from
    assert wh.fetchall(f"SELECT DISTINCT _lake_commit FROM {_q(schema, 'crm_customers')}") == [
        (test_lake.commit,)
    ]
    # and the bookkeeping knows the new checksum: a re-run loads nothing
    assert load_commit(lake, REPO, BRANCH, wh, schema).objects_loaded == 0


def test_unknown_ref_errors_and_changes_nothing(
    test_lake: LandedLake, warehouse: tuple[Warehouse, str]
) -> None:
    wh, schema = warehouse
    with pytest.raises(NotFoundError):
        load_commit(test_lake.lake, REPO, "no-such-branch", wh, schema)
    assert not wh.schema_exists(raw_schema(schema))

    load_commit(test_lake.lake, REPO, BRANCH, wh, schema)
    runs = wh.count(raw_schema(schema), "_load_runs")
    with pytest.raises(NotFoundError):
        load_commit(test_lake.lake, REPO, "deadbeefdeadbeef", wh, schema)
    with pytest.raises(NotFoundError):
        load_commit(test_lake.lake, "no-such-repo", BRANCH, wh, schema)
    assert _counts(wh, schema) == FIRST_ROWS
    assert wh.count(raw_schema(schema), "_load_runs") == runs


def test_unreadable_parquet_part_names_its_path_and_loads_nothing(
    test_lake: LandedLake, warehouse: tuple[Warehouse, str]
) -> None:
    wh, schema = warehouse
    lake = test_lake.lake
    load_commit(lake, REPO, BRANCH, wh, schema)
    bad = "raw/crm/customers/dt=2026-01-02/part-00000.parquet"
    lake.upload(REPO, BRANCH, bad, b"PAR1 this is not parquet")
    test_lake.land_calls(DAY2, [_call("C10")], run="run-2")
    with pytest.raises(LoadError, match=bad):
        load_commit(lake, REPO, BRANCH, wh, schema)
    # one transaction: the good new part did not land either
    assert _counts(wh, schema) == FIRST_ROWS
    assert loaded_commit(wh, schema) == test_lake.commit


def test_empty_commit_creates_every_table(
    test_lake: LandedLake, warehouse: tuple[Warehouse, str]
) -> None:
    wh, schema = warehouse
    report = load_commit(test_lake.lake, REPO, "main", wh, schema)
    assert report.objects_loaded == report.objects_skipped == 0
    assert _counts(wh, schema) == dict.fromkeys(TABLE_NAMES, 0)
    for table, columns in TABLES.items():
        assert wh.columns(raw_schema(schema), table) == [name for name, _ in columns]


def test_wav_headers_are_read_without_downloading_the_files(
    test_lake: LandedLake, warehouse: tuple[Warehouse, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wh, schema = warehouse
    lake = test_lake.lake
    read: dict[str, int] = {}
    real_open = lake.open

    class Counting(io.RawIOBase):
        def __init__(self, stream, path: str):
            self.stream, self.path = stream, path

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            data = self.stream.read(len(buffer))
            buffer[: len(data)] = data
            read[self.path] = read.get(self.path, 0) + len(data)
            return len(data)

        def close(self) -> None:
            self.stream.close()
            super().close()

    def spy_open(repository: str, ref: str, path: str):
        return Counting(real_open(repository, ref, path), path)

    monkeypatch.setattr(lake, "open", spy_open)
    load_commit(lake, REPO, BRANCH, wh, schema)
    plain = "raw/recordings/dt=2026-01-01/C2.wav"  # no owner: landed plain, header read only
    assert 0 < read[plain] < (test_lake.root / "wavs" / "C2.wav").stat().st_size
    sealed = "raw/recordings/dt=2026-01-01/C1.wav"  # sealed: read whole to open it
    assert read[sealed] == lake.stat(REPO, BRANCH, sealed).size_bytes
    assert "quarantine/recordings/dt=2026-01-01/C3.wav" not in read


def test_bulk_insert_keeps_null_apart_from_empty_text(warehouse: tuple[Warehouse, str]) -> None:
    import pyarrow as pa

    wh, schema = warehouse
    name = f"{schema}_raw"
    wh.create_schema(name)
    wh.execute(f'CREATE TABLE "{name}"."t" (s TEXT, d DOUBLE PRECISION, n BIGINT)')
    data = pa.table(
        {
            "s": pa.array(["", None, 'a "quoted",\nmultiline ✓', "%s ?"]),
            "d": pa.array([0.1, None, 1 / 3, -2.5]),
            "n": pa.array([1, None, 2**40, -1], pa.int64()),
        }
    )
    assert wh.insert_arrow(name, "t", data) == 4
    rows = wh.fetchall(f'SELECT s, d, n FROM "{name}"."t" ORDER BY n NULLS LAST')
    assert rows == [
        ("%s ?", -2.5, -1),
        ("", 0.1, 1),
        ('a "quoted",\nmultiline ✓', 1 / 3, 2**40),
        (None, None, None),
    ]
    assert wh.fetchall(f'SELECT n FROM "{name}"."t" WHERE s = ?', ["%s ?"]) == [(-1,)]


def test_another_stream_gets_its_own_table(
    test_lake: LandedLake, warehouse: tuple[Warehouse, str]
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    wh, schema = warehouse
    lake = test_lake.lake

    def part(table: pa.Table) -> bytes:
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue()

    first = pa.table({"menu_id": ["M1", "M2"], "depth": [1, 2], "score": [0.5, None]})
    second = pa.table({"menu_id": ["M3"], "tags": [["a", "b"]]})
    lake.upload(REPO, BRANCH, "raw/ivr/menus/dt=2026-01-01/part-00000.parquet", part(first))
    lake.upload(REPO, BRANCH, "raw/ivr/menus/dt=2026-01-01/part-00001.parquet", part(second))
    lake.commit(REPO, BRANCH, "ivr menus")
    report = load_commit(lake, REPO, BRANCH, wh, schema)
    assert report.rows["ivr_menus"] == 3
    rows = wh.fetchall(
        f"SELECT menu_id, depth, score, tags FROM {_q(schema, 'ivr_menus')} ORDER BY menu_id"
    )
    assert rows == [("M1", 1, 0.5, None), ("M2", 2, None, None), ("M3", None, None, '["a", "b"]')]


def test_unreadable_wav_header_names_its_path(
    test_lake: LandedLake, warehouse: tuple[Warehouse, str]
) -> None:
    wh, schema = warehouse
    bad = "raw/recordings/dt=2026-01-01/C7.wav"
    test_lake.lake.upload(REPO, BRANCH, bad, b"RIFF\x00\x00\x00\x00WAVEjunk")
    test_lake.lake.commit(REPO, BRANCH, "a broken recording")
    with pytest.raises(LoadError, match=bad):
        load_commit(test_lake.lake, REPO, BRANCH, wh, schema)
    assert not wh.schema_exists(raw_schema(schema))


def test_duckdb_file_is_created_with_its_parents(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "a" / "b", dbt_target="duckdb")
    with connect(settings) as wh:
        assert wh.engine == "duckdb"
        wh.create_schema("s")
        assert wh.schema_exists("s")
    assert settings.warehouse_path.is_file()


def test_postgres_database_is_created_when_missing(tmp_path: Path) -> None:
    name = f"voiceops_test_{uuid.uuid4().hex[:10]}"
    settings = Settings(home=tmp_path, dbt_target="postgres", pg_database=name)
    try:
        admin = connect(settings.model_copy(update={"pg_database": "postgres"}))
    except WarehouseError as err:
        pytest.skip(f"Postgres is not available: {err}")
    try:
        assert not admin.fetchall("SELECT 1 FROM pg_database WHERE datname = ?", [name])
        with connect(settings) as wh:
            assert wh.engine == "postgres"
            assert wh.scalar("SELECT current_database()") == name
        with connect(settings) as wh:  # exists now: just connects
            assert wh.scalar("SELECT current_database()") == name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
