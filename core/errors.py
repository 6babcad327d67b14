"""Errors shared by every layer: one base class the CLI reports without a traceback."""


class VoiceOpsError(Exception):
    """A refusal or a failure the user can act on; its message says what and why."""


class InputError(VoiceOpsError, ValueError):
    """Bad input: the message names the file (or source), the field and the reason."""
