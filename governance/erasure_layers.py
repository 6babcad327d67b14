"""Delete a data subject from each layer outside the lake; every function takes ``dry_run``
(count what would go, change nothing) and returns one :class:`Deletion` per place.

What is deleted is what the search (``governance.subject_search``) finds there, so the
proof search after an erasure looks for exactly what was removed:

* ``warehouse``: in every schema, rows of tables with a customer column whose id column is
  the id or key or whose text holds an identifier, rows of the subject's calls in tables
  with a ``call_id`` and no customer column, and rows of ``quarantine`` tables whose text
  holds an identifier; views are skipped (their base tables are cleaned); one transaction
  per schema;
* ``events``: experiment events whose ``user_id`` is the id or the key;
* ``sources``: rows of the CRM database, lines of the call exports (JSONL and CSV rows),
  list entries of JSON manifests and lines of other text files that hold an identifier,
  and the recordings of the subject's calls;
* ``connector_logs``: lines of the embedded Airbyte logs that hold an identifier.

A row of another customer that names the subject (a transcript quoting their name) holds
the subject's identifier too, and goes with the subject's rows.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings
from governance.subject import Subject

_TEXT_FILES = (".jsonl", ".log", ".txt")


@dataclass(frozen=True)
class Deletion:
    """``count`` rows, lines, entries or files deleted (or to delete) at ``where``."""

    layer: str
    where: str
    count: int
    unit: str = "rows"


# ---- warehouse ----------------------------------------------------------------------------
def warehouse(settings: Settings, subject: Subject, dry_run: bool) -> list[Deletion]:
    """Delete the subject's rows from every warehouse table (one transaction per schema)."""
    from governance.subject_search import _tables, _tests
    from warehouse.connection import connect, qualified

    done: list[Deletion] = []
    with connect(settings) as db:
        views = {
            (schema, name)
            for schema, name in db.fetchall(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'VIEW'"
            )
        }
        by_schema: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {}
        for (schema, table), described in _tables(db).items():
            if (schema, table) not in views:
                by_schema.setdefault(schema, []).append((table, described))
        for schema, tables in sorted(by_schema.items()):
            with db.transaction():
                for table, described in tables:
                    tests = _tests(table, described, subject)
                    if not tests:
                        continue
                    where = " OR ".join(f"({sql})" for _, _, sql, _ in tests)
                    params = [p for *_, values in tests for p in values]
                    name = qualified(schema, table)
                    count = int(db.scalar(f"SELECT count(*) FROM {name} WHERE {where}", params))
                    if count and not dry_run:
                        db.execute(f"DELETE FROM {name} WHERE {where}", params)
                    if count:
                        done.append(Deletion("warehouse", f"{schema}.{table}", count))
    return done


# ---- events -------------------------------------------------------------------------------
def events(settings: Settings, subject: Subject, dry_run: bool) -> list[Deletion]:
    from experiments.event_store import TABLE, EventStore

    users = [subject.values["customer_id"], subject.values["customer_key"]]
    with EventStore.from_settings(settings) as store:
        count = store.delete_users(users, dry_run=dry_run)
        where = f"{store.description}:{TABLE}"
    return [Deletion("events", where, count)] if count else []


# ---- sources ------------------------------------------------------------------------------
def sources(settings: Settings, subject: Subject, dry_run: bool) -> list[Deletion]:
    """The subject's CRM rows, call-export lines and rows, manifest entries, other text
    lines and recordings under the sources root."""
    root = settings.sources_root
    if not root.is_dir():
        return []
    done: list[Deletion] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        where = path.relative_to(root).as_posix()
        if path.suffix == ".wav":
            if path.stem in subject.call_ids:
                if not dry_run:
                    path.unlink()
                done.append(Deletion("sources", where, 1, "files"))
        elif path.name.endswith(".sqlite3"):
            for table, count in _sqlite(path, subject, dry_run).items():
                done.append(Deletion("sources", f"{where}:{table}", count))
        elif path.suffix == ".csv":
            _add(done, "sources", where, _csv(path, subject, dry_run), "rows")
        elif path.suffix == ".json":
            _add(done, "sources", where, _json(path, subject, dry_run), "entries")
        elif path.suffix in _TEXT_FILES:
            _add(done, "sources", where, _text_lines(path, subject, dry_run), "lines")
    return done


