# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""The dbt project: build it over a tiny raw schema on DuckDB and Postgres, check the marts,
and check that planted failures fail the right dbt test.

The raw schema mimics the load step: per table every column is text (a few typed), with
``_lake_commit`` / ``_lake_path``; rows repeat across loads; personal data is planted in
transcripts, slots and ticket notes; one espeak voice is held out and one call is real speech.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.pseudonym import customer_key
from core.splits import hash_bucket, normalize_text, real_speech_split
from ingestion.schemas import VOICE_CORPUS_FIELDS
from ingestion.simulator.layout import CALL_FIELDS, CUSTOMER_FIELDS, TICKET_FIELDS
from tests.warehouse.dbt_runner import PROJECT, ROOT, Dbt, postgres_connection
from warehouse.schemas import MARTS

TAXONOMY = ROOT / "core" / "taxonomy.yaml"

# --------------------------------------------------------------------------- planted data

CUSTOMERS = [
    # customer_id, full_name, phone, email, passport, language
    (
        "CUST-000001",
        "Иванов Иван Петрович",
        "+7 (912) 345-67-89",
        "ivan.ivanov@mail.ru",
        "45 08 123456",
        "ru",
    ),
    (
        "CUST-000002",
        "Смирнова Ольга Сергеевна",
        "8 916 222 33 44",
        "smirnova1985@yandex.ru",
        "46 11 654321",
        "ru",
    ),
    (
        "CUST-000003",
        "Кузнецов Дмитрий Андреевич",
        "89031234567",
        "d.kuznetsov@bk.ru",
        "40 05 111222",
        "ru",
    ),
    ("CUST-000004", "James Smith", "+44 20 7946 0958", "james.smith@gmail.com", "512345678", "en"),
    ("CUST-000005", "Linda Johnson", "+1-202-555-0143", "l_johnson@outlook.com", "A12345678", "en"),
    (
        "CUST-000006",
        "Robert Brown",
        "+44 20 7946 0111",
        "robert.brown@icloud.com",
        "75 1234567",
        "en",
    ),
]


def _luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return len(digits) >= 13 and total % 10 == 0


def _card(body: str) -> str:
    check = next(c for c in "0123456789" if _luhn_ok(body + c))
    return body + check


CARD_PLAIN = _card("220012345678901")  # 16 digits, Luhn-valid
CARD_SPACED = " ".join(_card("427698765432101")[i : i + 4] for i in range(0, 16, 4))
NOT_A_CARD = next(
    " ".join(n[i : i + 4] for i in range(0, 16, 4))
    for n in (f"41001111222233{k:02d}" for k in range(100))
    if not _luhn_ok(n)
)

