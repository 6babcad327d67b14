"""The registry's one error type: bad input or a refused operation, with a one-line reason."""

from __future__ import annotations

from core.errors import VoiceOpsError


class RegistryError(VoiceOpsError):
    """Unknown family, version or alias; a refused promotion; nothing to roll back to."""
