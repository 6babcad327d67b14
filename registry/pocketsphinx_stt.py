"""PocketSphinx behind the STT family's model interface, for an imported STT version.

    model = PocketSphinxSTT(artifact_dir)             # the files of ``registry.external``
    training.stt.export.transcribe(model, waves, 8000)   # like an in-house SavedModel

It answers ``serve`` and ``serve_language`` as the in-house SavedModel does (waveforms,
lengths, sample rate [, languages] -> ``{"texts": [b] tf.string}``), so the registry, the
evaluation splits, the smoke test and the serving pool call it unchanged. The en-us acoustic
model is wideband: 8 kHz telephone audio is resampled to 16 kHz before decoding (the band
above 4 kHz stays empty). It has no ``acoustic`` output (no CTC logits): decoders that
re-decode logits (the TTS evaluation's greedy pass) do not apply to it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from training.common.audio import resample_fft

#: The rate the en-us acoustic model was trained at.
DECODER_RATE = 16000
#: Where the model files sit inside the artifact (see ``registry.external``).
ACOUSTIC_DIR, LANGUAGE_MODEL, DICTIONARY = "en-us", "en-us.lm.bin", "cmudict-en-us.dict"


class PocketSphinxSTT:
    """An en-us PocketSphinx decoder over the artifact's model files; English only."""

    languages = ("en",)

    def __init__(self, model_dir: Path):
        from pocketsphinx import Decoder

        model_dir = Path(model_dir)
        missing = [
            name
            for name in (ACOUSTIC_DIR, LANGUAGE_MODEL, DICTIONARY)
            if not (model_dir / name).exists()
        ]
        if missing:
            raise FileNotFoundError(f"{model_dir}: PocketSphinx model files missing: {missing}")
        self.decoder = Decoder(
            hmm=str(model_dir / ACOUSTIC_DIR),
            lm=str(model_dir / LANGUAGE_MODEL),
            dict=str(model_dir / DICTIONARY),
            samprate=DECODER_RATE,
            loglevel="FATAL",
        )
        self._lock = threading.Lock()  # one decoder: one utterance at a time

    def transcribe_one(self, samples: np.ndarray, rate: int) -> str:
        """Normalized English transcript of one mono waveform in -1..1."""
        from training.stt.text import normalize

        wide = resample_fft(samples, rate, DECODER_RATE)
        pcm = (np.clip(wide, -1, 1) * 32767).astype(np.int16).tobytes()
        with self._lock:
            self.decoder.start_utt()
            self.decoder.process_raw(pcm, full_utt=True)
            self.decoder.end_utt()
            hypothesis = self.decoder.hyp()
        return normalize(hypothesis.hypstr if hypothesis else "", "en")

    def _texts(self, waveforms: Any, lengths: Any, sample_rate: Any, languages: Any) -> dict:
        import tensorflow as tf

        batch, counts = np.asarray(waveforms), np.asarray(lengths)
        rate = int(np.asarray(sample_rate))
        codes = [c.decode() if isinstance(c, bytes) else str(c) for c in languages]
        texts = [
            self.transcribe_one(batch[i, : counts[i]], rate)
            if codes[i] in ("", *self.languages)
            else ""  # a language it does not speak: no English words for a Russian call
            for i in range(len(counts))
        ]
        return {"texts": tf.constant(texts, tf.string)}

    def serve(self, waveforms: Any, lengths: Any, sample_rate: Any) -> dict:
        """The ``serving_default`` contract: texts of a zero-padded batch."""
        return self._texts(waveforms, lengths, sample_rate, [""] * len(np.asarray(lengths)))

    def serve_language(self, waveforms: Any, lengths: Any, sample_rate: Any, languages: Any):
        """The ``transcribe_language`` contract: an utterance in a language the model does
        not speak gets an empty transcript."""
        return self._texts(waveforms, lengths, sample_rate, np.asarray(languages).tolist())
