"""The ``lake`` fixture: every contract test runs once per backend."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from versioning.lake import Lake
from versioning.lake.local import LocalLake


@contextlib.contextmanager
def _local(tmp_path: Path) -> Iterator[Lake]:
    yield LocalLake(tmp_path / "lake", fsync=False)


@contextlib.contextmanager
def _lakefs_fake_server(tmp_path: Path) -> Iterator[Lake]:
    """The lakeFS backend against a fake lakeFS server (tests/fakes/fake_lakefs.py)."""
    from tests.fakes.fake_lakefs import fake_lakefs_lake

    with fake_lakefs_lake(tmp_path / "fake-lakefs") as backend:
        yield backend


BACKENDS = {"local": _local, "lakefs-fake-server": _lakefs_fake_server}


@pytest.fixture(params=sorted(BACKENDS))
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lake]:
    with BACKENDS[request.param](tmp_path) as backend:
        yield backend


@pytest.fixture
def repo(lake: Lake) -> str:
    lake.create_repository("contract-repo")
    return "contract-repo"
