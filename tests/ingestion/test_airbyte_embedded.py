"""Embedded Airbyte: the declarative CRM connector and source-file over call exports."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import get_settings
from ingestion.airbyte import environment
from ingestion.airbyte.connections import ConnectionFileError, load_connection
from ingestion.airbyte.embedded import StreamSync, crm_state, sync_call_exports, sync_crm
from ingestion.airbyte.preflight import preflight_jsonl
from ingestion.simulator.crm_service import running_crm_service
from ingestion.simulator.layout import CALL_FIELDS, calls_jsonl
from tests.ingestion.test_crm_service import customer, make_crm, ticket, ts, upsert

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def connector_install_dir() -> Path:
    """One connector install for the whole test session (and across sessions).

    Tests run with a temporary VOICEOPS_HOME; installing source-file into each would download
    it every time. ``VOICEOPS_TEST_AIRBYTE_INSTALL_DIR`` overrides the place.
    """
    configured = os.environ.get("VOICEOPS_TEST_AIRBYTE_INSTALL_DIR")
    path = Path(configured) if configured else REPO / ".voiceops" / "airbyte-test"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def airbyte_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connector_install_dir: Path
) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("VOICEOPS_HOME", str(home))
    monkeypatch.setenv("AIRBYTE_INSTALL_DIR", str(connector_install_dir))
    monkeypatch.setenv("AIRBYTE_LOGGING_ROOT", str(tmp_path / "airbyte-logs"))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


# -- connections and preflight (no connector) ----------------------------------------------


def test_connections_load_with_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICEOPS_CRM_START_DATE", raising=False)
    crm = load_connection("crm", {"CRM_BASE_URL": "http://127.0.0.1:9"})
    assert crm.config["base_url"] == "http://127.0.0.1:9"
    assert crm.config["start_date"] == "2026-01-01T00:00:00+0000"
    assert crm.manifest is not None and crm.manifest.is_file()
    assert {name: s.sync_mode for name, s in crm.streams.items()} == {
        "customers": "incremental",
        "tickets": "incremental",
    }
    assert crm.streams["tickets"].cursor_field == "updated_at"

    calls = load_connection("call_exports", {"EXPORT_FILE": "/data/calls.jsonl"})
    assert (calls.source_name, calls.version) == ("source-file", "0.5.39")
    assert calls.config == {
        "dataset_name": "calls",
        "format": "jsonl",
        "url": "/data/calls.jsonl",
        "provider": {"storage": "local"},
    }
    assert calls.streams["calls"].sync_mode == "full_refresh"

    monkeypatch.delenv("CRM_BASE_URL", raising=False)
    with pytest.raises(ConnectionFileError, match="CRM_BASE_URL"):
        load_connection("crm")


def call(n: int, day: int = 1) -> dict[str, Any]:
    record = {
        "call_id": f"C202601{day:02d}-{n:06d}",
        "customer_id": f"CUST-{n:06d}",
        "started_at": f"2026-01-{day:02d}T09:{n:02d}:00+00:00",
        "language": "ru" if n % 2 else "en",
        "channel": "phone",
        "duration_s": 2.5 + n,
        "transcript": "заблокируйте карту" if n % 2 else "block my card",
        "intent": "card_block",
        "slots": {"card_last4": f"{1000 + n}"},
        "bot_response": "Карта заблокирована." if n % 2 else "Your card is blocked.",
        "recording": f"C202601{day:02d}-{n:06d}.wav",
        "speaker": "espeak:ru+f1:s150:p50",
        "sample_rate": 8000,
        "line": "clean",
    }
    assert tuple(record) == CALL_FIELDS
    return record


def write_export(root: Path, day: int, lines: list[str]) -> Path:
    path = calls_jsonl(root, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def dirty_day(root: Path) -> tuple[Path, list[dict[str, Any]], list[str]]:
    """A day file with 4 good calls, a truncated line, a JSON array and a blank line."""
    good = [call(n) for n in range(4)]
    lines = [json.dumps(record, ensure_ascii=False) for record in good]
    truncated = lines[2][: len(lines[2]) // 2]
    all_lines = [lines[0], lines[1], truncated, "[1, 2]", "", lines[2], lines[3]]
    return write_export(root, 1, all_lines), good, [truncated, "[1, 2]"]


def test_preflight_rejects_unparseable_lines_and_keeps_the_rest(tmp_path: Path) -> None:
    path, good, bad = dirty_day(tmp_path / "sources")
    checked = preflight_jsonl(path)
    assert [json.loads(line) for line in checked.good_lines] == good
    assert [(r["line"], r["raw"]) for r in checked.rejects] == [(3, bad[0]), (4, bad[1])]
    assert checked.rejects[0]["reason"].startswith("unparseable JSON at line 3: ")
    assert checked.rejects[1]["reason"] == "not a JSON object at line 4: got list"
    sanitized = checked.write_sanitized(tmp_path / "work" / "calls.jsonl")
    assert sanitized.read_text(encoding="utf-8").splitlines() == checked.good_lines
    assert path.read_text(encoding="utf-8").count("\n") == 7  # the original is untouched


def test_preflight_rejects_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b'{"call_id": "a"}\n{"call_id": "\xff"}\n')
    checked = preflight_jsonl(path)
    assert checked.good_lines == ['{"call_id": "a"}']
    assert checked.rejects[0]["line"] == 2
    assert checked.rejects[0]["reason"].startswith("invalid UTF-8 at line 2")


# -- CRM: declarative manifest through PyAirbyte --------------------------------------------


def ids(sync: StreamSync, key: str) -> list[str]:
    return [record[key] for record in sync.records]


def by_stream(syncs: list[StreamSync]) -> dict[str, StreamSync]:
    return {sync.stream: sync for sync in syncs}


def test_crm_syncs_both_streams(airbyte_home: Path) -> None:
    db = make_crm(airbyte_home / "sources", customers=230, tickets=7)  # 3 pages of customers
    with running_crm_service(db) as base_url:
        syncs = by_stream(sync_crm(base_url, ["customers", "tickets"], state=None))
    customers, tickets = syncs["customers"], syncs["tickets"]
    assert sorted(ids(customers, "customer_id")) == [f"CUST-{n:06d}" for n in range(230)]
    assert sorted(ids(tickets, "ticket_id")) == [f"T-{n:06d}" for n in range(7)]
    assert customers.records[5] == customer(5, ts(1, 5))  # as the API served it
    assert tickets.records[0] == ticket(0, ts(1, 0))
    assert not any(key.startswith("_airbyte") for key in customers.records[0])
    assert customers.connector == "declarative:crm"
    assert "airbyte-cdk" in customers.connector_version
    assert customers.rejects == [] and tickets.rejects == []
    assert customers.state is not None
    assert customers.state["stream"]["stream_state"] == {"updated_at": "2026-01-01T03:49:00+0000"}
    assert tickets.state is not None
    assert tickets.state["stream"]["stream_state"] == {"updated_at": "2026-01-01T00:06:00+0000"}


def test_crm_second_sync_pulls_only_rows_updated_since(airbyte_home: Path) -> None:
    db = make_crm(airbyte_home / "sources", customers=20, tickets=10)
    with running_crm_service(db) as base_url:
        first = sync_crm(base_url, ["customers", "tickets"], state=None)
        assert [len(sync.records) for sync in first] == [20, 10]
        state = json.loads(json.dumps(crm_state(first)))  # as kept in the lake commit

        upsert(db, "customers", [customer(3, ts(2, 0), city="Kazan"), customer(50, ts(2, 1))])
        upsert(db, "tickets", [ticket(1, ts(2, 5), status="closed")])
        second = by_stream(sync_crm(base_url, ["customers", "tickets"], state=state))

        # updated_since is inclusive: the row at the previous cursor value comes again
        # (at-least-once; the lake deduplicates by primary key)
        assert ids(second["customers"], "customer_id") == [
            "CUST-000019",  # updated_at == previous cursor
            "CUST-000003",
            "CUST-000050",
        ]
        assert second["customers"].records[1]["city"] == "Kazan"
        assert ids(second["tickets"], "ticket_id") == ["T-000009", "T-000001"]
        assert second["tickets"].records[1]["status"] == "closed"

        # nothing changed since: only the rows at the cursor, and the state stays
        state = crm_state(list(second.values()))
        third = by_stream(sync_crm(base_url, ["customers", "tickets"], state=state))
    assert ids(third["customers"], "customer_id") == ["CUST-000050"]
    assert ids(third["tickets"], "ticket_id") == ["T-000001"]
    assert crm_state(list(third.values())) == state


def test_crm_state_of_one_stream_leaves_the_other_full(airbyte_home: Path) -> None:
    db = make_crm(airbyte_home / "sources", customers=5, tickets=5)
    with running_crm_service(db) as base_url:
        first = by_stream(sync_crm(base_url, ["customers"], state=None))
        state = crm_state(list(first.values()))
        assert set(state) == {"customers"}
        again = by_stream(sync_crm(base_url, ["customers", "tickets"], state=state))
    assert ids(again["customers"], "customer_id") == ["CUST-000004"]
    assert len(again["tickets"].records) == 5


def test_crm_unknown_stream_is_refused(airbyte_home: Path) -> None:
    with pytest.raises(ValueError, match="accounts"):
        sync_crm("http://127.0.0.1:9", ["accounts"], state=None)


# -- call exports: source-file (installed from PyPI once per install dir) --------------------


@pytest.mark.slow
def test_call_exports_through_source_file(airbyte_home: Path) -> None:
    path, good, bad = dirty_day(airbyte_home / "sources")
    first = sync_call_exports(path, state=None)
    assert first.records == good  # as emitted, nested slots included
    assert [reject["raw"] for reject in first.rejects] == bad
    assert first.rejects[0]["line"] == 3
    assert first.rejects[0]["reason"].startswith("unparseable JSON at line 3")
    assert (first.connection, first.stream) == ("call_exports", "calls")
    assert (first.connector, first.connector_version) == ("source-file", "0.5.39")
    assert first.state is not None
    assert [entry["path"] for entry in first.state["files"]] == [str(path.resolve())]
    assert not list(environment.work_dir().iterdir())  # the sanitized copy is cleaned up

    state = json.loads(json.dumps(first.state))  # as kept in the lake commit
    again = sync_call_exports(path, state=state)
    assert again.records == [] and again.rejects == []
    assert again.state == state

    next_day = write_export(
        airbyte_home / "sources", 2, [json.dumps(call(n, day=2)) for n in range(2)]
    )
    second = sync_call_exports(next_day, state=state)
    assert ids(second, "call_id") == ["C20260102-000000", "C20260102-000001"]
    assert second.state is not None and len(second.state["files"]) == 2

    # the same path with other content (a re-export) is synced again, in full
    with next_day.open("a", encoding="utf-8") as export:
        export.write(json.dumps(call(2, day=2)) + "\n")
    third = sync_call_exports(next_day, state=second.state)
    assert len(third.records) == 3
    assert third.state is not None and len(third.state["files"]) == 3


def test_call_exports_all_lines_rejected_needs_no_connector(airbyte_home: Path) -> None:
    path = write_export(airbyte_home / "sources", 3, ['{"call_id": "C2026', "not json"])
    result = sync_call_exports(path, state=None)
    assert result.records == []
    assert [reject["line"] for reject in result.rejects] == [1, 2]
    assert result.state is not None and result.state["files"][0]["rejects"] == 2


def test_prepare_leaves_the_root_loggers_handlers_alone(airbyte_home: Path) -> None:
    """Importing PyAirbyte replaces the root logger's handlers with one printing JSON lines."""
    import logging

    root = logging.getLogger()
    mine = logging.NullHandler()
    root.addHandler(mine)
    try:
        environment.prepare()
        assert mine in root.handlers
        assert not [h for h in root.handlers if environment._airbyte_formatted(h)]
    finally:
        root.removeHandler(mine)
