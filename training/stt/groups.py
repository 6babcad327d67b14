"""How rows of the ``stt_examples`` mart are grouped for scoring (no TensorFlow here: the
registry's CLI imports it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.telephony import CLEAN, line_codec
from core.voices import speaker_engine

UNKNOWN = "unknown"

#: a row's group: the voice engine (the speaker id's prefix), the telephone line (its codec or
#: ``clean``), the language or the speaker
ROW_GROUPS: dict[str, Callable[[dict[str, Any]], str]] = {
    "engine": lambda row: speaker_engine(str(row.get("speaker") or UNKNOWN)),
    "line": lambda row: line_codec(str(row.get("line") or CLEAN)),
    "language": lambda row: str(row.get("language") or UNKNOWN),
    "speaker": lambda row: str(row.get("speaker") or UNKNOWN),
}
