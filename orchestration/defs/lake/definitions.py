"""Lake stage: the repository asset, its integrity checks, ``lake_job`` and the nightly GC."""

from dagster import Definitions

from core.settings import Settings
from orchestration.defs.lake.assets import lake_asset_checks, lake_assets, lake_job
from orchestration.defs.lake.maintenance import lake_gc_job, lake_gc_schedule


def defs(settings: Settings) -> Definitions:
    """The lake stage's definitions; the GC schedule only for the embedded lake (lakeFS runs
    its own GC job)."""
    local = settings.lake_backend == "local"
    return Definitions(
        assets=lake_assets,
        asset_checks=lake_asset_checks,
        jobs=[lake_job, *([lake_gc_job] if local else [])],
        schedules=[lake_gc_schedule] if local else [],
    )
