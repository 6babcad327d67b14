"""Warehouse build: publish day by day (load + dbt build + tests), Dagster vs plain dbt, re-runs.

For each warehouse target (DuckDB, then Postgres in a scratch database), in a fresh Python
process of its own (the Dagster code location fixes its dbt target when it is imported) and a
scratch ``VOICEOPS_HOME`` (local lake, fsync on, ephemeral Dagster instance):

1. Day by day, simulate the day (``write_day``, audio off; day 1 has 3x the calls, at least
   900, so the coverage test has enough examples per intent x language) and ingest it with
   ``orchestration.runs.ingest_day`` (the Dagster ingestion job) -- not part of the timings,
   reported apart -- then publish it with ``audit_and_publish()`` (the Dagster
   ``audit_publish_job``). Each ingest branch forks from ``main``, which holds every day
   published before, so the audit schema of day N holds N days of data and the ``published``
   schema grows by a day per publish. Each publish is split with the run's step stats:
   ``warehouse_raw`` (load of the branch into its audit schema), ``voiceops_dbt`` (``dbt build``:
   every model and test, as asset checks) and ``lake__published`` (merge into main, load main
   into ``published``, plain ``dbt build`` of ``published``); the seconds of each
   ``load_commit`` come from the ``_load_runs`` table it writes.
2. Dagster overhead: the last audit schema is built again with plain ``dbt_build`` (the same
   models, the same data) and compared with the ``voiceops_dbt`` step of its Dagster run.
   dbt cannot partial-parse in that step (dagster-dbt copies a parse made without the
   ``--vars``), so the target compares it with the first plain build, which parses in full
   too; a second plain build, with its partial parse warm, is shown as well.
3. Re-runs with no new data: ``load_commit`` of the same commit into the same schema (it must
   load 0 objects), and ``audit_and_publish()`` with every branch published (it must fail with
   "no unpublished ingest-* branch"; how long it takes to say so).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO

from bench._common import (
    MB,
    PROJECT_DIR,
    Figure,
    bench_main,
    format_table,
    ratio,
    scratch_dir,
    timed,
    write_results,
)

NAME = "warehouse_build"
TARGETS = ("duckdb", "postgres")
DAYS = 10
QUICK_DAYS = 3
CALLS = 300
QUICK_CALLS = 100
FIRST_DAY_FACTOR = 3
#: Day 1 has at least this many calls: with fewer, the coverage test (3 training examples
#: per intent x language) fails and the day is not published (300 calls do not make it).
FIRST_DAY_MIN_CALLS = 900
SEED = 20260401
BAD_RATE = 0.02
REPOSITORY = "contact-center"
PG_DATABASE = "voiceops_bench_warehouse"
INSTALL_DIR = PROJECT_DIR / ".voiceops" / "airbyte-test"
BYTES_PER_CALL = 40_000  # lake + warehouse + dbt targets, audio off (generous)
NO_BRANCH_MESSAGE = "no unpublished ingest-* branch"
#: Targets: from the issue (a re-run loads nothing; Dagster adds at most half again over plain
#: dbt) and from the brief of this benchmark (wall time of the whole run).
DAGSTER_OVERHEAD_TARGET = 1.5
WALL_TARGET_S = 12 * 60
QUICK_WALL_TARGET_S = 4 * 60


#: Where a target's process writes its progress lines (its stdout and stderr, with the
#: output of Dagster and dbt, go to a log file).
_progress: TextIO | None = None


def log(target: str, message: str) -> None:
    print(f"[{NAME}/{target}] {message}", file=_progress or sys.stdout, flush=True)


def _day_calls(day: int, calls: int) -> int:
    return max(calls * FIRST_DAY_FACTOR, FIRST_DAY_MIN_CALLS) if day == 1 else calls


@contextlib.contextmanager
def _output_to(log_file: Path) -> Iterator[None]:
    """This process's stdout and stderr (subprocesses included) into ``log_file``."""
    global _progress
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    _progress = os.fdopen(os.dup(1), "w", buffering=1)
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for leftover in (fd, *saved):
            os.close(leftover)
        _progress.close()
        _progress = None


# --------------------------------------------------------------------------- environment


