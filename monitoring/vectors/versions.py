"""A registered NLU version's index: its model, and its mart rows at its lake commit.

The rows are every split of the ``nlu_examples`` mart at the version's lake commit
(``lineage.lake_commit``): from ``published`` when it is still that build, else from
``repro_<commit>`` (rebuilt by :func:`registry.reproduce.rebuild_commit` the first time).
They are embedded once per version: :func:`version_index` reuses points already stored.
"""

from __future__ import annotations

from typing import Any

from core.errors import InputError
from core.settings import Settings
from monitoring.drift_inputs import mart_at_commit
from monitoring.vectors.index import VersionIndex
from monitoring.vectors.store import VectorStore
from training.common.data import SPLITS

MART = "nlu_examples"


def mart_rows(
    settings: Settings, commit: str, splits: tuple[str, ...] = SPLITS
) -> list[dict[str, Any]]:
    """``splits`` of the NLU mart at lake ``commit``."""
    return mart_at_commit(settings, MART, commit, splits)


def version_index(
    settings: Settings,
    store: VectorStore,
    ref: str = "@champion",
    *,
    reindex: bool = False,
    allow_ungated: bool = True,
) -> tuple[VersionIndex, str]:
    """The index of NLU version ``ref`` (``@alias`` or a number) and its lake commit; its
    mart rows are embedded and stored the first time (or again with ``reindex``)."""
    from registry.loading import load_model, resolve

    found = resolve("nlu", ref, settings)
    commit = found.version_info.tags.get("lineage.lake_commit")
    if not commit:
        raise InputError(f"voicebot-nlu version {found.version} records no lake commit")
    model = load_model("nlu", version=found.version, settings=settings, allow_ungated=allow_ungated)
    index = VersionIndex(store, model, found.version)
    if reindex or index.count("training") == 0:
        index.add("training", mart_rows(settings, commit))
    return index, commit
