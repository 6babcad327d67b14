"""Who is acting: the configured actor, else ``VOICEOPS_ACTOR`` / ``VOICEOPS_USER`` as the
environment says now, else the OS login name."""

from __future__ import annotations

import getpass
import os


def current_actor(configured: str = "") -> str:
    """``configured`` (the settings' actor; later the authenticated principal), else
    ``VOICEOPS_ACTOR``, else ``VOICEOPS_USER``, else the login name."""
    if configured:
        return configured
    try:
        return (
            os.environ.get("VOICEOPS_ACTOR") or os.environ.get("VOICEOPS_USER") or getpass.getuser()
        )
    except (KeyError, OSError):
        return "unknown"