@contextlib.contextmanager
def _voiceops_env(home: Path, target: str) -> Iterator[None]:
    """A scratch ``VOICEOPS_HOME``, the shared connector install dir, no ``DAGSTER_HOME``."""
    saved = dict(os.environ)
    for key in (
        "DAGSTER_HOME",
        "VOICEOPS_SOURCES_DIR",
        "VOICEOPS_LAKE_REPOSITORY",
        "VOICEOPS_LAKE_FSYNC",
        "AIRBYTE_REST_API_BASE_URL",
    ):
        os.environ.pop(key, None)
    os.environ.update(
        {
            "VOICEOPS_HOME": str(home),
            "VOICEOPS_LAKE_BACKEND": "local",
            "VOICEOPS_CRM_API_URL": "http://127.0.0.1:9",  # closed: ingestion serves the CRM
            "AIRBYTE_INSTALL_DIR": str(INSTALL_DIR),
            "DBT_TARGET": target,
            "VOICEOPS_PG_DATABASE": PG_DATABASE,
        }
    )
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def _drop_pg_database() -> None:
    """Drop the scratch Postgres database (connections of dead processes included)."""
    import psycopg2

    from core.settings import Settings

    settings = Settings()
    admin = psycopg2.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        user=settings.pg_user,
        password=settings.pg_password.get_secret_value(),
        dbname="postgres",
    )
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    finally:
        admin.close()


class _Runs:
    """Keeps the Dagster instance of each run ``orchestration.runs`` starts (for step stats)."""

    def __init__(self) -> None:
        self.instances: list[Any] = []

    @contextlib.contextmanager
    def capturing(self) -> Iterator[None]:
        from orchestration import runs as pipeline

        original = pipeline.dagster_instance

        def instance() -> Any:
            made = original()
            self.instances.append(made)
            return made

        pipeline.dagster_instance = instance
        try:
            yield
        finally:
            pipeline.dagster_instance = original

    def last_run(self) -> tuple[Any, Any]:
        """(instance, run) of the newest run."""
        instance = self.instances[-1]
        return instance, instance.get_runs(limit=1)[0]


def _step_seconds(instance: Any, run_id: str) -> dict[str, float]:
    """Seconds of each step of a run, from its step stats."""
    return {
        s.step_key: (s.end_time or 0.0) - (s.start_time or 0.0)
        for s in instance.get_run_step_stats(run_id)
    }


def _step(steps: dict[str, float], name: str) -> float:
    keys = [k for k in steps if k == name or k.endswith(name)]
    if len(keys) != 1:
        raise RuntimeError(f"no single step {name!r} in {sorted(steps)}")
    return steps[keys[0]]


def _run_wall(run: Any, instance: Any) -> float:
    record = instance.get_run_record_by_id(run.run_id)
    return (record.end_time or 0.0) - (record.start_time or 0.0)


# --------------------------------------------------------------------------- one target


def _last_load(warehouse: Any, schema: str) -> dict[str, Any]:
    """The newest ``_load_runs`` row of ``schema`` (what the last ``load_commit`` did)."""
    from warehouse.connection import qualified
    from warehouse.load import LOAD_RUNS
    from warehouse.schemas import raw_schema

    row = warehouse.fetchone(
        "SELECT objects_loaded, objects_skipped, rows_loaded, seconds FROM "
        f"{qualified(raw_schema(schema), LOAD_RUNS)} ORDER BY loaded_at DESC LIMIT 1"
    )
    if row is None:
        raise RuntimeError(f"no load recorded in {schema}")
    return dict(
        zip(("objects_loaded", "objects_skipped", "rows_loaded", "seconds"), row, strict=True)
    )


def _schema_rows(warehouse: Any, schema: str) -> dict[str, int]:
    """Rows of the raw calls table and of the NLU mart of ``schema``."""
    from warehouse.schemas import layer_schema

    return {
        "calls": warehouse.count(layer_schema(schema, "raw"), "call_exports_calls"),
        "nlu_examples": warehouse.count(layer_schema(schema, "marts"), "nlu_examples"),
    }


def run_target(target: str, home: str, days: int, calls: int, log_file: str) -> dict[str, Any]:
    """Everything for one warehouse target (run in a process of its own)."""
    home_path = Path(home)
    home_path.mkdir(parents=True, exist_ok=True)
    run_ids: list[str] = []
    with _output_to(Path(log_file)), _voiceops_env(home_path, target):
        try:
            return _run_target(target, home_path, days, calls, run_ids)
        finally:
            _remove_dbt_targets(run_ids)


def _remove_dbt_targets(run_ids: Sequence[str]) -> None:
    """The target dirs dagster-dbt made for our runs (``dbt_project/target/<op>-<run>-*``)."""
    from warehouse.dbt_build import DBT_PROJECT_DIR

    for run_id in run_ids:
        for path in (DBT_PROJECT_DIR / "target").glob(f"voiceops_dbt-{run_id[:7]}-*"):
            shutil.rmtree(path, ignore_errors=True)


