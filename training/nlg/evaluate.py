"""NLG metrics: corpus BLEU-4, exact match, slot-value accuracy.

Each is the aggregate of per-example counts (``training.common.example_stats``): clipped
n-gram matches, n-gram totals and lengths for BLEU, hits for the shares.
:func:`example_stats` returns those counts for a paired bootstrap (``registry.compare``).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.common.example_stats import ExampleStats, corpus_metric, row_keys
from training.common.scores import by_language
from training.nlg.data import Example
from training.nlg.delex import SLOT_PLACEHOLDERS, relexicalize, slot_fields, unfilled

_WORD_RE = re.compile(r"<[^>]+>|\w+|[^\w\s]")


def words(text: str) -> list[str]:
    """BLEU tokens: words, punctuation marks and placeholders (case kept)."""
    return _WORD_RE.findall(text)


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu_counts(hypothesis: list[str], references: list[list[str]], max_n: int = 4) -> list[int]:
    """One example's share of corpus BLEU: clipped n-gram matches (n = 1..max_n), n-gram
    totals, hypothesis length and the closest reference length (ties: the shorter)."""
    closest = min((len(r) for r in references), key=lambda n: (abs(n - len(hypothesis)), n))
    matches, totals = [], []
    for n in range(1, max_n + 1):
        counts = _ngrams(hypothesis, n)
        best: Counter = Counter()
        for ref in references:
            best |= _ngrams(ref, n)
        matches.append(sum(min(c, best[g]) for g, c in counts.items()))
        totals.append(max(len(hypothesis) - n + 1, 0))
    return [*matches, *totals, len(hypothesis), closest]


def bleu_columns(max_n: int = 4) -> tuple[str, ...]:
    """Names of :func:`bleu_counts`' numbers."""
    return (
        *(f"matches_{n}" for n in range(1, max_n + 1)),
        *(f"totals_{n}" for n in range(1, max_n + 1)),
        "hypothesis_length",
        "reference_length",
    )


def corpus_bleu(
    hypotheses: list[list[str]], references: list[list[list[str]]], max_n: int = 4
) -> float:
    """Papineni et al. (2002) corpus BLEU: clipped n-gram precisions (n = 1..max_n, uniform
    weights, no smoothing) times the brevity penalty against the closest reference length."""
    pairs = zip(hypotheses, references, strict=True)
    counts = [bleu_counts(hyp, refs, max_n) for hyp, refs in pairs]
    return corpus_metric("bleu", counts, width=2 * max_n + 2)


def exact_match(hypotheses: list[str], references: list[str]) -> float:
    """Share of hypotheses equal to their reference (whitespace-normalized)."""
    return corpus_metric("ratio", exact_match_counts(hypotheses, references), width=2)


def exact_match_counts(hypotheses: list[str], references: list[str]) -> list[tuple[int, int]]:
    """(same, 1) per example."""
    return [
        (int(" ".join(h.split()) == " ".join(r.split())), 1)
        for h, r in zip(hypotheses, references, strict=True)
    ]


def slot_values_correct(
    text: str, language: str, slots: dict[str, Any], required: tuple[str, ...]
) -> bool:
    """Whether every ``required`` slot's value appears in ``text`` in the bot's formatting."""
    fields = slot_fields(slots, language)
    for slot in required:
        surfaces = [v for k, v in fields.items() if slot in SLOT_PLACEHOLDERS[k]]
        if not any(
            re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text, re.IGNORECASE) for s in surfaces
        ):
            return False
    return True


def slot_value_counts(texts: list[str], examples: list[Example]) -> list[tuple[int, int]]:
    """(every slot value right, 1) per response."""
    return [
        (int(slot_values_correct(t, e.language, e.slots, e.located)), 1)
        for t, e in zip(texts, examples, strict=True)
    ]


def slot_value_accuracy(texts: list[str], examples: list[Example]) -> float:
    """Share of responses in which every slot value the reference says appears correctly."""
    return corpus_metric("ratio", slot_value_counts(texts, examples), width=2)


def condition_key(e: Example) -> tuple:
    """What the model sees: language, intent and which slots are present."""
    return (e.language, e.intent, frozenset(k for k, v in e.slots.items() if v is not None))


def _compared(
    generated: list[str], examples: list[Example], pool: list[Example] | None
) -> tuple[list[str], dict[tuple, set[str]]]:
    """Final texts (facts re-inserted) and every template seen per condition (pool + examples)."""
    texts = [
        relexicalize(t, e.language, e.slots, e.facts)
        for t, e in zip(generated, examples, strict=True)
    ]
    by_condition: dict[tuple, set[str]] = defaultdict(set)
    for e in [*(pool or []), *examples]:
        by_condition[condition_key(e)].add(e.template)
    return texts, by_condition


def _all_references(examples: list[Example], by_condition: dict[tuple, set[str]]) -> list:
    """Every template of each example's condition, as BLEU tokens (sorted: deterministic)."""
    return [[words(r) for r in sorted(by_condition[condition_key(e)])] for e in examples]


