"""Score an imported version on the mart's evaluation splits, as in-house versions are scored.

    evaluate_splits("stt", artifact_dir, rows)
    # -> {"test": {"all": {...}, "en": {"cer", "wer", "n"}, "ru": {"n": 0, "skipped": 37}}, ...}

Every test split a training run of the family scores (``Family.test_splits``: STT ``test``,
``test_channel``, ``test_real``; NLU also ``test_unseen_phrasing`` and ``test_human``) is
scored per language, as the pipeline's evaluate step (``training.steps.evaluate``) scores
an in-house version. An STT model scores only the languages its manifest declares
(``registry.external``): rows of another language are not transcribed, and that language
reports ``n = 0`` with the rows ``skipped`` (so a threshold on it is *missing*, never met by
scoring nonsense); ``all`` covers the scored rows. STT transcripts are decoded with each
row's language given (``transcribe(..., languages=...)``), as the served bot decodes a call.
Other families are scored by their own ``evaluate_exported`` (every language) with the
inputs a training run scores with (``Family.scoring_inputs``: NLG's pool of references, TTS's
STT model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry.external import languages_of, load_artifact
from training.families import family

SKIPPED = "skipped"

Scores = dict[str, dict[str, float]]


def prepared_transcripts(model_dir: Path, rows: list[dict[str, Any]]) -> tuple[Any, list[str]]:
    """The rows in the model's languages prepared (``training.stt.data.prepare``) and their
    transcripts."""
    from training.stt.data import prepare
    from training.stt.export import transcribe
    from training.stt.features import MODEL_RATE

    spoken = set(languages_of(model_dir))
    data = prepare([r for r in rows if r.get("language") in spoken])
    if not data.references:
        return data, []
    model = load_artifact(model_dir)
    return data, transcribe(model, data.waveforms, MODEL_RATE, languages=list(data.languages))


def stt_scores(model_dir: Path, rows: list[dict[str, Any]]) -> Scores:
    """CER/WER per language of the rows in the model's languages; the others ``skipped``."""
    from training.stt.evaluate import ALL, scores

    spoken = set(languages_of(model_dir))
    data, hypotheses = prepared_transcripts(model_dir, rows)
    result: Scores = {ALL: {"cer": 0.0, "wer": 0.0, "n": 0.0}}
    if data.references:
        result = scores(data.references, hypotheses, data.languages)
    for language in sorted({str(r.get("language")) for r in rows} - spoken):
        count = sum(1 for r in rows if r.get("language") == language)
        result[language] = {"n": 0.0, SKIPPED: float(count)}
    return result


def stt_example_stats(model_dir: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-example ``cer``/``wer`` counts on the rows in the model's languages (what the
    champion comparison pairs; ``training.stt.evaluate.example_stats`` for any artifact)."""
    from training.stt.evaluate import stats_of_transcripts

    data, hypotheses = prepared_transcripts(model_dir, rows)
    return stats_of_transcripts(data.references, hypotheses, data.languages, data.keys)


def evaluate_splits(
    family_name: str, model_dir: Path, rows: list[dict[str, Any]], **models: Path
) -> dict:
    """``{split: {language: metrics}}`` of the artifact on each test split an in-house
    version of the family is scored on (``Family.test_splits`` of ``rows``); ``models`` are
    the ``<family>_model`` SavedModels it is scored with (TTS: ``stt_model``)."""
    fam = family(family_name)
    inputs = fam.scoring_inputs(rows, **models)
    out = {}
    for split, chosen in fam.test_splits(rows).items():
        if fam.name == "stt":
            out[split] = stt_scores(model_dir, chosen)
        else:
            out[split] = fam.evaluate_exported(model_dir, chosen, **inputs)
    return out
