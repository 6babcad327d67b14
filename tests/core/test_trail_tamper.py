"""The trail refuses to verify after every way around it we could think of (each a test)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
import sqlalchemy as sa

from core.trail import Entry, check
from core.trail.store import trail_table
from tests.core.trail_world import execute, fill, make_trail, row

KEY = b"trail-key-kept-outside-the-database"


@pytest.fixture(params=[b"", KEY], ids=["sha256", "hmac"])
def trail(request, tmp_path):
    trail = make_trail(tmp_path, key=request.param)
    fill(trail, 6)
    return trail


def first_problem(trail):
    _, problem = check(trail)
    assert problem is not None, "the tampered trail verified"
    return problem


def test_an_untouched_trail_verifies(trail):
    assert check(trail) == (6, None)


def test_an_edited_detail_is_found(trail):
    execute(
        trail,
        sa.update(trail_table).where(trail_table.c.seq == 3).values(details='{"index":99}'),
    )
    problem = first_problem(trail)
    assert (problem.seq, problem.kind) == (3, "edited")


def test_an_edited_actor_is_found(trail):
    execute(trail, sa.update(trail_table).where(trail_table.c.seq == 2).values(actor="someone"))
    assert (first_problem(trail).seq, first_problem(trail).kind) == (2, "edited")


def test_a_deleted_middle_entry_is_found(trail):
    execute(trail, sa.delete(trail_table).where(trail_table.c.seq == 3))
    problem = first_problem(trail)
    assert (problem.seq, problem.kind) == (3, "deleted")


def test_a_deleted_tail_is_found_by_the_anchor(trail):
    execute(trail, sa.delete(trail_table).where(trail_table.c.seq >= 5))
    problem = first_problem(trail)
    assert (problem.seq, problem.kind) == (5, "deleted")
    assert "anchor" in problem.reason


def test_a_missing_anchor_is_reported(trail):
    trail.anchor.path.unlink()
    assert first_problem(trail).kind == "unanchored"


def test_two_swapped_entries_are_found(trail):
    third, fourth = row(trail, 3), row(trail, 4)
    execute(trail, sa.delete(trail_table).where(trail_table.c.seq.in_([3, 4])))
    execute(trail, sa.insert(trail_table).values({**fourth, "seq": 3}))
    execute(trail, sa.insert(trail_table).values({**third, "seq": 4}))
    problem = first_problem(trail)
    assert (problem.seq, problem.kind) == (3, "reordered")
    assert "written as entry #4" in problem.reason


def _forged_after(trail, seq: int) -> Entry:
    """An entry chained after ``seq`` whose hash an attacker without the key recomputed."""
    before = row(trail, seq)
    forged = Entry(seq + 1, before["at"], "attacker", "promote", "model:x/v9", "{}", before["hash"])
    return replace(forged, hash=hashlib.sha256(forged.body().encode()).hexdigest())


def test_a_forged_entry_without_the_key_is_found(tmp_path):
    trail = make_trail(tmp_path, key=KEY)
    fill(trail, 4)
    execute(trail, sa.insert(trail_table).values(**_forged_after(trail, 4).__dict__))
    problem = first_problem(trail)
    assert (problem.seq, problem.kind) == (5, "forged")
    assert "VOICEOPS_TRAIL_KEY" in problem.reason


def test_an_appended_forgery_without_a_key_is_found_by_the_anchor(tmp_path):
    trail = make_trail(tmp_path)  # no key: the forged hash is right, the anchor is not moved
    fill(trail, 4)
    execute(trail, sa.insert(trail_table).values(**_forged_after(trail, 4).__dict__))
    problem = first_problem(trail)
    assert (problem.seq, problem.kind) == (5, "forged")


def test_a_rewritten_chain_without_a_key_is_found_by_the_anchor(tmp_path):
    """Edit entry 2 and recompute every hash after it: the chain holds, the anchor does not."""
    trail = make_trail(tmp_path)
    fill(trail, 4)
    rows = [row(trail, seq) for seq in range(1, 5)]
    execute(trail, sa.delete(trail_table))
    previous = rows[0]["prev_hash"]
    for values in rows:
        entry = Entry(**{**values, "prev_hash": previous, "hash": ""})
        if entry.seq == 2:
            entry = replace(entry, details='{"index":42}')
        entry = entry.sealed()
        execute(trail, sa.insert(trail_table).values(**entry.__dict__))
        previous = entry.hash
    problem = first_problem(trail)
    assert (problem.seq, problem.kind) == (4, "edited")
    assert "anchor" in problem.reason


def test_a_keyed_trail_read_without_the_key_does_not_verify(tmp_path):
    fill(make_trail(tmp_path, key=KEY), 2)
    problem = first_problem(make_trail(tmp_path))
    assert "VOICEOPS_TRAIL_KEY" in problem.reason
