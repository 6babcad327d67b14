"""A client of the turn API (``voiceops turn``, the traffic simulator, the demo)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from core.errors import VoiceOpsError
from core.settings import Settings


class TurnRefused(VoiceOpsError):
    """The API answered with an error (its one-line reason and status)."""

    def __init__(self, status: int, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status, self.reason, self.retry_after = status, reason, retry_after


def _refusal(response: httpx.Response) -> TurnRefused:
    try:
        reason = str(response.json().get("error", response.text))
    except ValueError:
        reason = response.text[:300]
    retry = response.headers.get("retry-after")
    return TurnRefused(response.status_code, reason, float(retry) if retry else None)


class TurnClient:
    """Turns, outcomes and readiness over HTTP."""

    def __init__(
        self, base_url: str, timeout_s: float = 60.0, credential: str | None = None
    ) -> None:
        """``credential``: the API key or token sent as a bearer (default VOICEOPS_API_KEY)."""
        self.base_url = base_url.rstrip("/")
        if credential is None:
            credential = Settings().api_key.get_secret_value()
        headers = {"Authorization": f"Bearer {credential}"} if credential else {}
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout_s, headers=headers)

    def __enter__(self) -> TurnClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def turn(
        self,
        user_id: str,
        session_id: str,
        *,
        text: str | None = None,
        audio: Path | bytes | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        """One turn; :class:`TurnRefused` on any non-200 answer."""
        fields = {"user_id": user_id, "session_id": session_id}
        if language:
            fields["language"] = language
        if audio is not None:
            data = audio if isinstance(audio, bytes) else Path(audio).read_bytes()
            response = self.http.post(
                "/v1/turn", data=fields, files={"audio": ("turn.wav", data, "audio/wav")}
            )
        else:
            response = self.http.post("/v1/turn", json=fields | {"text": text or ""})
        if response.status_code != 200:
            raise _refusal(response)
        return response.json()

    def outcome(self, user_id: str, session_id: str, resolved: bool) -> dict[str, Any]:
        response = self.http.post(
            "/v1/outcome",
            json={"user_id": user_id, "session_id": session_id, "resolved": resolved},
        )
        if response.status_code != 200:
            raise _refusal(response)
        return response.json()

    def download_audio(self, answer: dict[str, Any], target: Path) -> Path:
        """Save a turn's response audio to ``target``."""
        response = self.http.get(answer["response_audio_url"])
        if response.status_code != 200:
            raise _refusal(response)
        Path(target).write_bytes(response.content)
        return Path(target)

    def wait_ready(self, timeout_s: float = 300.0) -> dict[str, Any]:
        """Poll ``/readyz`` until ready; :class:`TurnRefused` with the last reason on timeout."""
        deadline, last = time.monotonic() + timeout_s, "no answer"
        while time.monotonic() < deadline:
            try:
                response = self.http.get("/readyz")
                body = response.json()
                if response.status_code == 200:
                    return body
                if body.get("error"):  # start-up failed: waiting will not help
                    raise TurnRefused(503, str(body["reason"]))
                last = str(body.get("reason") or body)
            except httpx.TransportError as error:
                last = str(error)
            time.sleep(0.5)
        raise TurnRefused(503, f"not ready after {timeout_s:.0f} s: {last}")
