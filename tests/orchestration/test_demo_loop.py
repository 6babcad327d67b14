"""`voiceops demo loop` end to end on tiny models: the real Dagster daemon runs the sensors;
nothing is done by hand after the new day's ingestion is queued. A day without recordings
retrains NLU and NLG only, their canary takes simulated callers through every stage, and
the candidates are promoted with the loop's trace on each version."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, get_settings
from tests.orchestration.test_retraining_loop import GATE, evaluate, publish_day, run_request

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2700)]
CANARY = Path(__file__).parent / "data" / "lenient_canary.yaml"


def test_demo_loop_runs_unattended_to_a_promotion(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from orchestration.runs import dagster_instance
    from registry.loop_trace import trace
    from registry.tracking import client
    from registry.versions import aliases
    from voiceops.cli.demo_loop import loop_demo

    monkeypatch.setenv("VOICEOPS_TRAINING_SIZE", "tiny")
    monkeypatch.setenv("VOICEOPS_GATE_POLICY", str(GATE))
    monkeypatch.setenv("VOICEOPS_CANARY_TEMPLATE", str(CANARY))
    monkeypatch.setenv("DAGSTER_HOME", str(settings.home / "dagster"))
    get_settings.cache_clear()
    settings = Settings()
    # What `make demo` leaves: a published day and four champions (here: tiny ones).
    publish_day(settings, 1, calls=700, audio=True)
    [request] = evaluate(dagster_instance(), None).run_requests
    run_request(settings, request)

    loop_demo(settings, calls=300, size="tiny", timeout_s=2400)

    out = capsys.readouterr().out
    assert "only the families whose data changed were retrained: nlu, nlg" in out
    assert "FALSE" not in out
    mlflow = client(settings)
    for family in ("nlu", "nlg"):
        assert aliases(mlflow, f"voicebot-{family}") == {"champion": "2"}, family
        steps = trace(settings, family, "2")
        assert set(steps) == {"lake_commit", "run_id", "gate", "experiment", "decision"}
        assert steps["decision"].startswith("promoted to champion by canary canary-nlg-v2-nlu-v2")
    for family in ("stt", "tts"):
        assert aliases(mlflow, f"voicebot-{family}") == {"champion": "1"}, family
