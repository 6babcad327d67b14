"""CER and WER (corpus level: total edits / total reference length), per language.

    evaluate_exported(model_dir, rows) -> {"ru": {"cer", "wer", "n"}, "en": ..., "all": ...}

scores an exported SavedModel, loaded fresh, on mart rows of one split (audio read from the
lake when the rows do not carry it). References are normalized with ``text.normalize``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

ALL = "all"


def edit_distance(reference: Sequence[Any], hypothesis: Sequence[Any]) -> int:
    """Levenshtein distance (substitutions, insertions, deletions all cost 1)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def cer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Character error rate over a corpus (0.0 when there is nothing to compare)."""
    edits = sum(edit_distance(r, h) for r, h in zip(references, hypotheses, strict=True))
    total = sum(len(r) for r in references)
    return edits / total if total else 0.0


def wer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Word error rate over a corpus (0.0 when there is nothing to compare)."""
    pairs = zip(references, hypotheses, strict=True)
    edits = sum(edit_distance(r.split(), h.split()) for r, h in pairs)
    total = sum(len(r.split()) for r in references)
    return edits / total if total else 0.0


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


def evaluate_exported(model_dir: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Scores of the SavedModel at ``model_dir`` on ``rows`` (usable rows of one split)."""
    from training.stt.data import prepare
    from training.stt.export import load, transcribe
    from training.stt.features import MODEL_RATE

    data = prepare(rows)
    if not data.references:
        return {ALL: {"cer": 0.0, "wer": 0.0, "n": 0.0}}
    hypotheses = transcribe(load(Path(model_dir)), data.waveforms, MODEL_RATE)
    return scores(data.references, hypotheses, data.languages)
