"""The dbt project as Dagster sees it (manifest parsed on demand)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from warehouse.dbt_build import DBT_PROJECT_DIR

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject = DBT_PROJECT) -> Path:
    """Parse the project when its manifest is missing or older than any of its files.

    ``dagster dev`` would do it (``prepare_if_dev``); tests, the CLI and ``dagster``
    commands outside dev load the definitions without it.
    """
    manifest = Path(project.manifest_path)
    sources = [
        p
        for p in Path(project.project_dir).rglob("*")
        if p.suffix in {".sql", ".yml", ".csv"} and "target" not in p.parts
    ]
    newest = max(p.stat().st_mtime for p in sources)
    if not manifest.is_file() or manifest.stat().st_mtime < newest:
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt), "parse", "--project-dir", str(project.project_dir),
             "--profiles-dir", str(project.profiles_dir)],
            check=True, capture_output=True, env=os.environ | {"DO_NOT_TRACK": "1"},
        )  # fmt: skip
    return manifest


ensure_manifest()
