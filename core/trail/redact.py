"""Keep secrets out of the trail: values of secret-looking environment variables, fields
named like secrets, and passwords inside URLs are replaced before an entry is written."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from core.settings import redact_url

MASK = "***"
#: Environment variable names whose values are secrets (``AWS_SECRET_ACCESS_KEY``, ...).
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL|PRIVATE", re.IGNORECASE)
#: Field names whose values are secrets (narrower: ``experiment_key`` is not one).
SECRET_FIELD = re.compile(
    r"secret|password|passwd|token|api_?key|access_?key|credential|private_?key", re.IGNORECASE
)
#: Shorter values are too likely to occur by chance ("1", "true") to be masked everywhere.
MIN_SECRET_LENGTH = 6


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of the environment variables whose names look like secrets, longest first."""
    environ = os.environ if environ is None else environ
    found = {
        value
        for name, value in environ.items()
        if SECRET_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH
    }
    return sorted(found, key=len, reverse=True)


def _text(value: str, secrets: list[str]) -> str:
    if "://" in value and urlsplit(value).password:
        value = redact_url(value)
    for secret in secrets:
        value = value.replace(secret, MASK)
    return value


def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """``value`` (JSON-like) with every secret masked; keys named like secrets lose their value."""
    secrets = secret_values() if secrets is None else secrets
    if isinstance(value, str):
        return _text(value, secrets)
    if isinstance(value, Mapping):
        return {
            str(key): MASK if SECRET_FIELD.search(str(key)) and item else redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item, secrets) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _text(str(value), secrets)
