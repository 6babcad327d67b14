"""Fixtures of the tuning tests: Katib specs built in code, a scratch home, a published NLU
mart (a real lake commit loaded into the warehouse with a recorded successful build, the mart
filled with simulator phrasings), and a throwaway Postgres database."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.postgres import throwaway_database

REPO = "contact-center"
MANIFEST = "e" * 64


def katib_spec(
    name: str = "nlu-test",
    *,
    objective: str = "val_intent_accuracy",
    goal: float | None = None,
    algorithm: str = "random",
    max_trials: int = 4,
    parallel: int = 1,
    max_failed: int | None = None,
    early_stopping: dict[str, str] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    size: str = "tiny",
    fixed: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A Katib Experiment whose trials train NLU; parameters default to learning_rate and
    dropout (``lr`` -> learning_rate, ``dropout`` -> dropout)."""
    parameters = parameters or [
        {
            "name": "lr",
            "parameterType": "double",
            "feasibleSpace": {"min": "0.001", "max": "0.05", "distribution": "logUniform"},
        },
        {
            "name": "dropout",
            "parameterType": "double",
            "feasibleSpace": {"min": "0.0", "max": "0.5"},
        },
    ]
    fields = {
        "lr": "learning_rate",
        "dropout": "dropout",
        "units": "encoder_units",
        "batch": "batch_size",
        "encoder": "encoder",
    }
    command = ["voiceops", "tune", "trial", "nlu", "--size", size]
    for item in fixed:
        command += ["--set", item]
    for parameter in parameters:
        command += [
            "--set",
            f"{fields[parameter['name']]}=${{trialParameters.{parameter['name']}}}",
        ]
    spec: dict[str, Any] = {
        "objective": {"type": "maximize", "objectiveMetricName": objective},
        "algorithm": {
            "algorithmName": algorithm,
            "algorithmSettings": [{"name": "random_state", "value": "3"}],
        },
        "parallelTrialCount": parallel,
        "maxTrialCount": max_trials,
        "parameters": parameters,
        "trialTemplate": {
            "primaryContainerName": "training",
            "trialParameters": [{"name": p["name"], "reference": p["name"]} for p in parameters],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [
                                {
                                    "name": "training",
                                    "image": "voiceops/training:test",
                                    "command": command,
                                }
                            ],
                        }
                    }
                },
            },
        },
    }
    if goal is not None:
        spec["objective"]["goal"] = goal
    if max_failed is not None:
        spec["maxFailedTrialCount"] = max_failed
    if early_stopping is not None:
        spec["earlyStopping"] = {
            "algorithmName": "medianstop",
            "algorithmSettings": [{"name": k, "value": v} for k, v in early_stopping.items()],
        }
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": spec,
    }


@pytest.fixture
def spec_dict() -> Any:
    """The factory :func:`katib_spec` (a fresh deep copy each call)."""
    return lambda **kwargs: copy.deepcopy(katib_spec(**kwargs))


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One MLflow store for the session (creating its schema takes seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def home_settings(tmp_path: Path, mlflow_uri: str) -> Settings:
    return Settings(home=tmp_path / "home", lake_fsync=False, mlflow_tracking_uri=mlflow_uri)


def publish_nlu_mart(settings: Settings, rows: list[dict[str, Any]]) -> str:
    """A lake commit loaded into ``published`` with a successful build recorded and the
    ``nlu_examples`` mart holding ``rows``: what ``family.load_rows`` reads after a publish."""
    from versioning.lake.local import LocalLake
    from versioning.lake.repositories import ensure_repository
    from warehouse.audits import CheckResult
    from warehouse.builds import record_build
    from warehouse.connection import Warehouse, qualified
    from warehouse.dbt_build import DbtBuild
    from warehouse.load import load_commit
    from warehouse.schemas import PUBLISHED, layer_schema

    lake = LocalLake(settings.lake_root, fsync=False)
    ensure_repository(lake, REPO)
    lake.create_branch(REPO, "ingest-1", "main")
    lake.upload_many(REPO, "ingest-1", [("raw/notes.txt", b"tuning test data")])
    commit = lake.commit(REPO, "ingest-1", "ingest 1").id
    marts = layer_schema(PUBLISHED, "marts")
    with Warehouse.from_settings(settings) as warehouse:
        load_commit(lake, REPO, commit, warehouse, PUBLISHED)
        build = DbtBuild(0, [CheckResult("no_pii", "pass")], MANIFEST, Path("/nonexistent"), "")
        record_build(warehouse, PUBLISHED, commit, build)
        warehouse.create_schema(marts)
        table = qualified(marts, "nlu_examples")
        warehouse.execute(
            f"CREATE TABLE {table} (example_id VARCHAR, text VARCHAR, language VARCHAR, "
            "intent VARCHAR, slots VARCHAR, split VARCHAR)"
        )
        warehouse.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    r["example_id"],
                    r["text"],
                    r["language"],
                    r["intent"],
                    json.dumps(r["slots"], ensure_ascii=False),
                    r["split"],
                )
                for r in rows
            ],
        )
    return commit


@pytest.fixture(scope="session")
def nlu_rows() -> list[dict[str, Any]]:
    from training.nlu.synthetic import synthetic_rows

    return synthetic_rows(8, seed=3)


@pytest.fixture
def published(home_settings: Settings, nlu_rows) -> tuple[Settings, str]:
    """Settings of a home whose published NLU mart is a build of the returned commit."""
    return home_settings, publish_nlu_mart(home_settings, nlu_rows)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway Postgres database for the session's Optuna studies, dropped afterwards."""
    with throwaway_database("voiceops_tuning") as url:
        yield url
