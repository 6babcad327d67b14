"""Planted label noise: every mislabelled call carries another valid intent with only its
slots (so ingestion's validation and the data tests pass it), out_of_scope is never shifted,
and the day manifest counts what was planted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.taxonomy import load_taxonomy
from ingestion.simulator import layout
from ingestion.simulator.day import write_day
from ingestion.simulator.labels import KEPT, mislabel, shifted_intents
from ingestion.validation import check_calls


def test_shift_is_a_derangement_of_the_taxonomy_without_out_of_scope() -> None:
    intents = set(load_taxonomy().intents)
    shift = shifted_intents(intents)
    assert set(shift) == intents - {KEPT} == set(shift.values())
    assert all(old != new for old, new in shift.items())


def test_mislabel_rate_bounds_and_extremes() -> None:
    records = [{"intent": "check_balance"}, {"intent": KEPT}, {"intent": "block_card"}]
    assert mislabel([dict(r) for r in records], 0.0, "s") == 0
    shifted = [dict(r) for r in records]
    assert mislabel(shifted, 1.0, "s") == 2
    assert [r["intent"] for r in shifted] == ["complaint", KEPT, "branch_hours"]
    with pytest.raises(ValueError, match="between 0 and 1"):
        mislabel(records, 1.5, "s")


def test_a_mislabelled_day_keeps_valid_intents_and_says_so(tmp_path: Path) -> None:
    clean = write_day(tmp_path / "clean", 1, calls=120, seed=3, bad_rate=0.0, audio=False)
    noisy = write_day(
        tmp_path / "noisy", 1, calls=120, seed=3, bad_rate=0.0, audio=False, mislabel_rate=1.0
    )
    assert clean.mislabeled == 0
    read = [
        [json.loads(line) for line in layout.calls_jsonl(root, 1).read_text().splitlines()]
        for root in (tmp_path / "clean", tmp_path / "noisy")
    ]
    shift = shifted_intents(load_taxonomy().intents)
    changed = 0
    for before, after in zip(*read, strict=True):
        assert after["transcript"] == before["transcript"]
        assert after["intent"] in load_taxonomy().intents
        expected = shift.get(before["intent"], before["intent"])
        assert after["intent"] == expected
        changed += after["intent"] != before["intent"]
    assert noisy.mislabeled == changed > 100
    assert check_calls(read[1]).rejects == []  # ingestion's validation passes every one
    manifest = json.loads(layout.day_manifest(tmp_path / "noisy", 1).read_text())
    assert manifest["mislabeled"] == changed
