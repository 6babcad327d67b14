"""Dagster resources, one module per integration."""

from orchestration.resources.lake import LakeResource

__all__ = ["LakeResource", "build_resources"]


def build_resources() -> dict[str, object]:
    """The resources of the code location, keyed as the assets and sensors ask for them."""
    return {"lake": LakeResource()}
