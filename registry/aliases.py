"""Promotion, rollback and the alias history.

``promote`` moves ``@champion`` to a version. It decides from the gate's recorded verdict
(``registry.verdicts``, not the version's editable tags), re-verifies the version's lineage
by walking the lake, and re-hashes the artifact: a version whose data lineage does not hold,
or whose artifact changed since the gate saw it, is never promoted. A version refused on
quality alone needs ``force`` and a reason, both kept in the history with the user.
``rollback`` moves the champion back to the one before; which one that is comes from
replaying the append-only history: a promotion pushes, a rollback pops.

Every move is also appended to the trail (:mod:`core.trail`), opened before the move: a
move whose trail cannot be opened is not made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion

from core.settings import Settings
from core.trail import Trail, open_trail, record
from registry.errors import RegistryError
from registry.history import AliasHistory, AliasMove
from registry.lineage import lineage_problems
from registry.tracking import client, history_url
from registry.verdicts import RecordedVerdict, VerdictStore, artifact_digest
from registry.versions import CHALLENGER, CHAMPION, aliases, get_version
from training.families import family


@dataclass(frozen=True)
class Move:
    """An alias change that was made."""

    model: str
    alias: str
    from_version: str | None
    to_version: str
    reason: str


def _handles(settings: Settings, family_name: str) -> tuple[MlflowClient, AliasHistory, str]:
    model = family(family_name).model_name
    return client(settings), AliasHistory(history_url(settings)), model


def _record(trail: Trail, action: str, move: Move, **details: str) -> None:
    record(
        trail,
        action,
        f"model:{move.model}/v{move.to_version or move.from_version}",
        {
            "alias": move.alias,
            "from_version": move.from_version,
            "to_version": move.to_version or None,
            "reason": move.reason,
            **details,
        },
    )


def champion_stack(moves: list[AliasMove]) -> list[str]:
    """Champions in the order they were put in place, the current one last."""
    stack: list[str] = []
    for move in moves:
        if move.alias != CHAMPION or move.to_version is None:
            continue
        if move.action == "rollback":
            while stack and stack[-1] != move.to_version:
                stack.pop()
            if not stack:
                stack.append(move.to_version)
        elif not stack or stack[-1] != move.to_version:
            stack.append(move.to_version)
    return stack


def trusted_verdict(settings: Settings, version: ModelVersion) -> RecordedVerdict:
    """The gate's recorded verdict on ``version``, checked against the world as it is now:
    the lineage re-verified on the lake and the stored artifact re-hashed.

    Raises :class:`RegistryError` when there is no verdict, the lineage fails or the artifact
    changed (no override exists for those).
    """
    from registry.external import problems as external_problems
    from registry.external import read_manifest
    from registry.mlflow_model import saved_model_dir, stored_model
    from versioning.lake import open_lake
    from warehouse.audits import audit_log

    label = f"{version.name} v{version.version}"
    verdict = VerdictStore(history_url(settings)).latest(version.name, str(version.version))
    if verdict is None:
        raise RegistryError(f"{label} has no recorded gate verdict: register it through the gate")
    stored = stored_model(version, settings)
    if read_manifest(saved_model_dir(stored)) is not None:  # imported: no lake lineage
        if problems := external_problems(saved_model_dir(stored)):
            raise RegistryError(f"{label}: its imported files changed: {'; '.join(problems)}")
        return _same_artifact(label, stored, verdict)
    problems = lineage_problems(
        open_lake(settings),
        verdict.lake_repository,
        verdict.lake_commit,
        audit_log(settings),
        verdict.marts_manifest_hash,
    )
    if problems:
        raise RegistryError(f"{label}: its data lineage does not hold: {'; '.join(problems)}")
    return _same_artifact(label, stored, verdict)


def _same_artifact(label: str, stored: Path, verdict: RecordedVerdict) -> RecordedVerdict:
    """``verdict`` when ``stored`` is the artifact it judged, else a :class:`RegistryError`."""
    if artifact_digest(stored) != verdict.artifact_sha256:
        raise RegistryError(
            f"{label}: the stored artifact differs from the one the gate tested (SHA-256 "
            f"{verdict.artifact_sha256[:12]}): it was changed after registration"
        )
    return verdict


def promote(
    settings: Settings,
    family_name: str,
    version: str,
    *,
    reason: str = "",
    force: bool = False,
    evidence: str = "",
) -> Move:
    """``@champion`` -> ``version``. A version the gate refused on quality needs ``force``
    and a reason; lineage and artifact integrity are never overruled. ``evidence`` (an
    experiment's key) promotes a version that passed the gate without beating the champion
    on the test rows: live traffic showed it better; it never overrules a failed rule."""
    trail = open_trail(settings)
    mlflow, history, model = _handles(settings, family_name)
    target = get_version(mlflow, model, version)
    verdict = trusted_verdict(settings, target)
    failed = verdict.failed_rules
    if failed:
        names = ", ".join(r["rule"] for r in failed)
        fixed = [r["rule"] for r in failed if not r.get("overridable", True)]
        if fixed:
            raise RegistryError(
                f"{model} v{version} failed the {', '.join(fixed)} rule: no override"
            )
        if not force:
            first = failed[0]["reason"].splitlines()[0] if failed[0]["reason"] else names
            raise RegistryError(
                f"{model} v{version} was refused by the gate ({names}: {first}); "
                "promote it anyway with --force --reason TEXT"
            )
        if not reason.strip():
            raise RegistryError("--force needs --reason TEXT (why a gated version is promoted)")
    current = aliases(mlflow, model)
    old = current.get(CHAMPION)
    unproven = (
        not failed
        and verdict.beats_champion is False
        and old is not None
        and verdict.champion_compared == old
    )
    if unproven and not force and not evidence:
        raise RegistryError(
            f"{model} v{version} passed the gate but does not beat champion v{old} on the same "
            "test rows (paired bootstrap): promote it with --force --reason TEXT, or let an "
            "experiment on live traffic decide"
        )
    if unproven and not evidence and not reason.strip():
        raise RegistryError("--force needs --reason TEXT (why an unproven version is promoted)")
    if old == str(target.version):
        raise RegistryError(f"{model} v{version} is already the champion")
    why = reason or "promoted"
    if failed:
        why = f"forced past the gate's {', '.join(r['rule'] for r in failed)} rule(s): {reason}"
    elif unproven and evidence:
        why = f"experiment {evidence}: beats champion v{old} on live traffic: {reason}"
    elif unproven:
        why = f"forced: does not beat champion v{old} on the test rows: {reason}"
    elif evidence:
        why = f"experiment {evidence}: {why}"
    mlflow.set_registered_model_alias(model, CHAMPION, str(target.version))
    history.record(model, CHAMPION, "promote", old, str(target.version), why)
    if current.get(CHALLENGER) == str(target.version):
        mlflow.delete_registered_model_alias(model, CHALLENGER)
        history.record(model, CHALLENGER, "clear", str(target.version), None, "promoted")
    move = Move(model, CHAMPION, old, str(target.version), why)
    forced = bool(failed) or (unproven and not evidence)
    _record(trail, "promote.forced" if forced else "promote", move, evidence=evidence)
    return move


def rollback(settings: Settings, family_name: str, *, reason: str = "") -> Move:
    """``@champion`` -> the champion before the current one."""
    trail = open_trail(settings)
    mlflow, history, model = _handles(settings, family_name)
    current = aliases(mlflow, model).get(CHAMPION)
    if current is None:
        raise RegistryError(f"{model} has no champion to roll back")
    stack = champion_stack(history.moves(model))
    if len(stack) < 2 or stack[-1] != current:
        raise RegistryError(f"{model} has no previous champion to roll back to (v{current})")
    previous = stack[-2]
    trusted_verdict(settings, get_version(mlflow, model, previous))  # lineage + artifact
    why = reason or "rollback"
    mlflow.set_registered_model_alias(model, CHAMPION, previous)
    history.record(model, CHAMPION, "rollback", current, previous, why)
    move = Move(model, CHAMPION, current, previous, why)
    _record(trail, "rollback", move)
    return move


def withdraw_challenger(
    settings: Settings, family_name: str, version: str, *, reason: str
) -> Move | None:
    """Clear ``@challenger`` when it is ``version`` (a canary of it was rolled back); the
    champion does not move. None when ``version`` is not the challenger."""
    mlflow, history, model = _handles(settings, family_name)
    if aliases(mlflow, model).get(CHALLENGER) != str(version):
        return None
    trail = open_trail(settings)
    mlflow.delete_registered_model_alias(model, CHALLENGER)
    history.record(model, CHALLENGER, "withdraw", str(version), None, reason)
    move = Move(model, CHALLENGER, str(version), "", reason)
    _record(trail, "challenger.withdraw", move)
    return move


def alias_history(settings: Settings, family_name: str) -> list[AliasMove]:
    """Every alias move of the family's model, oldest first."""
    _, history, model = _handles(settings, family_name)
    return history.moves(model)


def require_servable(settings: Settings, version: ModelVersion) -> None:
    """Refuse a version users must not get: one without a trusted verdict (lineage holds,
    artifact unchanged), or refused by the gate and never promoted (with ``--force``)."""
    verdict = trusted_verdict(settings, version)
    if verdict.passed:
        return
    promoted = any(
        move.alias == CHAMPION and move.to_version == str(version.version)
        for move in AliasHistory(history_url(settings)).moves(version.name)
    )
    if not promoted:
        names = ", ".join(r["rule"] for r in verdict.failed_rules)
        raise RegistryError(
            f"{version.name} v{version.version} was refused by the gate ({names}) and never "
            "promoted: it is not served (try it with --allow-ungated)"
        )