#: (language, customer, intent, transcript, slots) with personal data, and the values planted.
PII_CALLS = [
    (
        "ru",
        "CUST-000001",
        "check_balance",
        "Меня зовут Иванов Иван Петрович. Мой номер +7 (912) 345-67-89. Какой у меня баланс?",
        {"account_type": "checking"},
    ),
    (
        "ru",
        "CUST-000002",
        "block_card",
        f"Это Смирнова О. С. Карта {CARD_SPACED}, заблокируйте её. Перезвоните на 8 916 222 33 44.",
        {"card_last4": CARD_SPACED[-4:]},
    ),
    (
        "ru",
        "CUST-000003",
        "transfer_money",
        "Переведите пять тысяч рублей Марии Лебедевой, паспорт 40 05 111222, "
        "почта d.kuznetsov@bk.ru",
        {"amount": 5000, "currency": "RUB", "recipient": "Мария Лебедева"},
    ),
    (
        "ru",
        "CUST-000003",
        "report_fraud",
        f"Номер карты {CARD_PLAIN}, с неё списали деньги. Номер договора {NOT_A_CARD}. "
        "Звоните 89031234567",
        {},
    ),
    (
        "en",
        "CUST-000004",
        "transfer_money",
        "My name is James Smith, send 200 dollars to Jennifer Miller please. "
        "My phone is +44 20 7946 0958",
        {"amount": 200, "currency": "USD", "recipient": "Jennifer Miller"},
    ),
    (
        "en",
        "CUST-000005",
        "complaint",
        "This is Linda Johnson, my email is l_johnson@outlook.com and my passport is A12345678. "
        "Call me on +1-202-555-0143, it's the third time.",
        {},
    ),
    (
        "en",
        "CUST-000006",
        "check_balance",
        "It's R. Brown speaking, passport 75 1234567, what is my balance?",
        {},
    ),
]
PLANTED = [
    *(v for c in CUSTOMERS for v in c[1:5]),
    *(w for c in CUSTOMERS for w in c[1].split()),
    CARD_PLAIN,
    CARD_SPACED,
    "Марии",
    "Лебедевой",
    "Лебедева",
    "Jennifer",
    "Miller",
    "Brown",
]
_PII_RES = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # email
    re.compile(r"\+\d{1,3}[ -]?\(?\d{2,4}\)?[ -]?\d{3,4}[ -]?\d{2,4}"),  # international phone
    re.compile(r"(?<![\d+])8[ -]?\(?\d{3}\)?[ -]?\d{3}[ -]?\d{2}[ -]?\d{2}(?!\d)"),  # ru phone
    re.compile(r"(?<!\d)\d{2} ?\d{2} \d{6}(?!\d)|(?<!\d)\d{2} \d{7}(?!\d)"),  # ru passports
    re.compile(r"(?<!\w)[A-Z]\d{8}(?!\d)|(?<![\d+-])\d{9}(?!\d)"),  # foreign passports
]
_CARD_RE = re.compile(r"(?<!\d)(?:\d{4}[ -]){3}\d{4}(?!\d)|(?<!\d)\d{13,19}(?!\d)")

HELD_OUT = {"ru": "espeak:ru+m7:s150:p50", "en": "festival:kal_diphone:t0.95:p-1:g-3"}
TRAIN_VOICES = {
    "ru": ["espeak:ru+m3:s160:p50", "festival:msu_ru_nsh_clunits:t1.05:p+1:g+0"],
    "en": ["espeak:en+m3:s160:p50", "flite:slt:t1.05:p+1:g-3"],
}
DEGRADED = "gsm:band=250-3300:loss=0.020:snr=12:noise=babble:reverb=0.30:clip=0.00"
REAL = "festvox-ru:ru_0042"
#: Real read sentences: enough that each of train / validation / test_real gets some.
REAL_SENTENCES = [f"Мороз и солнце, день чудесный, строка {n}." for n in range(1, 31)]
REPEATED = "Здравствуйте, я хочу узнать баланс."  # also said by a held-out voice
REPEATED_TRAIN = "Подскажите, пожалуйста, курс доллара."  # only by training voices
DAY = date(2026, 1, 15)
CORPUS_VOICE = "festival:cmu_us_slt_arctic_hts:t1.00:p+0:g+0"
#: A voice-corpus sentence no call says.
CORPUS_ONLY = "Your card is blocked. A new one will be ready in five days."


def _text_split(text: str) -> str:
    """The mart's text-hash split (dbt vars test_pct = validation_pct = 10)."""
    bucket = hash_bucket(normalize_text(text))
    return "test" if bucket < 10 else "validation" if bucket < 20 else "train"


def _corpus_rows(
    call_texts: list[str], commit: str
) -> tuple[list[tuple], list[tuple], dict[str, str]]:
    """Voice-corpus manifest rows and WAV rows, and the split each utterance must get: a call's
    test text read again (same split as the call), a sentence of its own, festvox-ru train
    sentences (train, as real_speech_split says), a row re-delivered on a later day, and one
    whose WAV is not in the lake (not in the mart)."""
    english_test = next(t for t in call_texts if _text_split(t) == "test")
    real_train = [t for t in REAL_SENTENCES if real_speech_split(t) == "train"][:2]
    planned = [
        ("en-0001", english_test, "en", CORPUS_VOICE, "test"),
        ("en-0002", CORPUS_ONLY, "en", CORPUS_VOICE, _text_split(CORPUS_ONLY)),
        *(
            (f"ru-ru_{n:04d}", text, "ru", f"festvox-ru:ru_{n:04d}", "train")
            for n, text in enumerate(real_train, start=101)
        ),
        ("en-0003", "This sentence has no recording in the lake.", "en", CORPUS_VOICE, ""),
    ]
    utterances, audio, expected = [], [], {}
    for day in ("2026-01-14", "2026-01-15"):
        for utterance_id, text, language, speaker, split in planned:
            if day == "2026-01-14" and utterance_id != "en-0002":
                continue  # en-0002 is delivered twice: staging keeps the later one
            path = f"raw/voice_corpus/utterances/dt={day}/part-00000.parquet"
            script = "festvox-ru" if language == "ru" else "script_en_v1"
            utterances.append(
                (utterance_id, text, language, speaker, f"{utterance_id}.wav", 8000, 2.5, script,
                 commit, path)
            )  # fmt: skip
            if split:
                wav = f"raw/voice_corpus/audio/dt={day}/{utterance_id}.wav"
                audio.append((utterance_id, wav, 40044, 8000, 1, 2, 2.5, day, commit))
                expected[utterance_id] = split
    return utterances, audio, expected


