"""The embedded lake backend: lakeFS semantics on local disk, no server."""

from versioning.lake.local.backend import LocalLake

__all__ = ["LocalLake"]
