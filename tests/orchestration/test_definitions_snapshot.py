"""Every asset key, check, job, sensor and schedule of the code location, against a reviewed
snapshot: a rename shows as a diff of ``snapshots/definitions.txt``.

After an intended change, ``VOICEOPS_UPDATE_SNAPSHOTS=1 pytest`` on this file rewrites the
snapshot; review and commit it with the change.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import Definitions

from core.settings import Settings
from orchestration.definitions import build_definitions

SNAPSHOT = Path(__file__).with_name("snapshots") / "definitions.txt"


def describe(defs: Definitions) -> list[str]:
    """One sorted line per asset (with its group), check, job, sensor and schedule."""
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    lines = [
        f"asset {key.to_user_string()} group={graph.get(key).group_name}"
        for key in graph.get_all_asset_keys()
    ]
    lines += [f"check {c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys]
    lines += [f"job {job.name}" for job in repository.get_all_jobs() if job.name != "__ASSET_JOB"]
    lines += [f"sensor {sensor.name}" for sensor in repository.sensor_defs]
    lines += [f"schedule {schedule.name}" for schedule in repository.schedule_defs]
    return sorted(lines)


def test_definitions_match_the_snapshot(tmp_path):
    settings = Settings(home=tmp_path, lake_backend="local")
    lines = describe(build_definitions(settings))
    if os.environ.get("VOICEOPS_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    added, removed = sorted(set(lines) - set(expected)), sorted(set(expected) - set(lines))
    assert lines == expected, f"added: {added}\nremoved: {removed}"


def test_asset_keys_follow_one_scheme(tmp_path):
    """Every key is ``<system holding the asset>/...``: two parts or more, a known root."""
    roots = {"airbyte", "lake", "warehouse", "models", "registry", "experiments", "monitoring"}
    keys = build_definitions(Settings(home=tmp_path)).get_repository_def().asset_graph
    odd = [
        key.to_user_string()
        for key in keys.get_all_asset_keys()
        if len(key.path) < 2 or key.path[0] not in roots
    ]
    assert not odd, odd


def test_definition_modules_keep_real_annotations():
    """Dagster reads the hints of asset functions; ``from __future__ import annotations``
    would turn them into strings (see ``orchestration/defs/__init__.py``)."""
    defs_dir = Path(__file__).resolve().parents[2] / "orchestration" / "defs"
    offending = [
        str(path.relative_to(defs_dir))
        for path in defs_dir.rglob("*.py")
        if any(
            line.startswith("from __future__ import annotations")
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert not offending, offending
