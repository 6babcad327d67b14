"""How the turn API runs: limits, batching and overload behaviour (``VOICEOPS_SERVING_*``).

``voiceops serve`` sets these from its flags for every worker process; the defaults are the
documented ones (README, "Serving").
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.audio_input import AudioLimits
from serving.batching import BatchingOptions

#: The API's default port (not 3000/6006 of Dagster/TensorBoard, nor the simulator's 87xx).
DEFAULT_PORT = 8700


class ServingOptions(BaseSettings):
    """Limits and batching of one API worker."""

    model_config = SettingsConfigDict(env_prefix="VOICEOPS_SERVING_", extra="ignore")

    max_audio_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    max_audio_seconds: float = Field(default=30.0, gt=0)
    max_text_chars: int = Field(default=1000, gt=0)
    max_json_bytes: int = Field(default=64 * 1024, gt=0)
    #: turns in progress per worker before new ones get 503
    max_inflight: int = Field(default=64, gt=0)
    stt_max_batch_size: int = Field(default=8, gt=0)
    tts_max_batch_size: int = Field(default=8, gt=0)
    batch_timeout_ms: float = Field(default=10.0, ge=0)
    max_queue: int = Field(default=64, gt=0)
    #: response audio kept for download at /v1/audio/<turn>.wav (files, newest kept)
    audio_keep: int = Field(default=500, gt=0)
    #: minimum NLU confidence before the bot asks to rephrase
    min_confidence: float = Field(default=0.45, ge=0, le=1)
    #: the bank's back end; empty = the simulator's bank service, started in the worker
    bank_url: str = ""
    #: how often the event log moves spooled events to the event store
    events_flush_interval_s: float = Field(default=0.5, gt=0)
    #: serve versions the gate did not pass (debugging only)
    allow_ungated: bool = False
    #: record the Prometheus metrics served at GET /metrics (off: nothing recorded, 404)
    metrics: bool = True

    @property
    def audio_limits(self) -> AudioLimits:
        return AudioLimits(self.max_audio_bytes, self.max_audio_seconds)

    def batching(self) -> dict[str, BatchingOptions]:
        """Batching per family: STT and TTS batch across requests; NLU and NLG are cheap."""
        timeout = self.batch_timeout_ms / 1000
        return {
            "stt": BatchingOptions(self.stt_max_batch_size, timeout, self.max_queue),
            "tts": BatchingOptions(self.tts_max_batch_size, timeout, self.max_queue),
            "nlu": BatchingOptions(16, min(timeout, 0.002), 2 * self.max_queue),
            "nlg": BatchingOptions(16, min(timeout, 0.002), 2 * self.max_queue),
        }
