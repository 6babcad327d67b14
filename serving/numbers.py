# ruff: noqa: RUF001 (Russian number words use Cyrillic letters on purpose)
"""Numbers as customers say them: "1 500", "1,500", "пять тысяч", "two hundred fifty"."""

from __future__ import annotations

import re

#: Number words of both languages -> value (units, teens, tens, hundreds).
_WORDS: dict[str, float] = {
    **dict.fromkeys(("ноль", "zero", "oh"), 0),
    **dict.fromkeys(("один", "одна", "одну", "одно", "one", "a", "an"), 1),
    **dict.fromkeys(("два", "две", "two"), 2),
    **dict.fromkeys(("полтора", "полторы"), 1.5),
    "три": 3,
    "четыре": 4,
    "пять": 5,
    "шесть": 6,
    "семь": 7,
    "восемь": 8,
    "девять": 9,
    "десять": 10,
    "одиннадцать": 11,
    "двенадцать": 12,
    "тринадцать": 13,
    "четырнадцать": 14,
    "пятнадцать": 15,
    "шестнадцать": 16,
    "семнадцать": 17,
    "восемнадцать": 18,
    "девятнадцать": 19,
    "двадцать": 20,
    "тридцать": 30,
    "сорок": 40,
    "пятьдесят": 50,
    "шестьдесят": 60,
    "семьдесят": 70,
    "восемьдесят": 80,
    "девяносто": 90,
    "сто": 100,
    "двести": 200,
    "триста": 300,
    "четыреста": 400,
    "пятьсот": 500,
    "шестьсот": 600,
    "семьсот": 700,
    "восемьсот": 800,
    "девятьсот": 900,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_HUNDRED = ("hundred",)
#: Scale words -> multiplier ("пять тысяч", "two million", "5k").
_SCALES: dict[str, int] = {
    **dict.fromkeys(("тысяча", "тысячи", "тысяч", "тысячу", "тыс", "thousand", "k"), 1000),
    **dict.fromkeys(("миллион", "миллиона", "миллионов", "млн", "million"), 1_000_000),
    **dict.fromkeys(("миллиард", "миллиарда", "миллиардов", "млрд", "billion"), 10**9),
}
_FILLER = {"and", "и"}
#: Spelled-out single digits ("один два три четыре", "one two three four").
DIGIT_WORDS: dict[str, str] = {
    word: str(int(value))
    for word, value in _WORDS.items()
    if value in range(10) and word not in ("a", "an", "одну", "одно")
}

_DIGITS = re.compile(r"\d+(?:[ \u00a0\u202f]\d{3})*(?:[.,]\d+)*")
_TOKEN = re.compile(r"\d+(?:[ \u00a0\u202f]\d{3})*(?:[.,]\d+)*|[^\W\d_]+")


def parse_digits(text: str, language: str) -> float:
    """A number written with digits: "1 500", "1,500", "1.500", "1500,50", "2.5"."""
    compact = re.sub(r"[ \u00a0\u202f]", "", text)
    if "," in compact and "." in compact:  # the later separator is the decimal point
        decimal = "," if compact.rfind(",") > compact.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return float(compact.replace(thousands, "").replace(decimal, "."))
    for sep in (",", "."):
        if sep in compact:
            head, *groups = compact.split(sep)
            grouped = all(len(g) == 3 for g in groups)
            # "1,500" (en) and "1.500" (ru) group thousands; "1500,5" / "2.5" are decimals
            if grouped and (len(groups) > 1 or sep == {"en": ",", "ru": "."}.get(language)):
                return float(compact.replace(sep, ""))
            if len(groups) == 1:
                return float(f"{head}.{groups[0]}")
            raise ValueError(f"cannot read the number {text!r}")
    return float(compact)


def parse_number(text: str, language: str) -> tuple[float, list[str]]:
    """The number said in ``text`` and the words that were not part of it.

    Digits and number words combine: "50 тысяч" = 50000, "тысяча двести" = 1200,
    "two hundred fifty" = 250. Raises ``ValueError`` when no number is there.
    """
    total = current = 0.0
    found = False
    rest: list[str] = []
    for token in _TOKEN.findall(text.lower().replace("ё", "е")):
        if token[0].isdigit():
            current += parse_digits(token, language)
        elif token in _WORDS and (token not in ("a", "an") or not found):
            current += _WORDS[token]
        elif token in _HUNDRED:
            current = (current or 1) * 100
        elif token in _SCALES:
            total += (current or 1) * _SCALES[token]
            current = 0.0
        elif token in _FILLER:
            continue
        else:
            rest.append(token)
            continue
        found = True
    if not found:
        raise ValueError(f"no number in {text!r}")
    return total + current, rest


def as_number(value: float) -> int | float:
    """An integral value as ``int`` (5000), else the ``float`` (12.5)."""
    return int(value) if value == int(value) else value
