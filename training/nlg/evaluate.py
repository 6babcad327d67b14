"""NLG metrics: corpus BLEU-4, exact match, slot-value accuracy."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from training.common.scores import by_language
from training.nlg.data import Example
from training.nlg.delex import SLOT_PLACEHOLDERS, relexicalize, slot_fields, unfilled

_WORD_RE = re.compile(r"<[^>]+>|\w+|[^\w\s]")


def words(text: str) -> list[str]:
    """BLEU tokens: words, punctuation marks and placeholders (case kept)."""
    return _WORD_RE.findall(text)


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(
    hypotheses: list[list[str]], references: list[list[list[str]]], max_n: int = 4
) -> float:
    """Papineni et al. (2002) corpus BLEU: clipped n-gram precisions (n = 1..max_n, uniform
    weights, no smoothing) times the brevity penalty against the closest reference length."""
    matches, totals = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for hyp, refs in zip(hypotheses, references, strict=True):
        hyp_len += len(hyp)
        ref_len += min((len(r) for r in refs), key=lambda n: (abs(n - len(hyp)), n))
        for n in range(1, max_n + 1):
            counts = _ngrams(hyp, n)
            best: Counter = Counter()
            for ref in refs:
                best |= _ngrams(ref, n)
            matches[n - 1] += sum(min(c, best[g]) for g, c in counts.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    if hyp_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals, strict=True)) / max_n
    brevity = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return brevity * math.exp(log_precision)


def exact_match(hypotheses: list[str], references: list[str]) -> float:
    """Share of hypotheses equal to their reference (whitespace-normalized)."""
    same = sum(
        " ".join(h.split()) == " ".join(r.split())
        for h, r in zip(hypotheses, references, strict=True)
    )
    return same / max(len(references), 1)


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


def slot_value_accuracy(texts: list[str], examples: list[Example]) -> float:
    """Share of responses in which every slot value the reference says appears correctly."""
    ok = sum(
        slot_values_correct(t, e.language, e.slots, e.located)
        for t, e in zip(texts, examples, strict=True)
    )
    return ok / max(len(examples), 1)


def condition_key(e: Example) -> tuple:
    """What the model sees: language, intent and which slots are present."""
    return (e.language, e.intent, frozenset(k for k, v in e.slots.items() if v is not None))


def score(
    generated: list[str], examples: list[Example], pool: list[Example] | None = None
) -> dict[str, float]:
    """Metrics of generated templates against the examples (facts re-inserted from them).

    ``bleu`` compares the final text with the one reference response; ``bleu_multi_ref`` the
    template with every template seen for the same condition in ``pool`` (several answers
    are equally right for one condition: the bot picks one at random).
    """
    texts = [
        relexicalize(t, e.language, e.slots, e.facts)
        for t, e in zip(generated, examples, strict=True)
    ]
    by_condition: dict[tuple, set[str]] = defaultdict(set)
    for e in [*(pool or []), *examples]:
        by_condition[condition_key(e)].add(e.template)
    return {
        "bleu": corpus_bleu([words(t) for t in texts], [[words(e.response)] for e in examples]),
        "bleu_multi_ref": corpus_bleu(
            [words(t) for t in generated],
            [[words(r) for r in sorted(by_condition[condition_key(e)])] for e in examples],
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


def evaluate_exported(model_dir: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Scores of an exported SavedModel (loaded fresh) on mart rows, per language."""
    from training.nlg.data import prepare
    from training.nlg.export import load, templates

    serving = load(model_dir)
    examples = prepare(rows)
    requests = [{"language": e.language, "intent": e.intent, "slots": e.slots} for e in examples]
    return score_by_language(templates(serving, requests), examples)
