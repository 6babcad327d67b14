"""Every way onto the lake's ``main`` that skips the audit, tried and refused.

Each test leaves ``main`` exactly where it was (or, for the legitimate publish, at exactly the
audited content). The ``world`` fixture opens the lake as the platform does: ``main``
protected, merges into it checked by the publish gate's rule (``warehouse.guard``).
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.gate.conftest import MANIFEST, REPO, GateWorld
from versioning.lake import (
    MergeVetoedError,
    PreconditionFailedError,
    ProtectedBranchError,
)
from versioning.lake.local import LocalLake
from voiceops.cli import app
from warehouse.audits import AuditLog, PublishRefused
from warehouse.publish import publish, publish_candidate
from warehouse.verify import main_problems

DAY1 = {"raw/call_exports/calls/dt=2026-01-01/part-00000.parquet": b"day 1"}
DAY2 = {"raw/call_exports/calls/dt=2026-01-02/part-00000.parquet": b"day 2"}
PUBLISH_META = "voiceops.kind=publish"


def _publish(world: GateWorld, commit: str, branch: str = "ingest-1"):
    return publish(world.lake, REPO, commit, world.audits, branch=branch, manifest_hash=MANIFEST)


def _files_on_main(world: GateWorld) -> set[str]:
    return {o.path for o in world.lake.list_objects(REPO, "main")}


def test_publish_merges_exactly_the_audited_commit_and_records_it(world: GateWorld) -> None:
    head = world.ingest("ingest-1", DAY1)
    world.audit(head, "pass", "pass")
    result = _publish(world, head)
    main = world.lake.get_commit(REPO, "main")
    assert result.commit_id == main.id and main.parents[1] == head
    assert main.metadata["voiceops.audited_commit"] == head
    assert main.metadata["voiceops.dbt_manifest_hash"] == MANIFEST
    assert not world.lake.diff(REPO, head, "main")  # main holds the audited content, no more
    assert main_problems(world.lake, REPO, world.audits) == []


def test_a_commit_landing_after_the_audit_does_not_reach_main(world: GateWorld) -> None:
    """Bypass 1: the audit is of C, then D lands on the branch; publishing merges C by id."""
    audited = world.ingest("ingest-1", DAY1)
    world.audit(audited, "pass")
    world.lake.upload(REPO, "ingest-1", "raw/late/unaudited.parquet", b"late")
    late = world.lake.commit(REPO, "ingest-1", "late data").id
    _publish(world, audited)
    assert "raw/late/unaudited.parquet" not in _files_on_main(world)
    with pytest.raises(PublishRefused, match="no audit recorded"):
        _publish(world, late)  # the new head needs its own audit


def test_failed_checks_are_named_and_main_stays(world: GateWorld) -> None:
    before = world.main()
    head = world.ingest("ingest-1", DAY1)
    world.audit(head, "pass", "fail", "error")
    with pytest.raises(PublishRefused, match=r"2 of 3 checks failed: check_1, check_2"):
        _publish(world, head)
    assert world.main() == before
    with pytest.raises(PublishRefused, match="no audit recorded"):
        _publish(world, world.ingest("ingest-2", DAY2))


def test_two_branches_from_the_same_main_are_each_audited_against_what_main_then_holds(
    world: GateWorld,
) -> None:
    """Bypass 2: both branches pass alone; the second is publishable only once its
    combination with the new main has been audited (and refused when that fails)."""
    first = world.ingest("ingest-1", DAY1)
    second = world.ingest("ingest-2", DAY2)
    world.audit(first, "pass")
    world.audit(second, "pass")
    _publish(world, first)
    after_first = world.main()
    with pytest.raises(PublishRefused, match="moved to"):
        _publish(world, second, "ingest-2")
    candidate = publish_candidate(world.lake, REPO, "ingest-2")
    assert candidate.combined and candidate.ref == "publish-ingest-2"
    assert world.lake.is_ancestor(REPO, after_first, candidate.commit_id)
    with pytest.raises(PublishRefused, match="no audit"):
        _publish(world, candidate.commit_id, "ingest-2")
    world.audit(candidate.commit_id, "pass", "fail")  # together they fail a check
    with pytest.raises(PublishRefused, match="1 of 2 checks failed"):
        _publish(world, candidate.commit_id, "ingest-2")
    assert world.main() == after_first
    world.audit(candidate.commit_id, "pass", "pass")  # re-audited after a fix
    _publish(world, candidate.commit_id, "ingest-2")
    assert {*DAY1, *DAY2} <= _files_on_main(world)
    assert main_problems(world.lake, REPO, world.audits) == []


def test_a_branch_conflicting_with_main_is_refused_naming_the_path(world: GateWorld) -> None:
    path = next(iter(DAY1))
    first = world.ingest("ingest-1", DAY1)
    world.ingest("ingest-2", {path: b"other content"})
    world.audit(first, "pass")
    _publish(world, first)
    with pytest.raises(PublishRefused, match="conflicts with main") as refused:
        publish_candidate(world.lake, REPO, "ingest-2")
    assert path in str(refused.value)
    assert "publish-ingest-2" not in {b.id for b in world.lake.list_branches(REPO)}


def test_main_moving_between_the_check_and_the_merge_is_refused(world: GateWorld) -> None:
    """The merge asks for main to be where the audited commit was made from."""
    head = world.ingest("ingest-1", DAY1)
    world.audit(head, "pass")
    with pytest.raises(PreconditionFailedError):
        world.lake.merge(
            REPO, head, "main", metadata={"voiceops.kind": "publish"},
            expected_destination_head=head,  # not where main is
        )  # fmt: skip


def test_direct_changes_to_main_are_refused_by_the_lake(world: GateWorld) -> None:
    """Bypass 4, through the lake API: upload, delete, commit, reset, revert, merge."""
    head = world.ingest("ingest-1", DAY1)
    world.audit(head, "pass")
    _publish(world, head)
    before = world.main()
    path = next(iter(DAY1))
    attempts = [
        lambda: world.lake.upload(REPO, "main", "raw/x.parquet", b"x"),
        lambda: world.lake.delete_object(REPO, "main", path),
        lambda: world.lake.commit(REPO, "main", "direct", allow_empty=True),
        lambda: world.lake.reset(REPO, "main"),
        lambda: world.lake.revert(REPO, "main", before),
    ]
    for attempt in attempts:
        with pytest.raises(ProtectedBranchError, match="protected"):
            attempt()
    unaudited = world.ingest("ingest-2", DAY2)
    with pytest.raises(MergeVetoedError, match="no audit"):
        world.lake.merge(REPO, unaudited, "main")
    assert world.main() == before


@pytest.fixture
def cli(world: GateWorld):
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stderr

    return run


def test_the_readme_commands_cannot_move_main(world: GateWorld, cli) -> None:
    """Bypass 4, as a user tries it: ``voiceops lake commit|merge`` on main."""
    before = world.main()
    unaudited = world.ingest("ingest-1", DAY1)
    code, err = cli("lake", "commit", f"lakefs://{REPO}/main", "-m", "x", "--allow-empty")
    assert code == 1 and err.startswith("error: ") and "protected" in err
    assert len(err.strip().splitlines()) == 1
    code, err = cli("lake", "merge", f"lakefs://{REPO}/ingest-1", f"lakefs://{REPO}/main")
    assert code == 1 and "publishes of an audited commit" in err and "no audit" in err
    # forged publish metadata does not stand in for an audit
    code, err = cli(
        "lake", "merge", f"lakefs://{REPO}/ingest-1", f"lakefs://{REPO}/main",
        "--meta", PUBLISH_META, "--meta", f"voiceops.audited_commit={unaudited}",
    )  # fmt: skip
    assert code == 1 and "no audit" in err
    assert world.main() == before


def test_branch_protection_verbs_follow_lakectl(world: GateWorld, cli) -> None:
    code, _ = cli("lake", "branch-protect", "add", f"lakefs://{REPO}", "release-*")
    assert code == 0
    runner = CliRunner()
    listed = runner.invoke(app, ["lake", "branch-protect", "list", f"lakefs://{REPO}", "--json"])
    assert listed.exit_code == 0 and '"release-*"' in listed.stdout and '"main"' in listed.stdout
    code, err = cli("lake", "branch-protect", "add", f"lakefs://{REPO}", "bad pattern!")
    assert code == 1 and "invalid branch protection pattern" in err
    code, _ = cli("lake", "branch-protect", "delete", f"lakefs://{REPO}", "release-*")
    assert code == 0
    assert world.lake.list_branch_protection(REPO) == ["main"]


def test_a_relaxed_a_failed_or_another_projects_audit_never_publishes(
    world: GateWorld,
) -> None:
    """Bypass 5: an audit run with relaxed dbt vars, or by another dbt project."""
    head = world.ingest("ingest-1", DAY1)
    world.audit(head, "pass", dbt_vars={"redact": False})
    assert world.audits.get(head) is None  # kept apart, never returned for a publish
    with pytest.raises(PublishRefused, match="no audit"):
        _publish(world, head)
    world.audit(head, "pass", manifest="b" * 64)
    with pytest.raises(PublishRefused, match="another dbt project"):
        _publish(world, head)
    assert len(world.lake.log(REPO, "main")) == 1


def test_audit_ids_are_validated_before_any_file_is_read(world: GateWorld) -> None:
    """Bypass 5: ``AuditLog.get`` built a path from the commit id (``../`` read any JSON)."""
    (world.settings.home / "stolen.json").write_text('{"ok": true}')
    for bad in ("../stolen", "../../etc/passwd", "ABC", "a" * 63, ""):
        with pytest.raises(ValueError, match="invalid lake commit id"):
            world.audits.get(bad)
    assert isinstance(world.audits, AuditLog)


def test_a_merge_that_skipped_the_gate_is_found_in_mains_history(world: GateWorld) -> None:
    """What got onto main around the gate (e.g. rules removed by an admin) is reported."""
    head = world.ingest("ingest-1", DAY1)
    world.audit(head, "pass")
    _publish(world, head)
    world.lake.delete_branch_protection(REPO, "main")
    unguarded = LocalLake(world.settings.lake_root, fsync=False)
    sneaky = world.ingest("ingest-2", DAY2)
    unguarded.merge(
        REPO, sneaky, "main", allow_fast_forward=False,
        metadata={"voiceops.kind": "publish", "voiceops.audited_commit": sneaky},
    )  # fmt: skip
    problems = main_problems(world.lake, REPO, world.audits)
    assert len(problems) == 1 and "no audit recorded" in problems[0]
