"""Find a data subject in every layer: the search an erasure runs to prove itself.

``search(settings, customer_id)`` looks for the subject's identifiers (``governance.subject``)
with one function per layer and returns a :class:`SearchReport` of where each occurs and how
often:

* ``lake``: every object of every commit reachable from a branch or tag
  (``governance.subject_lake``);
* ``warehouse``: every schema; tables with a ``customer_id``, ``customer_key`` or ``user_id``
  column (rows equal to the id or key, and their text columns containing any identifier),
  tables with a ``call_id`` and no customer column (rows of the subject's calls, e.g. the
  recordings), and every ``quarantine`` table's text columns (raw records as JSON);
* ``events``: experiment events whose ``user_id`` is the id or the key;
* ``sources``: the simulator's CRM database, call exports, manifests and recordings;
* ``connector_logs``: the embedded Airbyte logs.

The serving response audio (``$VOICEOPS_HOME/serving/audio``) holds synthesized speech and
no text, so it cannot be searched by identifier: the report lists it under
``not_searchable``. ``voiceops privacy find --expect-none`` exits 1 when anything is found:
the check ``voiceops privacy erase`` (``governance.erasure``) runs after erasing.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.settings import Settings
from governance.subject import Subject, identify

LAYERS = ("lake", "warehouse", "events", "sources", "connector_logs")
ID_COLUMNS = ("customer_id", "customer_key", "user_id")
TEXT_TYPES = ("VARCHAR", "TEXT", "CHARACTER VARYING")
_TEXT_FILES = (".jsonl", ".json", ".csv", ".log", ".txt")
NOT_SEARCHABLE = (
    "serving response audio ($VOICEOPS_HOME/serving/audio): synthesized speech, no text "
    "or customer id to search; kept for the last VOICEOPS_SERVING_AUDIO_KEEP turns only",
)


@dataclass(frozen=True)
class Finding:
    """``count`` rows, lines or files at ``where`` in ``layer`` hold identifier ``kind``;
    in the lake, also the refs and the commits (ids) that hold the object."""

    layer: str
    where: str
    kind: str
    count: int
    refs: tuple[str, ...] = ()
    commits: tuple[str, ...] = ()


@dataclass
class SearchReport:
    """Where a subject's identifiers occur; ``total() == 0`` proves them gone."""

    customer_id: str
    kinds: list[str]
    record_from: str
    findings: list[Finding] = field(default_factory=list)
    scanned: dict[str, str] = field(default_factory=dict)
    not_searchable: list[str] = field(default_factory=lambda: list(NOT_SEARCHABLE))
    seconds: float = 0.0

    def total(self) -> int:
        return sum(finding.count for finding in self.findings)

    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(LAYERS, 0)
        for finding in self.findings:
            found[finding.layer] += finding.count
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "identifiers": self.kinds,
            "record_from": self.record_from,
            "total": self.total(),
            "counts": self.counts(),
            "findings": [
                asdict(f) | {"refs": list(f.refs), "commits": list(f.commits)}
                for f in self.findings
            ],
            "scanned": self.scanned,
            "not_searchable": self.not_searchable,
            "seconds": self.seconds,
        }


