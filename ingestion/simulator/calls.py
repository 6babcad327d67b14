"""The day's calls: who called, when, in which language, what they said, what the bot answered.

Each call draws from its own seeded generator (seed, day, call index), so a call's words do
not depend on whether audio is rendered. Some customers give personal data on the phone
("my number is ..."); where real human speech is available, :data:`REAL_SPEECH_RATE` of
Russian calls are real recordings with their real transcript (intent ``out_of_scope``: read
literature, not a banking request), taken in rotation through the recordings so a day repeats
none (up to 620 real calls) and consecutive days rarely do. Each call is heard through its
own telephone line (:func:`core.telephony.draw_line`): :data:`DEGRADED_LINE_SHARE` of calls
on degraded lines (codec, band, noise, reverberation, packet loss, clipping), the rest clean.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from core import language as nl
from core import pii_planting
from core.language import INTENT_WEIGHTS
from core.telephony import DEGRADED_LINE_SHARE, LineProfile, draw_line
from core.voices import Speaker, pick_speaker
from ingestion.simulator.crm import Customer
from ingestion.simulator.layout import CALL_FIELDS, day_date

CHANNELS = ("phone", "mobile_app", "web")
CHANNEL_WEIGHTS = (70, 20, 10)
SAMPLE_RATE = 8000
#: Share of calls where the customer gives personal data, and of Russian calls that are real
#: speech (real speech calls are left out of the NLU mart: at 0.4 the demo's Russian NLU rows
#: fell to 434 train / 50 test and its unseen-phrasing accuracy to 0.78; at 0.25 a 700-call day
#: had fewer than 3 NLU train examples of some Russian intents and its audit failed).
PII_RATE = 0.18
REAL_SPEECH_RATE = 0.25
#: Rotation through the real recordings: a day's k-th real call takes recording
#: ``(k + day * REAL_DAY_STRIDE + seed) % count``; the stride is about a 1,500-call day's real
#: calls, so the demo's days do not repeat each other's recordings.
REAL_DAY_STRIDE = 311
#: Calls come in between 08:00 and 22:00 UTC.
OPEN_S, CLOSE_S = 8 * 3600, 22 * 3600
NO_PII_INTENTS = frozenset({"greeting", "goodbye", "out_of_scope"})
CARD_INTENTS = frozenset({"block_card", "activate_card", "change_pin", "report_fraud"})
PII_WEIGHTS = {
    "person_name": 35,
    "phone": 30,
    "card_number": 15,
    "email": 10,
    "passport": 10,
    "snils": 5,
    "inn": 5,
    "address": 5,
}

RealUtterance = tuple[str, Path, Speaker]


@dataclass
class CallPlan:
    """One call: its export record and what its recording is made from."""

    index: int
    record: dict[str, Any]
    customer: Customer
    speaker: Speaker
    line: LineProfile
    real_source: Path | None = None  # a real human recording to pass through the phone line
    planted_pii: list[str] = field(default_factory=list)

    @property
    def call_id(self) -> str:
        return self.record["call_id"]

    @property
    def ended_s(self) -> float:
        """Seconds after midnight when the call ended."""
        start = self.record["started_at"]
        hours, minutes, seconds = (int(x) for x in start[11:19].split(":"))
        return hours * 3600 + minutes * 60 + seconds + float(self.record["duration_s"]) + 20


def estimated_duration(text: str) -> float:
    """Seconds of speech for ``text`` when no audio is rendered (~2.6 words/s + pauses)."""
    return round(0.8 + 0.38 * len(text.split()), 2)


def plant_pii(
    rng: random.Random, text: str, slots: dict[str, Any], intent: str, customer: Customer
) -> tuple[str, list[str]]:
    """Sometimes add what a caller says about themselves; returns (text, kinds planted).

    A full card number said in a card intent fills ``card_last4`` when the core did not.
    """
    draw = rng.random()
    if intent in NO_PII_INTENTS or draw >= PII_RATE:
        return text, []
    weights = dict(PII_WEIGHTS)
    if intent in CARD_INTENTS:
        weights["card_number"] = 0 if "card_last4" in slots else 60
    kinds = list(weights)
    first = rng.choices(kinds, [weights[k] for k in kinds])[0]
    planted = [first]
    if rng.random() < 0.3:
        second = rng.choice([k for k in ("person_name", "phone", "email") if k != first])
        planted.append(second)
    who = customer.identity
    sentences = []
    for kind in planted:
        value = pii_planting.spoken_value(rng, kind, who)
        if kind == "card_number" and intent in CARD_INTENTS:
            slots["card_last4"] = value.replace(" ", "")[-4:]
        sentences.append(pii_planting.pii_sentence(rng, kind, value, customer.language))
    said = " ".join(sentences)
    return (f"{said} {text}" if rng.random() < 0.3 else f"{text} {said}"), sorted(planted)


def _ordered_slots(slots: dict[str, Any], intent: str) -> dict[str, Any]:
    order = nl.load_taxonomy().slots_of(intent)
    return {name: slots[name] for name in order if name in slots}


def start_times(seed: int, day: int, calls: int) -> list[int]:
    """Sorted start times (seconds after midnight) of the day's calls."""
    rng = random.Random(f"{seed}:{day}:times")
    return sorted(rng.randint(OPEN_S, CLOSE_S) for _ in range(calls))


