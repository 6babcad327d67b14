"""One simulated day of calls ingested end to end: stage by stage, through Dagster, vs copies.

Part 1 calls the ingestion pieces directly, in production order, each timed on its own (dirty
pages flushed between stages, outside the timing): simulate the day (``write_day``, audio on),
import airbyte + the CDK, sync both CRM streams through the CRM REST service, sync the call
export (JSONL preflight + Airbyte source-file), validate, land the records (3 Parquet streams)
and the recordings on an ``ingest-*`` branch of a ``LocalLake(fsync=True)``, and commit.
Landing seals personal fields and recordings (``core.sealing``, keys in a SQLite key store
under the scratch home, made for the day's new customers); the same landings are then
repeated on a second branch with no sealing (records as they are, WAVs streamed plain: the
landing before sealing) as the baseline of the sealing cost, printed as a ratio. A few
records are landed once, untimed, before both, so neither carries the process's first-landing
costs.

Part 2 ingests the same day through the production path, ``orchestration.runs.ingest_day`` (the
real Dagster job, in-process, persistent instance under a scratch ``DAGSTER_HOME``), twice, each
time in a fresh scratch ``VOICEOPS_HOME`` holding a byte-identical copy of the sources and an
empty lake, so it does the same work (full CRM sync, the same calls file). The first run also
sets up the instance storage; the second is the one compared. Airbyte is already imported by
then; importing Dagster + the code location is timed separately.

Part 3, the baseline, copies the same source bytes (calls.jsonl, calls.csv, every WAV, the CRM
SQLite file) with ``shutil.copyfile``, with and without an fsync of every file (best of 3).
Fixed costs, paid once per run and not per record, are measured on their own: importing
airbyte + the CDK, a source-file sync of a one-line export (connector process starts: discover
+ read), an incremental CRM sync with nothing new, and importing Dagster; the ratios are also
printed without them, to show what scales with the day's size.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bench._common import (
    MB,
    PROJECT_DIR,
    Figure,
    bench_main,
    drop_dirty_pages,
    format_table,
    ratio,
    scratch_dir,
    timed,
    write_results,
)

NAME = "ingest_day"
CALLS = 2000
QUICK_CALLS = 300
SEED = 20260101
DAY = 1
BAD_RATE = 0.03
REPOSITORY = "contact-center"
COPY_REPEATS = 3
PROBE_REPEATS = 2
DAGSTER_RUNS = 2
BYTES_PER_CALL = 80_000  # ~74 kB of WAV per call (measured), plus the exports
INSTALL_DIR = PROJECT_DIR / ".voiceops" / "airbyte-test"
CONNECTOR_VENV = ".venv-source-file"
AIRBYTE_MODULES = (
    "airbyte",
    "airbyte_cdk",
    "ingestion.airbyte.declarative",
    "ingestion.airbyte.reader",
)
#: Targets (proposed with this benchmark, not from the issue): a 2,000-call day ingests within
#: a minute; what scales with the day costs at most 5x plain fsync'd copies of its bytes; the
#: orchestrator adds at most half again over the same work done by direct calls. The first two
#: hold for the full size only (at --quick sizes the remaining per-run costs do not amortize).
DAY_SECONDS_TARGET = 60.0
SCALING_TARGET = 5.0
DAGSTER_OVERHEAD_TARGET = 1.5
SEALED_RECORDS = "lake upload: records, sealed (land_records x3)"
SEALED_WAVS = "lake upload: recordings, sealed (land_recordings)"
PLAIN_RECORDS = "baseline: records, no sealing"
PLAIN_WAVS = "baseline: recordings, no sealing (streamed)"

T = TypeVar("T")


# --------------------------------------------------------------------------- environment


def _closed_port() -> int:
    """A local port nothing listens on (so the Dagster path serves the simulated CRM itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _voiceops_env(home: Path, dagster_home: Path | None = None) -> Iterator[None]:
    """``VOICEOPS_HOME`` = ``home`` (local lake, fsync on), the shared connector install dir."""
    from core.settings import get_settings

    saved = dict(os.environ)
    for key in ("VOICEOPS_SOURCES_DIR", "VOICEOPS_LAKE_REPOSITORY", "AIRBYTE_REST_API_BASE_URL"):
        os.environ.pop(key, None)
    os.environ.update(
        {
            "VOICEOPS_HOME": str(home),
            "VOICEOPS_LAKE_BACKEND": "local",
            "VOICEOPS_LAKE_FSYNC": "true",
            "VOICEOPS_CRM_API_URL": f"http://127.0.0.1:{_closed_port()}",
            "AIRBYTE_INSTALL_DIR": str(INSTALL_DIR),
            "DAGSTER_HOME": str(dagster_home or home / "dagster"),
        }
    )
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


# --------------------------------------------------------------------------- stages


class Stages:
    """Timed stages, in order; each after a flush of dirty pages."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def run(
        self,
        name: str,
        fn: Callable[[], T],
        *,
        records: int | Callable[[T], int] | None = None,
        nbytes: int | Callable[[T], int] | None = None,
        ingest: bool = True,
        fixed: bool = False,
    ) -> T:
        drop_dirty_pages()
        print(f"[{NAME}] {name} ...", flush=True)
        seconds, result = timed(fn)
        self.rows.append(
            {
                "stage": name,
                "seconds": seconds,
                "records": records(result) if callable(records) else records,
                "bytes": nbytes(result) if callable(nbytes) else nbytes,
                "ingest": ingest,
                "fixed": fixed,
            }
        )
        return result

    def total(self, ingest_only: bool = True) -> float:
        return sum(r["seconds"] for r in self.rows if r["ingest"] or not ingest_only)

    def seconds(self, name: str) -> float:
        return next(r["seconds"] for r in self.rows if r["stage"] == name)


def _import_airbyte() -> int:
    """Import what the syncs import (PyAirbyte reads its environment at import time)."""
    from ingestion.airbyte import environment

    environment.prepare()
    already = [m for m in AIRBYTE_MODULES if m in sys.modules]
    if already:
        print(f"[{NAME}] note: already imported before the timing: {already}")
    for module in AIRBYTE_MODULES:
        importlib.import_module(module)
    return len(AIRBYTE_MODULES)


def _connector_installed() -> bool:
    return (INSTALL_DIR / CONNECTOR_VENV / "bin" / "python").exists()


def _install_connector(probe: Path) -> float:
    """Install source-file (PyPI) by syncing a one-line export; seconds taken."""
    from ingestion.airbyte.embedded import sync_call_exports

    print(f"[{NAME}] source-file is not installed in {INSTALL_DIR}: installing (~20 s) ...")
    seconds, _ = timed(lambda: sync_call_exports(probe, None, install_dir=INSTALL_DIR))
    return seconds


def _one_line_export(source: Path, target: Path) -> Path:
    """The first line of ``source`` that is a JSON object, as its own export file."""
    import json

    for line in source.read_text(encoding="utf-8").splitlines():
        try:
            if isinstance(json.loads(line), dict):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(line + "\n", encoding="utf-8")
                return target
        except ValueError:
            continue
    raise RuntimeError(f"no JSON object line in {source}")


class _PlainSealer:
    """The sealing baseline: lands records and rejects as they are."""

    def preload(self, customer_ids: Any) -> None:
        return None

    def seal_record(self, record: dict[str, Any]) -> dict[str, Any]:
        return record

    def seal_reject(self, reject: dict[str, Any]) -> dict[str, Any]:
        return reject

    def seal_blob(self, customer_id: str, data: bytes) -> bytes:
        return data


def _warm_up_landing(lake: Any, branch: str, run_id: str, day: Any, checked: Any) -> None:
    """Land a few records once on a scratch branch (untimed): the first landing in a process
    pays one-time costs (Parquet writer, lake directories) that neither the sealed nor the
    plain landing should carry alone."""
    from ingestion import lake_landing, schemas
    from ingestion.validation import Checked

    scratch = f"{branch}-warmup"
    lake.create_branch(REPOSITORY, scratch, branch)
    lake_landing.land_records(
        lake, REPOSITORY, scratch, run_id=run_id, source="warmup", stream="calls", day=day,
        checked=Checked(valid=checked.valid[:10]), schema=schemas.CALLS, sealer=_PlainSealer(),
    )  # fmt: skip
    lake.delete_branch(REPOSITORY, scratch)


def direct_stages(home: Path, calls: int) -> dict[str, Any]:
    """Part 1: the pieces called directly, stage by stage."""
    from core.sealing import Sealer
    from core.settings import get_settings
    from ingestion import lake_landing, schemas, validation
    from ingestion.simulator import layout
    from ingestion.simulator.crm_service import running_crm_service
    from ingestion.simulator.day import write_day
    from versioning.lake.local import LocalLake

    sources = home / "sources"
    day = layout.day_date(DAY)
    run_id = uuid.uuid4().hex
    stages = Stages()
    fixed: dict[str, float] = {}

    report = stages.run(
        "simulate (write_day)",
        lambda: write_day(sources, DAY, calls, SEED, bad_rate=BAD_RATE, audio=True),
        records=calls,
        nbytes=lambda r: r.bytes_written + layout.crm_database(sources).stat().st_size,
        ingest=False,
    )
    export = layout.calls_jsonl(sources, DAY)
    probe = _one_line_export(export, home / "probe" / "calls.jsonl")
    if not _connector_installed():
        fixed["connector install (PyPI, once per machine)"] = _install_connector(probe)

    stages.run("import airbyte + CDK", _import_airbyte, fixed=True)

    from ingestion.airbyte.embedded import crm_state, sync_call_exports, sync_crm

    def crm_sync() -> list:
        with running_crm_service(layout.crm_database(sources), port=0) as base_url:
            return sync_crm(base_url, ["customers", "tickets"], None)

    crm_syncs = stages.run(
        "CRM sync (2 streams, REST)",
        crm_sync,
        records=lambda syncs: sum(len(s.records) for s in syncs),
        nbytes=layout.crm_database(sources).stat().st_size,
    )
    calls_sync = stages.run(
        "call-export sync (preflight + source-file)",
        lambda: sync_call_exports(export, None, install_dir=INSTALL_DIR),
        records=lambda s: len(s.records) + len(s.rejects),
        nbytes=export.stat().st_size,
    )

    def validate() -> dict[tuple[str, str], Any]:
        checked = {("crm", s.stream): validation.check_crm(s.stream, s.records) for s in crm_syncs}
        calls_checked = validation.check_calls(calls_sync.records)
        for reject in calls_sync.rejects:
            calls_checked.reject(
                reject.get("raw"), f"{reject['reason']} (line {reject.get('line')})"
            )
        checked["call_exports", "calls"] = calls_checked
        return checked

    checked = stages.run(
        "validation",
        validate,
        records=lambda c: sum(len(x.valid) + len(x.rejects) for x in c.values()),
    )

    lake = LocalLake(home / "lake", fsync=True)
    branch = lake_landing.ingest_branch_name(run_id, day)
    stages.run(
        "create repository + branch",
        lambda: lake_landing.ensure_ingest_branch(lake, REPOSITORY, branch),
    )
    sync_of = {("crm", s.stream): s for s in crm_syncs} | {("call_exports", "calls"): calls_sync}
    sealer = Sealer.from_settings(get_settings())
    owners = lake_landing.call_owners(export)
    _warm_up_landing(lake, branch, run_id, day, checked["call_exports", "calls"])

    def land_all_records(branch: str = branch, sealer: Any = sealer) -> list:
        return [
            lake_landing.land_records(
                lake,
                REPOSITORY,
                branch,
                run_id=run_id,
                source=source,
                stream=stream,
                day=day,
                checked=checked[source, stream],
                schema=schemas.BY_STREAM[source, stream],
                connector=sync.connector,
                connector_version=sync.connector_version,
                state=sync.state,
                sealer=sealer,
            )
            for (source, stream), sync in sync_of.items()
        ]

    def land_wavs(branch: str = branch, sealer: Any = sealer, owners: Any = owners) -> Any:
        return lake_landing.land_recordings(
            lake,
            REPOSITORY,
            branch,
            run_id=run_id,
            day=day,
            directory=layout.recordings_dir(sources, DAY),
            sealer=sealer,
            owners=owners,
        )

    record_landings = stages.run(
        SEALED_RECORDS,
        land_all_records,
        records=lambda ls: sum(x.records + x.quarantined for x in ls),
        nbytes=lambda ls: sum(x.bytes for x in ls),
    )
    wav_landing = stages.run(
        SEALED_WAVS,
        land_wavs,
        records=lambda x: x.records + x.quarantined,
        nbytes=lambda x: x.bytes,
    )
    plain_branch = f"{branch}-plain"
    lake.create_branch(REPOSITORY, plain_branch, branch)
    stages.run(
        PLAIN_RECORDS,
        lambda: land_all_records(plain_branch, _PlainSealer()),
        records=lambda ls: sum(x.records + x.quarantined for x in ls),
        nbytes=lambda ls: sum(x.bytes for x in ls),
        ingest=False,
    )
    stages.run(
        PLAIN_WAVS,
        lambda: land_wavs(plain_branch, _PlainSealer(), {}),
        records=lambda x: x.records + x.quarantined,
        nbytes=lambda x: x.bytes,
        ingest=False,
    )
    landings = [*record_landings, wav_landing]
    commit = stages.run(
        "commit",
        lambda: lake_landing.commit_ingestion(
            lake, REPOSITORY, branch, run_id=run_id, day=day, landings=landings
        ),
    )
    counts = {
        k: int(v) for k, v in commit.metadata.items() if k.startswith(("records.", "quarantined."))
    }
    if (
        counts.get("records.recordings.wav", 0) + counts.get("quarantined.recordings.wav", 0)
        != calls
    ):
        raise RuntimeError(f"recordings landed do not add up to {calls} calls: {counts}")

    # Fixed costs, measured after the stages so that they do not warm them up.
    print(f"[{NAME}] fixed costs: one-line source-file sync, CRM sync with nothing new ...")
    fixed["source-file start (sync of a 1-line export)"] = min(
        timed(lambda: sync_call_exports(probe, None, install_dir=INSTALL_DIR))[0]
        for _ in range(PROBE_REPEATS)
    )
    with running_crm_service(layout.crm_database(sources), port=0) as base_url:
        state = crm_state(crm_syncs)
        fixed["CRM sync with nothing new (incremental)"] = min(
            timed(lambda: sync_crm(base_url, ["customers", "tickets"], state))[0]
            for _ in range(PROBE_REPEATS)
        )
    return {
        "stages": stages,
        "fixed": fixed,
        "report": report,
        "counts": counts,
        "commit_id": commit.id,
        "branch": branch,
    }


# --------------------------------------------------------------------------- Dagster


def dagster_path(tmp: Path, sources: Path) -> dict[str, Any]:
    """Part 2: ``ingest_day`` (the Dagster job, in-process) on copies of the same sources.

    Run ``DAGSTER_RUNS`` times, each into a fresh ``VOICEOPS_HOME`` (empty lake, so the same
    full syncs as the direct stages) with one persistent Dagster instance, as ``make`` sets it
    up: the first run also creates the instance's storage, the last one is the steady state.
    """
    instance = tmp / "dagster-instance"
    runs: list[dict[str, Any]] = []
    import_s = 0.0
    for index in range(DAGSTER_RUNS):
        home = tmp / f"dagster-{index}"
        shutil.copytree(sources, home / "sources")
        with _voiceops_env(home, instance):
            if index == 0:
                import_s, _ = timed(lambda: importlib.import_module("orchestration.definitions"))
            from orchestration.runs import ingest_day
            from versioning.lake.local import LocalLake

            lake = LocalLake(home / "lake", fsync=True)
            drop_dirty_pages()
            print(f"[{NAME}] Dagster ingest_day, run {index + 1} ...", flush=True)
            seconds, outcome = timed(lambda lake=lake: ingest_day(DAY, lake, REPOSITORY))
        counts = {
            k: int(v)
            for k, v in outcome.commit.metadata.items()
            if k.startswith(("records.", "quarantined."))
        }
        runs.append({"seconds": seconds, "counts": counts, "run_id": outcome.run_id})
        shutil.rmtree(home)
    return {
        "seconds": runs[-1]["seconds"],
        "first_run_s": runs[0]["seconds"],
        "import_s": import_s,
        "counts": runs[-1]["counts"],
        "runs": runs,
    }


# --------------------------------------------------------------------------- baseline


def source_files(sources: Path) -> list[Path]:
    from ingestion.simulator import layout

    return [
        layout.calls_jsonl(sources, DAY),
        layout.calls_csv(sources, DAY),
        *sorted(layout.recordings_dir(sources, DAY).glob("*.wav")),
        layout.crm_database(sources),
    ]


def copy_all(files: Sequence[Path], target: Path, fsync: bool) -> None:
    """``shutil.copyfile`` of every file into ``target`` (+ fsync of each and of the dir)."""
    target.mkdir(parents=True)
    for src in files:
        dst = target / src.name
        shutil.copyfile(src, dst)
        if fsync:
            fd = os.open(dst, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    if fsync:
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def copy_baseline(files: Sequence[Path], tmp: Path) -> dict[str, float]:
    """Best-of-``COPY_REPEATS`` seconds of the plain copies, alternating order."""
    samples: dict[str, list[float]] = {"copy": [], "copy+fsync": []}
    for rep in range(COPY_REPEATS):
        order = ["copy", "copy+fsync"] if rep % 2 == 0 else ["copy+fsync", "copy"]
        for mode in order:
            target = tmp / f"copy-{rep}-{mode}"
            drop_dirty_pages()
            seconds, _ = timed(
                lambda target=target, mode=mode: copy_all(files, target, mode == "copy+fsync")
            )
            samples[mode].append(seconds)
            shutil.rmtree(target)
    return {mode: min(times) for mode, times in samples.items()} | {
        f"{mode} samples": times for mode, times in samples.items()
    }


# --------------------------------------------------------------------------- the run


def _per_s(amount: float | None, seconds: float, scale: float = 1.0) -> float | str:
    return amount / scale / seconds if amount and seconds else ""


def _sealing_rows(stages: Stages) -> list[list[Any]]:
    """(landing, sealed seconds, plain seconds, ratio) for records, recordings and both."""
    pairs = [("records", SEALED_RECORDS, PLAIN_RECORDS), ("recordings", SEALED_WAVS, PLAIN_WAVS)]
    rows = [[name, stages.seconds(sealed), stages.seconds(plain)] for name, sealed, plain in pairs]
    rows.append(["both", rows[0][1] + rows[1][1], rows[0][2] + rows[1][2]])
    return [[*row, ratio(row[1], row[2])] for row in rows]


def run(quick: bool = False) -> dict[str, Any]:
    calls = QUICK_CALLS if quick else CALLS
    with scratch_dir(NAME, 6 * calls * BYTES_PER_CALL + 200 * MB) as tmp:
        direct_home = tmp / "direct"
        started = time.perf_counter()
        with _voiceops_env(direct_home):
            direct = direct_stages(direct_home, calls)
        sources = direct_home / "sources"
        files = source_files(sources)
        source_bytes = sum(f.stat().st_size for f in files)
        print(f"[{NAME}] baseline: copying {len(files):,} source files ...", flush=True)
        copies = copy_baseline(files, tmp)
        dagster = dagster_path(tmp, sources)
        wall = time.perf_counter() - started
    for dagster_run in dagster["runs"]:
        if dagster_run["counts"] != direct["counts"]:
            raise RuntimeError(
                f"Dagster and direct ingestion landed different counts: "
                f"{dagster_run['counts']} vs {direct['counts']}"
            )

    stages: Stages = direct["stages"]
    fixed: dict[str, float] = direct["fixed"]
    ingest_s = stages.total()
    import_s = stages.seconds("import airbyte + CDK")
    start_s = fixed["source-file start (sync of a 1-line export)"]
    copy_s, copy_fsync_s = copies["copy"], copies["copy+fsync"]
    dagster_warm = dagster["seconds"]
    dagster_cold = dagster_warm + import_s + dagster["import_s"]
    direct_warm = ingest_s - import_s
    overhead = ratio(dagster_warm, direct_warm)

    # ---- table 1: stages
    all_s = stages.total(ingest_only=False)
    rows = [
        [
            r["stage"] + (" [fixed]" if r["fixed"] else ""),
            r["seconds"],
            100 * r["seconds"] / all_s,
            100 * r["seconds"] / ingest_s if r["ingest"] else "",
            r["records"] if r["records"] is not None else "",
            _per_s(r["records"], r["seconds"]),
            r["bytes"] / MB if r["bytes"] else "",
            _per_s(r["bytes"], r["seconds"], MB),
        ]
        for r in stages.rows
    ]
    rows.append(
        ["ingestion (all but simulate)", ingest_s, 100 * ingest_s / all_s, 100.0, "", "", "", ""]
    )
    rows.append(["all stages", all_s, 100.0, "", "", "", "", ""])
    report = direct["report"]
    print(
        f"\nOne simulated day: {calls:,} calls (seed {SEED}, audio on, bad rate {BAD_RATE}), "
        f"{report.crm['customers_new']:,} new customers, {report.crm['tickets_new']:,} tickets, "
        f"{source_bytes / MB:.1f} MB of sources; LocalLake fsync=True\n"
    )
    print(
        format_table(
            ["stage", "seconds", "% all", "% ingest", "records", "records/s", "MB", "MB/s"],
            rows,
        )
    )

    # ---- table 2: fixed costs
    fixed_rows = [["import airbyte + CDK (in the stages above)", import_s]]
    fixed_rows += [[name, seconds] for name, seconds in fixed.items()]
    fixed_rows.append(
        ["import dagster + code location (before the Dagster run)", dagster["import_s"]]
    )
    print("\nFixed costs (per run, not per record)\n")
    print(format_table(["fixed cost", "seconds"], fixed_rows))

    # ---- table 3: whole vs copies
    scaling_direct = ingest_s - import_s - start_s
    scaling_dagster = dagster_warm - start_s
    whole_rows = [
        ["plain copies (shutil.copyfile)", copy_s, source_bytes / MB / copy_s, "", "", ""],
        ["plain copies + fsync", copy_fsync_s, source_bytes / MB / copy_fsync_s, "", "", ""],
        [
            "direct stages (all but simulate)",
            ingest_s,
            "",
            ratio(ingest_s, copy_fsync_s),
            ratio(ingest_s, copy_s),
            "",
        ],
        [
            "  without import + source-file start",
            scaling_direct,
            "",
            ratio(scaling_direct, copy_fsync_s),
            ratio(scaling_direct, copy_s),
            "",
        ],
        [
            "Dagster ingest_day, 1st run (+ instance setup)",
            dagster["first_run_s"],
            "",
            ratio(dagster["first_run_s"], copy_fsync_s),
            ratio(dagster["first_run_s"], copy_s),
            ratio(dagster["first_run_s"], direct_warm),
        ],
        [
            f"Dagster ingest_day, run {DAGSTER_RUNS} (airbyte imported)",
            dagster_warm,
            "",
            ratio(dagster_warm, copy_fsync_s),
            ratio(dagster_warm, copy_s),
            overhead,
        ],
        [
            "  + imports (a fresh process)",
            dagster_cold,
            "",
            ratio(dagster_cold, copy_fsync_s),
            ratio(dagster_cold, copy_s),
            ratio(dagster_cold, ingest_s),
        ],
        [
            "  without source-file start",
            scaling_dagster,
            "",
            ratio(scaling_dagster, copy_fsync_s),
            ratio(scaling_dagster, copy_s),
            ratio(scaling_dagster, scaling_direct),
        ],
    ]
    print(
        f"\nWhole ingestion against plain copies of the same {len(files):,} files "
        f"(best of {COPY_REPEATS}); Dagster against the direct stages\n"
    )
    print(
        format_table(["path", "seconds", "MB/s", "x copy+fsync", "x copy", "x direct"], whole_rows)
    )
    print(
        f"\nDagster overhead: {dagster_warm - direct_warm:+.2f} s over the direct stages "
        f"without the airbyte import ({overhead:.2f}x)"
    )

    # ---- table 4: the cost of sealing (same landings, on a second branch, without it)
    sealing = _sealing_rows(stages)
    print("\nSealing at landing against the same landing without it\n")
    print(format_table(["landing", "sealed s", "plain s", "x plain"], sealing))

    figures = [Figure(NAME, f"stage: {r['stage']}", r["seconds"], "s") for r in stages.rows]
    figures += [Figure(NAME, f"sealing / plain: {row[0]}", row[3], "x") for row in sealing]
    figures += [
        Figure(
            NAME,
            f"direct ingestion of {calls:,} calls",
            ingest_s,
            "s",
            "" if quick else f"< {DAY_SECONDS_TARGET:.0f} s",
            None if quick else ingest_s < DAY_SECONDS_TARGET,
        ),
        Figure(NAME, "whole (direct) / copy+fsync", ratio(ingest_s, copy_fsync_s), "x"),
        Figure(
            NAME,
            "whole (direct) w/o fixed costs / copy+fsync",
            ratio(scaling_direct, copy_fsync_s),
            "x",
            "" if quick else f"<= {SCALING_TARGET}",
            None if quick else ratio(scaling_direct, copy_fsync_s) <= SCALING_TARGET,
        ),
        Figure(NAME, "whole (Dagster) / copy+fsync", ratio(dagster_warm, copy_fsync_s), "x"),
        Figure(
            NAME,
            "Dagster overhead over direct stages",
            overhead,
            "x",
            f"<= {DAGSTER_OVERHEAD_TARGET}",
            overhead <= DAGSTER_OVERHEAD_TARGET,
        ),
    ]
    data = {
        "bench": NAME,
        "quick": quick,
        "calls": calls,
        "seed": SEED,
        "source_files": len(files),
        "source_bytes": source_bytes,
        "stages": stages.rows,
        "fixed_s": fixed
        | {"import airbyte + CDK": import_s, "import dagster + code location": dagster["import_s"]},
        "copies_s": copies,
        "dagster": dagster,
        "direct": {
            "counts": direct["counts"],
            "branch": direct["branch"],
            "commit_id": direct["commit_id"],
        },
        "wall_s": wall,
        "figures": figures,
    }
    print(f"[{NAME}] results: {write_results(NAME, data)}")
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
