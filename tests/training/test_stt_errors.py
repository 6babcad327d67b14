"""Error analysis of STT transcripts: the worst utterances and the word confusions."""

from __future__ import annotations

from training.stt.errors import Confusion, word_confusions, worst_utterances

REFERENCES = [
    "i lost my card",
    "four hundred dollars",
    "hello",
    "four pounds",
    "заблокируйте карту",
]
HYPOTHESES = [
    "i lost my cart",
    "for hundred dollar",
    "hello",
    "for the pounds",
    "заблокируй карту",
]


def test_worst_utterances_rank_by_character_edits_and_skip_correct_ones() -> None:
    worst = worst_utterances(REFERENCES, HYPOTHESES, n=10)
    assert [miss.index for miss in worst] == [3, 4, 1, 0]  # "hello" is right: not listed
    assert [miss.errors for miss in worst] == [5, 2, 2, 1]
    # a tie on edits goes to the higher CER: 2 of 18 characters before 2 of 20
    assert worst[1].cer == 2 / 18 and worst[2].cer == 2 / 20
    assert worst_utterances(REFERENCES, HYPOTHESES, n=2) == worst[:2]
    assert (worst[0].reference, worst[0].hypothesis) == ("four pounds", "for the pounds")


def test_word_confusions_count_each_edit_block() -> None:
    confusions = word_confusions(REFERENCES, HYPOTHESES, top=10)
    # ties in alphabetical order; "four pounds" -> "for the pounds" is one block, not an
    # insertion beside a substitution
    assert confusions == [
        Confusion("card", "cart", 1),
        Confusion("dollars", "dollar", 1),
        Confusion("four", "for", 1),
        Confusion("four", "for the", 1),
        Confusion("заблокируйте", "заблокируй", 1),
    ]
    assert word_confusions(REFERENCES, HYPOTHESES, top=2) == confusions[:2]
    assert word_confusions(["a b", "a b"], ["a c", "a c"], top=5) == [Confusion("b", "c", 2)]
    assert word_confusions(["open the app"], ["open app"], top=5) == [Confusion("the", "", 1)]
    assert word_confusions(["same"], ["same"], top=5) == []
