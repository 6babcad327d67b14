"""Per-language error tables of the speech families, as Markdown.

* :func:`cer_table`: every split's character (and word) error rates per language, from the
  run's scores (STT: ``cer``/``wer``; TTS: ``cer_tts``, ``cer_recordings``, ``cer_ratio``
  of the STT model listening to the synthesized and the recorded test sentences).
* :func:`worst_examples_table`: STT's worst transcripts per test split and language,
  reference beside hypothesis, from :func:`stt_transcripts` (the exported model on the rows
  of the test splits: ``test``, ``test_real``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEECH_FAMILIES = ("stt", "tts")
WORST_PER_LANGUAGE = 3


@dataclass(frozen=True)
class Transcript:
    """One test utterance: its normalized reference and what the model heard."""

    split: str
    language: str
    reference: str
    hypothesis: str

    @property
    def cer(self) -> float:
        from training.stt.evaluate import char_errors

        edits, length = char_errors(self.reference, self.hypothesis)
        return edits / max(length, 1)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "∅"


def _error_metrics(metrics: dict[str, float]) -> list[str]:
    return sorted(m for m in metrics if m.startswith(("cer", "wer")))


def cer_table(scores: dict[str, dict[str, dict[str, float]]]) -> str:
    """``| split | language | cer ... | n |`` for every split and language that has a
    character or word error rate ("" when none has)."""
    names = sorted(
        {
            m
            for languages in scores.values()
            for ms in languages.values()
            for m in _error_metrics(ms)
        }
    )
    if not names:
        return ""
    lines = [
        "| split | language | " + " | ".join(names) + " | n |",
        "|---|---|" + "---|" * (len(names) + 1),
    ]
    for split in sorted(scores):
        for language in sorted(scores[split], key=lambda lang: (lang == "all", lang)):
            metrics = scores[split][language]
            if not _error_metrics(metrics):
                continue
            cells = [f"{metrics[n]:.4f}" if n in metrics else "" for n in names]
            count = f"{metrics['n']:g}" if "n" in metrics else ""
            lines.append(f"| {split} | {language} | " + " | ".join(cells) + f" | {count} |")
    return "\n".join(lines)


def worst_examples_table(
    transcripts: list[Transcript], per_language: int = WORST_PER_LANGUAGE
) -> str:
    """The ``per_language`` highest-CER transcripts of each split and language ("" when
    there are none)."""
    if not transcripts:
        return ""
    lines = ["| split | language | CER | reference | hypothesis |", "|---|---|---|---|---|"]
    for split, language in sorted({(t.split, t.language) for t in transcripts}):
        group = [t for t in transcripts if (t.split, t.language) == (split, language)]
        lines += [
            f"| {split} | {language} | {t.cer:.3f} | {_cell(t.reference)} | {_cell(t.hypothesis)} |"
            for t in sorted(group, key=lambda t: -t.cer)[:per_language]
        ]
    return "\n".join(lines)


def stt_transcripts(model_path: Path, rows: list[dict[str, Any]]) -> list[Transcript]:
    """The exported STT model's transcripts of the rows of every test split (``split``
    starting with ``test``; rows without a split count as ``test``), prepared as its
    evaluation prepares them."""
    from training.stt.data import prepare
    from training.stt.export import load, transcribe
    from training.stt.features import MODEL_RATE

    model = load(Path(model_path))
    splits: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if (split := str(row.get("split", "test"))).startswith("test"):
            splits.setdefault(split, []).append(row)
    found = []
    for split, split_rows in sorted(splits.items()):
        data = prepare(split_rows)
        if not data.references:
            continue
        heard = transcribe(model, data.waveforms, MODEL_RATE)
        found += [
            Transcript(split, language, reference, hypothesis)
            for language, reference, hypothesis in zip(
                data.languages, data.references, heard, strict=True
            )
        ]
    return found


def error_tables_markdown(
    family: str,
    scores: dict[str, dict[str, dict[str, float]]],
    model_path: Path | None = None,
    test_rows: list[dict[str, Any]] | None = None,
) -> str:
    """The family's error tables ("" for the text families): CER per language, and for STT
    with ``test_rows`` the worst transcripts per test split and language."""
    if family not in SPEECH_FAMILIES:
        return ""
    parts = []
    if table := cer_table(scores):
        parts += ["#### Error rates per language", table]
    if family == "stt" and test_rows and model_path is not None:
        worst = worst_examples_table(stt_transcripts(model_path, test_rows))
        if worst:
            parts += ["#### Worst test transcripts per split and language", worst]
    return "\n\n".join(parts)
