"""The trail end to end: a publish, a refused publish, a registration that crowns the first
champion, a forced promotion and a rollback, through the real code paths, verify."""

from __future__ import annotations

from core.trail import check, open_trail
from registry.aliases import promote, rollback
from registry.register import register
from tests.registry.conftest import MANIFEST, REPO, World, permissive_policy
from warehouse.audits import AuditLog, PublishRefused
from warehouse.publish import publish


def _register(world: World, trained):
    return register(
        trained.family,
        trained.info(world.published),
        settings=world.settings,
        lake=world.lake,
        rows=trained.rows,
        policy=permissive_policy(),
    )


def test_publishes_and_promotions_land_in_a_trail_that_verifies(
    world: World, nlu_good, monkeypatch
) -> None:
    monkeypatch.setenv("VOICEOPS_ACTOR", "alice")
    trail = open_trail(world.settings)
    audits = AuditLog(world.settings.home / "audits")
    try:
        publish(
            world.lake,
            REPO,
            world.refused,
            audits,
            branch="ingest-20260102-run2",
            manifest_hash=MANIFEST,
            trail=trail,
        )
        raise AssertionError("a failed audit was published")
    except PublishRefused:
        pass
    first = _register(world, nlu_good)
    second = _register(world, nlu_good)  # passes, does not beat the champion: forced
    promote(world.settings, "nlu", second.version, force=True, reason="same model, new data")
    rollback(world.settings, "nlu", reason="back to v1")

    entries = list(trail.entries())
    assert [e.action for e in entries] == [
        "publish",
        "publish.refused",
        "promote",
        "promote.forced",
        "rollback",
    ]
    publish_entry, refused, crowned, forced, back = entries
    assert publish_entry.subject.startswith(f"lakefs://{REPO}/ingest-20260101-run1@")
    assert publish_entry.details_dict()["into"] == "main"
    assert "no_pii" in refused.details_dict()["reason"]
    assert crowned.subject == f"voicebot-nlu/v{first.version}".join(["model:", ""])
    assert forced.details_dict()["from_version"] == first.version
    assert back.details_dict()["to_version"] == first.version
    assert {e.actor for e in entries[1:]} == {"alice"}
    assert check(trail) == (5, None)
