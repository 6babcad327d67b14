"""The English studio script: what the corpus voice reads, a fixed and versioned list.

``script_en_v1.txt`` holds one sentence per line (``#`` lines are comments): the bot's own
responses (what the TTS voice says in production: every dialogue line, and the NLG responses
of each intent with slot values drawn from the phrasebook) and customer sentences of the
phrasebook. It was written once by ``python -m ingestion.voice_corpus.script --write`` and is
read as it is: a later phrasebook change makes a new version (a new file), never a silent
change of what an earlier delivery was recorded from. Sentences that name a person or hold
data the redaction would mask (:func:`core.pii_detect.detect`) are left out: the
``tts_examples`` mart takes no text that needed redaction.
"""

from __future__ import annotations

import argparse
import random
from datetime import date
from pathlib import Path

SCRIPT_VERSION = "v1"
SCRIPT_EN = Path(__file__).with_name(f"script_en_{SCRIPT_VERSION}.txt")
#: The day the slot values (dates, periods) are relative to, fixed for determinism.
SCRIPT_TODAY = date(2026, 1, 1)


def read_script(path: Path = SCRIPT_EN) -> list[str]:
    """The script's sentences in order (comments and blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _speakable(text: str) -> bool:
    """Free of anything the mart would refuse: a name or personal data (redaction)."""
    from core.pii_detect import detect

    return not detect(text) and "{" not in text


def generate_script(
    responses_per_intent: int = 14, customer_sentences: int = 160, seed: int = 0
) -> list[str]:
    """Sentences for a new script version: dialogue lines, up to ``responses_per_intent``
    distinct bot responses per intent, then ``customer_sentences`` distinct customer ones;
    the same arguments (and phrasebook) give the same list."""
    from core import language as nl
    from core.taxonomy import load_taxonomy

    book = nl.phrasebook("en")
    rng = random.Random(f"voice-corpus-script:{seed}")
    sentences: list[str] = []
    seen: set[str] = set()

    def add(text: str) -> bool:
        text = " ".join(text.split())
        if text in seen or not _speakable(text):
            return False
        seen.add(text)
        sentences.append(text)
        return True

    for line in book.get("dialogue", {}).values():
        add(line)
    intents = [name for name in load_taxonomy().intents if name in book["intents"]]
    for intent in intents:
        added = 0
        for _ in range(responses_per_intent * 6):
            said = nl.utterance(intent, "en", rng, SCRIPT_TODAY)
            added += add(nl.bot_response(intent, "en", said.slots, rng, SCRIPT_TODAY))
            if added == responses_per_intent:
                break
    customers = 0
    for _ in range(customer_sentences * 6):
        intent = rng.choice(intents)
        customers += add(nl.utterance(intent, "en", rng, SCRIPT_TODAY).text)
        if customers == customer_sentences:
            break
    return sentences


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a new version of the English script.")
    parser.add_argument("--write", type=Path, help="write the script here (default: print)")
    args = parser.parse_args(argv)
    sentences = generate_script()
    header = [
        f"# VoiceOps English studio script {SCRIPT_VERSION}: {len(sentences)} sentences.",
        "# Written by `python -m ingestion.voice_corpus.script --write <file>` (seed 0): the",
        "# dialogue lines, the bot's NLG responses per intent, phrasebook customer sentences.",
    ]
    text = "\n".join([*header, *sentences]) + "\n"
    if args.write:
        args.write.write_text(text, encoding="utf-8")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
