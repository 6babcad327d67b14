"""Find the CRM API to sync from: the configured one, or the simulator's CRM served on demand."""

from __future__ import annotations

import contextlib
import urllib.error
import urllib.request
from collections.abc import Iterator

from core.settings import Settings
from ingestion.simulator import layout


def _answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def crm_endpoint(settings: Settings) -> Iterator[str]:
    """Yield the CRM base URL: ``crm_api_url`` when it answers, else serve the simulator's DB.

    The embedded default needs no running service: the simulator's CRM database is served on
    a free port for the duration of the sync.
    """
    if _answers(settings.crm_api_url):
        yield settings.crm_api_url
        return
    database = layout.crm_database(settings.sources_root)
    if not database.is_file():
        raise ConnectionError(
            f"CRM API {settings.crm_api_url} does not answer and there is no simulated CRM at "
            f"{database} (run `voiceops simulate` or `voiceops simulate serve-crm`)"
        )
    from ingestion.simulator.crm_service import running_crm_service

    with running_crm_service(database, port=0) as base_url:
        yield base_url