def _utterances() -> list[tuple[str, str, str, dict, str]]:
    """(language, intent, text, slots, bot response): a few distinct ones per intent x language."""
    from core import language as nl

    taxonomy = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    out = []
    for lang in taxonomy["languages"]:
        for intent in taxonomy["intents"]:
            rng = random.Random(f"dbt:{lang}:{intent}")
            seen: set[str] = set()
            for _ in range(40):
                said = nl.utterance(intent, lang, rng, DAY)
                if said.text not in seen:
                    seen.add(said.text)
                    bot = nl.bot_response(intent, lang, dict(said.slots), rng, DAY)
                    out.append((lang, intent, said.text, dict(said.slots), bot))
                if len(seen) == 8:
                    break
    return out


def raw_rows() -> dict[str, tuple[list[tuple[str, str]], list[tuple]]]:
    """Table -> (columns with SQL types, rows) of the tiny raw schema."""
    text = "text"
    commit1, commit2 = "c0mmit1", "c0mmit2"
    customers = []
    for i, (cid, name, phone, email, passport, lang) in enumerate(CUSTOMERS):
        row = [
            cid,
            name,
            phone,
            email,
            passport,
            lang,
            "retail",
            "Москва",
            "2026-01-01T09:00:00+00:00",
            f"2026-01-0{1 + i % 3}T10:00:00+00:00",
        ]
        customers.append((*row, commit1, "raw/crm/customers/dt=2026-01-01/part-00000.parquet"))
    # an older version (other phone) and a re-delivery of the row at the cursor
    old = list(customers[0])
    old[2], old[9] = "+7 (900) 000-00-00", "2025-12-31T10:00:00+00:00"
    customers.append(tuple(old))
    again = list(customers[1])
    again[10], again[11] = commit2, "raw/crm/customers/dt=2026-01-02/part-00000.parquet"
    customers.append(tuple(again))

    by_lang = {
        "ru": [c[0] for c in CUSTOMERS if c[5] == "ru"],
        "en": [c[0] for c in CUSTOMERS if c[5] == "en"],
    }
    calls: list[tuple] = []
    recordings: list[tuple] = []

    def add_call(lang, customer, intent, transcript, slots, bot, speaker, audio=True, line="clean"):
        n = len(calls) + 1
        call_id = f"C20260115-{n:06d}"
        path = "raw/call_exports/calls/dt=2026-01-15/part-00000.parquet"
        calls.append(
            (
                call_id,
                customer,
                f"2026-01-15T{8 + n % 12:02d}:{n % 60:02d}:00+00:00",
                lang,
                "phone",
                1.5 + len(transcript) / 20,
                transcript,
                intent,
                json.dumps(slots, ensure_ascii=False),
                bot,
                f"{call_id}.wav" if audio else "",
                speaker,
                8000,
                line,
                commit1,
                path,
            )
        )
        if audio:
            recordings.append(
                (
                    call_id,
                    f"raw/recordings/dt=2026-01-15/{call_id}.wav",
                    32044,
                    8000,
                    1,
                    2,
                    1.5 + len(transcript) / 20,
                    "2026-01-15",
                    commit1,
                )
            )
        return call_id

    for k, (lang, intent, said, slots, bot) in enumerate(_utterances()):
        speaker = HELD_OUT[lang] if k % 9 == 4 else TRAIN_VOICES[lang][k % 2]
        add_call(
            lang,
            by_lang[lang][k % len(by_lang[lang])],
            intent,
            said,
            slots,
            bot,
            speaker,
            audio=k % 7 != 3,
            line=DEGRADED if k % 3 == 1 else "clean",
        )
    for lang, customer, intent, said, slots in PII_CALLS:
        add_call(
            lang,
            customer,
            intent,
            said,
            slots,
            "Хорошо." if lang == "ru" else "Sure.",
            TRAIN_VOICES[lang][0],
        )
    # the same words said by many voices (a held-out one too), and real human speech
    for j in range(8):
        add_call(
            "ru",
            "CUST-000001",
            "check_balance",
            REPEATED,
            {},
            "Ваш баланс 1000 рублей.",
            TRAIN_VOICES["ru"][j % 2],
        )
    add_call(
        "ru",
        "CUST-000002",
        "check_balance",
        REPEATED,
        {},
        "Ваш баланс 1000 рублей.",
        HELD_OUT["ru"],
    )
    for j in range(8):
        add_call(
            "ru",
            "CUST-000003",
            "exchange_rate",
            REPEATED_TRAIN,
            {"currency": "USD"},
            "Курс доллара 90 рублей.",
            TRAIN_VOICES["ru"][j % 2],
        )
    for n, sentence in enumerate(REAL_SENTENCES + REAL_SENTENCES[:4]):  # 4 said twice
        add_call(
            "ru",
            "CUST-000002",
            "out_of_scope",
            sentence,
            {},
            "Я могу помочь с вопросами о ваших счетах и картах.",
            f"festvox-ru:ru_{n % len(REAL_SENTENCES) + 1:04d}",
            line=DEGRADED if n >= len(REAL_SENTENCES) or n % 2 else "clean",
        )
    # a call re-delivered by a later load, and a recording out of bounds (4 kHz)
    calls.append((*calls[0][:-2], commit2, "raw/call_exports/calls/dt=2026-01-16/part.parquet"))
    bad = list(recordings[1])
    bad[3] = 4000
    recordings[1] = tuple(bad)

    tickets = [
        (
            "T-1",
            "CUST-000001",
            calls[0][0],
            "open",
            "Карта",
            "Клиент Иванов И. П., тел. +7 (912) 345-67-89, паспорт 45 08 123456",
            "2026-01-15T10:00:00+00:00",
            "2026-01-15T10:00:00+00:00",
            commit1,
            "raw/crm/tickets/a",
        ),
        (
            "T-1",
            "CUST-000001",
            calls[0][0],
            "closed",
            "Карта",
            "Клиент Иванов И. П., тел. +7 (912) 345-67-89, паспорт 45 08 123456",
            "2026-01-15T10:00:00+00:00",
            "2026-01-15T12:00:00+00:00",
            commit2,
            "raw/crm/tickets/b",
        ),
        (
            "T-2",
            "CUST-000004",
            "",
            "open",
            "Card",
            "James Smith lost his card",
            "2026-01-15T11:00:00+00:00",
            "2026-01-15T11:00:00+00:00",
            commit1,
            "raw/crm/tickets/a",
        ),
    ]
    quarantine = [
        (
            "crm",
            "customers",
            "2026-01-01",
            "missing field: customer_id",
            json.dumps(
                {"full_name": "Попов Сергей Иванович", "email": "popov@mail.ru"}, ensure_ascii=False
            ),
            "quarantine/crm/customers/dt=2026-01-01/rejects.jsonl",
            commit1,
        ),
        (
            "call_exports",
            "calls",
            "2026-01-15",
            "unknown intent: order_pizza",
            json.dumps({"call_id": "C20260115-999999", "transcript": "+7 (999) 111-22-33"}),
            "quarantine/call_exports/calls/dt=2026-01-15/rejects.jsonl",
            commit1,
        ),
        (
            "call_exports",
            "calls",
            "2026-01-15",
            "unknown intent: order_pizza",
            json.dumps({"call_id": "C20260115-999998"}),
            "quarantine/call_exports/calls/dt=2026-01-15/rejects.jsonl",
            commit1,
        ),
    ]
    lake = [("_lake_commit", text), ("_lake_path", text)]
    corpus, corpus_audio, _ = _corpus_rows([c[6] for c in calls if c[3] == "en"], commit2)
    wav_columns = [
        ("lake_path", text),
        ("size_bytes", "bigint"),
        ("sample_rate", "integer"),
        ("channels", "integer"),
        ("sample_width", "integer"),
        ("duration_s", "double precision"),
        ("dt", text),
        ("_lake_commit", text),
    ]
    return {
        "voice_corpus_utterances": (_columns(VOICE_CORPUS_FIELDS, text) + lake, corpus),
        "voice_corpus_audio": ([("utterance_id", text), *wav_columns], corpus_audio),
        "crm_customers": _with_customer_key(_columns(CUSTOMER_FIELDS, text) + lake, customers),
        "crm_tickets": _with_customer_key(_columns(TICKET_FIELDS, text) + lake, tickets),
        "call_exports_calls": _with_customer_key(_columns(CALL_FIELDS, text) + lake, calls),
        "recordings": ([("call_id", text), *wav_columns], recordings),
        "quarantine": (
            [
                (c, text)
                for c in ("source", "stream", "dt", "reason", "record", "lake_path", "_lake_commit")
            ],
            quarantine,
        ),
    }