def search(settings: Settings, customer_id: str, subject: Subject | None = None) -> SearchReport:
    """Every layer's findings of ``customer_id`` (its key, name, phone, email, passport, cards).

    ``subject``: identifiers gathered earlier; an erasure passes those it gathered before
    erasing, since afterwards no CRM record is left to read the name or phone from."""
    started = time.perf_counter()
    subject = subject or identify(settings, customer_id)
    add_source_calls(settings, subject)
    report = SearchReport(customer_id, subject.kinds(), subject.record_from)
    lake(settings, subject, report)  # first: its call-export parts name the calls
    warehouse(settings, subject, report)
    events(settings, subject, report)
    sources(settings, subject, report)
    connector_logs(settings, subject, report)
    if contested := subject.contested_calls():
        report.scanned["contested_calls"] = (
            f"{len(contested)} of the subject's call ids are claimed by another customer's "
            "record too: their plain data counts as the subject's, a sealed recording as "
            "whose key it is sealed under"
        )
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def lake(settings: Settings, subject: Subject, report: SearchReport) -> None:
    from governance.subject_lake import search_lake

    hits, scan = search_lake(settings, subject)
    for hit in hits:
        for kind, count in sorted(hit.hits.items()):
            refs, commits = tuple(sorted(hit.refs)), tuple(sorted(hit.commits))
            report.findings.append(Finding("lake", hit.path, kind, count, refs, commits))
    report.scanned["lake"] = (
        f"{scan.refs} refs, {scan.commits} commits, {scan.objects_listed} object versions "
        f"listed, {scan.objects_read} distinct objects read"
    )


def warehouse(settings: Settings, subject: Subject, report: SearchReport) -> None:
    from warehouse.connection import connect, qualified

    with connect(settings) as db:
        tables = _tables(db)
        scanned = 0
        for (schema, table), described in tables.items():
            tests = _tests(table, described, subject)
            if not tests:
                continue
            scanned += 1
            sums = ", ".join(f"sum(CASE WHEN {sql} THEN 1 ELSE 0 END)" for *_, sql, _ in tests)
            params = [p for *_, params in tests for p in params]
            row = db.fetchone(f"SELECT {sums} FROM {qualified(schema, table)}", params) or ()
            for (name, kind, _, _), count in zip(tests, row, strict=True):
                if count:
                    where = f"{schema}.{table}.{name}"
                    report.findings.append(Finding("warehouse", where, kind, int(count)))
    report.scanned["warehouse"] = (
        f"{scanned} of {len(tables)} tables: with a customer column (ids and text columns), "
        "with a call_id and no customer column (the subject's calls), named quarantine (text)"
    )


def _tables(db: Any) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, upper-cased type)] of every table outside the catalogs."""
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in db.fetchall(
        "SELECT table_schema, table_name, column_name, data_type "
        "FROM information_schema.columns ORDER BY table_schema, table_name, ordinal_position"
    ):
        if schema != "information_schema" and not schema.startswith("pg_"):
            tables.setdefault((schema, table), []).append((column, str(data_type).upper()))
    return tables


def _tests(
    table: str, described: list[tuple[str, str]], subject: Subject
) -> list[tuple[str, str, str, list[Any]]]:
    """(column, kind, SQL condition, params) of everything to count in one table."""
    from warehouse.connection import quote

    has_customer = bool({name for name, _ in described} & set(ID_COLUMNS))
    calls = sorted(subject.call_ids)
    tests: list[tuple[str, str, str, list[Any]]] = []
    for name, data_type in described:
        column = quote(name)
        if name in ID_COLUMNS:
            for kind in ("customer_id", "customer_key"):
                tests.append((name, kind, f"{column} = ?", [subject.values[kind]]))
        elif name == "call_id" and not has_customer and calls:
            tests.append((name, "call_id", f"{column} IN ({', '.join('?' * len(calls))})", calls))
        elif (has_customer or table == "quarantine") and data_type.startswith(TEXT_TYPES):
            tests.extend((name, kind, *_like(column, kind, subject)) for kind in subject.kinds())
    return [_without_namesakes(test, described, subject) for test in tests]


def _without_namesakes(
    test: tuple[str, str, str, list[Any]], described: list[tuple[str, str]], subject: Subject
) -> tuple[str, str, str, list[Any]]:
    """A name test that skips the rows of customers who share the subject's full name."""
    name, kind, sql, params = test
    ids = sorted(subject.namesakes)
    columns = [column for column, _ in described if column in ID_COLUMNS]
    if kind != "full_name" or not ids or not columns:
        return test
    from warehouse.connection import quote

    marks = ", ".join("?" * len(ids))
    others = " AND ".join(f"coalesce({quote(c)}, '') NOT IN ({marks})" for c in columns)
    return name, kind, f"({sql} AND {others})", [*params, *(ids * len(columns))]


