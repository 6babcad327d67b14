"""Hash splits shared with dbt: the same text lands in the same split in Python and SQL.

:func:`normalize_text` and :func:`hash_bucket` mirror the dbt macros ``normalize_text`` and
``hash_bucket`` (``dbt_project/macros/cross_db.sql``). :func:`real_speech_split` is the rule
of the ``stt_examples`` mart for real human recordings: by sentence, 20 % ``test_real``,
10 % ``validation``, 70 % ``train`` (dbt vars ``real_test_pct``, ``real_validation_pct``),
so no sentence is in two splits.
"""

from __future__ import annotations

import hashlib
import re

REAL_TEST_PCT = 20
REAL_VALIDATION_PCT = 10

_NOT_WORD = re.compile("[^a-z\u0430-\u044f\u04510-9<>]+")  # a-z, Cyrillic a-ya, yo


def normalize_text(text: str) -> str:
    """Lower case; runs of characters other than Latin and Cyrillic letters, digits and <>
    become one space (the dbt macro ``normalize_text``)."""
    return _NOT_WORD.sub(" ", text.lower()).strip()


def hash_bucket(text: str, buckets: int = 100) -> int:
    """The first 32 bits of the MD5 of ``text`` (UTF-8) modulo ``buckets``, as dbt computes it."""
    return (
        int(hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:8], 16) % buckets
    )


def real_speech_split(transcript: str) -> str:
    """``test_real``, ``validation`` or ``train`` for a real recording's transcript."""
    bucket = hash_bucket(normalize_text(transcript))
    if bucket < REAL_TEST_PCT:
        return "test_real"
    if bucket < REAL_TEST_PCT + REAL_VALIDATION_PCT:
        return "validation"
    return "train"
