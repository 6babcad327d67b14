"""``voiceops demo loop``: the retraining loop running by itself, watched from outside.

After ``make demo`` (four champions, published data): switch on the loop's sensors, start
the Dagster daemon and the turn API, simulate a new day, and queue its ingestion as the
nightly schedule's tick would. From there nothing is done by hand: the audit sensor audits
and publishes the day, the retraining sensor retrains the families whose data changed, the
run gates the new versions and starts their canary, simulated callers talk to the API, and
the review sensor advances the canary and decides it. The demo prints each step as it sees
it, stops everything (the sensors too) when the canary is decided or rolled back, prints the
timeline, and checks what it claims (exit 1 when a claim is false or a step times out).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from core.net import free_port
from core.settings import Settings
from ingestion.simulator import layout
from voiceops.cli._output import CliError, esc, say, stdout_console

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKSPACE = REPO_ROOT / "workspace.yaml"
DEMO_TEMPLATE = REPO_ROOT / "experiments" / "canary_demo.yaml"
#: The sensors the loop needs (stopped by default in the code location).
LOOP_SENSORS = ("audit_after_ingest_sensor", "retrain_on_publish_sensor", "canary_review_sensor")
TEXT_FAMILIES = ("nlu", "nlg")
#: Callers per traffic batch and calls in flight at a time (the batches cycle through the
#: CRM's customers: each caller's calls count together, as one user of the experiment).
BATCH_USERS, CONCURRENCY = 40, 6
POLL_S = 2.0
#: ``--worse``: the planted day is this many times larger, so its labels outweigh history.
WORSE_SCALE = 6
#: Run statuses the timeline shows (queued, starting and the like are left out).
SHOWN_STATUSES = ("STARTED", "SUCCESS", "FAILURE", "CANCELED")
#: Characters of a detail the timeline table shows.
DETAIL_CHARS = 240


@dataclass
class Timeline:
    """What happened and when, printed as it is seen."""

    started: float = field(default_factory=time.monotonic)
    rows: list[tuple[float, str, str]] = field(default_factory=list)

    def add(self, what: str, detail: str = "") -> None:
        at = time.monotonic() - self.started
        self.rows.append((at, what, detail))
        say(f"[dim]{at:7.1f} s[/dim] [bold]{esc(what)}[/bold] {esc(detail)}")

    def print(self) -> None:
        table = Table(title="The loop's timeline", title_justify="left")
        table.add_column("at", justify="right")
        table.add_column("step", style="bold")
        table.add_column("detail", overflow="fold")
        for at, what, detail in self.rows:
            short = detail if len(detail) <= DETAIL_CHARS else detail[: DETAIL_CHARS - 3] + "..."
            table.add_row(f"{at:.1f} s", esc(what), esc(short))
        stdout_console().print(table)


def _champions(settings: Settings) -> dict[str, str]:
    from registry.tracking import client
    from registry.versions import CHAMPION, aliases
    from training.families import FAMILIES

    mlflow = client(settings)
    found = {name: aliases(mlflow, f.model_name).get(CHAMPION) for name, f in FAMILIES.items()}
    missing = sorted(name for name, version in found.items() if version is None)
    if missing:
        raise CliError(f"no champion of {', '.join(missing)} yet: run `make demo` first")
    return {name: str(version) for name, version in found.items()}


def next_day(sources_root: Path) -> int:
    """The first simulation day after the last one the simulator wrote."""
    days = [
        (date.fromisoformat(path.stem.removeprefix("dt=")) - layout.EPOCH).days + 1
        for path in (Path(sources_root) / "manifest").glob("dt=*.json")
    ]
    return max(days, default=0) + 1


def _dagster(env: dict[str, str], *args: str) -> None:
    """One ``dagster`` CLI call on the workspace (it loads the code location)."""
    command = [sys.executable, "-m", "dagster", *args, "-w", str(WORKSPACE)]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise CliError(f"dagster {' '.join(args)} failed: {done.stderr.strip()[-800:]}")


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _require_running(process: subprocess.Popen, name: str, log: Path) -> None:
    """A clear error when ``process`` has exited (the end of its log says why)."""
    if process.poll() is not None:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise CliError(f"{name} exited ({process.returncode}): {' | '.join(tail)} (log {log})")


def _stop(process: subprocess.Popen | None, timeout_s: float = 60) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Traffic(threading.Thread):
    """Simulated callers in batches, cycling through the CRM's first customers."""

    def __init__(self, url: str, settings: Settings) -> None:
        super().__init__(daemon=True, name="demo-loop-traffic")
        self.url, self.settings = url, settings
        self.stopping = threading.Event()
        self.turns = self.errors = 0
        self.failures: list[str] = []

    def run(self) -> None:
        from serving.traffic import TrafficGenerator, TrafficPlan, customer_count

        pool = max(customer_count(self.settings.sources_root), BATCH_USERS)
        batch = 0
        while not self.stopping.is_set():
            plan = TrafficPlan(
                users=BATCH_USERS,
                turns=3,
                seed=batch,
                concurrency=CONCURRENCY,
                first_user=(batch * BATCH_USERS) % (pool - BATCH_USERS + 1),
            )
            try:
                report = TrafficGenerator(
                    self.url, plan, self.settings.sources_root, date.today()
                ).run()
            except Exception as error:  # the API may be restarting: go on
                self.failures.append(f"{type(error).__name__}: {error}")
                self.stopping.wait(POLL_S)
                continue
            self.turns += report.turns
            self.errors += sum(report.errors.values()) + sum(report.transport_errors.values())
            batch += 1


