# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""Person names in free text: natasha's NER for Russian, a census name lexicon for English.

Russian: natasha (``NewsNERTagger`` over navec embeddings, both shipped inside the PyPI wheels,
~0.5 s to load, ~1 ms a sentence) tags ``PER`` spans. English: no NER model installs from
PyPI alone (spaCy's models come from its own hub), so a name is a run of capitalised words
built from the US Census first-name (5,494) and surname (88,799) lists that the ``names``
package ships: a first name followed by a surname, an initial and a surname, or a lone first
name after "my name is" / "this is" / a title. Both load on first use.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

Found = tuple[int, int]

_CAPITALISED = re.compile(r"(?<![A-Za-z])(?:[A-Z]\.|[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?)")
#: Capitalised words that are first names in the census lists but mostly mean something else.
_NOT_ALONE = frozenset(
    {"January", "February", "March", "April", "May", "June", "July", "August", "September"}
    | {"October", "November", "December", "Sunday", "Monday", "Friday", "Saint", "Moscow"}
    | {"Will", "Bill", "Mark", "Grace", "Hope", "Joy", "Faith"}
)
#: Words natasha tags as a person when a call transcript starts with them: imperatives
#: ("Перезвоните", "Соедините") and fillers ("Алло", "Ээ").
_NOT_RUSSIAN_NAME = re.compile(r"\w*(?:ите|йте|уй|ай)|[А-ЯЁ][а-яё]?|Алл?о")
_CUE = re.compile(r"(?:my name is|this is|it's|it is|name:|mr\.?|mrs\.?|ms\.?|dr\.?)\s*$", re.I)


@lru_cache(maxsize=1)
def _natasha() -> tuple[Any, Any]:
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    return Segmenter(), NewsNERTagger(NewsEmbedding())


def russian_names(text: str) -> list[Found]:
    """``(start, end)`` of every person (``PER``) natasha finds in ``text``."""
    from natasha import Doc

    segmenter, tagger = _natasha()
    doc = Doc(text)
    doc.segment(segmenter)
    doc.tag_ner(tagger)
    return [
        (span.start, span.stop)
        for span in doc.spans
        if span.type == "PER"
        and not (" " not in span.text and _NOT_RUSSIAN_NAME.fullmatch(span.text))
    ]


@lru_cache(maxsize=1)
def _census() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), title-cased, from the ``names`` package's census lists."""

    def read(name: str) -> frozenset[str]:
        text = resources.files("names").joinpath(name).read_text(encoding="utf-8")
        return frozenset(line.split()[0].title() for line in text.splitlines() if line.strip())

    from core.pii import lexicon

    # the bank's cities ("Samara", "Sydney") are first names in the census too
    cities = {
        word for forms in lexicon()["cities"].values() for f in forms["en"] for word in f.split()
    }
    first = (read("dist.male.first") | read("dist.female.first")) - cities
    return first, read("dist.all.last")


def english_names(text: str) -> list[Found]:
    """``(start, end)`` of person names in English ``text`` (see the module docstring)."""
    first_names, surnames = _census()
    words = list(_CAPITALISED.finditer(text))
    found: list[Found] = []
    i = 0
    while i < len(words):
        word, nxt = words[i], words[i + 1] if i + 1 < len(words) else None
        adjacent = nxt is not None and text[word.end() : nxt.start()] in (" ", "")
        token = word.group()
        is_first = token in first_names or (len(token) == 2 and token.endswith("."))
        if is_first and adjacent and nxt is not None and nxt.group() in surnames:
            found.append((word.start(), nxt.end()))
            i += 2
            continue
        before = text[: word.start()].rstrip()
        # a lone first name counts after "my name is", or inside a sentence when no other
        # capitalised word follows it ("to Helen" yes; "Mira Avenue", "May" no)
        inside = text[word.start() - 1 : word.start()] == " " and before[-1] not in ".!?"
        inside = inside and not adjacent
        if token in first_names and (
            _CUE.search(before + " ") or (inside and token not in _NOT_ALONE)
        ):
            found.append((word.start(), word.end()))
        i += 1
    return found
