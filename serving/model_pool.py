"""The models a serving worker holds: each (family, version) loaded once, warmed, batched.

Versions come from the registry by number (an experiment arm pins them) or as the family's
``@champion``. Loading goes through ``registry.loading.load_model``, which refuses a version
users must not get (no trusted gate verdict, lineage or artifact broken). A version that fails
to load never takes traffic: a route that pins it is served by the champion instead, and the
failure is logged, counted and reported on the turn (``fallback``).

Each loaded model is warmed on the registry's reference inputs (the first call of a SavedModel
traces its graph for seconds) and gets a :class:`serving.batching.Batcher` for its family.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.settings import Settings
from serving.audio_input import MODEL_SAMPLE_RATE
from serving.batching import Batcher, BatchingOptions, Demand
from training.families import FAMILIES, family

if TYPE_CHECKING:
    from serving.metrics import ServingMetrics

log = logging.getLogger(__name__)


def _runner(name: str, model: Any):
    """``items -> results`` of a family, over its export helpers."""
    export = family(name).module("export")
    if name == "stt":

        def hear(items: list[tuple[np.ndarray, str | None]]) -> list[str]:
            waves, languages = [w for w, _ in items], [lang for _, lang in items]
            return export.transcribe(model, waves, MODEL_SAMPLE_RATE, languages=languages)

        return hear
    if name == "nlu":
        return lambda texts: export.predict(model, texts)
    if name == "nlg":
        return lambda requests: export.predict(model, requests)

    def speak(items: list[tuple[str, str]]) -> list[tuple[np.ndarray, int]]:
        waves, rate = export.synthesize(model, [t for t, _ in items], [lang for _, lang in items])
        return [(wave, rate) for wave in waves]

    return speak


@dataclass
class LoadedModel:
    """One registry version in memory, with its batcher."""

    family: str
    version: str
    model: Any
    batcher: Batcher
    load_s: float
    warm_s: float


@dataclass
class LoadFailure:
    """A version that could not be served, and why."""

    family: str
    version: str
    reason: str


@dataclass
class Selection:
    """The models one turn uses, and which families fell back to the champion."""

    models: dict[str, LoadedModel]
    fallback: dict[str, str] = field(default_factory=dict)  # family -> why

    @property
    def versions(self) -> dict[str, str]:
        return {name: m.version for name, m in self.models.items()}


class ModelPool:
    """Loaded versions of every family, and the champions to fall back on."""

    def __init__(
        self,
        settings: Settings,
        batching: Mapping[str, BatchingOptions],
        *,
        allow_ungated: bool = False,
        metrics: ServingMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics  # each model's batcher records its runs there
        self.batching = dict(batching)  # per family (serving.options.ServingOptions.batching)
        self.allow_ungated = allow_ungated
        self.models: dict[tuple[str, str], LoadedModel] = {}
        self.failures: dict[tuple[str, str], LoadFailure] = {}
        self.champions: dict[str, str] = {}
        self.fallbacks = 0  # turns a pinned version could not serve
        self.demand = Demand()  # turns in flight (the chain enters it for every turn)
        self._lock = threading.Lock()
        self._loading: dict[tuple[str, str], threading.Event] = {}

    def _load(self, name: str, version: str) -> LoadedModel:
        from registry.loading import load_model

        started = time.perf_counter()
        model = load_model(
            name, version=version, settings=self.settings, allow_ungated=self.allow_ungated
        )
        return self._prepare(name, version, model, time.perf_counter() - started)

    def _prepare(self, name: str, version: str, model: Any, load_s: float) -> LoadedModel:
        """Warm ``model`` on the reference inputs (the first call traces its graph: not on a
        caller's turn) and give it a batcher."""
        from registry.serving import run_reference

        started = time.perf_counter()
        run_reference(name, model)
        warm_s = time.perf_counter() - started
        observer = self.metrics.model(family(name).model_name) if self.metrics else None
        batcher = Batcher(
            f"{name}-v{version}", _runner(name, model), self.batching[name], self.demand, observer
        )
        return LoadedModel(name, version, model, batcher, load_s, warm_s)

    def install(self, name: str, version: str, model: Any, *, champion: bool = False) -> None:
        """Serve an already loaded ``model`` as ``version`` of ``name`` (benchmarks of the
        in-process chain, tests); ``champion`` makes it the family's fallback."""
        prepared = self._prepare(name, str(version), model, 0.0)
        with self._lock:
            self.models[(name, str(version))] = prepared
            if champion:
                self.champions[name] = str(version)

    def ensure(self, name: str, version: str, *, wait: bool = True) -> LoadedModel | None:
        """The loaded ``version`` of family ``name``; None when it cannot be served (the
        failure is recorded) or, with ``wait=False``, while it is still loading in the
        background."""
        key = (name, str(version))
        with self._lock:
            if key in self.models or key in self.failures:
                return self.models.get(key)
            loading = self._loading.get(key)
            if loading is None:
                loading = self._loading[key] = threading.Event()
                threading.Thread(
                    target=self._load_into_pool,
                    args=(key, loading),
                    name=f"load-{name}-v{version}",
                    daemon=True,
                ).start()
        if not wait:
            return None
        loading.wait()
        with self._lock:
            return self.models.get(key)

    def _load_into_pool(self, key: tuple[str, str], done: threading.Event) -> None:
        name, version = key
        try:
            model = self._load(name, version)
        except Exception as error:  # any load failure keeps the version off traffic
            reason = f"{type(error).__name__}: {error}".splitlines()[0][:300]
            log.error(
                "%s v%s cannot be served, its arm falls back to the champion: %s",
                name,
                version,
                reason,
            )
            with self._lock:
                self.failures[key] = LoadFailure(name, version, reason)
        else:
            log.info(
                "%s v%s loaded in %.1f s, warmed in %.1f s",
                name,
                version,
                model.load_s,
                model.warm_s,
            )
            with self._lock:
                self.models[key] = model
        finally:
            with self._lock:
                self._loading.pop(key, None)
            done.set()

    def load_champions(self) -> dict[str, str]:
        """Resolve and load every family's ``@champion``; raises when one cannot be served
        (there is nothing to fall back on)."""
        from registry.loading import resolve

        for name in FAMILIES:
            version = resolve(name, settings=self.settings).version
            if self.ensure(name, version) is None:
                failure = self.failures[(name, version)]
                raise RuntimeError(f"champion {name} v{version} cannot be served: {failure.reason}")
            self.champions[name] = version
        return dict(self.champions)

    def preload(self, pinned: Iterable[tuple[str, int | str]]) -> None:
        """Load (and warm) every pinned version; failures are recorded, not raised."""
        for name, version in pinned:
            self.ensure(name, str(version))

    def select(self, pinned: Mapping[str, int | str]) -> Selection | None:
        """The models of a route: pinned versions where servable, the champion where a
        pinned version failed to load; None while a pinned version is still warming up
        (the caller then serves the champions outside the experiment)."""
        selection = Selection({})
        for name in FAMILIES:
            want = pinned.get(name)
            model = None
            if want is not None:
                model = self.ensure(name, str(want), wait=False)
                failure = self.failures.get((name, str(want)))
                if model is None and failure is None:
                    return None
                if failure is not None:
                    selection.fallback[name] = f"v{want} cannot be served ({failure.reason})"
            selection.models[name] = model or self.models[(name, self.champions[name])]
        if selection.fallback:
            with self._lock:
                self.fallbacks += 1
        return selection

    def champion_selection(self) -> Selection:
        """Every family's champion."""
        return Selection({n: self.models[(n, v)] for n, v in self.champions.items()})

    @property
    def ready(self) -> bool:
        return len(self.champions) == len(FAMILIES)

    def close(self) -> None:
        for model in self.models.values():
            model.batcher.close()
