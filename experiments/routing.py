"""Which model versions a request gets: the serving API's per-request question.

:class:`Router` holds the specs and the running experiments' assigners; :meth:`Router.route`
hashes the user into the first running experiment (by key) that places them. Only an
experiment whose state is ``running`` and whose ``[start, stop)`` dates contain the day takes
traffic; a canary's weights are those of its current rollout stage. The state database is
re-read at most every ``refresh_s`` seconds, so a stop or a canary halt reaches every
serving process within that time, and a request costs one hash per running experiment.

Assignment is a pure function of the salt, the user id and the weights: a new Router (a
restarted server) puts every user in the same arm.

This module imports neither TensorFlow nor MLflow nor pandas.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from core.settings import Settings
from experiments.assignment import Assigner
from experiments.spec import ExperimentSpec, SpecsDirs, load_specs
from experiments.state import StateStore


@dataclass(frozen=True)
class Route:
    """The experiment and arm of a request, and its versions (family -> registry version).

    Empty ``versions``: the champion of every family; a family the arm does not name also
    gets its champion.
    """

    experiment: str | None = None
    arm: str | None = None
    versions: dict[str, int] = field(default_factory=dict)


CHAMPIONS = Route()


@dataclass(frozen=True)
class _Live:
    spec: ExperimentSpec
    assigner: Assigner


class Router:
    """Routes users to experiment arms from the specs (reviewed and generated) and the state
    store."""

    def __init__(
        self,
        settings: Settings,
        specs_dir: SpecsDirs | None = None,
        refresh_s: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = StateStore(settings, specs_dir)
        self.refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded_at: float | None = None
        self._live: list[_Live] = []

    def route(self, user_id: str, today: date) -> Route:
        """The route of ``user_id`` on ``today`` (the champions when no experiment has them)."""
        for live in self._current():
            if not live.spec.running_on(today):
                continue
            assignment = live.assigner.assign(user_id)
            if assignment.arm is not None:
                return Route(live.spec.key, assignment.arm, dict(assignment.versions))
        return CHAMPIONS

    def pinned_versions(self, today: date) -> set[tuple[str, int]]:
        """Every (family, version) an arm of an experiment taking traffic on ``today`` pins:
        what a serving worker loads and warms before it is ready."""
        return {
            (family, version)
            for live in self._current()
            if live.spec.running_on(today)
            for versions in live.spec.arms.values()
            for family, version in versions.items()
        }

    def refresh(self) -> None:
        """Re-read the specs and the state now."""
        specs = load_specs(self.store.specs_dirs)
        states = self.store.all()
        live = []
        for key in sorted(specs):
            state = states.get(key)
            if state is None or state.status != "running":
                continue
            spec = specs[key]
            if spec.rollout is not None:
                spec = spec.model_copy(update={"weights": spec.weights_at(state.stage)})
            live.append(_Live(spec, Assigner(spec)))
        self._live = live
        self._loaded_at = self._clock()

    def _current(self) -> list[_Live]:
        loaded = self._loaded_at
        if loaded is None or self._clock() - loaded >= self.refresh_s:
            with self._lock:
                if self._loaded_at == loaded:  # another thread did not refresh meanwhile
                    self.refresh()
        return self._live
