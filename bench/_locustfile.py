"""Locust users of ``bench.capacity``: each posts WAV turns to ``POST /v1/turn`` one after
the other (no think time), the request ``bench.serving_api`` sends.

Only Locust imports this file, in its own process (gevent patches the interpreter's sockets
and threads): ``locust -f bench/_locustfile.py``. Its inputs come from the environment:

- ``VOICEOPS_LOCUST_SPEECH``: a directory of ``<n>_<language>.wav`` utterances;
- ``VOICEOPS_LOCUST_USER``: the caller's id (a CRM customer id).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from locust import HttpUser, constant, task

#: turns of one call (session) before a user starts the next call
TURNS_PER_CALL = 8

_SPEECH = [
    (path.stem.rpartition("_")[2], path.read_bytes())
    for path in sorted(Path(os.environ["VOICEOPS_LOCUST_SPEECH"]).glob("*.wav"))
]
_USER_ID = os.environ["VOICEOPS_LOCUST_USER"]
_callers = itertools.count()


class Caller(HttpUser):
    """One caller: a WAV turn, its answer, the next turn."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.caller = next(_callers)
        self.turns = 0

    @task
    def turn(self) -> None:
        language, wav = _SPEECH[(self.caller + self.turns) % len(_SPEECH)]
        call = f"locust-{os.getpid()}-{self.caller}-{self.turns // TURNS_PER_CALL}"
        self.turns += 1
        self.client.post(
            "/v1/turn",
            data={"user_id": _USER_ID, "session_id": call, "language": language},
            files={"audio": ("turn.wav", wav, "audio/wav")},
            name="/v1/turn",
            timeout=120,
        )
