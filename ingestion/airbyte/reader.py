"""Read streams from a PyAirbyte source into memory, with incremental state in and out.

Why not ``source.get_records()``: it passes no state to the connector and drops the STATE
messages; why not ``source.read(cache)``: the cache retypes records (column names, timestamps)
and keeps state in its own tables. This reads the connector's message stream directly
(``Source._read_with_catalog``, what ``get_records`` uses underneath, pinned airbyte 0.71.3):
RECORD messages are kept as the connector emitted them (Airbyte's serializer omits null
fields: the properties the stream schema declares are put back as None), the last STATE
message of each stream is returned as a JSON-serializable dict, and the state given in is
passed to the connector as its ``--state`` file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airbyte import Source
from airbyte.progress import ProgressStyle, ProgressTracker
from airbyte.shared.state_providers import StaticInputState
from airbyte_protocol.models import AirbyteStateMessage, AirbyteStateType, SyncMode, Type

from ingestion.airbyte.connections import StreamConfig


@dataclass
class ReadOutcome:
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)


def state_input(
    states: Mapping[str, dict[str, Any]] | None, streams: list[str]
) -> StaticInputState:
    """The connector's ``--state`` input from per-stream state message dicts."""
    messages = [
        AirbyteStateMessage.model_validate(message)
        for stream, message in (states or {}).items()
        if stream in streams and message
    ]
    return StaticInputState(messages)


def read_streams(
    source: Source,
    streams: Mapping[str, StreamConfig],
    states: Mapping[str, dict[str, Any]] | None = None,
) -> ReadOutcome:
    """Read ``streams`` (sync modes as configured) from ``states``; records and new states."""
    names = list(streams)
    catalog = source.get_configured_catalog(streams=names)
    for configured in catalog.streams:
        wanted = streams[configured.stream.name]
        mode = SyncMode(wanted.sync_mode)
        if mode not in (configured.stream.supported_sync_modes or [SyncMode.full_refresh]):
            raise ValueError(f"stream {wanted.name} does not support {mode.value} sync")
        configured.sync_mode = mode
        if mode is SyncMode.incremental and wanted.cursor_field:
            if configured.stream.default_cursor_field not in (None, [], [wanted.cursor_field]):
                raise ValueError(
                    f"stream {wanted.name}: cursor {wanted.cursor_field!r} is not the source's "
                    f"cursor {configured.stream.default_cursor_field}"
                )
            configured.cursor_field = [wanted.cursor_field]
    missing = set(names) - {configured.stream.name for configured in catalog.streams}
    if missing:
        raise ValueError(f"source {source.name} has no stream(s) {sorted(missing)}")

    tracker = ProgressTracker(
        ProgressStyle.NONE, source=source, cache=None, destination=None, expected_streams=names
    )
    outcome = ReadOutcome(records={name: [] for name in names})
    messages = source._read_with_catalog(  # private: see module docstring
        catalog=catalog, progress_tracker=tracker, state=state_input(states, names)
    )
    declared = {
        configured.stream.name: list(configured.stream.json_schema.get("properties", {}))
        for configured in catalog.streams
    }
    for message in messages:
        if message.type is Type.RECORD and message.record is not None:
            stream = message.record.stream
            record = dict.fromkeys(declared.get(stream, ()), None) | message.record.data
            outcome.records.setdefault(stream, []).append(record)
        elif message.type is Type.STATE and message.state is not None:
            state = message.state
            if state.type is AirbyteStateType.STREAM and state.stream is not None:
                name = state.stream.stream_descriptor.name
                dumped = state.model_dump(mode="json", exclude_none=True)
                dumped.pop("sourceStats", None)  # per-message counts, not state
                dumped.pop("destinationStats", None)
                outcome.states[name] = dumped
    return outcome
