"""Load one lake commit into the warehouse: the ``raw/`` and ``quarantine/`` objects become
the ``<schema>_raw`` tables dbt reads as sources.

=====================  =========================================================================
table                  from
=====================  =========================================================================
crm_customers          ``raw/crm/customers/dt=*/part-*.parquet`` (columns of
crm_tickets            ``ingestion.schemas``: ``duration_s`` double, ``sample_rate`` bigint, the
call_exports_calls     rest text, ``_extra`` text); another ``raw/<src>/<stream>/`` gets
                       ``<src>_<stream>``
recordings             one row per ``raw/recordings/dt=*/<call id>.wav``, from its header only
voice_corpus_audio     the same per ``raw/voice_corpus/audio/dt=*/<utterance id>.wav``
quarantine             ``quarantine/*/*/dt=*/rejects.jsonl`` lines and the
                       ``reasons.jsonl`` lines of ``quarantine/recordings/dt=*/`` and
                       ``quarantine/voice_corpus/audio/dt=*/``
_loads                 bookkeeping: which object (path, checksum) is loaded, into which table
_load_runs             one row per ``load_commit`` that changed something or was asked for
=====================  =========================================================================

Personal data in the lake is sealed (``core.sealing``): every part, sealed recording and
quarantine entry is opened with the subject key store on the way in. Rows (recordings,
quarantine entries) whose key was destroyed are erased subjects: they are not loaded, and are
counted per table in ``LoadReport.erased`` and ``_load_runs.rows_erased``. Sealed data naming a
key the store never held (the wrong key store) raises ``LoadError``.

Every data row carries ``_lake_commit`` (the commit it was loaded from) and ``_lake_path``
(the object it came from). Loads are incremental: an object whose (path, checksum) is in
``_loads`` is skipped, a changed one has its rows replaced, and one that is gone from the
commit has its rows deleted, so the schema always mirrors the last loaded commit. One load
is one transaction: it lands completely or not at all.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
import time
import wave
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.errors import VoiceOpsError
from core.pseudonym import customer_key, pseudonym_key
from core.sealing import BLOB_MAGIC, KeyUnknownError, Sealer, codec
from core.sealing.codec import SealedDataError
from core.settings import get_settings
from ingestion import schemas as raw_schemas
from versioning.lake import Lake
from versioning.lake.models import ObjectStat
from warehouse.connection import Warehouse, qualified, quote
from warehouse.schemas import raw_schema

TEXT = "TEXT"
DOUBLE = "DOUBLE PRECISION"
BIGINT = "BIGINT"
TIMESTAMP = "TIMESTAMP WITH TIME ZONE"

LAKE_COLUMNS = (("_lake_commit", TEXT), ("_lake_path", TEXT))
PREFIXES = ("raw/", "quarantine/")

LOADS = "_loads"
LOAD_RUNS = "_load_runs"
RECORDINGS = "recordings"
VOICE_CORPUS_AUDIO = "voice_corpus_audio"
QUARANTINE = "quarantine"


class LoadError(VoiceOpsError):
    """An object of the commit cannot be loaded; the message names its lake path."""


def _sql_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return DOUBLE
    if pa.types.is_integer(arrow_type):
        return BIGINT
    return TEXT


def _stream_table(source: str, stream: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"{source}_{stream}".lower())


def _record_columns(schema: pa.Schema) -> tuple[tuple[str, str], ...]:
    pseudonym = (("customer_key", TEXT),) if "customer_id" in schema.names else ()
    return (
        *((f.name, _sql_type(f.type)) for f in schema),
        *pseudonym,
        ("_extra", TEXT),
        *LAKE_COLUMNS,
    )


def _wav_columns(key: str) -> tuple[tuple[str, str], ...]:
    """A WAV table's columns: the file stem as ``key``, then its header's facts."""
    return (
        (key, TEXT),
        ("lake_path", TEXT),
        ("size_bytes", BIGINT),
        ("sample_rate", BIGINT),
        ("channels", BIGINT),
        ("sample_width", BIGINT),
        ("duration_s", DOUBLE),
        ("dt", TEXT),
        *LAKE_COLUMNS,
    )


#: Tables created by every load (dbt declares them as sources), with their columns.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    _stream_table(source, stream): _record_columns(schema)
    for (source, stream), schema in sorted(raw_schemas.BY_STREAM.items())
} | {
    RECORDINGS: _wav_columns("call_id"),
    VOICE_CORPUS_AUDIO: _wav_columns("utterance_id"),
    QUARANTINE: (
        ("source", TEXT),
        ("stream", TEXT),
        ("dt", TEXT),
        ("reason", TEXT),
        ("record", TEXT),
        ("run_id", TEXT),
        ("lake_path", TEXT),
        ("line", BIGINT),
        *LAKE_COLUMNS,
    ),
}

BOOKKEEPING: dict[str, str] = {
    LOADS: (
        "lake_path TEXT NOT NULL, checksum TEXT NOT NULL, table_name TEXT, rows BIGINT, "
        f"lake_commit TEXT NOT NULL, loaded_at {TIMESTAMP} DEFAULT CURRENT_TIMESTAMP"
    ),
    LOAD_RUNS: (
        "lake_commit TEXT NOT NULL, repository TEXT, ref TEXT, objects_loaded BIGINT, "
        "objects_skipped BIGINT, objects_removed BIGINT, rows_loaded BIGINT, "
        f"seconds DOUBLE PRECISION, loaded_at {TIMESTAMP} DEFAULT CURRENT_TIMESTAMP, "
        "rows_erased BIGINT"
    ),
}
#: Bookkeeping columns added after the first release: added to existing warehouses.
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {LOAD_RUNS: (("rows_erased", BIGINT),)}

_PART = re.compile(r"^raw/([^/]+)/([^/]+)/dt=([^/]+)/[^/]+\.parquet$", re.IGNORECASE)
#: WAV areas of the lake (``ingestion.lake_landing.WavArea``): prefix -> (table, source, stream)
WAV_AREAS = {
    "recordings": (RECORDINGS, "recordings", "wav"),
    "voice_corpus/audio": (VOICE_CORPUS_AUDIO, "voice_corpus", "audio"),
}
_AREA = "|".join(re.escape(prefix) for prefix in WAV_AREAS)
_WAV = re.compile(rf"^raw/({_AREA})/dt=([^/]+)/([^/]+)\.wav$", re.IGNORECASE)
_REJECTS = re.compile(r"^quarantine/([^/]+)/([^/]+)/dt=([^/]+)/rejects\.jsonl$")
_REASONS = re.compile(rf"^quarantine/({_AREA})/dt=([^/]+)/reasons\.jsonl$")

WAV_HEADER_BYTES = 4096
WAV_HEADER_LIMIT = 1 << 20
_DELETE_CHUNK = 500


@dataclass
class LoadReport:
    """What ``load_commit`` did."""

    commit_id: str
    schema: str
    raw_schema: str
    rows: dict[str, int] = field(default_factory=dict)
    erased: dict[str, int] = field(default_factory=dict)
    objects_loaded: int = 0
    objects_skipped: int = 0
    objects_removed: int = 0
    objects_ignored: int = 0
    seconds: float = 0.0

    @property
    def rows_loaded(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_erased(self) -> int:
        """Rows of erased subjects (key destroyed) left out of the load."""
        return sum(self.erased.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"rows_loaded": self.rows_loaded, "rows_erased": self.rows_erased}


@dataclass(frozen=True)
class _Object:
    """One object of the commit and how it loads."""

    stat: ObjectStat
    kind: str  # "part" | "wav" | "rejects" | "reasons"
    table: str
    dt: str
    source: str = ""
    stream: str = ""

    @property
    def path(self) -> str:
        return self.stat.path


def _classify(stat: ObjectStat) -> _Object | None:
    path = stat.path
    if m := _WAV.match(path):
        table, source, stream = WAV_AREAS[m.group(1).lower()]
        return _Object(stat, "wav", table, m.group(2), source, stream)
    if m := _PART.match(path):
        source, stream, dt = m.groups()
        return _Object(stat, "part", _stream_table(source, stream), dt, source, stream)
    if m := _REASONS.match(path):
        _, source, stream = WAV_AREAS[m.group(1)]
        return _Object(stat, "reasons", QUARANTINE, m.group(2), source, stream)
    if m := _REJECTS.match(path):
        source, stream, dt = m.groups()
        return _Object(stat, "rejects", QUARANTINE, dt, source, stream)
    return None  # e.g. the quarantined WAVs themselves: their reasons.jsonl describes them


# ---- the load ---------------------------------------------------------------------------


def load_commit(
    lake: Lake,
    repository: str,
    ref: str,
    warehouse: Warehouse,
    schema: str,
    *,
    workers: int = 8,
    key: bytes | None = None,
    sealer: Sealer | None = None,
) -> LoadReport:
    """Load the commit ``ref`` resolves to into ``<schema>_raw``; return what was loaded.

    Every table with a ``customer_id`` gets ``customer_key``, its pseudonym under ``key``
    (default: :func:`core.pseudonym.pseudonym_key` of the settings). Sealed values open with
    ``sealer`` (default: the settings' subject key store); erased rows are counted, not loaded.

    An unknown ref raises the lake's ``NotFoundError`` before the warehouse is touched; an
    object that cannot be read raises ``LoadError`` naming its path and loads nothing.
    """
    started = time.perf_counter()
    commit_id = lake.resolve_ref(repository, ref)
    raw = raw_schema(schema)
    report = LoadReport(commit_id, schema, raw, rows=dict.fromkeys(TABLES, 0))

    objects: list[_Object] = []
    for prefix in PREFIXES:
        for stat in lake.list_objects(repository, commit_id, prefix):
            if not isinstance(stat, ObjectStat):
                continue
            obj = _classify(stat)
            if obj is None:
                report.objects_ignored += 1
            else:
                objects.append(obj)

    key = key if key is not None else pseudonym_key(get_settings())
    sealer = sealer if sealer is not None else Sealer.from_settings(get_settings())
    loader = _Loader(lake, repository, commit_id, warehouse, raw, report, workers, key, sealer)
    with warehouse.transaction():
        warehouse.lock(f"voiceops-load:{raw}")
        warehouse.create_schema(raw)
        loader.ensure_tables()
        done = loader.loaded()
        current = {o.path for o in objects}
        todo = [o for o in objects if done.get(o.path, ("",))[0] != o.stat.checksum]
        report.objects_skipped = len(objects) - len(todo)
        gone = [p for p in done if p not in current]
        report.objects_removed = len(gone)
        loader.forget(
            [(p, done[p][1]) for p in gone]
            + [(o.path, done[o.path][1]) for o in todo if o.path in done]
        )
        loader.load([o for o in todo if o.kind == "part"])
        loader.load_recordings([o for o in todo if o.kind == "wav"])
        loader.load_quarantine([o for o in todo if o.kind in {"rejects", "reasons"}])
        loader.record_loads()
        report.objects_loaded = len(todo)
        report.seconds = time.perf_counter() - started
        warehouse.execute(
            f"INSERT INTO {qualified(raw, LOAD_RUNS)} (lake_commit, repository, ref, "
            "objects_loaded, objects_skipped, objects_removed, rows_loaded, seconds, rows_erased) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                commit_id,
                repository,
                ref,
                report.objects_loaded,
                report.objects_skipped,
                report.objects_removed,
                report.rows_loaded,
                report.seconds,
                report.rows_erased,
            ),
        )
    report.seconds = time.perf_counter() - started
    return report


def loaded_commit(warehouse: Warehouse, schema: str) -> str | None:
    """The lake commit ``<schema>_raw`` was last loaded from (None if never)."""
    raw = raw_schema(schema)
    if not warehouse.table_exists(raw, LOAD_RUNS):
        return None
    return warehouse.scalar(
        f"SELECT lake_commit FROM {qualified(raw, LOAD_RUNS)} "
        "ORDER BY loaded_at DESC, rows_loaded DESC LIMIT 1"
    )


class _Loader:
    def __init__(
        self,
        lake: Lake,
        repository: str,
        commit_id: str,
        warehouse: Warehouse,
        raw: str,
        report: LoadReport,
        workers: int,
        key: bytes,
        sealer: Sealer,
    ):
        self.lake, self.repository, self.commit_id = lake, repository, commit_id
        self.key, self.sealer = key, sealer
        self._key_lock = threading.Lock()  # recordings open in threads; the store is shared
        self.wh, self.raw, self.report, self.workers = warehouse, raw, report, max(1, workers)
        self._columns: dict[str, dict[str, str]] = {}
        self._loads: list[tuple[str, str, str, int]] = []

    # ---- tables -------------------------------------------------------------------------
    def ensure_tables(self) -> None:
        for table, ddl in BOOKKEEPING.items():
            self.wh.execute(f"CREATE TABLE IF NOT EXISTS {qualified(self.raw, table)} ({ddl})")
        for table, added in ADDED_COLUMNS.items():
            self._add_missing(table, added)
        for table, columns in TABLES.items():
            self._create(table, columns)

    def _create(self, table: str, columns: Iterable[tuple[str, str]]) -> None:
        body = ", ".join(f"{quote(name)} {sql_type}" for name, sql_type in columns)
        self.wh.execute(f"CREATE TABLE IF NOT EXISTS {qualified(self.raw, table)} ({body})")

    def _add_missing(self, table: str, columns: Iterable[tuple[str, str]]) -> None:
        """Add the columns an existing table (made by an older release) lacks."""
        present = self._table_columns(table)
        for name, sql_type in columns:
            if name not in present:
                self.wh.execute(
                    f"ALTER TABLE {qualified(self.raw, table)} ADD COLUMN {quote(name)} {sql_type}"
                )
        self._columns.pop(table, None)

    def _erased(self, table: str, rows: int) -> None:
        if rows:
            self.report.erased[table] = self.report.erased.get(table, 0) + rows

    def _lookup(self, key_id: str) -> bytes | None:
        with self._key_lock:
            return self.sealer.lookup(key_id)

    def _table_columns(self, table: str) -> dict[str, str]:
        """Column -> TEXT/DOUBLE/BIGINT of an existing table (cached)."""
        if table not in self._columns:
            rows = self.wh.fetchall(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                (self.raw, table),
            )
            self._columns[table] = {name: _normalize_type(kind) for name, kind in rows}
        return self._columns[table]

    def _ensure_columns(self, table: str, data: pa.Table) -> dict[str, str]:
        """Create the table of an unknown stream, or add the columns a part brings."""
        columns = self._table_columns(table)
        known = table in TABLES
        wanted = [
            (f.name, TEXT if known else _sql_type(f.type))
            for f in data.schema
            if f.name not in columns
        ]
        if not columns:
            self._create(table, [*wanted, *LAKE_COLUMNS])
        else:
            for name, sql_type in wanted:
                self.wh.execute(
                    f"ALTER TABLE {qualified(self.raw, table)} ADD COLUMN {quote(name)} {sql_type}"
                )
        self._columns.pop(table, None)
        return self._table_columns(table)

    # ---- bookkeeping --------------------------------------------------------------------
    def loaded(self) -> dict[str, tuple[str, str | None]]:
        """lake path -> (checksum, table) of every object loaded before."""
        rows = self.wh.fetchall(
            f"SELECT lake_path, checksum, table_name FROM {qualified(self.raw, LOADS)}"
        )
        return {path: (checksum, table) for path, checksum, table in rows}

    def forget(self, objects: list[tuple[str, str | None]]) -> None:
        """Delete the rows of objects that changed or left the commit, and their _loads."""
        by_table: dict[str, list[str]] = {}
        for path, table in objects:
            if table:
                by_table.setdefault(table, []).append(path)
        for table, paths in sorted(by_table.items()):
            if self.wh.table_exists(self.raw, table):
                self._delete_paths(table, "_lake_path", paths)
        self._delete_paths(LOADS, "lake_path", [path for path, _ in objects])

    def _delete_paths(self, table: str, column: str, paths: list[str]) -> None:
        for start in range(0, len(paths), _DELETE_CHUNK):
            chunk = paths[start : start + _DELETE_CHUNK]
            marks = ", ".join("?" * len(chunk))
            self.wh.execute(
                f"DELETE FROM {qualified(self.raw, table)} WHERE {quote(column)} IN ({marks})",
                chunk,
            )

    def _done(self, obj: _Object, table: str, rows: int) -> None:
        self._loads.append((obj.path, obj.stat.checksum, table, rows))
        self.report.rows[table] = self.report.rows.get(table, 0) + rows

    def record_loads(self) -> None:
        if not self._loads:
            return
        paths, checksums, tables, rows = zip(*self._loads, strict=True)
        data = pa.table(
            {
                "lake_path": pa.array(paths, pa.string()),
                "checksum": pa.array(checksums, pa.string()),
                "table_name": pa.array(tables, pa.string()),
                "rows": pa.array(rows, pa.int64()),
                "lake_commit": pa.array([self.commit_id] * len(paths), pa.string()),
            }
        )
        self.wh.insert_arrow(self.raw, LOADS, data)

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        schema = pa.schema([pa.field(name, _ARROW[sql_type]) for name, sql_type in TABLES[table]])
        self.wh.insert_arrow(self.raw, table, pa.Table.from_pylist(rows, schema=schema))

    # ---- Parquet parts ------------------------------------------------------------------
    def load(self, parts: list[_Object]) -> None:
        for obj in parts:
            data = self._with_customer_key(self._read_part(obj))
            columns = self._ensure_columns(obj.table, data)
            data = _conform(data, columns, obj.path)
            n = data.num_rows
            data = data.append_column("_lake_commit", pa.array([self.commit_id] * n, pa.string()))
            data = data.append_column("_lake_path", pa.array([obj.path] * n, pa.string()))
            self.wh.insert_arrow(self.raw, obj.table, data)
            self._done(obj, obj.table, n)

    def _with_customer_key(self, data: pa.Table) -> pa.Table:
        """``data`` with ``customer_key`` (the pseudonym) beside its ``customer_id``."""
        if "customer_id" not in data.column_names:
            return data
        ids = data.column("customer_id").to_pylist()
        keys = [None if i is None else customer_key(str(i), self.key) for i in ids]
        data = data.drop_columns([c for c in data.column_names if c == "customer_key"])
        return data.append_column("customer_key", pa.array(keys, pa.string()))

    def _read_part(self, obj: _Object) -> pa.Table:
        """The part's rows, opened; rows of erased subjects counted and left out."""
        raw = self.lake.read_bytes(self.repository, self.commit_id, obj.path)
        try:
            data = pq.read_table(pa.BufferReader(raw))
        except (pa.ArrowException, OSError, ValueError) as err:
            raise LoadError(f"{obj.path}: unreadable Parquet part ({err})") from err
        with _opening_errors(obj.path):
            opened = self.sealer.open_table(data)
        self._erased(obj.table, opened.erased_rows)
        data = opened.table
        drop = [c for c in data.column_names if c in {"_lake_commit", "_lake_path"}]
        return data.drop_columns(drop) if drop else data

    # ---- recordings ---------------------------------------------------------------------
    def load_recordings(self, wavs: list[_Object]) -> None:
        """One row per WAV (call recordings, voice-corpus audio), from its header."""
        if not wavs:
            return
        with ThreadPoolExecutor(max_workers=min(self.workers, len(wavs))) as pool:
            headers = list(pool.map(self._wav_header, wavs))
        rows: dict[str, list[dict[str, Any]]] = {}
        for obj, header in zip(wavs, headers, strict=True):
            if header is None:  # sealed under a destroyed key: an erased subject's call
                self._erased(obj.table, 1)
                self._done(obj, obj.table, 0)
                continue
            rate, channels, width, frames, size = header
            key = TABLES[obj.table][0][0]  # call_id | utterance_id
            rows.setdefault(obj.table, []).append(
                {
                    key: obj.path.rsplit("/", 1)[-1].rsplit(".", 1)[0],
                    "lake_path": obj.path,
                    "size_bytes": size,
                    "sample_rate": rate,
                    "channels": channels,
                    "sample_width": width,
                    "duration_s": frames / rate if rate else None,
                    "dt": obj.dt,
                    "_lake_commit": self.commit_id,
                    "_lake_path": obj.path,
                }
            )
            self._done(obj, obj.table, 1)
        for table, table_rows in rows.items():
            self._insert(table, table_rows)

    def _wav_header(self, obj: _Object) -> tuple[int, int, int, int, int] | None:
        """(sample rate, channels, sample width, frames, plain size) from the first bytes of
        the object (a sealed one is read whole and opened); None when its key was destroyed."""
        with self.lake.open(self.repository, self.commit_id, obj.path) as stream:
            head = _read_at_least(stream, WAV_HEADER_BYTES)
            size = obj.stat.size_bytes
            if head.startswith(BLOB_MAGIC):
                with _opening_errors(obj.path):
                    plain = codec.open_blob(head + stream.read(), self._lookup)
                if plain is None:
                    return None
                head, size, stream = plain, len(plain), io.BytesIO(b"")
            while True:
                try:
                    with wave.open(io.BytesIO(head)) as wav:
                        return (
                            wav.getframerate(),
                            wav.getnchannels(),
                            wav.getsampwidth(),
                            wav.getnframes(),
                            size,
                        )
                except (wave.Error, EOFError) as err:
                    # the data chunk may come after a long LIST chunk: read on, up to a limit
                    more = b""
                    if len(head) < WAV_HEADER_LIMIT:
                        more = _read_at_least(stream, len(head))
                    if not more:
                        raise LoadError(f"{obj.path}: unreadable WAV header ({err})") from err
                    head += more

    # ---- quarantine ---------------------------------------------------------------------
    def load_quarantine(self, files: list[_Object]) -> None:
        for obj in files:
            with _opening_errors(obj.path):
                rows = list(self._quarantine_rows(obj))
            self._insert(QUARANTINE, rows)
            self._done(obj, QUARANTINE, len(rows))

    def _quarantine_rows(self, obj: _Object) -> Iterator[dict[str, Any]]:
        text = self.lake.read_bytes(self.repository, self.commit_id, obj.path)
        try:
            lines = text.decode("utf-8").splitlines()
        except UnicodeDecodeError as err:
            raise LoadError(f"{obj.path}: not UTF-8 text ({err})") from err
        partition = obj.path.rsplit("/", 1)[0]
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as err:
                raise LoadError(f"{obj.path}: line {number} is not JSON ({err})") from err
            if not isinstance(entry, dict):
                raise LoadError(f"{obj.path}: line {number} is not a JSON object")
            entry = self.sealer.open_entry(entry)
            if entry is None:  # sealed under a destroyed key: an erased subject's reject
                self._erased(QUARANTINE, 1)
                continue
            row = {
                "dt": obj.dt,
                "reason": _text(entry.get("reason")),
                "run_id": _text(entry.get("run_id")),
                "line": number,
                "_lake_commit": self.commit_id,
                "_lake_path": obj.path,
            }
            if obj.kind == "reasons":
                file = entry.get("file")
                row |= {
                    "source": obj.source,
                    "stream": obj.stream,
                    "record": line.strip(),
                    "lake_path": entry.get("path") or (f"{partition}/{file}" if file else None),
                }
            else:
                row |= {
                    "source": _text(entry.get("source")) or obj.source,
                    "stream": _text(entry.get("stream")) or obj.stream,
                    "record": json.dumps(
                        entry.get("record"), ensure_ascii=False, sort_keys=True, default=str
                    ),
                    "lake_path": obj.path,
                }
            yield row


# ---- helpers ----------------------------------------------------------------------------


@contextlib.contextmanager
def _opening_errors(path: str) -> Iterator[None]:
    """Sealed data that names a key the store never held, or does not open: ``LoadError``."""
    try:
        yield
    except KeyUnknownError as err:
        raise LoadError(f"{path}: {err}") from err
    except SealedDataError as err:
        raise LoadError(f"{path}: {err}") from err


_ARROW = {TEXT: pa.string(), DOUBLE: pa.float64(), BIGINT: pa.int64()}


def _normalize_type(data_type: str) -> str:
    kind = data_type.lower()
    if any(word in kind for word in ("double", "float", "real", "numeric", "decimal")):
        return DOUBLE
    if "int" in kind:
        return BIGINT
    return TEXT


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _read_at_least(stream: Any, n: int) -> bytes:
    """Up to ``n`` bytes (fewer only at the end of the stream)."""
    chunks: list[bytes] = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    kind = column.type
    if pa.types.is_string(kind):
        return column
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return pa.array([None if v is None else _text(v) for v in column.to_pylist()], pa.string())
    return pc.cast(column, pa.string())


def _conform(data: pa.Table, columns: dict[str, str], path: str) -> pa.Table:
    """The part's columns cast to the types of the table's columns."""
    arrays = []
    for name in data.column_names:
        column = data.column(name)
        target = columns[name]
        try:
            if target == TEXT:
                arrays.append(_as_text(column))
            else:
                arrays.append(pc.cast(column, _ARROW[target]))
        except (pa.ArrowException, ValueError, TypeError) as err:
            raise LoadError(
                f"{path}: column {name} ({column.type}) does not load as {target} ({err})"
            ) from err
    return pa.table(arrays, names=data.column_names)
