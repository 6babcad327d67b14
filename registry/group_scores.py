"""CER of a registered STT version on one split, per group of rows: the voice engine, the
telephone line, the language or the speaker.

    group_scores(settings, "@champion", split="test", by="engine")
    # -> {"version": "3", "split": "test", "by": "engine", "lake_commit": ..., "rows": 248,
    #     "groups": {"espeak": {"all": {"cer", "wer", "n"}, "en": {...}, "ru": {...}}, ...},
    #     "languages": {"all": {...}, "en": {...}, "ru": {...}}}

The rows are the split's rows of the ``stt_examples`` mart at the lake commit the version was
trained on (its lineage; an imported version: the commit it was evaluated on), rebuilt into
``repro_<commit>`` when the published marts are of another commit (as ``reproduce`` does),
or at the published commit with ``published=True`` or when the version records no commit.

Groups come from the rows themselves (``training.stt.groups.ROW_GROUPS``): the engine is the
speaker id's prefix, the line its codec or ``clean``. Transcripts are decoded with each row's
language, as served and as the registry scores a version (``registry.external_eval``); an
imported model transcribes only the languages it speaks (the other rows are counted, not
scored).

With ``errors=N`` the report also lists the N utterances with the most character edits and,
per language, the N most frequent word confusions ("four" -> "for"): what to listen to first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from core.errors import InputError
from core.settings import Settings
from registry.errors import RegistryError
from registry.external import languages_of
from registry.external_eval import prepared_transcripts
from registry.register import model_dir
from registry.tracking import client
from registry.versions import resolve_ref
from training.common.example_stats import row_keys
from training.families import family
from training.stt.groups import ROW_GROUPS

ERROR_ROW_FIELDS = ("call_id", "language", "speaker", "line")  # listed beside a worst utterance

RowsLoader = Callable[[str, str], list[dict[str, Any]]]


def version_commit(version: Any) -> str:
    """The lake commit a version was trained on, or an imported one evaluated on ("" if
    neither is recorded)."""
    tags = version.tags
    return tags.get("lineage.lake_commit") or tags.get("lineage.evaluated_commit") or ""


def warehouse_split_rows(settings: Settings) -> RowsLoader:
    """``(commit, split) -> rows`` of the STT mart at ``commit`` with their audio, rebuilt
    into ``repro_<commit>`` when the published marts are of another commit."""
    from training.common.data import StaleDataError, read_mart
    from training.stt.data import MART, attach_audio

    def load(commit: str, split: str) -> list[dict[str, Any]]:
        try:
            rows = read_mart(settings, MART, commit=commit, splits=(split,))
        except StaleDataError:
            from registry.reproduce import rebuild_commit

            schema = rebuild_commit(settings, commit)
            rows = read_mart(settings, MART, commit=commit, splits=(split,), schema=schema)
        return attach_audio(rows, settings)

    return load


def _published(settings: Settings) -> str:
    from training.common.data import published_commit

    commit = published_commit(settings)
    if not commit:
        raise InputError("nothing published yet: run the audit-publish pipeline first")
    return commit


def scores_by_group(
    rows: list[dict[str, Any]], references: list[str], hypotheses: list[str], by: str
) -> dict[str, dict[str, dict[str, float]]]:
    """``{group: {"all" | language: {"cer", "wer", "n"}}}`` of transcripts of ``rows``
    (``references[i]``, ``hypotheses[i]`` are ``rows[i]``'s)."""
    from training.stt.evaluate import scores

    group_of = ROW_GROUPS[by]
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(group_of(row), []).append(i)
    return {
        name: scores(
            [references[i] for i in keep],
            [hypotheses[i] for i in keep],
            [str(rows[i]["language"]) for i in keep],
        )
        for name, keep in sorted(groups.items())
    }


def error_report(
    rows: list[dict[str, Any]], references: list[str], hypotheses: list[str], by: str, n: int
) -> dict[str, Any]:
    """The ``n`` worst utterances (with their group, language, speaker and line) and, per
    language, the ``n`` most frequent word confusions (``training.stt.errors``)."""
    from training.stt.errors import word_confusions, worst_utterances

    group_of = ROW_GROUPS[by]
    worst = [
        dataclasses.asdict(miss)
        | {
            "cer": miss.cer,
            "group": group_of(rows[miss.index]),
            **{field: str(rows[miss.index].get(field, "")) for field in ERROR_ROW_FIELDS},
        }
        for miss in worst_utterances(references, hypotheses, n)
    ]
    confusions: dict[str, list[dict[str, Any]]] = {}
    for language in sorted({str(row["language"]) for row in rows}):
        keep = [i for i, row in enumerate(rows) if row["language"] == language]
        pairs = word_confusions([references[i] for i in keep], [hypotheses[i] for i in keep], n)
        confusions[language] = [dataclasses.asdict(pair) for pair in pairs]
    return {"worst": worst, "confusions": confusions}


def group_scores(
    settings: Settings,
    ref: str,
    *,
    split: str = "test",
    by: str = "engine",
    published: bool = False,
    errors: int = 0,
    rows_loader: RowsLoader | None = None,
) -> dict[str, Any]:
    """CER / WER per group and per language of STT version ``ref`` (number or @alias) on
    the ``split`` rows (see the module docstring); with ``errors`` > 0 also the worst
    utterances and the most frequent word confusions (``error_report``)."""
    from training.stt.evaluate import scores

    if by not in ROW_GROUPS:
        raise InputError(f"unknown grouping {by!r} (known: {', '.join(ROW_GROUPS)})")
    fam = family("stt")
    version = resolve_ref(client(settings), fam.model_name, ref)
    commit = "" if published else version_commit(version)
    source = "lineage" if commit else "published"
    commit = commit or _published(settings)
    rows = (rows_loader or warehouse_split_rows(settings))(commit, split)
    if not rows:
        raise RegistryError(f"the stt_examples mart has no {split} rows at lake commit {commit}")
    artifact = model_dir(version, settings)
    spoken = set(languages_of(artifact))
    heard = [row for row in rows if row.get("language") in spoken]
    data, hypotheses = prepared_transcripts(artifact, heard)
    by_key = dict(zip(row_keys(heard, "call_id"), heard, strict=True))
    scored = [by_key[key] for key in data.keys]
    report = {
        "model": fam.model_name,
        "version": str(version.version),
        "split": split,
        "by": by,
        "lake_commit": commit,
        "commit_of": source,
        "rows": len(rows),
        "scored": len(scored),
        "not_scored": {
            reason: count
            for reason, count in {**data.excluded, "other_language": len(rows) - len(heard)}.items()
            if count
        },
        "groups": scores_by_group(scored, data.references, hypotheses, by),
        "languages": scores(data.references, hypotheses, data.languages) if scored else {},
    }
    if errors > 0:
        report |= error_report(scored, data.references, hypotheses, by, errors)
    return report
