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


BACKENDS = {"local": _local}


@pytest.fixture(params=sorted(BACKENDS))
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lake]:
    with BACKENDS[request.param](tmp_path) as backend:
        yield backend


@pytest.fixture
def repo(lake: Lake) -> str:
    lake.create_repository("contract-repo")
    return "contract-repo"