def _run_target(
    target: str, home: Path, days: int, calls: int, run_ids: list[str]
) -> dict[str, Any]:
    from core.settings import Settings
    from ingestion.simulator.day import write_day
    from versioning.lake import open_lake

    settings = Settings()
    lake = open_lake(settings)
    started = time.perf_counter()
    import_s, _ = timed(lambda: __import__("orchestration.runs"))
    import_s += timed(lambda: __import__("orchestration.definitions"))[0]
    from orchestration.runs import audit_and_publish, ingest_day
    from warehouse.connection import Warehouse
    from warehouse.dbt_build import dbt_build
    from warehouse.load import load_commit
    from warehouse.schemas import PUBLISHED, audit_schema

    runs = _Runs()
    publishes: list[dict[str, Any]] = []
    with runs.capturing():
        for day in range(1, days + 1):
            n = _day_calls(day, calls)
            simulate_s, _ = timed(
                lambda day=day, n=n: write_day(
                    settings.sources_root, day, n, SEED, bad_rate=BAD_RATE, audio=False
                )
            )
            ingest_s, ingested = timed(lambda day=day: ingest_day(day, lake, REPOSITORY))
            log(target, f"day {day}: {n:,} calls ingested ({ingest_s:.1f} s); publishing ...")
            publish_s, outcome = timed(audit_and_publish)
            if not outcome.success or outcome.branch != ingested.branch:
                raise RuntimeError(
                    f"publish of day {day} ({ingested.branch}) failed: {outcome.summary} "
                    f"{outcome.failed_checks}"
                )
            instance, run = runs.last_run()
            run_ids.append(run.run_id)
            steps = _step_seconds(instance, outcome.run_id)
            schema = audit_schema(outcome.branch)
            with Warehouse.from_settings(settings) as warehouse:
                audit_load = _last_load(warehouse, schema)
                published_load = _last_load(warehouse, PUBLISHED)
                audit_rows = _schema_rows(warehouse, schema)
                published_rows = _schema_rows(warehouse, PUBLISHED)
            raw_step = _step(steps, "warehouse_raw")
            dbt_step = _step(steps, "voiceops_dbt")
            published_step = _step(steps, "published")
            publishes.append(
                {
                    "day": day,
                    "calls": n,
                    "simulate_s": simulate_s,
                    "ingest_s": ingest_s,
                    "branch": outcome.branch,
                    "commit_id": outcome.commit_id,
                    "schema": schema,
                    "run_id": outcome.run_id,
                    "summary": outcome.summary,
                    "publish_s": publish_s,
                    "run_wall_s": _run_wall(run, instance),
                    "steps_s": steps,
                    "raw_step_s": raw_step,
                    "audit_load": audit_load,
                    "dbt_step_s": dbt_step,
                    "published_step_s": published_step,
                    "published_load": published_load,
                    "published_rest_s": published_step - published_load["seconds"],
                    "load_s": audit_load["seconds"] + published_load["seconds"],
                    "dbt_s": dbt_step + published_step - published_load["seconds"],
                    "orchestration_s": publish_s - raw_step - dbt_step - published_step,
                    "audit_rows": audit_rows,
                    "published_rows": published_rows,
                }
            )
            log(
                target,
                f"day {day}: published in {publish_s:.1f} s (load {audit_load['seconds']:.1f} s, "
                f"dbt step {dbt_step:.1f} s, publish step {published_step:.1f} s); "
                f"audit schema {audit_rows['calls']:,} calls",
            )

        last = publishes[-1]
        # ---- 2. plain dbt build of the same models, same data
        log(target, f"plain dbt_build of {last['schema']} (x2) ...")
        plain = []
        for _ in range(2):
            seconds, built = timed(lambda: dbt_build(settings, last["schema"]))
            failed = [c.name for c in built.checks if not c.passed]
            if built.returncode != 0 or failed:
                raise RuntimeError(f"plain dbt build failed {failed}: {built.log_tail[-2000:]}")
            plain.append(seconds)

        # ---- 3. re-runs with nothing new
        log(target, "re-run: load_commit of the same commit, audit_and_publish with nothing new")
        with Warehouse.from_settings(settings) as warehouse:
            reload_s, reload = timed(
                lambda: load_commit(lake, REPOSITORY, last["commit_id"], warehouse, last["schema"])
            )
        empty_started = time.perf_counter()
        try:
            audit_and_publish()
        except RuntimeError as err:
            empty_s = time.perf_counter() - empty_started
            empty_error = str(err)
        else:
            raise RuntimeError("audit_and_publish() with nothing new did not fail")
        instance, run = runs.last_run()
        failures = [
            str(entry.dagster_event.event_specific_data)
            for entry in instance.all_logs(run.run_id)
            if entry.dagster_event is not None and entry.dagster_event.is_step_failure
        ]
        said_so = any(NO_BRANCH_MESSAGE in text for text in failures)
    return {
        "target": target,
        "days": days,
        "calls_per_day": calls,
        "import_s": import_s,
        "publishes": publishes,
        "plain_dbt_s": plain,
        "reload": reload.to_dict() | {"wall_s": reload_s},
        "empty": {
            "seconds": empty_s,
            "error": empty_error,
            "run_wall_s": _run_wall(run, instance),
            "says_no_unpublished_branch": said_so,
            "step_failures": failures,
        },
        "home_bytes": sum(p.stat().st_size for p in home.rglob("*") if p.is_file()),
        "wall_s": time.perf_counter() - started,
    }


