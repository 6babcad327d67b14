"""The new utterances an NLU champion is compared with: calls published after its data.

The turn events hold no utterance text (a bank's customers say card numbers and names, and
the only redaction of call text is the warehouse's, ``int_calls__redacted``). The calls the
contact center exported since the champion's lake commit are the production utterances in
that redacted form: the ``nlu_examples`` rows of the current ``published`` build (every
split) that are not in the mart at the champion's commit. None until a newer commit is
published.
"""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from monitoring.vectors.index import row_key
from monitoring.vectors.versions import MART, mart_rows


def new_utterances(settings: Settings, champion_commit: str) -> tuple[str | None, list[dict]]:
    """The published commit and its NLU rows that the champion's commit did not have."""
    from training.common.data import published_commit, read_mart

    published = published_commit(settings)
    if published is None or published == champion_commit:
        return published, []
    rows: list[dict[str, Any]] = read_mart(settings, MART, commit=published)
    known = {row_key(row) for row in mart_rows(settings, champion_commit)}
    return published, [row for row in rows if row_key(row) not in known]
