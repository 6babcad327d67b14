"""The voice corpus: studio deliveries of read speech for TTS (manifest + WAVs).

* :mod:`.script` — the English script, a fixed and versioned sentence list (``script_en_v1.txt``).
* :mod:`.delivery` — the producer of a delivery drop: festvox-ru's train sentences and one
  natural English voice reading the script, as 8 kHz clean-line WAVs with a JSONL manifest.

The drop is ingested by the ``voice_corpus`` Airbyte connection (manifest rows) and the lake
landing of WAVs (:func:`ingestion.lake_landing.land_wavs`), validated by
:func:`ingestion.validation.check_voice_corpus`.
"""
