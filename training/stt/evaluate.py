"""CER and WER (corpus level: total edits / total reference length), per language.

    evaluate_exported(model_dir, rows)
        -> {"ru": {"cer", "wer", "n", "language_confusion"}, "en": ..., "all": ...}
    example_stats(model_dir, rows) -> {"cer": ExampleStats, "wer": ExampleStats}

score an exported SavedModel, loaded fresh, on mart rows of one split (audio read from the
lake when the rows do not carry it): the corpus figures, or each utterance's edits and
reference length (what a paired bootstrap resamples; ``registry.compare``). References are
normalized with ``text.normalize``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapidfuzz.distance import Levenshtein

from training.common.example_stats import ExampleStats, corpus_metric
from training.stt.language import confusion_rate

if TYPE_CHECKING:
    from training.stt.data import Prepared

ALL = "all"


def edit_distance(reference: Sequence[Any], hypothesis: Sequence[Any]) -> int:
    """Levenshtein distance (substitutions, insertions, deletions all cost 1) of two strings
    or word lists (``rapidfuzz``)."""
    return Levenshtein.distance(reference, hypothesis)


def char_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(character edits, reference characters) of one utterance: its share of the CER."""
    return edit_distance(reference, hypothesis), len(reference)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edits, reference words) of one utterance: its share of the WER."""
    words = reference.split()
    return edit_distance(words, hypothesis.split()), len(words)


def cer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Character error rate over a corpus (0.0 when there is nothing to compare)."""
    pairs = zip(references, hypotheses, strict=True)
    return corpus_metric("ratio", [char_errors(r, h) for r, h in pairs], width=2)


def wer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Word error rate over a corpus (0.0 when there is nothing to compare)."""
    pairs = zip(references, hypotheses, strict=True)
    return corpus_metric("ratio", [word_errors(r, h) for r, h in pairs], width=2)


def scores(
    references: Sequence[str], hypotheses: Sequence[str], languages: Sequence[str]
) -> dict[str, dict[str, float]]:
    """``{"all" | language: {"cer", "wer", "n"}}``."""

    def one(keep: list[int]) -> dict[str, float]:
        refs, hyps = [references[i] for i in keep], [hypotheses[i] for i in keep]
        return {"cer": cer(refs, hyps), "wer": wer(refs, hyps), "n": float(len(keep))}

    result = {ALL: one(list(range(len(references))))}
    for language in sorted(set(languages)):
        result[language] = one([i for i, lang in enumerate(languages) if lang == language])
    return result


def served_scores(model: Any, data: Prepared) -> dict[str, dict[str, float]]:
    """CER / WER of ``model`` (in-process or loaded) on prepared data, decoded with each
    row's language as served, overall and per language, with ``language_confusion``: the
    share of utterances the acoustic model alone (greedy, no language mask) writes mostly
    in the other language's script."""
    from training.stt.export import transcribe, transcribe_greedy
    from training.stt.features import MODEL_RATE

    languages = list(data.languages)
    hypotheses = transcribe(model, data.waveforms, MODEL_RATE, languages=languages)
    result = scores(data.references, hypotheses, languages)
    unmasked = transcribe_greedy(model, data.waveforms, MODEL_RATE)
    for language, score in result.items():
        keep = [i for i, lang in enumerate(languages) if language in (ALL, lang)]
        texts, langs = [unmasked[i] for i in keep], [languages[i] for i in keep]
        score["language_confusion"] = confusion_rate(texts, langs)
    return result


def _transcribed(model_dir: Path, rows: list[dict[str, Any]]) -> tuple[Any, list[str]]:
    """The usable rows prepared (see ``data.prepare``) and the model's transcripts of them."""
    from training.stt.data import prepare
    from training.stt.export import load, transcribe
    from training.stt.features import MODEL_RATE

    data = prepare(rows)
    if not data.references:
        return data, []
    model = load(Path(model_dir))
    return data, transcribe(model, data.waveforms, MODEL_RATE, languages=list(data.languages))


def evaluate_exported(model_dir: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Scores of the SavedModel at ``model_dir`` on ``rows`` (usable rows of one split)."""
    from training.stt.data import prepare
    from training.stt.export import load

    data = prepare(rows)
    if not data.references:
        return {ALL: {"cer": 0.0, "wer": 0.0, "n": 0.0}}
    return served_scores(load(Path(model_dir)), data)


def stats_of_transcripts(
    references: Sequence[str],
    hypotheses: Sequence[str],
    languages: Sequence[str],
    keys: Sequence[str],
) -> dict[str, ExampleStats]:
    """``{"cer", "wer"}`` per-example counts of transcripts (both lower is better)."""
    pairs = list(zip(references, hypotheses, strict=True))
    return {
        "cer": ExampleStats.from_rows(
            "cer",
            "ratio",
            ("char_edits", "reference_chars"),
            [char_errors(r, h) for r, h in pairs],
            keys,
            languages,
            "lower",
        ),
        "wer": ExampleStats.from_rows(
            "wer",
            "ratio",
            ("word_edits", "reference_words"),
            [word_errors(r, h) for r, h in pairs],
            keys,
            languages,
            "lower",
        ),
    }


def example_stats(model_dir: Path, rows: list[dict[str, Any]]) -> dict[str, ExampleStats]:
    """Per-example ``cer`` and ``wer`` counts of the SavedModel at ``model_dir`` on ``rows``
    (its served decoding), keyed by ``call_id``; rows ``prepare`` leaves out are left out."""
    data, hypotheses = _transcribed(model_dir, rows)
    return stats_of_transcripts(data.references, hypotheses, data.languages, data.keys)
