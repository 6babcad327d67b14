"""dbt as a Dagster integration: the project, parsed on first use, and the venv's executable."""

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject
from filelock import FileLock

from warehouse.dbt_build import DBT_PROJECT_DIR


def ensure_manifest(project: DbtProject) -> Path:
    """Parse the project when its manifest is missing or older than any of its files (one
    process at a time: a second waits, then finds the manifest current)."""
    manifest = Path(project.manifest_path)
    sources = [
        p
        for p in Path(project.project_dir).rglob("*")
        if p.suffix in {".sql", ".yml", ".csv"} and "target" not in p.parts
    ]
    newest = max(p.stat().st_mtime for p in sources)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(manifest.parent / ".parse.lock"):
        if manifest.is_file() and manifest.stat().st_mtime >= newest:
            return manifest
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt), "parse", "--project-dir", str(project.project_dir),
             "--profiles-dir", str(project.profiles_dir)],
            check=True, capture_output=True, env=os.environ | {"DO_NOT_TRACK": "1"},
        )  # fmt: skip
    return manifest


@cache
def prepared_dbt_project() -> DbtProject:
    """The project with a current manifest (parsed on first use, as DOP's ``prepare_if_dev``)."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    ensure_manifest(project)
    return project


def dbt_executable() -> str:
    """The venv's dbt, whatever ``PATH`` says."""
    return str(Path(sys.executable).parent / "dbt")