#: Raw columns that are not text (as the loader types them from the Parquet schema).
TYPED_COLUMNS = {"duration_s": "double precision", "sample_rate": "bigint"}


def _columns(fields: tuple[str, ...], text: str) -> list[tuple[str, str]]:
    """(name, SQL type) of a record contract of ``ingestion.simulator.layout``."""
    return [(name, TYPED_COLUMNS.get(name, text)) for name in fields]


#: The pseudonym key of these tests (the loader's is VOICEOPS_PSEUDONYM_KEY or the home's).
PSEUDONYM_KEY = b"test-pseudonym-key"


def _with_customer_key(
    columns: list[tuple[str, str]], rows: list[tuple]
) -> tuple[list[tuple[str, str]], list[tuple]]:
    """The table with the loader's ``customer_key`` column (the pseudonym of customer_id)."""
    at = [name for name, _ in columns].index("customer_id")
    keyed = [(*row, customer_key(row[at], PSEUDONYM_KEY)) for row in rows]
    return [*columns, ("customer_key", "text")], keyed


def load_raw(cursor: Any, schema: str, placeholder: str) -> None:
    """Create ``schema`` with the raw tables through a DB-API cursor."""
    cursor.execute(f'create schema if not exists "{schema}"')
    for table, (columns, rows) in raw_rows().items():
        cols = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        cursor.execute(f'drop table if exists "{schema}"."{table}"')
        cursor.execute(f'create table "{schema}"."{table}" ({cols})')
        marks = ", ".join([placeholder] * len(columns))
        cursor.executemany(f'insert into "{schema}"."{table}" values ({marks})', rows)


