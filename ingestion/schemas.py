"""Arrow schemas of the raw Parquet files (raw stays raw: timestamps as ISO text, slots as JSON)."""

from __future__ import annotations

import pyarrow as pa

from ingestion.simulator.layout import CALL_FIELDS, CUSTOMER_FIELDS, TICKET_FIELDS

_NUMERIC = {"duration_s": pa.float64(), "sample_rate": pa.int64()}


def _schema(fields: tuple[str, ...]) -> pa.Schema:
    return pa.schema([pa.field(name, _NUMERIC.get(name, pa.string())) for name in fields])


#: Fields of a voice-corpus manifest line (ingestion/voice_corpus/delivery.py writes them).
VOICE_CORPUS_FIELDS = (
    "utterance_id",  # unique in the corpus, e.g. "ru-ru_0004", "en-0001"
    "text",  # what is said, exactly
    "language",  # "ru" | "en"
    "speaker",  # a core.voices speaker id: "festvox-ru:<id>" or a natural voice's id
    "audio_file",  # the WAV's name in the delivery's audio/ folder
    "sample_rate",  # Hz of the WAV
    "duration_s",  # length of the WAV
    "script",  # where the text comes from: "festvox-ru" or the script's name ("script_en_v1")
)

CALLS = _schema(CALL_FIELDS)
CUSTOMERS = _schema(CUSTOMER_FIELDS)
TICKETS = _schema(TICKET_FIELDS)
VOICE_CORPUS = _schema(VOICE_CORPUS_FIELDS)

BY_STREAM = {
    ("call_exports", "calls"): CALLS,
    ("crm", "customers"): CUSTOMERS,
    ("crm", "tickets"): TICKETS,
    ("voice_corpus", "utterances"): VOICE_CORPUS,
}
