"""An API worker in its own process over tiny models saved on disk (the killed-worker test).

    python -m tests.serving.api_process HOME SOURCES MODELS_JSON

Serves ``bench._tiny_models.app_factory`` from a thread and prints its URL; events are
flushed to the store only once an hour, so whatever the worker recorded is still in its
spool when it is killed.
"""

from __future__ import annotations

import os
import sys
import threading


def main() -> None:
    from bench._tiny_models import app_factory
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