# --------------------------------------------------------------------------- running dbt


def failed_tests(result: Any) -> set[str]:
    """unique_ids of the tests that failed or errored in a dbt result."""
    return {
        r.node.unique_id
        for r in result.result.results
        if r.node.resource_type == "test" and str(r.status) in ("fail", "error")
    }


def _any(ids: set[str], *parts: str) -> bool:
    return any(all(p in i for p in parts) for i in ids)


# --------------------------------------------------------------------------- checks


def _pii_left(value: str) -> list[str]:
    found = [p.pattern for p in _PII_RES if p.search(value)]
    found += [m.group() for m in _CARD_RE.finditer(value) if _luhn_ok(m.group())]
    found += [v for v in PLANTED if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", value)]
    return found


def check_marts(rows: dict[str, list[dict[str, Any]]]) -> None:
    for mart in ("nlu_examples", "stt_examples", "nlg_examples", "tts_examples"):
        assert rows[mart], f"{mart} is empty"
    for mart, records in rows.items():
        for record in records:
            for column, value in record.items():
                if isinstance(value, str) and not column.endswith(("_id", "_path", "_commit")):
                    assert not _pii_left(value), (mart, column, value, _pii_left(value))
    nlu_texts = " ".join(r["text"] for r in rows["nlu_examples"])
    for placeholder in ("<PHONE>", "<EMAIL>", "<CARD>", "<PASSPORT>", "<PERSON>"):
        assert placeholder in nlu_texts, placeholder
    assert NOT_A_CARD in nlu_texts  # fails Luhn: not a card, left alone
    assert any(
        '"recipient": "<PERSON>"' in r["slots"].replace('":"', '": "') for r in rows["nlu_examples"]
    )

    def norm(text: str) -> str:
        return " ".join(re.sub(r"[^a-zа-яё0-9<>]+", " ", text.lower()).split())

    for mart, column in (
        ("nlu_examples", "text"),
        ("nlg_examples", "response"),
        ("tts_examples", "text"),
        ("stt_examples", "transcript"),
    ):
        splits: dict[str, set[str]] = {}
        for r in rows[mart]:
            splits.setdefault(norm(r[column]), set()).add(r["split"])
        leaks = {t: s for t, s in splits.items() if len(s) > 1}
        assert not leaks, (mart, leaks)
    stt = rows["stt_examples"]
    assert {r["split"] for r in stt} == {"train", "validation", "test", "test_channel", "test_real"}
    held_out = [r for r in stt if r["speaker"] in HELD_OUT.values()]
    assert {r["speaker"] for r in held_out} == set(HELD_OUT.values())  # espeak and festival
    for r in held_out:  # the clean line: test (today's figure); degraded lines: test_channel
        assert r["split"] == ("test" if r["line"] == "clean" else "test_channel"), r
    assert {r["line"] for r in stt if r["split"] == "test_channel"} == {DEGRADED}
    real = [r for r in stt if r["speaker"].startswith("festvox-ru:")]
    assert len(real) == len(REAL_SENTENCES) + 4 and all(r["is_real_speech"] for r in real)
    for r in real:  # by sentence, as core.splits computes it (one rule for Python and dbt)
        assert r["split"] == real_speech_split(r["transcript"]), r
    assert {r["split"] for r in real} == {"train", "validation", "test_real"}
    assert all(r["is_real_speech"] for r in stt if r["split"] == "test_real")
    assert not any("Мороз и солнце" in r["text"] for r in rows["nlu_examples"])
    # the repeated words are in the held-out test split only: never trained on
    assert {r["split"] for r in stt if r["transcript"] == REPEATED} == {"test"}
    assert len({r["split"] for r in stt if r["transcript"] == REPEATED_TRAIN}) == 1
    assert all(r["sample_rate"] == 8000 for r in stt)
    assert all(r["line"] in ("clean", DEGRADED) for r in stt)
    assert all(r["audio_path"].endswith(f"{r['call_id']}.wav") for r in stt)
    assert {r["split"] for r in rows["nlu_examples"]} == {"train", "validation", "test"}
    summary: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows["data_quality_summary"]:  # one row per source, stream and ingestion day
        totals = summary.setdefault((r["source"], r["stream"]), {"loaded": 0, "quarantined": 0})
        totals["loaded"] += r["loaded_records"]
        totals["quarantined"] += r["quarantined_records"]
    assert summary[("call_exports", "calls")]["quarantined"] == 2
    assert summary[("voice_corpus", "utterances")]["loaded"] == 6
    assert summary[("voice_corpus", "audio")]["loaded"] == 5
    check_tts_sources(rows["tts_examples"])
    assert summary[("crm", "customers")]["loaded"] == len(CUSTOMERS) + 2
    assert sum(r["rejected_records"] for r in rows["quarantine"]) == 3


def check_tts_sources(tts: list[dict[str, Any]]) -> None:
    """tts_examples is the union of calls and the voice corpus, each row with its source;
    a corpus text said in a call shares the call's split, festvox-ru keeps its real split."""
    assert {r["source"] for r in tts} == {"calls", "voice_corpus"}
    assert len({r["example_id"] for r in tts}) == len(tts)
    corpus = {r["example_id"]: r for r in tts if r["source"] == "voice_corpus"}
    english = [r["text"] for r in tts if r["source"] == "calls" and r["language"] == "en"]
    _, _, expected = _corpus_rows(english, "")
    assert {key: row["split"] for key, row in corpus.items()} == expected
    assert all(r["call_id"] is None for r in corpus.values())
    assert all(r["call_id"] == r["example_id"] for r in tts if r["source"] == "calls")
    test_text = corpus["en-0001"]["text"]
    assert {r["split"] for r in tts if r["text"] == test_text} == {"test"}
    assert corpus["ru-ru_0101"]["is_real_speech"] and corpus["ru-ru_0101"]["split"] == "train"
    assert corpus["en-0002"]["audio_path"] == "raw/voice_corpus/audio/dt=2026-01-15/en-0002.wav"
    for r in tts:  # real speech: the split real_speech_split gives its sentence, from any source
        if r["is_real_speech"]:
            assert r["split"] == real_speech_split(r["text"]).replace("test_real", "test"), r


def check_pseudonyms(cursor: Any, schema: str) -> None:
    """Curated layers hold no CRM id, and each call's caller is the id's pseudonym."""
    cursor.execute(
        "select table_schema, table_name from information_schema.columns "
        f"where table_schema in ('{schema}_intermediate', '{schema}_marts') "
        "and column_name = 'customer_id'"
    )
    assert cursor.fetchall() == []
    cursor.execute(
        f'select c.customer_key, r.customer_id from "{schema}_intermediate".int_calls__redacted c '
        f'join "{schema}_raw".call_exports_calls r on r.call_id = c.call_id'
    )
    pairs = cursor.fetchall()
    assert pairs and all(key == customer_key(cid, PSEUDONYM_KEY) for key, cid in pairs)


#: A customer's phone (CUST-000003's 89031234567) said in a format no redaction regex knows.
DOTTED_PHONE_SQL = (
    "update {raw}.call_exports_calls set transcript = transcript || ' Или 8.903.123.45.67' "
    "where customer_id = 'CUST-000003'"
)


def scenario_failures(dbt: Dbt, drop_intent: Any, leak_dotted_phone: Any) -> None:
    """Planted failures fail the right tests (and only data tests of the marts run)."""
    select = ["--select", "int_calls__redacted+", "int_quarantine__redacted+"]
    leaked = dbt("build", *select, vars={"redact": False})
    assert not leaked.success
    failed = failed_tests(leaked)
    assert _any(failed, "no_pii_in_nlu_examples"), failed
    assert _any(failed, "no_pii_in_stt_examples"), failed
    assert not _any(failed, "no_split_leakage"), failed
    assert not _any(failed, "min_examples_per_intent_language"), failed

    broken = dbt("build", *select, vars={"split_by": "row"})
    assert not broken.success
    failed = failed_tests(broken)
    assert _any(failed, "no_split_leakage_in_stt_examples"), failed
    assert not _any(failed, "no_pii"), failed

    drop_intent()
    missing = dbt("build", "--select", "stg_call_exports__calls+")
    assert not missing.success
    failed = failed_tests(missing)
    assert _any(failed, "min_examples_per_intent_language_in_nlu_train"), failed
    assert not _any(failed, "no_pii"), failed
    assert not _any(failed, "no_split_leakage"), failed

    # the redaction keeps the dotted phone; no_pii's CRM-identifier oracle still finds it
    leak_dotted_phone()
    leaked = dbt("build", "--select", "stg_call_exports__calls+")
    failed = failed_tests(leaked)
    assert _any(failed, "no_pii_in_nlu_examples"), failed


# --------------------------------------------------------------------------- tests


def test_seeds_equal_the_taxonomy() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "gen_taxonomy_seeds", PROJECT / "scripts" / "gen_taxonomy_seeds.py"
    )
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for name, text in gen.render(TAXONOMY).items():
        assert (PROJECT / "seeds" / name).read_text(encoding="utf-8") == text, name
    taxonomy = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    with (PROJECT / "seeds" / "taxonomy_intents.csv").open(encoding="utf-8") as f:
        intents = list(csv.DictReader(f))
    assert [r["intent"] for r in intents] == list(taxonomy["intents"])
    with (PROJECT / "seeds" / "taxonomy_intent_slots.csv").open(encoding="utf-8") as f:
        slots = list(csv.DictReader(f))
    expected = [(i, s) for i, spec in taxonomy["intents"].items() for s in spec["slots"]]
    assert [(r["intent"], r["slot"]) for r in slots] == expected
    assert {r["slot"] for r in slots if r["is_pii"] == "true"} == {
        s for s, spec in taxonomy["slots"].items() if spec.get("pii")
    }
    project = yaml.safe_load((PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))
    assert set(project["vars"]["pii_slots"]) == {
        s for s, spec in taxonomy["slots"].items() if spec.get("pii")
    }
    assert project["vars"]["languages"] == taxonomy["languages"]


