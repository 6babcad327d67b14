"""Build the configured lake backend from the settings."""

from __future__ import annotations

from versioning.lake.base import Lake
from voiceops.settings import Settings, get_settings


def open_lake(settings: Settings | None = None) -> Lake:
    """The local backend by default; the lakeFS backend when ``lake_backend == 'lakefs'``."""
    settings = settings or get_settings()
    if settings.lake_backend == "lakefs":
        from versioning.lake.lakefs_backend import LakeFSLake

        return LakeFSLake.from_lakectl_config(storage_namespace=settings.lakefs_storage_namespace)
    from versioning.lake.local import LocalLake

    return LocalLake(
        settings.lake_root, fsync=settings.lake_fsync, lock_timeout_s=settings.lake_lock_timeout_s
    )
