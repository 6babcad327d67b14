"""Which families a publish retrains: those whose training data changed, and the families
whose runs use their models (TTS is scored by the STT model)."""

from collections.abc import Mapping
from dataclasses import dataclass

from training.families import FAMILIES


@dataclass(frozen=True)
class RetrainPlan:
    """What one publish asks for: each family's data fingerprint now, the families whose
    fingerprint differs from their latest model's, and the families to train."""

    commit: str
    fingerprints: dict[str, str]
    changed: tuple[str, ...]
    families: tuple[str, ...]

    def describe(self) -> str:
        if not self.families:
            return f"publish {self.commit[:12]}: no family's training data changed"
        followers = [name for name in self.families if name not in self.changed]
        also = f" (and {', '.join(followers)}, which use their models)" if followers else ""
        return (
            f"publish {self.commit[:12]}: training data of {', '.join(self.changed)} "
            f"changed: retrain {', '.join(self.families)}{also}"
        )


def with_followers(changed: set[str]) -> tuple[str, ...]:
    """``changed`` plus every family whose run uses one of their models (transitively), in
    the family table's order."""
    chosen = set(changed)
    grew = True
    while grew:
        followers = {
            name
            for name, family in FAMILIES.items()
            if name not in chosen and chosen.intersection(family.uses_models)
        }
        chosen |= followers
        grew = bool(followers)
    return tuple(name for name in FAMILIES if name in chosen)


def plan(commit: str, current: Mapping[str, str], trained: Mapping[str, str | None]) -> RetrainPlan:
    """The plan for ``commit``: ``current`` fingerprints per family against the ``trained``
    ones (None: never trained, or trained before fingerprints were recorded)."""
    changed = tuple(name for name in FAMILIES if current.get(name) != trained.get(name))
    return RetrainPlan(commit, dict(current), changed, with_followers(set(changed)))
