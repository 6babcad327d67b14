"""Dagster resources, one module per integration, configured from one ``Settings``."""

from dagster_dbt import DbtCliResource

from core.settings import Settings
from orchestration.resources.dbt import dbt_executable, prepared_dbt_project
from orchestration.resources.lake import LakeResource

__all__ = ["LakeResource", "build_resources"]


def build_resources(settings: Settings) -> dict[str, object]:
    """The resources of the code location, keyed as the assets and sensors ask for them."""
    return {
        "lake": LakeResource(
            backend=settings.lake_backend,
            home=str(settings.home),
            repository=settings.lake_repository,
        ),
        "dbt": DbtCliResource(
            project_dir=prepared_dbt_project(),
            target=settings.dbt_target,
            dbt_executable=dbt_executable(),
        ),
    }