def _in_child(target: str, home: Path, days: int, calls: int) -> dict[str, Any]:
    """``run_target`` in a fresh interpreter (spawned: nothing imported from this one)."""
    from bench import warehouse_build  # by its module name, also when run as __main__

    log_file = home.parent / f"{target}.log"
    log(target, f"{days} days in a fresh process (its output: {log_file}) ...")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            job = pool.submit(
                warehouse_build.run_target, target, str(home), days, calls, str(log_file)
            )
            return job.result()
    except Exception:
        tail = log_file.read_text(errors="replace").splitlines()[-60:] if log_file.exists() else []
        print(f"[{NAME}/{target}] failed; the end of its output:", *tail, sep="\n", flush=True)
        raise


# --------------------------------------------------------------------------- report


def _publish_table(result: dict[str, Any]) -> str:
    rows = []
    for p in result["publishes"]:
        rows.append(
            [
                p["day"],
                p["audit_rows"]["calls"],
                p["publish_s"],
                p["audit_load"]["seconds"],
                p["dbt_step_s"],
                p["published_load"]["seconds"],
                p["published_rest_s"],
                p["orchestration_s"] + p["raw_step_s"] - p["audit_load"]["seconds"],
                p["load_s"],
                p["dbt_s"],
                p["ingest_s"],
            ]
        )
    return format_table(
        [
            "day",
            "calls in audit",
            "publish s",
            "load audit",
            "dbt step",
            "load pub",
            "merge+dbt pub",
            "other",
            "load s",
            "dbt s",
            "(ingest s)",
        ],
        rows,
    )


def _target_summary(result: dict[str, Any]) -> dict[str, Any]:
    first, last = result["publishes"][0], result["publishes"][-1]
    plain_cold, plain_warm = result["plain_dbt_s"]
    return {
        "first": first,
        "last": last,
        "plain_cold": plain_cold,
        "plain_warm": plain_warm,
        # Like for like: the Dagster step cannot partial-parse either (its vars differ from
        # the parse it copies), so the target compares it with the full-parse plain build.
        "overhead": ratio(last["dbt_step_s"], plain_cold),
        "overhead_warm": ratio(last["dbt_step_s"], plain_warm),
    }


def _print_target(result: dict[str, Any], summary: dict[str, Any]) -> None:
    target, days = result["target"], result["days"]
    first, last = summary["first"], summary["last"]
    prep = sum(p["simulate_s"] + p["ingest_s"] for p in result["publishes"])
    print(
        f"\n{target}: {days} days published one by one ({first['calls']:,} calls on day 1, "
        f"{result['calls_per_day']:,} a day after; seed {SEED}, audio off); "
        f"simulate + ingest (not timed below) {prep:.0f} s\n"
    )
    print(_publish_table(result))
    print(
        "\n  load audit = load_commit of the branch into its audit schema (warehouse_raw step);"
        "\n  dbt step = voiceops_dbt (dbt build + tests of the audit schema, via Dagster);"
        "\n  load pub / merge+dbt pub = the lake__published step: load main into `published`,"
        "\n  then merge + plain dbt build of `published`; other = the rest of the run;"
        "\n  load s / dbt s = both loads / both dbt builds.\n"
    )
    reload, empty = result["reload"], result["empty"]
    rows = [
        [f"publish, 1 day (day 1, {first['audit_rows']['calls']:,} calls)", first["publish_s"],
         first["load_s"], first["dbt_s"]],
        [f"publish, {days} days (day {days}, {last['audit_rows']['calls']:,} calls)",
         last["publish_s"], last["load_s"], last["dbt_s"]],
        [f"Dagster dbt step, day {days} audit schema", last["dbt_step_s"], "", last["dbt_step_s"]],
        ["plain dbt_build, same schema (1st: full parse)", summary["plain_cold"], "",
         summary["plain_cold"]],
        ["plain dbt_build, same schema (2nd: partial parse)", summary["plain_warm"], "",
         summary["plain_warm"]],
        [f"re-run load_commit, same commit: {reload['objects_loaded']} objects loaded, "
         f"{reload['objects_skipped']:,} skipped", reload["wall_s"], reload["seconds"], ""],
        ["audit_and_publish, nothing new (fails: "
         + ("says " + repr(NO_BRANCH_MESSAGE) if empty["says_no_unpublished_branch"] else "??")
         + ")", empty["seconds"], "", ""],
    ]  # fmt: skip
    print(format_table(["measure", "seconds", "load s", "dbt s"], rows))
    print(
        f"\n{target}: Dagster dbt step / plain dbt build = {summary['overhead']:.2f}x with the "
        f"same (full) parse; {summary['overhead_warm']:.2f}x against a plain build whose "
        "partial parse is warm"
    )


