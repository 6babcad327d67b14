"""Retries of the steps that call a server (Airbyte, lakeFS, MLflow).

A dropped connection or a 5xx is worth another try; a refusal is not: the gate refusing a
publish, a missing branch or a bad input fails the step at once (``Failure(allow_retries=
False)``), so a refusal never costs the retry delays.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Backoff, Failure, Jitter, RetryPolicy

from core.errors import VoiceOpsError

#: Up to 3 retries after about 2, 6 and 14 s (exponential, +/- 2 s of jitter).
SERVER_RETRY_POLICY = RetryPolicy(
    max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)


def refusal(description: str, **metadata: object) -> Failure:
    """A step failure the retry policy does not retry (the same inputs would fail again)."""
    return Failure(description=description, metadata=metadata or None, allow_retries=False)


@contextmanager
def refusals_fail_at_once() -> Iterator[None]:
    """Turn a VoiceOps refusal (:class:`~core.errors.VoiceOpsError`) into a non-retried
    failure; any other error goes to the step's retry policy."""
    try:
        yield
    except VoiceOpsError as error:
        raise refusal(f"{type(error).__name__}: {error}") from error
