"""Registry: resolving ``@champion`` to a loaded model (cold, warm) and registering a version,
each against the raw MLflow client calls doing the same work, measured in the same run.

Set-up (not timed): a scratch ``VOICEOPS_HOME`` with the embedded SQLite store, a local lake
with one published commit and its audit, and a tiny NLU model trained for real.

- **resolve cold**: ``registry.load_model("nlu")`` with an empty cache (alias look-up, artifact
  path, ``tf.saved_model.load``) vs raw ``get_model_version_by_alias`` + ``load``.
- **resolve warm**: ``load_model`` again (the alias is still asked, so a promotion is seen;
  the loaded model comes from the cache) vs the raw alias look-up alone.
- **register**: ``registry.register`` (MLflow run, params, metrics, TensorBoard + SavedModel
  artifacts, lineage from the lake, version + tags, and the gate, whose fresh-process smoke
  test dominates) vs raw ``create_run`` + ``log_batch`` + ``log_artifacts`` +
  ``create_model_version``. The gate's share is reported apart.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bench._common import (
    Figure,
    bench_main,
    format_table,
    median,
    ms,
    ratio,
    scratch_dir,
    timed,
    write_results,
)

NAME = "registry_resolve"
REPO = "contact-center"
REPEATS, QUICK_REPEATS = 7, 3


def _world(home: Path) -> str:
    """A lake with one published commit whose audit passed; returns the commit."""
    from ingestion.lake_landing import Landing, commit_ingestion
    from versioning.lake.local import LocalLake
    from warehouse.audits import Audit, AuditLog, CheckResult, publish

    lake = LocalLake(home / "lake", fsync=False)
    lake.create_repository(REPO)
    branch, day = "ingest-20260101-bench", date(2026, 1, 1)
    lake.create_branch(REPO, branch, "main")
    landing = Landing("crm", "customers", day.isoformat(), 10, 0, 10)
    lake.upload_many(
        REPO,
        branch,
        [("_ingest/runs/bench/crm.customers.json", json.dumps(landing.to_dict()).encode())],
    )
    head = commit_ingestion(lake, REPO, branch, run_id="bench", day=day, landings=[landing]).id
    audit = Audit(
        REPO, branch, head, "audit_bench", [CheckResult("bench_check", "pass")], manifest_hash="m"
    )
    AuditLog(home / "audits").save(audit)
    return publish(lake, REPO, branch, audit).commit_id


def _trained(home: Path, commit: str) -> tuple[Any, list[dict]]:
    from registry.training_info import TrainingInfo
    from training.common.scores import flat_scores
    from training.nlu.config import NLUConfig
    from training.nlu.export import export
    from training.nlu.synthetic import synthetic_rows
    from training.nlu.train import train

    rows = synthetic_rows(8, seed=3)
    config = NLUConfig.tiny(epochs=4)
    result = train(rows, config, home / "run")
    path = export(result.serving, home / "run" / "saved_model")
    info = TrainingInfo(
        model_path=path,
        lake_commit=commit,
        config=config.to_dict(),
        config_hash=config.config_hash(),
        code_version="bench",
        scores=flat_scores(result.metrics),
        run_dir=home / "run",
    )
    return info, rows


def _raw_register(mlflow: Any, info: Any, experiment: str, model: str) -> None:
    from mlflow.entities import Metric, Param

    run = mlflow.create_run(experiment)
    now = int(time.time() * 1000)
    mlflow.log_batch(
        run.info.run_id,
        params=[Param(k, str(v)) for k, v in info.config.items()],
        metrics=[
            Metric(f"test/{lang}/{k}", v, now, 0)
            for lang, m in info.scores["test"].items()
            for k, v in m.items()
        ],
    )
    mlflow.log_artifacts(run.info.run_id, str(info.run_dir / "tensorboard"), "tensorboard")
    mlflow.log_artifacts(run.info.run_id, str(info.model_path), "saved_model")
    mlflow.create_model_version(model, f"{run.info.artifact_uri}/saved_model", run.info.run_id)
    mlflow.set_terminated(run.info.run_id)


def run(quick: bool = False) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    repeats = QUICK_REPEATS if quick else REPEATS
    with scratch_dir(NAME, 200_000_000) as tmp:
        import tensorflow as tf
        import yaml

        from core.settings import Settings
        from registry.loading import clear_cache, load_model
        from registry.policy import load_policy, parse_policy
        from registry.register import model_dir, register
        from registry.smoke import smoke_test
        from registry.tracking import client

        home = tmp / "home"
        settings = Settings(home=home, mlflow_tracking_uri="", lake_repository=REPO)
        commit = _world(home)
        info, rows = _trained(home, commit)
        # the packaged policy, with floors a tiny model meets (the gate's work is the same)
        policy_data = yaml.safe_load(Path(load_policy().source).read_text())
        policy_data["families"]["nlu"]["minimum"] = {}
        policy = parse_policy(policy_data, sha256="bench")
        mlflow = client(settings)
        raw_model = "bench-raw-nlu"
        mlflow.create_registered_model(raw_model)
        experiment = mlflow.create_experiment(
            "bench-raw", artifact_location=f"{settings.artifact_root}/raw"
        )

        reg_s, raw_reg_s, gate_s = [], [], []
        for _ in range(max(2, repeats // 2)):
            seconds, done = timed(
                lambda: register("nlu", info, settings=settings, rows=rows, policy=policy)
            )
            reg_s.append(seconds)
            assert done.verdict.passed, done.verdict.reasons
            gate_s.append(
                timed(
                    lambda: smoke_test("nlu", info.model_path, 1e9, repeats=policy.smoke_repeats)
                )[0]
            )
            raw_reg_s.append(timed(lambda: _raw_register(mlflow, info, experiment, raw_model))[0])
        cold, raw_cold, warm, raw_warm = [], [], [], []
        for _ in range(repeats):
            clear_cache()
            cold.append(timed(lambda: load_model("nlu", settings=settings))[0])
            raw_cold.append(
                timed(
                    lambda: tf.saved_model.load(
                        str(
                            model_dir(
                                mlflow.get_model_version_by_alias("voicebot-nlu", "champion"),
                                settings,
                            )
                        )
                    )
                )[0]
            )
            warm.append(timed(lambda: load_model("nlu", settings=settings))[0])
            raw_warm.append(
                timed(lambda: mlflow.get_model_version_by_alias("voicebot-nlu", "champion"))[0]
            )

    rows_out = [
        [
            "resolve @champion cold",
            ms(median(cold)),
            ms(median(raw_cold)),
            ratio(median(cold), median(raw_cold)),
        ],
        [
            "resolve @champion warm",
            ms(median(warm)),
            ms(median(raw_warm)),
            ratio(median(warm), median(raw_warm)),
        ],
        [
            "register a version",
            ms(median(reg_s)),
            ms(median(raw_reg_s)),
            ratio(median(reg_s), median(raw_reg_s)),
        ],
    ]
    print(format_table(["operation", "registry ms", "raw MLflow ms", "ratio"], rows_out))
    figures = [
        Figure(NAME, "resolve cold vs raw", rows_out[0][3], "x", "<= 1.5", rows_out[0][3] <= 1.5),
        Figure(NAME, "resolve warm", rows_out[1][1], "ms", "<= 50", rows_out[1][1] <= 50),
        Figure(NAME, "resolve warm vs raw alias look-up", rows_out[1][3], "x"),
        Figure(NAME, "register (incl. gate) vs raw", rows_out[2][3], "x"),
        Figure(NAME, "register (incl. gate)", median(reg_s), "s"),
        Figure(NAME, "of which the smoke test (fresh process)", median(gate_s), "s"),
    ]
    data = {"rows": rows_out, "figures": figures, "repeats": repeats}
    write_results(NAME, data)
    return data


def main(argv: Sequence[str] | None = None) -> None:
    bench_main(__doc__, run, argv)


if __name__ == "__main__":
    main()
