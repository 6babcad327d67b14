"""The NLU's near-duplicate check: a real tiny NLU, its rows in an in-memory Qdrant index,
a planted near-duplicate test row (the check's verdict, counts and examples)."""

from __future__ import annotations

import pytest

from orchestration.defs.training.duplicates import CHECK_NAME, duplicates_result, not_checked
from tests.registry.conftest import nlu_good, nlu_rows  # noqa: F401 (fixtures)


def test_a_planted_near_duplicate_fails_the_check_and_is_shown(nlu_good) -> None:  # noqa: F811
    from monitoring.vectors.neighbours import split_duplicates

    rows = nlu_good.rows
    clean, held_out = split_duplicates(nlu_good.serving, rows, 0.95)
    tests = {
        lang: sum(r["split"] == "test" and r["language"] == lang for r in rows)
        for lang in ("ru", "en")
    }
    assert held_out == tests
    passed = duplicates_result(clean, held_out, 0.95)
    assert passed.passed and passed.check_name == CHECK_NAME
    assert passed.metadata["near_duplicates"].value == {"ru": 0, "en": 0}

    copied = next(r for r in rows if r["split"] == "train" and r["language"] == "ru")
    planted = copied | {"example_id": "planted", "split": "test", "text": copied["text"] + " "}
    found, held_out = split_duplicates(nlu_good.serving, [*rows, planted], 0.95)
    failed = duplicates_result(found, held_out, 0.95)
    assert not failed.passed
    assert failed.metadata["near_duplicates"].value == {"ru": 1, "en": 0}
    assert failed.metadata["test_rows"].value == {"ru": tests["ru"] + 1, "en": tests["en"]}
    [example] = failed.metadata["examples"].value["ru"]
    assert example["train"] == copied["text"] and example["similarity"] > 0.999
    assert f"ru 1 of {tests['ru'] + 1}" in failed.description


def test_no_model_is_reported_as_not_checked() -> None:
    result = not_checked("no trained NLU model with a lake commit")
    assert not result.passed and result.description.startswith("not checked: no trained")


@pytest.mark.slow
def test_the_check_runs_after_nlu_training_in_the_training_job(pipeline_settings) -> None:
    """A published day (real dbt build), ``train_models_job`` for the NLU at tiny size: the
    check runs in the same run and reports per language."""
    from orchestration.definitions import definitions_for
    from orchestration.defs.training.assets import model_key
    from orchestration.runs import dagster_instance, quiet_run_config
    from tests.monitoring.test_drift_asset import publish_day

    publish_day(pipeline_settings)
    job = definitions_for(pipeline_settings).resolve_job_def("train_models_job")
    result = job.execute_in_process(
        instance=dagster_instance(),
        run_config=quiet_run_config(ops={"models__nlu": {"config": {"size": "tiny"}}}),
        asset_selection=[model_key("nlu")],
    )
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    check = checks[CHECK_NAME]
    assert not check.description.startswith("not checked"), check.description
    counts = check.metadata["near_duplicates"].value
    tests = check.metadata["test_rows"].value
    assert set(counts) == set(tests) == {"ru", "en"} and all(tests.values())
    assert check.passed == (not any(counts.values()))
