"""The lake as a Dagster resource: one handle on the configured backend (local or lakeFS).

The handle carries the publish gate's merge check (``warehouse.guard``), and the pipeline's
repository is created with its default branch protected: ``main`` moves only by publishing.
"""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from core.settings import Settings
from versioning.lake import Lake, Repository
from versioning.lake.repositories import ensure_repository
from warehouse.guard import open_guarded_lake


class LakeResource(ConfigurableResource):
    """Opens the lake the settings describe; every field left unset comes from ``VOICEOPS_*``.

    ``backend`` and ``home`` override ``VOICEOPS_LAKE_BACKEND`` and ``VOICEOPS_HOME`` (tests and
    the launchpad use them); ``repository`` overrides ``VOICEOPS_LAKE_REPOSITORY``.
    """

    backend: str | None = Field(
        default=None,
        description="'local' or 'lakefs'; unset: VOICEOPS_LAKE_BACKEND (default 'local').",
    )
    home: str | None = Field(
        default=None,
        description="Root of local state (the local lake lives in <home>/lake); "
        "unset: VOICEOPS_HOME.",
    )
    repository: str | None = Field(
        default=None,
        description="The repository the pipelines use; unset: VOICEOPS_LAKE_REPOSITORY "
        "(default 'contact-center').",
    )

    _lake: Lake | None = PrivateAttr(default=None)

    def settings(self) -> Settings:
        """Settings read from the environment now, with this resource's overrides applied."""
        overrides: dict[str, object] = {}
        if self.backend is not None:
            overrides["lake_backend"] = self.backend
        if self.home is not None:
            overrides["home"] = Path(self.home).expanduser()
        if self.repository is not None:
            overrides["lake_repository"] = self.repository
        return Settings(**overrides)  # type: ignore[arg-type]

    @property
    def repository_name(self) -> str:
        """The configured repository (``contact-center`` unless overridden)."""
        return self.settings().lake_repository

    def get_lake(self) -> Lake:
        """The lake client (opened once per resource instance)."""
        if self._lake is None:
            self._lake = open_guarded_lake(self.settings())
        return self._lake

    def ensure_repository(
        self, name: str | None = None, default_branch: str = "main"
    ) -> Repository:
        """The repository ``name`` (default: the configured one), created if missing, with
        its default branch protected."""
        return ensure_repository(self.get_lake(), name or self.repository_name, default_branch)

    def head(self, repository: str | None = None, branch: str | None = None) -> str:
        """The commit id at the head of ``branch`` (default: the repository's default branch)."""
        lake = self.get_lake()
        repository = repository or self.repository_name
        if branch is None:
            branch = lake.get_repository(repository).default_branch
        return lake.get_branch(repository, branch).commit_id