def score(
    generated: list[str], examples: list[Example], pool: list[Example] | None = None
) -> dict[str, float]:
    """Metrics of generated templates against the examples (facts re-inserted from them).

    ``bleu`` compares the final text with the one reference response; ``bleu_multi_ref`` the
    template with every template seen for the same condition in ``pool`` (several answers
    are equally right for one condition: the bot picks one at random).
    """
    texts, by_condition = _compared(generated, examples, pool)
    return {
        "bleu": corpus_bleu([words(t) for t in texts], [[words(e.response)] for e in examples]),
        "bleu_multi_ref": corpus_bleu(
            [words(t) for t in generated], _all_references(examples, by_condition)
        ),
        "exact_match": exact_match(texts, [e.response for e in examples]),
        "template_in_references": sum(
            t in by_condition[condition_key(e)] for t, e in zip(generated, examples, strict=True)
        )
        / max(len(examples), 1),
        "slot_value_accuracy": slot_value_accuracy(texts, examples),
        "unfilled_rate": sum(bool(unfilled(t)) for t in texts) / max(len(texts), 1),
        "examples": float(len(examples)),
    }


def stats_of_generated(
    generated: list[str],
    examples: list[Example],
    keys: Sequence[str],
    pool: list[Example] | None = None,
) -> dict[str, ExampleStats]:
    """Per-example counts of :func:`score`'s ``bleu``, ``bleu_multi_ref``, ``exact_match``
    and ``slot_value_accuracy`` (all higher is better)."""
    texts, by_condition = _compared(generated, examples, pool)
    languages = [e.language for e in examples]
    single = zip(texts, examples, strict=True)
    multi = zip(generated, _all_references(examples, by_condition), strict=True)
    counts = {
        "bleu": (
            "bleu",
            bleu_columns(),
            [bleu_counts(words(t), [words(e.response)]) for t, e in single],
        ),
        "bleu_multi_ref": (
            "bleu",
            bleu_columns(),
            [bleu_counts(words(g), refs) for g, refs in multi],
        ),
        "exact_match": (
            "ratio",
            ("same", "examples"),
            exact_match_counts(texts, [e.response for e in examples]),
        ),
        "slot_value_accuracy": (
            "ratio",
            ("correct", "examples"),
            slot_value_counts(texts, examples),
        ),
    }
    stats = {
        metric: ExampleStats.from_rows(metric, kind, columns, values, keys, languages, "higher")
        for metric, (kind, columns, values) in counts.items()
    }
    pool_templates = sorted({e.template for e in pool or []})
    digest = hashlib.sha256("\n".join(pool_templates).encode()).hexdigest()[:16]
    stats["bleu_multi_ref"].meta["reference_pool"] = digest  # same references on both sides
    return stats


def score_by_language(
    generated: list[str], examples: list[Example], pool: list[Example] | None = None
) -> dict[str, dict[str, float]]:
    """:func:`score` over all examples (``"all"``) and per language."""
    pairs = list(zip(generated, examples, strict=True))
    return by_language(
        pairs,
        lambda pair: pair[1].language,
        lambda chosen: score([g for g, _ in chosen], [e for _, e in chosen], pool),
    )


def scoring_inputs(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What :func:`evaluate_exported` takes from the whole mart to score one split as
    training does: the ``train`` rows as the pool of references (``pool_rows``)."""
    return {"pool_rows": [row for row in rows if row.get("split") == "train"]}


def evaluate_exported(
    model_dir: Path,
    rows: list[dict[str, Any]],
    *,
    pool_rows: list[dict[str, Any]] | None = None,
) -> dict[str, dict[str, float]]:
    """Scores of an exported SavedModel (loaded fresh) on mart rows, per language;
    ``pool_rows`` add references to ``bleu_multi_ref`` and ``template_in_references`` as
    training's ``pool`` (the ``train`` rows, :func:`scoring_inputs`) does."""
    from training.nlg.data import prepare
    from training.nlg.export import load, templates

    serving = load(model_dir)
    examples = prepare(rows)
    requests = [{"language": e.language, "intent": e.intent, "slots": e.slots} for e in examples]
    pool = prepare(pool_rows) if pool_rows is not None else None
    return score_by_language(templates(serving, requests), examples, pool)


def example_stats(
    model_dir: Path,
    rows: list[dict[str, Any]],
    *,
    pool_rows: list[dict[str, Any]] | None = None,
) -> dict[str, ExampleStats]:
    """Per-example counts of the SavedModel at ``model_dir`` (loaded fresh) on ``rows``, keyed
    by ``example_id`` (see :func:`stats_of_generated`). ``pool_rows`` add references to
    ``bleu_multi_ref`` as training's ``pool`` does, as in :func:`evaluate_exported`."""
    from training.nlg.data import prepare
    from training.nlg.export import load, templates

    serving = load(model_dir)
    examples = prepare(rows)
    requests = [{"language": e.language, "intent": e.intent, "slots": e.slots} for e in examples]
    pool = prepare(pool_rows) if pool_rows is not None else None
    keys = row_keys(rows, "example_id")
    return stats_of_generated(templates(serving, requests), examples, keys, pool)
