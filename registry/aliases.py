"""Promotion, rollback and the alias history (issue 6 §3).

``promote`` moves ``@champion`` to a version (refused versions only with ``force`` and a
reason); ``rollback`` moves it back to the champion before the current one. Which one that
is comes from replaying the append-only history: a promotion pushes, a rollback pops.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlflow import MlflowClient

from registry.errors import RegistryError
from registry.families import family
from registry.history import AliasHistory, AliasMove
from registry.tracking import client, history_url
from registry.versions import CHALLENGER, CHAMPION, aliases, get_version
from voiceops.settings import Settings


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


def promote(
    settings: Settings, family_name: str, version: str, *, reason: str = "", force: bool = False
) -> Move:
    """``@champion`` -> ``version``; a version the gate refused needs ``force`` and a reason."""
    mlflow, history, model = _handles(settings, family_name)
    target = get_version(mlflow, model, version)
    verdict = target.tags.get("gate.verdict", "none")
    if verdict != "passed":
        if not force:
            first = (target.tags.get("gate.reasons") or "no gate verdict").splitlines()[0]
            raise RegistryError(
                f"{model} v{version} was not passed by the gate ({verdict}: {first}); "
                "promote it anyway with --force --reason TEXT"
            )
        if not reason.strip():
            raise RegistryError("--force needs --reason TEXT (why a gated version is promoted)")
    current = aliases(mlflow, model)
    old = current.get(CHAMPION)
    if old == str(target.version):
        raise RegistryError(f"{model} v{version} is already the champion")
    why = reason or "promoted"
    if force and verdict != "passed":
        why = f"forced past gate verdict '{verdict}': {reason}"
    mlflow.set_registered_model_alias(model, CHAMPION, str(target.version))
    history.record(model, CHAMPION, "promote", old, str(target.version), why)
    if current.get(CHALLENGER) == str(target.version):
        mlflow.delete_registered_model_alias(model, CHALLENGER)
        history.record(model, CHALLENGER, "clear", str(target.version), None, "promoted")
    return Move(model, CHAMPION, old, str(target.version), why)


def rollback(settings: Settings, family_name: str, *, reason: str = "") -> Move:
    """``@champion`` -> the champion before the current one."""
    mlflow, history, model = _handles(settings, family_name)
    current = aliases(mlflow, model).get(CHAMPION)
    if current is None:
        raise RegistryError(f"{model} has no champion to roll back")
    stack = champion_stack(history.moves(model))
    if len(stack) < 2 or stack[-1] != current:
        raise RegistryError(f"{model} has no previous champion to roll back to (v{current})")
    previous = stack[-2]
    get_version(mlflow, model, previous)
    why = reason or "rollback"
    mlflow.set_registered_model_alias(model, CHAMPION, previous)
    history.record(model, CHAMPION, "rollback", current, previous, why)
    return Move(model, CHAMPION, current, previous, why)


def alias_history(settings: Settings, family_name: str) -> list[AliasMove]:
    """Every alias move of the family's model, oldest first."""
    _, history, model = _handles(settings, family_name)
    return history.moves(model)