def _like(column: str, kind: str, subject: Subject) -> tuple[str, list[Any]]:
    """A portable (DuckDB and Postgres) test of a text column containing the subject's
    ``kind`` (a name: any of its forms)."""
    if kind == "card_number":
        cards = sorted(subject.cards)
        digits = f"regexp_replace({column}, '[^0-9]', '', 'g')"
        return "(" + " OR ".join(f"{digits} LIKE ?" for _ in cards) + ")", [f"%{c}%" for c in cards]
    value = subject.values[kind]
    if kind == "phone":
        return f"regexp_replace({column}, '[^0-9]', '', 'g') LIKE ?", [f"%{value}%"]
    if kind == "full_name":
        forms = subject.name_forms or [value]
        tests = " OR ".join(f"lower({column}) LIKE ?" for _ in forms)
        return f"({tests})", [f"%{form.lower()}%" for form in forms]
    if kind == "email":
        return f"lower({column}) LIKE ?", [f"%{value.lower()}%"]
    return f"{column} LIKE ?", [f"%{value}%"]


def events(settings: Settings, subject: Subject, report: SearchReport) -> None:
    from experiments.event_store import TABLE, EventStore

    with EventStore.from_settings(settings) as store:
        for kind in ("customer_id", "customer_key"):
            count = store.count_of_users([subject.values[kind]])
            if count:
                where = f"{store.description}:{TABLE}.user_id"
                report.findings.append(Finding("events", where, kind, count))
    report.scanned["events"] = "turn_events.user_id"


def add_source_calls(settings: Settings, subject: Subject) -> None:
    """Add the subject's calls named in the sources' call exports (before any recording
    is matched, in the lake or in the sources)."""
    root = settings.sources_root
    if root.is_dir():
        for path in sorted(root.glob("call_exports/*/calls.jsonl")):
            subject.add_calls_from_lines(_lines(path))


def sources(settings: Settings, subject: Subject, report: SearchReport) -> None:
    root = settings.sources_root
    if not root.is_dir():
        report.scanned["sources"] = f"{root}: absent"
        return
    files = sorted(path for path in root.rglob("*") if path.is_file())
    for path in files:
        where = path.relative_to(root).as_posix()
        if path.suffix == ".wav":
            hits = Counter({"call_recording": 1} if path.stem in subject.call_ids else {})
        elif path.suffix in _TEXT_FILES:
            hits = subject.text_hits(_lines(path))
        elif path.name.endswith(".sqlite3"):
            for table, table_hits in _sqlite_hits(path, subject).items():
                _add("sources", f"{where}:{table}", table_hits, report)
            continue
        else:
            continue
        _add("sources", where, hits, report)
    report.scanned["sources"] = f"{len(files)} files under {root}"


def connector_logs(settings: Settings, subject: Subject, report: SearchReport) -> None:
    root: Path = settings.home / "airbyte" / "logs"
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    for path in files:
        hits = subject.text_hits(_lines(path))
        _add("connector_logs", path.relative_to(root).as_posix(), hits, report)
    report.scanned["connector_logs"] = f"{len(files)} files under {root}"


def _add(layer: str, where: str, hits: Counter[str], report: SearchReport) -> None:
    for kind, count in sorted(hits.items()):
        if count:
            report.findings.append(Finding(layer, where, kind, count))


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _sqlite_hits(path: Path, subject: Subject) -> dict[str, Counter[str]]:
    """Per table, rows whose values (joined as text) hold each identifier."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]  # fmt: skip
        found = {}
        for table in tables:
            rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()
            found[table] = subject.text_hits(["\t".join(map(str, row)) for row in rows])
        return found
    finally:
        connection.close()
