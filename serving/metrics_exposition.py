"""What ``GET /metrics`` answers: this worker's metrics, or every worker's merged, as text.

Several workers (``voiceops serve --workers N``) use prometheus_client's multiprocess mode:
``PROMETHEUS_MULTIPROC_DIR`` is set before the workers start (``voiceops serve`` makes a
fresh directory per start and removes it at exit), every worker writes its values to its own
files there, and a scrape on any worker merges all files: counters and histograms summed
over every worker that ever ran, ``live*`` gauges over the live ones only. A worker that
exits cleanly drops its live gauges (``mark_process_dead``); one that was killed is found
dead at the next scrape and dropped then.

TF Serving's counters go out under TF Serving's names, without the ``_total`` suffix
prometheus_client gives every counter (as TF Serving's own exporter writes them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest, values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from experiments.event_spool import process_alive
from serving.metrics_names import TF_COUNTERS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    """The directory shared by the workers when this process writes its metrics there.

    prometheus_client picks its value store once, at import, from the environment: a process
    that imported it before ``PROMETHEUS_MULTIPROC_DIR`` was set keeps its values in memory
    and answers for itself alone, which is right for a single worker."""
    if not getattr(values.ValueClass, "_multiprocess", False):
        return None
    path = os.environ.get(MULTIPROC_ENV)
    return Path(path) if path else None


def metrics_root() -> str | None:
    """Where the workers' metric files go: ``/dev/shm`` when there is one (memory: the
    workers write their files at every turn, and pages of a file on disk being written
    back can stall a write), else the temporary directory."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


@contextlib.contextmanager
def shared_metrics_dir() -> Iterator[Path]:
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` for the workers about to start (they inherit the
    environment); removed, and the variable restored, at exit."""
    path = Path(tempfile.mkdtemp(prefix="voiceops-metrics-", dir=metrics_root()))
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(path, ignore_errors=True)


def forget_dead_workers(directory: Path) -> None:
    """Drop the live gauges of workers that died without shutting down (killed)."""
    for path in directory.glob("gauge_live*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not process_alive(int(pid)):
            mark_process_dead(int(pid), str(directory))


def scrape_collector(own: CollectorRegistry) -> Collector:
    """Every worker's values (multiprocess mode), else this process's ``own`` registry."""
    directory = multiprocess_dir()
    if directory is None:
        return own
    forget_dead_workers(directory)
    merged = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(merged, str(directory))
    return merged


class _Families:
    """Already collected metric families, as a collector for ``generate_latest``."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def exposition(collector: Collector) -> bytes:
    """The Prometheus text format of ``collector``: TF Serving's families under its names,
    the others as prometheus_client writes them; no ``_created`` series."""
    tensorflow: list[str] = []
    others: list[Metric] = []
    for family in collector.collect():
        family.samples = [s for s in family.samples if not s.name.endswith("_created")]
        if family.name.startswith(":tensorflow:"):
            tensorflow.extend(_tensorflow_lines(family))
        else:
            others.append(family)
    return "".join(tensorflow).encode() + generate_latest(_Families(others))


def _tensorflow_lines(family: Metric) -> list[str]:
    counter = family.name in TF_COUNTERS
    kind = "counter" if counter else family.type
    lines = [f"# HELP {family.name} {family.documentation}\n", f"# TYPE {family.name} {kind}\n"]
    for sample in sorted(family.samples, key=_sample_order):
        name = family.name if counter else sample.name
        lines.append(f"{name}{_labels(sample)} {floatToGoString(sample.value)}\n")
    return lines


def _sample_order(sample: Sample) -> tuple:
    """Series together; buckets by bound, then ``_count`` and ``_sum``."""
    series = sorted((k, v) for k, v in sample.labels.items() if k != "le")
    bound = float(sample.labels["le"]) if "le" in sample.labels else float("inf")
    return (series, not sample.name.endswith("_bucket"), bound, sample.name)


def _labels(sample: Sample) -> str:
    if not sample.labels:
        return ""
    # sorted, with a bucket's ``le`` last as TF Serving writes it
    ordered = sorted(sample.labels.items(), key=lambda item: (item[0] == "le", item[0]))
    pairs = ",".join(f'{key}="{_escape(value)}"' for key, value in ordered)
    return "{" + pairs + "}"


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
