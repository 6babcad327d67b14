"""API workers in their own processes over tiny models saved on disk (tests of killed and
multiple workers).

    python -m tests.serving.api_process HOME SOURCES MODELS_JSON

serves one worker from a thread and prints its URL; ``app_factory`` is the same app for
``uvicorn --factory --workers N`` (settings from ``VOICEOPS_*``, models from
``VOICEOPS_TEST_MODELS``, a JSON object family -> SavedModel path).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from fastapi import FastAPI


def app_factory() -> FastAPI:
    """One worker's app: the tiny models as every family's version 1 and champion."""
    from bench._tiny_models import load_models
    from core.settings import Settings
    from serving.api import create_app
    from serving.app_state import ServingState, connect
    from serving.options import ServingOptions

    paths = {k: Path(v) for k, v in json.loads(os.environ["VOICEOPS_TEST_MODELS"]).items()}
    settings, options = Settings(), ServingOptions()
    state = ServingState(settings, options)
    for name, model in load_models(paths).items():
        state.pool.install(name, "1", model, champion=True)
    connect(state, None)
    return create_app(settings, options, state=state)


def main() -> None:
    from serving.api import ThreadedServer

    home, sources, models_json = sys.argv[1:4]
    os.environ.update(
        VOICEOPS_HOME=home,
        VOICEOPS_SOURCES_DIR=sources,
        VOICEOPS_TEST_MODELS=models_json,
        VOICEOPS_SERVING_EVENTS_FLUSH_INTERVAL_S="3600",
    )
    with ThreadedServer(app_factory()) as server:
        print(server.url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