@dataclass
class Watch:
    """What the demo has seen of the runs and the canary so far."""

    runs: dict[str, str] = field(default_factory=dict)  # run id -> status seen
    jobs: dict[str, str] = field(default_factory=dict)  # run id -> job name
    transitions: int = 0
    canary: str | None = None
    canary_done: bool = False


def _watch_runs(instance: Any, since: datetime, watch: Watch, timeline: Timeline) -> list[Any]:
    from dagster import RunsFilter

    runs = instance.get_runs(filters=RunsFilter(created_after=since))
    for run in sorted(runs, key=lambda r: r.run_id):
        status = run.status.value
        if watch.runs.get(run.run_id) == status:
            continue
        watch.runs[run.run_id] = status
        watch.jobs[run.run_id] = run.job_name
        if status not in SHOWN_STATUSES:
            continue
        by = run.tags.get("dagster/sensor_name") or run.tags.get("voiceops/trigger", "")
        detail = f"run {run.run_id[:8]} {status.lower()}" + (f" (started by {by})" if by else "")
        if run.job_name == "retrain_job" and status == "STARTED":
            detail += f": families {run.tags.get('voiceops/families', '?')}"
        timeline.add(run.job_name, detail)
        if status == "FAILURE":
            raise CliError(f"{run.job_name} run {run.run_id} failed: {_why(instance, run)}")
    return runs


def _why(instance: Any, run: Any) -> str:
    """The first failed step's message (a refused publish names its failed checks)."""
    from dagster import DagsterEventType

    from orchestration.runs import failure_message

    for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE):
        if entry.dagster_event is not None:
            return failure_message(entry.dagster_event)
    return "see `make ui`"


def _canary_key(instance: Any, retrain_run: str) -> str | None:
    from orchestration.defs.retraining.canary import CANARY_KEY

    event = instance.get_latest_materialization_event(CANARY_KEY)
    if event is None or event.run_id != retrain_run or event.asset_materialization is None:
        return None
    return str(event.asset_materialization.metadata["experiment"].value)


def _watch_canary(settings: Settings, watch: Watch, timeline: Timeline) -> None:
    from experiments.state import StateStore

    store = StateStore(settings)
    history = store.history(watch.canary or "")
    for transition in history[watch.transitions :]:
        timeline.add(f"canary {transition.action}", transition.reason[:300])
    watch.transitions = len(history)
    watch.canary_done = store.get(watch.canary or "").status in ("decided", "stopped")


