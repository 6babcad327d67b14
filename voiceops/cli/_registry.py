"""What the model commands share: the family argument and registry errors as CLI errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from voiceops.cli._output import CliError

T = TypeVar("T")
FamilyArg = Annotated[str, typer.Argument(help="stt, nlu, nlg or tts.")]


def registry_call(fn: Callable[[], T]) -> T:
    """Run a registry operation; its expected errors become one-line CLI errors."""
    from core.errors import VoiceOpsError

    try:
        return fn()
    except VoiceOpsError as error:
        raise CliError(str(error)) from None