def _add(done: list[Deletion], layer: str, where: str, count: int, unit: str) -> None:
    if count:
        done.append(Deletion(layer, where, count, unit))


def _sqlite(path: Path, subject: Subject, dry_run: bool) -> dict[str, int]:
    """Per table, rows whose values (joined as text) hold an identifier, deleted."""
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]  # fmt: skip
        found: dict[str, int] = {}
        with connection:
            for table in tables:
                rows = connection.execute(f'SELECT rowid, * FROM "{table}"').fetchall()
                doomed = [
                    (row[0],) for row in rows if subject.text_hits(["\t".join(map(str, row[1:]))])
                ]
                if doomed and not dry_run:
                    connection.executemany(f'DELETE FROM "{table}" WHERE rowid = ?', doomed)
                if doomed:
                    found[table] = len(doomed)
        return found
    finally:
        connection.close()


def _rewrite(path: Path, text: str) -> None:
    """Replace ``path``'s content atomically (temp file + rename)."""
    tmp = path.with_name(f".{path.name}.erasure")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _text_lines(path: Path, subject: Subject, dry_run: bool) -> int:
    """Lines holding an identifier, removed; how many."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not subject.text_hits([line])]
    if len(kept) != len(lines) and not dry_run:
        _rewrite(path, "".join(kept))
    return len(lines) - len(kept)


def _csv(path: Path, subject: Subject, dry_run: bool) -> int:
    """CSV records (a quoted value may span lines) holding an identifier, removed; the
    header and the other records are written back as the simulator writes them."""
    text = path.read_text(encoding="utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    kept = rows[:1] + [row for row in rows[1:] if not subject.text_hits(["\t".join(row)])]
    if len(kept) != len(rows) and not dry_run:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(kept)
        _rewrite(path, out.getvalue())
    return len(rows) - len(kept)


def _json(path: Path, subject: Subject, dry_run: bool) -> int:
    """Entries of the JSON document's lists (e.g. a manifest's defects) that hold an
    identifier or name one of the subject's calls, removed; a file that does not parse is
    treated line by line."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return _text_lines(path, subject, dry_run)
    pruned, count = _prune(document, subject)
    if count and not dry_run:
        _rewrite(path, json.dumps(pruned, ensure_ascii=False, indent=2) + "\n")
    return count


def _prune(value: Any, subject: Subject) -> tuple[Any, int]:
    if isinstance(value, dict):
        count, out = 0, {}
        for key, item in value.items():
            out[key], removed = _prune(item, subject)
            count += removed
        return out, count
    if isinstance(value, list):
        count, out = 0, []
        for item in value:
            if _names_subject(item, subject):
                count += 1
                continue
            kept, removed = _prune(item, subject)
            out.append(kept)
            count += removed
        return out, count
    return value, 0


def _names_subject(item: Any, subject: Subject) -> bool:
    call_id = item.get("call_id") if isinstance(item, dict) else None
    if isinstance(call_id, str) and call_id in subject.call_ids:
        return True
    if isinstance(item, dict | str):
        return bool(subject.text_hits([json.dumps(item, ensure_ascii=False)]))
    return False


# ---- connector logs -----------------------------------------------------------------------
def connector_logs(settings: Settings, subject: Subject, dry_run: bool) -> list[Deletion]:
    root = settings.home / "airbyte" / "logs"
    done: list[Deletion] = []
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            where = path.relative_to(root).as_posix()
            _add(done, "connector_logs", where, _text_lines(path, subject, dry_run), "lines")
    return done
