"""TTS metrics: log-mel L1 and duration error (teacher-forced, per language) and round-trip
intelligibility through an STT model, for in-process and exported models alike.

* ``mel_l1``: mean |predicted - recorded| natural-log mel over the recording's frames, the
  model given the row's speaker and the measured durations;
* ``duration_mae``: mean |predicted - measured| frames per symbol (10 ms frames);
* ``duration_error``: mean |predicted - measured| total length / measured total length;
* ``cer_tts`` / ``cer_recordings`` / ``cer_ratio``: CER of an STT model on the house voice's
  audio of the texts, on the recordings of the same texts, and their ratio (target <= 1.3),
  on the rows of simulated speech (real human speech apart: see :func:`intelligibility`).

:func:`example_stats` gives the per-example counts behind ``mel_l1``, ``duration_mae``,
``duration_error`` and ``cer_ratio``, for a paired bootstrap (``registry.compare``).

    python -m training.tts.evaluate --model DIR [--stt-model DIR] [--synthetic N] [--split test]

scores an exported model on one split of the published mart (or of ``--synthetic`` rows).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from core.settings import Settings
from training.common.example_stats import RATE_FLOOR, ExampleStats, corpus_metric
from training.tts.data import Examples, attach_audio, example_keys, prepare, resample
from training.tts.export import config_of, load, synthesize


def by_language(languages: Sequence[str]) -> dict[str, list[int]]:
    groups = {"all": list(range(len(languages)))}
    for language in sorted({"ru", "en", *languages}):
        groups[language] = [i for i, lang in enumerate(languages) if lang == language]
    return groups


def teacher_forced_errors(
    model: Any, examples: Examples, batch_size: int = 16
) -> dict[str, list[float]]:
    """Per example: ``mel_l1``, ``duration_mae`` and ``duration_error`` (teacher-forced)."""
    mel_l1, dur_mae, dur_err = [], [], []
    for start in range(0, len(examples), batch_size):
        idx = range(start, min(start + batch_size, len(examples)))
        width = max(len(examples.durations[i]) for i in idx)
        durations = np.zeros((len(idx), width), np.int32)
        for j, i in enumerate(idx):
            durations[j, : len(examples.durations[i])] = examples.durations[i]
        out = model.score(
            texts=tf.constant([examples.texts[i] for i in idx]),
            languages=tf.constant([examples.languages[i] for i in idx]),
            speakers=tf.constant([examples.speakers[i] for i in idx]),
            durations=tf.constant(durations),
        )
        mel, predicted = out["log_mel"].numpy(), out["durations"].numpy()
        for j, i in enumerate(idx):
            true_mel, true_dur = examples.mels[i], examples.durations[i]
            mel_l1.append(float(np.mean(np.abs(mel[j, : len(true_mel)] - true_mel))))
            pred = predicted[j, : len(true_dur)].astype(np.float64)
            dur_mae.append(float(np.mean(np.abs(pred - true_dur))))
            dur_err.append(abs(pred.sum() - true_dur.sum()) / max(true_dur.sum(), 1))
    return {"mel_l1": mel_l1, "duration_mae": dur_mae, "duration_error": dur_err}


def score_examples(model: Any, examples: Examples, batch_size: int = 16) -> dict[str, dict]:
    """``{language: {n, mel_l1, duration_mae, duration_error}}`` (languages + "all")."""
    errors = teacher_forced_errors(model, examples, batch_size)
    mel_l1, dur_mae, dur_err = errors["mel_l1"], errors["duration_mae"], errors["duration_error"]
    scores = {}
    for language, keep in by_language(examples.languages).items():
        scores[language] = {"n": float(len(keep))}
        if keep:
            scores[language] |= {
                "mel_l1": float(np.mean([mel_l1[i] for i in keep])),
                "duration_mae": float(np.mean([dur_mae[i] for i in keep])),
                "duration_error": float(np.mean([dur_err[i] for i in keep])),
            }
    return scores


def evaluate_exported(
    model_dir: Path,
    rows: list[dict[str, Any]],
    settings: Settings | None = None,
    stt_model: Path | None = None,
) -> dict[str, dict[str, float]]:
    """Score an exported SavedModel (loaded fresh) on mart rows of one split.

    With ``stt_model`` the intelligibility figures are added per language.
    """
    model = load(model_dir)
    audio = attach_audio(rows, settings)
    scores = score_examples(model, prepare(rows, config_of(model), audio))
    if stt_model is not None:
        for language, values in intelligibility(model, stt_model, rows, audio=audio).items():
            scores.setdefault(language, {}).update(values)
    return scores


# --------------------------------------------------------------------------- intelligibility


def char_errors(reference: str, hypothesis: str, language: str) -> tuple[int, int]:
    """(edits, reference characters) after the STT family's normalization (numbers spelled
    out as said, lower case, its alphabet): the text the STT model outputs."""
    from training.stt.evaluate import char_errors as normalized_char_errors
    from training.stt.text import normalize

    return normalized_char_errors(normalize(reference, language), normalize(hypothesis, language))


def cer(references: Sequence[str], hypotheses: Sequence[str], languages: Sequence[str]) -> float:
    """CER after the STT family's normalization (see :func:`char_errors`), so both sides
    are spelled alike."""
    triples = zip(references, hypotheses, languages, strict=True)
    return corpus_metric("ratio", [char_errors(r, h, lang) for r, h, lang in triples], width=2)


@dataclass
class RoundTrip:
    """What the STT model heard of the synthesized audio and of the recordings, per row."""

    texts: list[str]
    languages: list[str]
    real: list[bool]  # rows of real human speech (scored apart from the ratio)
    synthesized: list[np.ndarray]
    recordings: list[np.ndarray]
    rate: int
    heard_tts: list[str]
    heard_recordings: list[str]

    @property
    def simulated(self) -> list[int]:
        return [i for i, is_real in enumerate(self.real) if not is_real]


def round_trip(
    tts_model: Any,
    stt_model: Any,
    rows: list[dict[str, Any]],
    audio: list[tuple[np.ndarray, int]] | None = None,
    settings: Settings | None = None,
) -> RoundTrip:
    """Synthesize each row's text with the house voice and transcribe it and the row's
    recording with ``stt_model`` as served (``training.stt.export.transcribe``, decoding
    masked to the row's language: the bot knows the language it speaks and hears)."""
    from training.stt.export import transcribe

    tts = load(tts_model) if isinstance(tts_model, str | Path) else tts_model
    stt = load_stt(stt_model)
    audio = audio if audio is not None else attach_audio(rows, settings)
    texts = [row["text"] for row in rows]
    languages = [row["language"] for row in rows]
    synthesized, rate = synthesize(tts, texts, languages)
    recordings = [resample(wave, r, rate) for wave, r in audio]
    return RoundTrip(
        texts=texts,
        languages=languages,
        real=[bool(row.get("is_real_speech", False)) for row in rows],
        synthesized=synthesized,
        recordings=recordings,
        rate=rate,
        heard_tts=transcribe(stt, synthesized, rate, languages=list(languages)),
        heard_recordings=transcribe(stt, recordings, rate, languages=list(languages)),
    )


def load_stt(stt_model: Any) -> Any:
    """An STT SavedModel from its directory (a loaded or in-process model as it is)."""
    if isinstance(stt_model, str | Path):
        return tf.saved_model.load(str(stt_model))
    return stt_model


def intelligibility(
    tts_model: Any,
    stt_model: Any,
    rows: list[dict[str, Any]],
    audio: list[tuple[np.ndarray, int]] | None = None,
    settings: Settings | None = None,
) -> dict[str, dict[str, float]]:
    """CER of ``stt_model`` on synthesized vs recorded audio of the same texts, per language.

    ``cer_tts`` / ``cer_recordings`` / ``cer_ratio`` cover the rows of simulated (espeak)
    speech: the voices the synthesizer learns from and the STT model was trained on. Rows of
    real human speech (``is_real_speech``) are scored apart, as ``real_cer_tts`` /
    ``real_cer_recordings``: the STT model never heard a human voice (CER ~0.9 on them), so
    mixing them in would measure the recognizer, not the synthesizer, and flatter the ratio.
    When the STT model has its ``acoustic`` function, ``acoustic_cer_ratio`` is the same
    ratio with greedy decoding, without the STT model's language model.

    Models may be paths or loaded modules; STT is called through the contract's
    ``training.stt.export.transcribe(model, waveforms, sample_rate)``.
    """
    from training.stt.export import transcribe_greedy

    stt = load_stt(stt_model)
    heard = round_trip(tts_model, stt, rows, audio, settings)
    texts, languages, simulated = heard.texts, heard.languages, heard.simulated

    def cers(index: list[int], hypotheses: list[str]) -> dict[str, float]:
        langs = [languages[i] for i in index]
        return cer_by_language([texts[i] for i in index], [hypotheses[i] for i in index], langs)

    scores: dict[str, dict[str, float]] = {}
    tts_cers, rec_cers = cers(simulated, heard.heard_tts), cers(simulated, heard.heard_recordings)
    for language, value in tts_cers.items():
        scores[language] = {
            "cer_tts": value,
            "cer_recordings": rec_cers[language],
            "cer_ratio": value / max(rec_cers[language], RATE_FLOOR),
        }
    real_index = [i for i, is_real in enumerate(heard.real) if is_real]
    if real_index:
        real_tts = cers(real_index, heard.heard_tts)
        real_rec = cers(real_index, heard.heard_recordings)
        for language, value in real_tts.items():
            scores.setdefault(language, {}).update(
                real_cer_tts=value, real_cer_recordings=real_rec[language]
            )
    if hasattr(stt, "acoustic") and simulated:
        rate = heard.rate
        greedy_tts = transcribe_greedy(stt, [heard.synthesized[i] for i in simulated], rate)
        greedy_rec = transcribe_greedy(stt, [heard.recordings[i] for i in simulated], rate)
        sub_texts, sub_langs = [texts[i] for i in simulated], [languages[i] for i in simulated]
        tts_greedy = cer_by_language(sub_texts, greedy_tts, sub_langs)
        rec_greedy = cer_by_language(sub_texts, greedy_rec, sub_langs)
        for language, value in tts_greedy.items():
            scores[language]["acoustic_cer_ratio"] = value / max(rec_greedy[language], RATE_FLOOR)
    return scores


def cer_by_language(
    references: Sequence[str], hypotheses: Sequence[str], languages: Sequence[str]
) -> dict[str, float]:
    """:func:`cer` overall ("all") and per language present in ``languages``."""
    return {
        language: cer(
            [references[i] for i in keep],
            [hypotheses[i] for i in keep],
            [languages[i] for i in keep],
        )
        for language, keep in by_language(languages).items()
        if keep
    }


def _stt_name(stt_model: Any) -> str:
    """Which STT model scored intelligibility (both sides of a comparison must share it)."""
    if isinstance(stt_model, str | Path):
        return str(Path(stt_model).resolve())
    return f"in-process {type(stt_model).__name__} {id(stt_model):x}"


def example_stats(
    model_dir: Path,
    rows: list[dict[str, Any]],
    *,
    stt_model: Any = None,
    settings: Settings | None = None,
) -> dict[str, ExampleStats]:
    """Per-example counts of the SavedModel at ``model_dir`` (loaded fresh) on ``rows``, keyed
    by ``example_id``, all lower is better: ``mel_l1``, ``duration_mae``, ``duration_error`` on the
    aligned rows (a mean: ``ratio`` of the example's value and 1), and with ``stt_model``
    ``cer_ratio`` on the rows of simulated speech (``rate_ratio`` of the characters the STT
    model got wrong on the synthesized audio and on the recording, and the reference length).

    Compare two TTS models' ``cer_ratio`` only when scored by the same STT model (its path is
    in ``meta["stt_model"]``; ``registry.compare`` refuses stats whose ``meta`` differ).
    """
    model = load(model_dir)
    audio = attach_audio(rows, settings)
    examples = prepare(rows, config_of(model), audio)
    stats = {
        name: ExampleStats.from_rows(
            name,
            "ratio",
            (name, "examples"),
            [(value, 1.0) for value in values],
            examples.keys,
            examples.languages,
            "lower",
        )
        for name, values in teacher_forced_errors(model, examples).items()
    }
    if stt_model is not None:
        heard = round_trip(model, stt_model, rows, audio=audio)
        keys = example_keys(rows)
        counts = []
        for i in heard.simulated:
            text, language = heard.texts[i], heard.languages[i]
            tts_edits, length = char_errors(text, heard.heard_tts[i], language)
            recording_edits, _ = char_errors(text, heard.heard_recordings[i], language)
            counts.append((tts_edits, recording_edits, length))
        stats["cer_ratio"] = ExampleStats.from_rows(
            "cer_ratio",
            "rate_ratio",
            ("tts_char_edits", "recording_char_edits", "reference_chars"),
            counts,
            [keys[i] for i in heard.simulated],
            [heard.languages[i] for i in heard.simulated],
            "lower",
            stt_model=_stt_name(stt_model),
        )
    return stats


def add_rows_arguments(parser: argparse.ArgumentParser) -> None:
    """``--split``, ``--synthetic``, ``--cache-dir``, ``--seed``: the rows a TTS CLI scores."""
    parser.add_argument("--split", default="test")
    parser.add_argument("--synthetic", type=int, default=0, help="utterances per language")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/voiceops-tts-synthetic"))
    parser.add_argument("--seed", type=int, default=42)


def rows_of(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The split's rows a TTS is scored on (``data.scored_splits``: calls' rows): rendered
    ``--synthetic`` ones, else the published mart's."""
    if args.synthetic:
        from training.tts.synthetic import synthetic_rows

        rows = synthetic_rows(args.synthetic, args.cache_dir, seed=args.seed)
    else:
        from core.settings import get_settings
        from training.tts.data import load_rows

        rows = load_rows(get_settings())
    from training.tts.data import scored_splits

    return scored_splits(rows).get(args.split, [])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Score an exported TTS SavedModel.")
    parser.add_argument("--model", type=Path, required=True, help="TTS SavedModel directory")
    parser.add_argument("--stt-model", type=Path, default=None, help="STT SavedModel directory")
    add_rows_arguments(parser)
    args = parser.parse_args(argv)
    scores = evaluate_exported(args.model, rows_of(args), stt_model=args.stt_model)
    rounded = {lang: {k: round(v, 4) for k, v in s.items()} for lang, s in scores.items()}
    print(json.dumps(rounded, indent=2))


if __name__ == "__main__":
    main()
