# ruff: noqa: RUF001, RUF002 (Russian letters on purpose)
"""Transcript normalization shared by training targets and scoring, and the CTC alphabet.

The mart writes numbers as digits ("5 000 рублей", "$300", "card 2834", "21st") while the
audio says words, so :func:`normalize` spells numbers out the way the recordings say them
(the simulator's espeak-ng conventions, checked against ``espeak-ng -x``):

* Russian: each space-separated digit group is read on its own ("5 000" -> "пять ноль ноль
  ноль"), cardinals in the nominative ("2834" -> "две тысячи восемьсот тридцать четыре").
* English: comma groups form one number ("1,200" -> "one thousand two hundred"), British
  "and" after hundreds and thousands (4 of the 6 English base voices say it), "$300" ->
  "dollar three hundred", "21st" -> "twenty first".
* Both: a number with a leading zero is read digit by digit ("0456" -> "ноль четыре пять
  шесть" / "zero four five six").

Then: lower case, ё -> е, hyphens -> spaces, every character outside :data:`ALPHABET`
dropped, spaces squeezed. Training targets and references for CER/WER go through the same
function, so a hypothesis is scored against what was said.
"""

from __future__ import annotations

import re

#: Output characters of the model (CTC blank is id 0, these are ids 1..N).
ALPHABET = " '" + "abcdefghijklmnopqrstuvwxyz" + "абвгдежзийклмнопрстуфхцчшщъыьэюя"

_RU_ONES = ["", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
_RU_ONES_F = ["", "одна", "две", *_RU_ONES[3:]]
_RU_TEENS = [
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
]
_RU_TENS = [
    "",
    "",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
]
_RU_HUNDREDS = [
    "",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
]
_RU_SCALES = [("", "", "", False), ("тысяча", "тысячи", "тысяч", True)]
_RU_SCALES += [("миллион", "миллиона", "миллионов", False)]
_RU_DIGITS = ["ноль", *_RU_ONES[1:]]

_EN_ONES = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_EN_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_SCALES = ["", "thousand", "million", "billion"]
_EN_DIGITS = ["zero", *_EN_ONES[1:]]
_EN_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def _ru_triple(n: int, feminine: bool) -> list[str]:
    words = [_RU_HUNDREDS[n // 100]]
    rest = n % 100
    if 10 <= rest < 20:
        words.append(_RU_TEENS[rest - 10])
    else:
        words += [_RU_TENS[rest // 10], (_RU_ONES_F if feminine else _RU_ONES)[rest % 10]]
    return [w for w in words if w]


def _ru_plural(n: int, forms: tuple[str, str, str]) -> str:
    if 11 <= n % 100 <= 14:
        return forms[2]
    return {1: forms[0], 2: forms[1], 3: forms[1], 4: forms[1]}.get(n % 10, forms[2])


def ru_number(n: int) -> str:
    """A cardinal in Russian words, nominative: 2834 -> "две тысячи восемьсот тридцать четыре"."""
    if n == 0:
        return "ноль"
    words: list[str] = []
    for scale in range(len(_RU_SCALES) - 1, -1, -1):
        part = n // 1000**scale % 1000
        if part == 0:
            continue
        one, few, many, feminine = _RU_SCALES[scale]
        words += _ru_triple(part, feminine)
        if scale:
            words.append(_ru_plural(part, (one, few, many)))
    return " ".join(words)


def _en_triple(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_EN_ONES[n // 100], "hundred"]
    rest = n % 100
    if rest and words:
        words.append("and")
    if 10 <= rest < 20:
        words.append(_EN_TEENS[rest - 10])
    elif rest:
        words += [w for w in (_EN_TENS[rest // 10], _EN_ONES[rest % 10]) if w]
    return words


def en_number(n: int) -> str:
    """A cardinal in English, British "and": 6390 -> "six thousand three hundred and ninety"."""
    if n == 0:
        return "zero"
    words: list[str] = []
    for scale in range(len(_EN_SCALES) - 1, -1, -1):
        part = n // 1000**scale % 1000
        if part == 0:
            continue
        if scale == 0 and words and part < 100:
            words.append("and")
        words += _en_triple(part)
        if scale:
            words.append(_EN_SCALES[scale])
    return " ".join(words)


def en_ordinal(n: int) -> str:
    """21 -> "twenty first", 12 -> "twelfth", 30 -> "thirtieth"."""
    words = en_number(n).split()
    last = words[-1]
    if last in _EN_ORDINAL:
        words[-1] = _EN_ORDINAL[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _digits(token: str, language: str) -> str:
    """A run of digits as said: digit by digit with a leading zero, else a cardinal."""
    names = _RU_DIGITS if language == "ru" else _EN_DIGITS
    if len(token) > 1 and token.startswith("0"):
        if language == "ru" and len(token) <= 3:  # "050" -> "ноль пятьдесят"
            zeros = len(token) - len(token.lstrip("0"))
            rest = token.lstrip("0")
            return " ".join(["ноль"] * zeros + ([ru_number(int(rest))] if rest else []))
        return " ".join(names[int(d)] for d in token)
    return ru_number(int(token)) if language == "ru" else en_number(int(token))


def verbalize_numbers(text: str, language: str) -> str:
    """Every number of ``text`` spelled out as the recordings say it."""
    if language == "en":
        text = re.sub(r"\$\s?(\d[\d,]*)", r"dollar \1", text)
        text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: f" {en_ordinal(int(m.group(1)))} ", text)
        text = re.sub(r"(?<=\d),(?=\d\d\d)", "", text)  # "1,200" is one number
    return re.sub(r"\d+", lambda m: f" {_digits(m.group(0), language)} ", text)


_OUTSIDE = re.compile(f"[^{re.escape(ALPHABET)}]")


def normalize(text: str, language: str) -> str:
    """The text the model is trained to output and scored against (see the module doc)."""
    text = verbalize_numbers(text, language).lower().replace("ё", "е")
    text = text.replace("’", "'").replace("-", " ").replace("—", " ")
    text = _OUTSIDE.sub(" ", text)
    text = re.sub(r"\s'|'\s|^'|'$", " ", text)  # quotes, not apostrophes
    return " ".join(text.split())


def encode(text: str) -> list[int]:
    """Normalized text -> label ids 1..len(ALPHABET) (0 is the CTC blank)."""
    index = {c: i + 1 for i, c in enumerate(ALPHABET)}
    return [index[c] for c in text if c in index]
