# ruff: noqa: RUF001, RUF003 (Russian words use Cyrillic letters on purpose)
"""Dates and periods as said ("вчера", "в среду", "on December 28", "за прошлый месяц")
-> ISO dates, relative to the day of the call; the inverse of ``core.language``'s wording."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from core import pii
from serving.numbers import parse_number

_RELATIVE = {
    "сегодня": 0,
    "вчера": 1,
    "позавчера": 2,
    "today": 0,
    "yesterday": 1,
    "the day before yesterday": 2,
}


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower().replace("ё", "е")).split())


def _month_index(word: str) -> int | None:
    """1..12 of a month name in any stored form (ru nominative/genitive, en), else None."""
    for forms in pii.lexicon()["months"].values():
        lowered = [f.lower() for f in forms]
        if word in lowered:
            return lowered.index(word) + 1
    return None


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _month_end(start: date) -> date:
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def _weekday(key: str) -> tuple[int, bool] | None:
    """(weekday 0..6, "last"?) of "в среду", "в прошлую среду", "on Monday", "last Monday"."""
    days = pii.lexicon()["weekdays"]
    for index, (on, last, en) in enumerate(
        zip(days["ru_on"], days["ru_last"], days["en"], strict=True)
    ):
        if key == _key(last) or key == f"last {en.lower()}":
            return index, True
        if key in (_key(on), f"on {en.lower()}", en.lower()):
            return index, False
    return None


def _latest(month: int, day: int, today: date) -> date:
    """The latest date with this month and day not after ``today``."""
    candidate = date(today.year, month, day)
    return candidate if candidate <= today else date(today.year - 1, month, day)


def _latest_month(month: int, today: date, day: int) -> date:
    """The first day of the latest ``month`` whose ``day`` is not after ``today``."""
    for back in range(13):
        start = _month_start(today, back)
        if start.month == month and (back > 0 or day <= today.day):
            return start
    raise ValueError(f"no month {month}")


def parse_date(text: str, language: str, today: date) -> str:
    """An ISO date of a past day said as the simulator says it."""
    key = _key(text)
    if key in _RELATIVE:
        return (today - timedelta(days=_RELATIVE[key])).isoformat()
    if key.endswith(("назад", "ago")):
        days, _ = parse_number(key, language)
        return (today - timedelta(days=int(days))).isoformat()
    weekday = _weekday(key)
    if weekday is not None:
        index, last = weekday
        back = (today.weekday() - index - 1) % 7 + 1  # 1..7 days back
        return (today - timedelta(days=back + 7 if last and back < 7 else back)).isoformat()
    words = key.removeprefix("on ").removeprefix("the ").split()
    months = [m for m in map(_month_index, words) if m]
    days = [int(d) for w in words if (d := re.sub(r"(st|nd|rd|th)$", "", w)).isdigit()]
    if len(months) == 1 and len(days) == 1:
        return _latest(months[0], days[0], today).isoformat()
    raise ValueError(f"cannot read the date {text!r}")


def parse_period(text: str, language: str, today: date) -> str:
    """An ISO range "YYYY-MM-DD/YYYY-MM-DD" of a period said as the simulator says it."""
    key = _key(text)
    words = key.split()
    start: date | None = None
    end = today
    months = [m for m in map(_month_index, words) if m]
    numbers = [int(w) for w in words if w.isdigit()]
    if key in ("за прошлый месяц", "for last month"):
        start = _month_start(today, 1)
        end = _month_end(start)
    elif key in ("за последнюю неделю", "за неделю", "for the past week"):
        start = today - timedelta(days=6)
    elif key in ("с начала месяца", "за этот месяц", "for this month"):
        start = today.replace(day=1)
    elif key in ("за прошлый год", "for last year"):
        start, end = date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    elif len(numbers) == 1 and 1900 < numbers[0] <= today.year and not months:
        start, end = date(numbers[0], 1, 1), date(numbers[0], 12, 31)
    elif "полгода" in words or words[-1:] in (["месяца"], ["months"]):
        count = 6 if "полгода" in words else int(parse_number(key, language)[0])
        start = _month_start(today, count) + timedelta(days=min(today.day, 28) - 1)
    elif months and len(set(months)) == 1 and len(numbers) == 2:  # "с 3 по 20 декабря"
        month = _latest_month(months[0], today, numbers[1])
        start, end = month.replace(day=numbers[0]), month.replace(day=numbers[1])
    elif len(months) == 1 and not numbers:  # "за январь": the latest month that has ended
        start = _latest_month(months[0], today.replace(day=1) - timedelta(days=1), 1)
        end = _month_end(start)
    if start is None:
        raise ValueError(f"cannot read the period {text!r}")
    return f"{start.isoformat()}/{end.isoformat()}"
