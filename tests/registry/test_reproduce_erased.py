"""``voiceops models reproduce`` of a version trained before data subjects were erased: the
retrained rows are fewer than the lineage recorded, and the report says how many are gone
(and how many raw rows the loader left out when it rebuilt the commit)."""

from __future__ import annotations

from dataclasses import replace

from registry.register import register
from registry.reproduce import reproduce
from tests.registry.conftest import permissive_policy


class _RebuiltWithout:
    """A rows loader that rebuilt the commit without ``erased`` rows (as the warehouse loader
    does for rows sealed under destroyed keys) and counted them."""

    def __init__(self, rows: list[dict], erased: int):
        self.rows, self.rows_erased_at_load = rows[erased:], erased

    def __call__(self, fam, commit: str) -> list[dict]:
        return self.rows


def test_reproduce_reports_the_rows_erased_since_training(sqlite_world, nlu_good) -> None:
    done = register(
        "nlu",
        nlu_good.info(sqlite_world.published),
        settings=sqlite_world.settings,
        lake=sqlite_world.lake,
        rows=nlu_good.rows,
        policy=permissive_policy(),
    )
    recorded = len(nlu_good.rows)
    result = reproduce(
        sqlite_world.settings, "nlu", done.version, rows_loader=_RebuiltWithout(nlu_good.rows, 3)
    )
    assert (result.rows_recorded, result.rows_now, result.rows_erased) == (
        recorded, recorded - 3, 3)  # fmt: skip
    assert result.rows_erased_at_load == 3 and result.data_hash_matches is False
    lines = result.lines()
    assert "training data vs recorded hash: DIFFERENT (rows erased)" in lines
    assert f"training rows: recorded {recorded}, now {recorded - 3}" in lines
    assert "3 training rows erased since (data subjects' erasure)" in lines
    assert result.to_dict()["rows_erased"] == 3

    same = replace(result, data_hash_matches=True, rows_now=recorded, rows_erased_at_load=None)
    assert same.rows_erased == 0
    assert not [line for line in same.lines() if "erased" in line]
