"""Fixtures of the serving tests: tiny models of all four families, trained and exported for
real (once per session), loaded from their SavedModels as the API loads registry versions,
and the simulator's CRM behind the bank's back end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

#: the registry's test world and tiny NLU versions (experiments register real versions)
from tests.registry.conftest import nlu_good, nlu_rows, sqlite_world  # noqa: F401


@dataclass
class TinyModels:
    """Loaded SavedModels by family."""

    models: dict[str, Any]
    paths: dict[str, Path]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> TinyModels:
    """STT, NLU, NLG, TTS trained at their tiny sizes (~1 min in all on 2 cores)."""
    from bench._tiny_models import load_models, tiny_model_paths

    paths = tiny_model_paths(tmp_path_factory.mktemp("serving_models"))
    return TinyModels(load_models(paths), paths)


@pytest.fixture(scope="session")
def sources(tmp_path_factory) -> Path:
    """A sources root with the simulator's CRM (one small day)."""
    from ingestion.simulator.day import write_day

    root = tmp_path_factory.mktemp("sources")
    write_day(root, 1, calls=20, seed=5, bad_rate=0.0, audio=False)
    return root


@pytest.fixture(scope="session")
def customer(sources: Path) -> str:
    """A customer id of the simulated CRM."""
    import sqlite3

    with sqlite3.connect(sources / "crm" / "crm.sqlite3") as db:
        return db.execute("SELECT customer_id FROM customers ORDER BY customer_id").fetchone()[0]


@pytest.fixture
def today() -> date:
    return date(2026, 1, 15)


@pytest.fixture(scope="session")
def bank_url(sources: Path) -> Iterator[str]:
    from ingestion.simulator.bank_service import start_in_thread

    server, url = start_in_thread(sources)
    yield url
    server.stop()


VERSION = "1"


@pytest.fixture
def make_state(tiny_models, tmp_path, bank_url):
    """``make_state(options=None, router=None)``: a ready worker state over the tiny models
    (each family's version 1, champion), the bank's back end and an event log in ``tmp_path``."""
    from core.settings import Settings
    from serving.app_state import ServingState, connect
    from serving.options import ServingOptions

    made: list[ServingState] = []

    def make(options: ServingOptions | None = None, router: Any = None) -> ServingState:
        options = options or ServingOptions(bank_url=bank_url)
        if not options.bank_url:
            options = options.model_copy(update={"bank_url": bank_url})
        state = ServingState(Settings(home=tmp_path / "home"), options)
        for name, model in tiny_models.models.items():
            state.pool.install(name, VERSION, model, champion=True)
        made.append(connect(state, router))
        return state

    yield make
    for state in made:
        state.close()


@pytest.fixture
def api(make_state):
    """``api(state=None)``: a TestClient of the API (lifespan run) over a ready state."""
    from fastapi.testclient import TestClient

    from serving.api import create_app

    clients = []

    def client(state=None) -> TestClient:
        state = state or make_state()
        test_client = TestClient(create_app(state.settings, state.options, state=state))
        clients.append(test_client.__enter__())
        return test_client

    yield client
    for test_client in clients:
        test_client.__exit__(None, None, None)
