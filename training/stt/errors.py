"""Where a recognizer's errors are: the worst utterances and the most frequent word
confusions of a set of transcripts (no TensorFlow: the registry CLI reports them).

    worst_utterances(references, hypotheses, n=5)  # -> [Miss(index, errors, chars, ...)]
    word_confusions(references, hypotheses, top=10)  # -> [Confusion("four", "for", 7), ...]

A confusion is one run of edits in the word alignment (``rapidfuzz``'s Levenshtein opcodes,
adjacent ones merged): reference words written as others (``"four" -> "for the"``), left out
(``"the" -> ""``) or added (``"" -> "a"``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein


@dataclasses.dataclass(frozen=True)
class Miss:
    """One utterance's transcript against its reference."""

    index: int  # into the transcripts given
    errors: int  # character edits
    chars: int  # reference characters
    reference: str
    hypothesis: str

    @property
    def cer(self) -> float:
        return self.errors / max(self.chars, 1)


@dataclasses.dataclass(frozen=True)
class Confusion:
    """A run of reference words the recognizer wrote as other words ("" = none), and how
    often."""

    reference: str
    hypothesis: str
    count: int


def worst_utterances(references: Sequence[str], hypotheses: Sequence[str], n: int) -> list[Miss]:
    """The ``n`` utterances with the most character edits (ties: the higher CER first, then
    the earlier one); utterances without an error are never listed."""
    misses = [
        Miss(i, Levenshtein.distance(ref, hyp), len(ref), ref, hyp)
        for i, (ref, hyp) in enumerate(zip(references, hypotheses, strict=True))
    ]
    misses = [miss for miss in misses if miss.errors]
    misses.sort(key=lambda miss: (-miss.errors, -miss.cer, miss.index))
    return misses[:n]


def _edit_blocks(
    reference: list[str], hypothesis: list[str]
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The alignment's maximal runs of edits, as (reference span, hypothesis span): adjacent
    opcodes merged, so "four" -> "for the" is one block, not an insert beside a replace."""
    blocks: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for op in Levenshtein.opcodes(reference, hypothesis):
        if op.tag == "equal":
            continue
        if blocks and blocks[-1][0][1] == op.src_start and blocks[-1][1][1] == op.dest_start:
            (ref_start, _), (hyp_start, _) = blocks.pop()
            blocks.append(((ref_start, op.src_end), (hyp_start, op.dest_end)))
        else:
            blocks.append(((op.src_start, op.src_end), (op.dest_start, op.dest_end)))
    return blocks


def word_confusions(
    references: Sequence[str], hypotheses: Sequence[str], top: int
) -> list[Confusion]:
    """The ``top`` most frequent edit blocks of the word alignments (ties: alphabetical)."""
    counts: Counter[tuple[str, str]] = Counter()
    for ref, hyp in zip(references, hypotheses, strict=True):
        ref_words, hyp_words = ref.split(), hyp.split()
        for (ref_start, ref_end), (hyp_start, hyp_end) in _edit_blocks(ref_words, hyp_words):
            said, written = ref_words[ref_start:ref_end], hyp_words[hyp_start:hyp_end]
            counts[(" ".join(said), " ".join(written))] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [Confusion(said, written, count) for (said, written), count in ranked[:top]]