def make_call(
    seed: int,
    day: int,
    index: int,
    start_s: int,
    customers: dict[str, list[Customer]],
    real: dict[str, list[RealUtterance]],
    audio: bool,
    real_ordinal: int = 0,
) -> CallPlan:
    """Call number ``index`` (0-based) of day ``day``; ``real_ordinal``: how many real speech
    calls the day had before it (it picks the next recording of the rotation)."""
    rng = random.Random(f"{seed}:{day}:call:{index}")
    today: date = day_date(day)
    language = rng.choice(nl.LANGUAGES)
    customer = rng.choice(customers.get(language) or customers["ru"] + customers["en"])
    language = customer.language
    channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
    speaker = pick_speaker(rng, language)
    line = draw_line(rng.getrandbits(64), DEGRADED_LINE_SHARE)
    real_draw = rng.random()
    real_source = None
    planted: list[str] = []
    if real.get(language) and real_draw < REAL_SPEECH_RATE:
        recordings = real[language]
        position = (real_ordinal + day * REAL_DAY_STRIDE + seed) % len(recordings)
        transcript, real_source, speaker = recordings[position]
        intent, slots = "out_of_scope", {}
    else:
        intent = rng.choices(list(INTENT_WEIGHTS), list(INTENT_WEIGHTS.values()))[0]
        said = nl.utterance(intent, language, rng, today)
        slots = dict(said.slots)
        transcript, planted = plant_pii(rng, said.text, slots, intent, customer)
        slots = _ordered_slots(slots, intent)
    call_id = f"C{today:%Y%m%d}-{index + 1:06d}"
    record = {
        "call_id": call_id,
        "customer_id": customer.id,
        "started_at": f"{today.isoformat()}T{start_s // 3600:02d}:{start_s // 60 % 60:02d}:"
        f"{start_s % 60:02d}+00:00",
        "language": language,
        "channel": channel,
        "duration_s": estimated_duration(transcript),
        "transcript": transcript,
        "intent": intent,
        "slots": slots,
        "bot_response": nl.bot_response(intent, language, slots, rng, today),
        "recording": f"{call_id}.wav" if audio else "",
        "speaker": speaker.id,
        "sample_rate": SAMPLE_RATE,
        "line": line.label,
    }
    assert tuple(record) == CALL_FIELDS
    return CallPlan(index, record, customer, speaker, line, real_source, planted)


def plan_calls(
    seed: int,
    day: int,
    calls: int,
    customers: list[Customer],
    real: dict[str, list[RealUtterance]],
    audio: bool,
) -> list[CallPlan]:
    """Every call of the day, in start-time order."""
    by_language: dict[str, list[Customer]] = {"ru": [], "en": []}
    for customer in customers:
        by_language.setdefault(customer.language, []).append(customer)
    times = start_times(seed, day, calls)
    plans: list[CallPlan] = []
    real_calls = 0
    for i in range(calls):
        plans.append(make_call(seed, day, i, times[i], by_language, real, audio, real_calls))
        real_calls += plans[-1].real_source is not None
    return plans
