"""Fixtures of the registry tests: real tiny models, a real lake with a published commit and
its audit, and the MLflow store on SQLite (tmp dir) or Postgres (a throwaway database)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from core.trail import open_trail
from ingestion.lake_landing import Landing, commit_ingestion
from registry.policy import Policy, parse_policy
from registry.training_info import TrainingInfo
from tests.postgres import throwaway_database
from versioning.lake.local import LocalLake
from warehouse.audits import Audit, AuditLog, CheckResult
from warehouse.publish import publish

#: The dbt manifest hash the test world's audits and marts record.
MANIFEST = "f" * 64

REPO = "contact-center"


@dataclass
class Trained:
    """A tiny model trained and exported for real, with its rows and scores."""

    family: str
    model_path: Path
    run_dir: Path
    rows: list[dict[str, Any]]
    scores: dict[str, dict[str, dict[str, float]]]
    config: Any
    serving: Any

    def info(self, commit: str, run_id: str = "dagster-run-1") -> TrainingInfo:
        return TrainingInfo(
            model_path=self.model_path,
            lake_commit=commit,
            config=self.config.to_dict(),
            config_hash=self.config.config_hash(),
            code_version="code-v1",
            scores=self.scores,
            run_dir=self.run_dir,
            dagster_run_id=run_id,
            history={"loss": [2.0, 1.0]},
            marts_manifest_hash=MANIFEST,
        )


def _train_nlu(root: Path, rows: list[dict[str, Any]], **overrides: Any) -> Trained:
    from training.common.scores import flat_scores
    from training.nlu.config import NLUConfig
    from training.nlu.export import export
    from training.nlu.train import train

    config = NLUConfig.tiny(**overrides)
    result = train(rows, config, root)
    path = export(result.serving, root / "saved_model")
    return Trained("nlu", path, root, rows, flat_scores(result.metrics), config, result.serving)


@pytest.fixture(scope="session")
def nlu_rows() -> list[dict[str, Any]]:
    from training.nlu.synthetic import synthetic_rows

    return synthetic_rows(8, seed=3)


@pytest.fixture(scope="session")
def nlu_good(tmp_path_factory, nlu_rows) -> Trained:
    """Tiny NLU trained a few more epochs than the tests' default."""
    return _train_nlu(tmp_path_factory.mktemp("nlu_good"), nlu_rows, epochs=6)


@pytest.fixture(scope="session")
def nlu_strong(tmp_path_factory, nlu_rows) -> Trained:
    """Tiny NLU trained long enough to be clearly better than chance (~0.3 intent accuracy
    on its 65 test rows; ~10 s)."""
    return _train_nlu(
        tmp_path_factory.mktemp("nlu_strong"), nlu_rows, epochs=40, learning_rate=0.01
    )


@pytest.fixture(scope="session")
def nlu_untrained(tmp_path_factory, nlu_rows) -> Trained:
    """The same model with a zero learning rate: real, exported, and clearly worse."""
    return _train_nlu(tmp_path_factory.mktemp("nlu_bad"), nlu_rows, epochs=1, learning_rate=0.0)


@pytest.fixture(scope="session")
def nlg_trained(tmp_path_factory) -> Trained:
    from training.common.scores import flat_scores
    from training.nlg.config import NLGConfig
    from training.nlg.data import synthetic_rows
    from training.nlg.export import load
    from training.nlg.train import train

    intents = ("greeting", "block_card", "exchange_rate", "check_balance")
    rows = synthetic_rows(300, seed=1, intents=intents)
    root = tmp_path_factory.mktemp("nlg")
    config = NLGConfig.tiny()
    result = train(rows, config, root)
    return Trained(
        "nlg",
        result.model_path,
        root,
        rows,
        flat_scores(result.metrics),
        config,
        load(result.model_path),
    )


