"""``reproduce``: retrain a version from its recorded lake commit and config, compare scores.

The rows come from the ``published`` warehouse when it is still at the recorded commit;
otherwise the commit is loaded into its own schema (``repro_<commit>``) and dbt builds the
marts there first, so the lineage alone is enough to get the same data back.

Data subjects erased since the version was trained are gone from both (their warehouse rows
deleted, their lake data sealed under destroyed keys and left out by the loader): the
reproduction compares the row count with the recorded one and says how many rows were
erased, and how many raw rows the loader left out when it rebuilt the commit.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.settings import Settings
from registry.errors import RegistryError
from registry.lineage import rows_hash
from registry.tracking import client
from registry.versions import get_version, tag_json
from training.families import Family, family

if TYPE_CHECKING:
    from warehouse.load import LoadReport

RowsLoader = Callable[[Family, str], list[dict[str, Any]]]


@dataclass
class Reproduction:
    """Recorded vs retrained test scores and whether they agree within ``tolerance``."""

    family: str
    version: str
    lake_commit: str
    tolerance: float
    data_hash_matches: bool | None
    recorded: dict[str, dict[str, float]]
    retrained: dict[str, dict[str, float]]
    differences: dict[str, float] = field(default_factory=dict)
    #: training rows the lineage recorded (``None``: not recorded) and retrained on now
    rows_recorded: int | None = None
    rows_now: int = 0
    #: raw rows the lake load left out (sealed under destroyed keys); ``None``: no rebuild
    rows_erased_at_load: int | None = None

    @property
    def rows_erased(self) -> int:
        """Training rows fewer than recorded: erased since (a pinned commit loses rows only
        to deletion)."""
        return max(0, (self.rows_recorded or 0) - self.rows_now)

    @property
    def ok(self) -> bool:
        return bool(self.differences) and all(
            abs(d) <= self.tolerance for d in self.differences.values()
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok, "rows_erased": self.rows_erased}

    def lines(self) -> list[str]:
        head = f"{self.family} v{self.version} retrained from lake commit {self.lake_commit[:12]}"
        same = {True: "same", False: "DIFFERENT", None: "not recorded"}[self.data_hash_matches]
        if self.data_hash_matches is False and self.rows_erased:
            same += " (rows erased)"
        out = [head, f"training data vs recorded hash: {same}"]
        if self.rows_recorded is not None:
            out.append(f"training rows: recorded {self.rows_recorded}, now {self.rows_now}")
        if self.rows_erased:
            out.append(f"{self.rows_erased} training rows erased since (data subjects' erasure)")
        if self.rows_erased_at_load:
            out.append(
                f"the lake load of the commit left out {self.rows_erased_at_load} raw rows "
                "sealed under destroyed keys"
            )
        for key, diff in sorted(self.differences.items()):
            mark = "ok" if abs(diff) <= self.tolerance else "OUT OF TOLERANCE"
            out.append(f"  {key}: difference {diff:+.4f} ({mark})")
        out.append(f"{'reproduced' if self.ok else 'NOT reproduced'} within {self.tolerance:g}")
        return out


class WarehouseRows:
    """Rows of the family's mart at a commit; rebuilds the warehouse there when needed, and
    keeps the rebuild's count of rows left out as erased (``rows_erased_at_load``)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.rows_erased_at_load: int | None = None

    def __call__(self, fam: Family, commit: str) -> list[dict[str, Any]]:
        from training.common.data import StaleDataError

        load_rows = fam.module("data").load_rows  # read exactly as the training asset read it
        try:
            return load_rows(self.settings, commit)
        except StaleDataError:
            schema, loaded = rebuild(self.settings, commit)
            self.rows_erased_at_load = loaded.rows_erased
            return load_rows(self.settings, commit, schema=schema)


def warehouse_rows(settings: Settings) -> RowsLoader:
    """Rows of the family's mart at a commit; rebuilds the warehouse there when needed."""
    return WarehouseRows(settings)


def rebuild_commit(settings: Settings, commit: str) -> str:
    """Load ``commit`` into ``repro_<commit>`` and dbt-build the marts there."""
    return rebuild(settings, commit)[0]


def rebuild(settings: Settings, commit: str) -> tuple[str, LoadReport]:
    """:func:`rebuild_commit`, with the loader's ``LoadReport``."""
    from versioning.lake import open_lake
    from warehouse.builds import build_schema
    from warehouse.connection import Warehouse
    from warehouse.load import load_commit

    schema = f"repro_{commit[:12]}"
    warehouse = Warehouse.from_settings(settings)
    try:
        loaded = load_commit(
            open_lake(settings), settings.lake_repository, commit, warehouse, schema
        )
    finally:
        warehouse.close()
    build = build_schema(settings, schema, commit)
    if build.returncode != 0:
        raise RegistryError(f"dbt build of lake commit {commit[:12]} failed: {build.log_tail}")
    return schema, loaded


def _retrain(fam: Family, config: Any, rows: list[dict[str, Any]]) -> dict:
    """Train like the training asset does (``train.run``); test scores per language."""
    with tempfile.TemporaryDirectory(prefix=f"reproduce-{fam.name}-") as run_dir:
        summary = fam.module("train").run(rows, config, Path(run_dir))
        return summary.scores.get("test", {})


def reproduce(
    settings: Settings,
    family_name: str,
    version: str,
    *,
    tolerance: float = 0.02,
    rows_loader: RowsLoader | None = None,
) -> Reproduction:
    """Retrain ``version`` of a family from its recorded commit + config; compare test scores."""
    fam = family(family_name)
    mlflow = client(settings)
    record = get_version(mlflow, fam.model_name, version)
    commit = record.tags.get("lineage.lake_commit")
    lineage = json.loads(Path(mlflow.download_artifacts(record.run_id, "lineage.json")).read_text())
    if (external := lineage.get("external")) is not None:
        raise RegistryError(
            f"{fam.model_name} v{version} is an imported model, not reproducible from the lake: "
            f"source {external['source']}, licence {external['licence']}, model files sha256 "
            f"{external['sha256']}"
        )
    if not commit or not lineage.get("config"):
        raise RegistryError(f"{fam.model_name} v{version} has no recorded commit or config")
    loader = rows_loader or warehouse_rows(settings)
    rows = loader(fam, commit)
    recorded_rows = lineage.get("data", {}).get("rows")
    recorded_hash = lineage.get("data", {}).get("hash", "")
    retrained = _retrain(fam, fam.config_from_dict(lineage["config"]), rows)
    recorded = tag_json(record, "scores.test", {})
    differences = {
        f"{metric}[{language}]": retrained[language][metric] - value
        for language, metrics in recorded.items()
        for metric, value in metrics.items()
        if metric in retrained.get(language, {})
    }
    return Reproduction(
        fam.name,
        str(version),
        commit,
        tolerance,
        (rows_hash(rows) == recorded_hash) if recorded_hash else None,
        recorded,
        retrained,
        differences,
        rows_recorded=sum(recorded_rows.values()) if isinstance(recorded_rows, dict) else None,
        rows_now=len(rows),
        rows_erased_at_load=getattr(loader, "rows_erased_at_load", None),
    )