def run(quick: bool = False) -> dict[str, Any]:
    days = QUICK_DAYS if quick else DAYS
    calls = QUICK_CALLS if quick else CALLS
    total_calls = sum(_day_calls(day, calls) for day in range(1, days + 1))
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    with scratch_dir(NAME, 4 * total_calls * BYTES_PER_CALL + 300 * MB) as tmp:
        for target in TARGETS:
            if target == "postgres":
                _drop_pg_database()
            try:
                results.append(_in_child(target, tmp / target, days, calls))
            finally:
                if target == "postgres":
                    _drop_pg_database()
    wall = time.perf_counter() - started

    summaries = {r["target"]: _target_summary(r) for r in results}
    for result in results:
        _print_target(result, summaries[result["target"]])

    rows = []
    for r in results:
        s = summaries[r["target"]]
        rows.append(
            [
                r["target"],
                s["first"]["publish_s"],
                s["last"]["publish_s"],
                s["last"]["load_s"],
                s["last"]["dbt_s"],
                s["overhead"],
                r["reload"]["objects_loaded"],
                r["reload"]["wall_s"],
                r["empty"]["seconds"],
            ]
        )
    print(f"\nBoth targets ({days} days; wall {wall:.0f} s)\n")
    print(
        format_table(
            [
                "target",
                "publish 1 day s",
                f"publish {days} days s",
                "load s",
                "dbt s",
                "dagster/plain dbt",
                "re-run objects",
                "re-run s",
                "nothing new s",
            ],
            rows,
        )
    )

    figures: list[Figure] = []
    for r in results:
        t, s = r["target"], summaries[r["target"]]
        figures += [
            Figure(NAME, f"{t}: publish 1 day", s["first"]["publish_s"], "s"),
            Figure(NAME, f"{t}: publish {days} days", s["last"]["publish_s"], "s"),
            Figure(NAME, f"{t}: {days} days, load", s["last"]["load_s"], "s"),
            Figure(NAME, f"{t}: {days} days, dbt build", s["last"]["dbt_s"], "s"),
            Figure(
                NAME,
                f"{t}: Dagster dbt step / plain dbt build",
                s["overhead"],
                "x",
                f"<= {DAGSTER_OVERHEAD_TARGET}",
                s["overhead"] <= DAGSTER_OVERHEAD_TARGET,
            ),
            Figure(
                NAME, f"{t}: Dagster dbt step / plain dbt build (warm)", s["overhead_warm"], "x"
            ),
            Figure(
                NAME,
                f"{t}: re-run load_commit, objects loaded",
                r["reload"]["objects_loaded"],
                "",
                "0",
                r["reload"]["objects_loaded"] == 0,
            ),
            Figure(NAME, f"{t}: re-run load_commit", r["reload"]["wall_s"], "s"),
            Figure(
                NAME,
                f"{t}: audit_and_publish with nothing new",
                r["empty"]["seconds"],
                "s",
                "fails: no unpublished branch",
                r["empty"]["says_no_unpublished_branch"],
            ),
        ]
    wall_target = QUICK_WALL_TARGET_S if quick else WALL_TARGET_S
    figures.append(Figure(NAME, "wall time", wall, "s", f"< {wall_target} s", wall < wall_target))
    data = {
        "bench": NAME,
        "quick": quick,
        "days": days,
        "calls_per_day": calls,
        "first_day_calls": _day_calls(1, calls),
        "seed": SEED,
        "bad_rate": BAD_RATE,
        "python": sys.version.split()[0],
        "targets": results,
        "wall_s": wall,
        "figures": figures,
    }
    print(f"[{NAME}] results: {write_results(NAME, data)}")
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
