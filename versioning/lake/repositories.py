"""Getting the pipeline's repository ready: created when missing, its default branch protected.

A repository the pipelines write to has its default branch protected from the moment it
exists (as ``lakectl branch-protect add``): ``main`` then moves only by merges that pass
the pre-merge checks, i.e. by publishing audited data.
"""

from __future__ import annotations

import contextlib

from versioning.lake.base import Lake
from versioning.lake.errors import AlreadyExistsError, NotFoundError
from versioning.lake.models import Repository


def protect_default_branch(lake: Lake, repository: Repository) -> None:
    """A protection rule for the repository's default branch (kept if one matches it)."""
    if lake.is_protected(repository.id, repository.default_branch):
        return
    with contextlib.suppress(AlreadyExistsError):  # added by another process in between
        lake.add_branch_protection(repository.id, repository.default_branch)


def ensure_repository(lake: Lake, name: str, default_branch: str = "main") -> Repository:
    """The repository ``name``, created if missing, with its default branch protected."""
    try:
        repository = lake.get_repository(name)
    except NotFoundError:
        try:
            repository = lake.create_repository(name, default_branch=default_branch)
        except AlreadyExistsError:  # another process created it in between
            repository = lake.get_repository(name)
    protect_default_branch(lake, repository)
    return repository
