"""The NLU's near-duplicate check: a real tiny NLU, its rows in an in-memory Qdrant index,
a planted near-duplicate test row (the check's verdict, counts and examples)."""

from __future__ import annotations

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