def test_held_out_voices_and_real_splits_are_the_python_rules() -> None:
    from core import splits, voices
    from core.telephony import CLEAN

    project = yaml.safe_load((PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["vars"]["held_out_voices"] == voices.held_out_patterns()
    assert project["vars"]["real_test_pct"] == splits.REAL_TEST_PCT
    assert project["vars"]["real_validation_pct"] == splits.REAL_VALIDATION_PCT
    assert project["vars"]["clean_line"] == CLEAN


def _rows(cursor: Any, schema: str, table: str) -> list[dict[str, Any]]:
    cursor.execute(f'select * from "{schema}"."{table}"')
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_dbt_build_on_duckdb(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    database = tmp_path / "warehouse.duckdb"
    schema = "main"
    with duckdb.connect(str(database)) as con:
        load_raw(con.cursor(), f"{schema}_raw", "?")
    dbt = Dbt(
        "duckdb", {"VOICEOPS_DUCKDB_PATH": str(database), "VOICEOPS_DBT_SCHEMA": schema}, tmp_path
    )

    result = dbt("build")
    assert result.success, failed_tests(result) or result.exception
    with duckdb.connect(str(database)) as con:
        cur = con.cursor()
        check_marts({m: _rows(cur, f"{schema}_marts", m) for m in MARTS})
        check_pseudonyms(cur, schema)

    def drop_intent() -> None:
        with duckdb.connect(str(database)) as con:
            con.execute(
                f"delete from {schema}_raw.call_exports_calls "
                "where intent = 'complaint' and language = 'en'"
            )

    def leak_dotted_phone() -> None:
        with duckdb.connect(str(database)) as con:
            con.execute(DOTTED_PHONE_SQL.format(raw=f"{schema}_raw"))

    scenario_failures(dbt, drop_intent, leak_dotted_phone)
    docs = dbt("docs", "generate")
    assert docs.success
    assert (tmp_path / "target" / "catalog.json").is_file()


def test_dbt_build_on_postgres(tmp_path: Path) -> None:
    con = postgres_connection()
    con.autocommit = True
    schema = f"dbt_{uuid.uuid4().hex[:10]}"
    try:
        load_raw(con.cursor(), f"{schema}_raw", "%s")
        dbt = Dbt(
            "postgres",
            {
                "VOICEOPS_PG_HOST": os.environ.get("VOICEOPS_PG_HOST", "127.0.0.1"),
                "VOICEOPS_PG_DATABASE": "test",
                "VOICEOPS_DBT_SCHEMA": schema,
            },
            tmp_path,
        )
        result = dbt("build")
        assert result.success, failed_tests(result) or result.exception
        check_marts({m: _rows(con.cursor(), f"{schema}_marts", m) for m in MARTS})
        check_pseudonyms(con.cursor(), schema)

        def drop_intent() -> None:
            con.cursor().execute(
                f'delete from "{schema}_raw".call_exports_calls '
                "where intent = 'complaint' and language = 'en'"
            )

        def leak_dotted_phone() -> None:
            con.cursor().execute(DOTTED_PHONE_SQL.format(raw=f'"{schema}_raw"'))

        scenario_failures(dbt, drop_intent, leak_dotted_phone)
    finally:
        cur = con.cursor()
        cur.execute("select nspname from pg_namespace where nspname like %s", (f"{schema}%",))
        for (name,) in cur.fetchall():
            cur.execute(f'drop schema "{name}" cascade')
        con.close()