def _wait(step: str, done: Callable[[], bool], deadline: float, tick: Callable[[], None]) -> None:
    while not done():
        if time.monotonic() > deadline:
            raise CliError(f"timed out waiting for {step}")
        tick()
        time.sleep(POLL_S)


def loop_demo(
    settings: Settings,
    *,
    calls: int = 400,
    seed: int = 7,
    recordings: bool = False,
    size: str = "demo",
    timeout_s: float = 3600,
    worse: bool = False,
) -> None:
    """Run the loop unattended (see the module); exit 1 when a claim is false. ``worse``
    plants a day of shifted intent labels (:mod:`ingestion.simulator.labels`) that no data
    test can see: the version trained on it must never become champion."""
    from ingestion.simulator.day import write_day
    from orchestration.runs import dagster_instance

    champions = _champions(settings)
    timeline = Timeline()
    env = os.environ | {
        "VOICEOPS_HOME": str(settings.home),
        "DAGSTER_HOME": os.environ.get("DAGSTER_HOME") or str(settings.home / "dagster"),
        "VOICEOPS_CANARY_TEMPLATE": str(settings.canary_template or DEMO_TEMPLATE),
        "VOICEOPS_TRAINING_SIZE": size,
        "DO_NOT_TRACK": "1",
    }
    logs = settings.home / "loop"
    day = next_day(settings.sources_root)
    partition = layout.day_date(day).isoformat()
    report = write_day(
        settings.sources_root,
        day,
        calls * WORSE_SCALE if worse else calls,
        seed + day,
        bad_rate=0.01,
        audio=recordings,
        mislabel_rate=1.0 if worse else 0.0,
    )
    planted = f", {report.mislabeled} with shifted intent labels (planted)" if worse else ""
    timeline.add(
        f"day {day} simulated",
        f"{report.calls} calls on {partition}, {'with' if recordings else 'no'} recordings"
        + planted,
    )
    daemon = server = None
    traffic: Traffic | None = None
    since = datetime.now(UTC)
    try:
        for sensor in LOOP_SENSORS:
            _dagster(env, "sensor", "start", sensor)
        timeline.add("sensors on", ", ".join(LOOP_SENSORS))
        daemon = _start(
            [sys.executable, "-m", "dagster._daemon", "run", "-w", str(WORKSPACE)],
            env,
            logs / "daemon.log",
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = _start(
            [sys.executable, "-m", "voiceops.cli", "serve", "--port", str(port)],
            env,
            logs / "serve.log",
        )
        timeline.add("daemon and API started", f"API on {url}, champions {champions}")
        tags = {"voiceops/trigger": "nightly_ingest_schedule's tick, brought forward by the demo"}
        _dagster(
            env,
            "job",
            "launch",
            "-j",
            "ingest_day_job",
            "--tags",
            json.dumps({"dagster/partition": partition, **tags}),
        )
        timeline.add("ingestion queued", f"ingest_day_job, partition {partition}")
        instance = dagster_instance()
        watch = Watch()
        deadline = time.monotonic() + timeout_s

        def tick() -> None:
            _require_running(daemon, "the Dagster daemon", logs / "daemon.log")
            _require_running(server, "the turn API", logs / "serve.log")
            _watch_runs(instance, since, watch, timeline)
            if watch.canary:
                _watch_canary(settings, watch, timeline)

        def retrained() -> bool:
            return any(
                job == "retrain_job" and watch.runs[run] == "SUCCESS"
                for run, job in watch.jobs.items()
            )

        _wait("the retraining run", retrained, deadline, tick)
        retrain_run = next(r for r, j in watch.jobs.items() if j == "retrain_job")
        watch.canary = _canary_key(instance, retrain_run)
        if watch.canary in (None, "none"):
            timeline.add("no canary", "no new version became challenger (see the trace)")
        else:
            timeline.add("canary running", watch.canary)
            traffic = Traffic(url, settings)
            traffic.start()
            _wait(f"canary {watch.canary} to end", lambda: watch.canary_done, deadline, tick)
            time.sleep(POLL_S)
            tick()
    finally:
        if traffic is not None:
            traffic.stopping.set()
            traffic.join(timeout=120)
        _stop(server)
        _stop(daemon)
        for sensor in LOOP_SENSORS:
            try:
                _dagster(env, "sensor", "stop", sensor)
            except CliError as error:
                say(f"[yellow]could not stop {sensor}: {esc(error)}[/yellow]")
    if traffic is not None:
        failed = f", batches failed: {traffic.failures[:3]}" if traffic.failures else ""
        timeline.add("callers", f"{traffic.turns} turns, {traffic.errors} errors{failed}")
    timeline.print()
    _report(settings, instance, watch, recordings, champions, retrain_run, worse)


def _report(
    settings: Settings,
    instance: Any,
    watch: Watch,
    recordings: bool,
    champions: dict[str, str],
    retrain_run: str,
    worse: bool,
) -> None:
    """The trace of each new version and the checked claims."""
    from dagster import RunsFilter

    from experiments.state import StateStore
    from registry.loop_trace import trace
    from registry.tracking import client
    from registry.versions import CHAMPION, aliases
    from training.families import FAMILIES

    run = instance.get_run_by_id(retrain_run)
    families = run.tags.get("voiceops/families", "").split(",")
    runs = instance.get_runs(filters=RunsFilter(run_ids=list(watch.runs)))
    by_sensor = all(
        r.tags.get("dagster/sensor_name") for r in runs if r.job_name != "ingest_day_job"
    )
    mlflow = client(settings)
    traces = {}
    for name in families:
        version = aliases(mlflow, FAMILIES[name].model_name)
        newest = max(
            int(v.version)
            for v in mlflow.search_model_versions(f"name='{FAMILIES[name].model_name}'")
        )
        traces[name] = (str(newest), trace(settings, name, str(newest)), version.get(CHAMPION))
    for name, (version, steps, champion) in traces.items():
        say(f"[bold]{name} v{version}[/bold] (champion now v{champion}):")
        for step, value in steps.items():
            say(f"  {step}: {esc(value)}")
    status = StateStore(settings).get(watch.canary).status if watch.canary else "none"
    expected = list(TEXT_FAMILIES) if not recordings else list(FAMILIES)
    decided = all("decision" in steps for _, steps, _ in traces.values())
    # the canary's families: those whose new version it served (the gate refused the others)
    in_canary = {name: t for name, t in traces.items() if "experiment" in t[1]}
    promoted = status == "decided" and all(
        champion == version for version, _, champion in in_canary.values()
    )
    rolled_back = status == "stopped" and all(
        champion == champions[name] for name, (_, _, champion) in in_canary.items()
    )
    claims = [
        (
            f"the new day's runs after its ingestion were started by sensors ({len(runs)} runs)",
            by_sensor and len(runs) >= 3,
        ),
        (
            f"only the families whose data changed were retrained: {', '.join(families)}",
            sorted(families) == sorted(expected),
        ),
        (
            "every new version carries the loop's trace (lake commit, run, gate, decision)",
            decided
            and all({"lake_commit", "run_id", "gate"} <= set(s) for _, s, _ in traces.values()),
        ),
        (
            f"the canary ended in a decision: {status}",
            watch.canary in (None, "none") or promoted or rolled_back,
        ),
    ]
    if worse:
        kept = all(champion == champions[name] for name, (_, _, champion) in traces.items())
        claims.append(
            (
                "no version trained on the mislabelled day became champion "
                f"({'refused by the gate' if watch.canary in (None, 'none') else status})",
                kept,
            )
        )
    failed = [text for text, ok in claims if not ok]
    for text, ok in claims:
        say(("[green]true[/green]  " if ok else "[red]FALSE[/red] ") + esc(text))
    if failed:
        raise CliError(f"{len(failed)} claim(s) of the loop demo are false: {'; '.join(failed)}")
