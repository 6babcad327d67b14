"""Build the configured lake backend from the settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from versioning.lake.base import Lake, MergeCheck

if TYPE_CHECKING:  # importing the settings costs pydantic-settings: only when they are read
    from core.settings import Settings


def open_lake(settings: Settings | None = None, merge_checks: Iterable[MergeCheck] = ()) -> Lake:
    """The local backend by default; the lakeFS backend when ``lake_backend == 'lakefs'``.

    ``merge_checks`` decide merges into protected branches (without one, such a merge is
    refused); the publish gate passes its audit check (``warehouse.guard``).
    """
    if settings is None:
        from core.settings import get_settings

        settings = get_settings()
    checks = tuple(merge_checks)
    if settings.lake_backend == "lakefs":
        from versioning.lake.lakefs_backend import LakeFSLake

        return LakeFSLake.from_lakectl_config(
            storage_namespace=settings.lakefs_storage_namespace, merge_checks=checks
        )
    from versioning.lake.local import LocalLake

    return LocalLake(
        settings.lake_root,
        fsync=settings.lake_fsync,
        lock_timeout_s=settings.lake_lock_timeout_s,
        merge_checks=checks,
    )