def permissive_policy(**family_overrides: Any) -> Policy:
    """Floors a tiny model meets, a generous latency budget; overrides per family."""
    families = {
        "nlu": {
            "metrics": {"intent_accuracy": "higher", "slot_f1": "higher"},
            "minimum": {"all": {"intent_accuracy": 0.0}},
            "latency_budget_ms": 60000,
        },
        "nlg": {
            "metrics": {"bleu": "higher", "slot_value_accuracy": "higher"},
            "minimum": {"all": {"bleu": 0.0}},
            "latency_budget_ms": 60000,
        },
    }
    for name, spec in family_overrides.items():
        families[name] = families[name] | spec
    return parse_policy(
        {"families": families, "smoke": {"repeats": 2, "timeout_s": 120}},
        sha256="test-policy",
        source="tests",
    )


@dataclass
class World:
    """A settings home with a lake: a published commit and a refused, unpublished one."""

    settings: Settings
    lake: LocalLake
    published: str
    refused: str


def _ingest(lake: LocalLake, branch: str, run_id: str, day: date) -> str:
    lake.create_branch(REPO, branch, "main")
    landing = Landing(
        "crm",
        "customers",
        day.isoformat(),
        12,
        1,
        100,
        connector="crm-api",
        connector_version="1.0",
    )
    lake.upload_many(
        REPO,
        branch,
        [
            (f"raw/crm/customers/dt={day}/part-00000.parquet", f"data {run_id}".encode()),
            (f"_ingest/runs/{run_id}/crm.customers.json", json.dumps(landing.to_dict()).encode()),
        ],
    )
    return commit_ingestion(lake, REPO, branch, run_id=run_id, day=day, landings=[landing]).id


def build_world(home: Path, tracking_uri: str = "") -> World:
    lake = LocalLake(home / "lake", fsync=False)
    lake.create_repository(REPO)
    audits = AuditLog(home / "audits")
    head = _ingest(lake, "ingest-20260101-run1", "run1", date(2026, 1, 1))
    good = Audit(
        REPO,
        "ingest-20260101-run1",
        head,
        "audit_1",
        [CheckResult("not_null_calls_id", "pass"), CheckResult("no_pii", "pass")],
        manifest_hash=MANIFEST,
    )
    audits.save(good)
    trail = open_trail(Settings(home=home))
    published = publish(
        lake,
        REPO,
        head,
        audits,
        branch="ingest-20260101-run1",
        manifest_hash=MANIFEST,
        trail=trail,
    ).commit_id
    bad_head = _ingest(lake, "ingest-20260102-run2", "run2", date(2026, 1, 2))
    audits.save(
        Audit(
            REPO,
            "ingest-20260102-run2",
            bad_head,
            "audit_2",
            [CheckResult("not_null_calls_id", "pass"), CheckResult("no_pii", "fail")],
            manifest_hash=MANIFEST,
        )
    )
    settings = Settings(home=home, mlflow_tracking_uri=tracking_uri, lake_repository=REPO)
    return World(settings, lake, published, bad_head)


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    """A throwaway Postgres database for the whole session, dropped afterwards."""
    with throwaway_database("voiceops_registry") as url:
        try:
            yield url
        finally:
            from registry.history import store_engine
            from registry.tracking import _client

            for cached in (store_engine, _client):
                cached.cache_clear()


def _empty_registry(settings: Settings) -> None:
    """Start a test on the shared Postgres store with no registered model and no history."""
    import sqlalchemy as sa

    from registry.history import AliasHistory, history_table
    from registry.tracking import client, history_url
    from registry.verdicts import VerdictStore, verdicts_table

    mlflow = client(settings)
    for model in mlflow.search_registered_models():
        mlflow.delete_registered_model(model.name)
    VerdictStore(history_url(settings))
    with AliasHistory(history_url(settings)).engine.begin() as connection:
        connection.execute(sa.delete(history_table))
        connection.execute(sa.delete(verdicts_table))


@pytest.fixture(params=["sqlite", "postgres"])
def world(request, tmp_path) -> World:
    """A fresh world on each backend (Postgres: the session's database, emptied first)."""
    if request.param == "sqlite":
        return build_world(tmp_path / "home")
    built = build_world(tmp_path / "home", request.getfixturevalue("postgres_uri"))
    _empty_registry(built.settings)
    return built


@pytest.fixture
def sqlite_world(tmp_path) -> World:
    return build_world(tmp_path / "home")
