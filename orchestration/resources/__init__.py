"""Dagster resources, one module per integration."""

import sys
from pathlib import Path

from orchestration.resources.lake import LakeResource

__all__ = ["LakeResource", "build_resources"]


def build_resources() -> dict[str, object]:
    """The resources of the code location, keyed as the assets and sensors ask for them."""
    from dagster_dbt import DbtCliResource

    from core.settings import Settings
    from orchestration.dbt_project import DBT_PROJECT

    dbt = Path(sys.executable).parent / "dbt"  # the venv's, whatever PATH says
    return {
        "lake": LakeResource(),
        "dbt": DbtCliResource(
            project_dir=DBT_PROJECT, target=Settings().dbt_target, dbt_executable=str(dbt)
        ),
    }
