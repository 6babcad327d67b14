"""Embedded Airbyte connections (PyAirbyte): the CRM API and the daily call exports.

See ``embedded.py`` for the runner API, ``connections/*.yaml`` for what is synced.
"""

from ingestion.airbyte.embedded import StreamSync, crm_state, sync_call_exports, sync_crm

__all__ = ["StreamSync", "crm_state", "sync_call_exports", "sync_crm"]
