"""An API worker in its own process over tiny models saved on disk (the killed-worker test).

    python -m tests.serving.api_process HOME SOURCES MODELS_JSON

Prints the API's URL on one line, then serves until killed. Events are flushed to the store
only once an hour, so whatever the worker recorded is still in its spool when it dies.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path


def main() -> None:
    home, sources, models_json = sys.argv[1:4]
    from bench._tiny_models import load_models
    from core.settings import Settings
    from serving.api import ThreadedServer, create_app
    from serving.app_state import ServingState, connect
    from serving.options import ServingOptions

    paths = {name: Path(path) for name, path in json.loads(models_json).items()}
    settings = Settings(home=Path(home), sources_dir=Path(sources))
    state = ServingState(settings, ServingOptions(events_flush_interval_s=3600))
    for name, model in load_models(paths).items():
        state.pool.install(name, "1", model, champion=True)
    connect(state, None)
    with ThreadedServer(create_app(settings, state.options, state=state)) as server:
        print(server.url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
