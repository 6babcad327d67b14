# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""NLG family: delexicalization, metrics, tiny training, export and reload in a fresh process."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from training.nlg.config import NLGConfig
from training.nlg.data import (
    Vocab,
    delex_stats,
    detokenize,
    encode,
    prepare,
    synthetic_rows,
    tokenize,
)
from training.nlg.delex import delexicalize, relexicalize, unfilled
from training.nlg.evaluate import corpus_bleu, exact_match, slot_values_correct, words

ROOT = Path(__file__).resolve().parents[2]
INTENTS = (
    "greeting",
    "block_card",
    "transfer_money",
    "payment_status",
    "exchange_rate",
    "find_branch",
    "check_balance",
)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return synthetic_rows(700, seed=1, intents=INTENTS)


# --------------------------------------------------------------------------- data


def test_generated_rows_cover_intents_and_languages(rows: list[dict]) -> None:
    assert {r["language"] for r in rows} == {"ru", "en"}
    assert {r["intent"] for r in rows} == set(INTENTS)
    assert {r["split"] for r in rows} == {"train", "validation", "test"}
    # the mart's redaction: a recipient is <PERSON> in the slots and in the text
    assert all(r["slots"].get("recipient") in (None, "<PERSON>") for r in rows)


@pytest.mark.parametrize(
    ("language", "slots", "response", "template"),
    [
        (
            "ru",
            {
                "amount": 5000,
                "currency": "RUB",
                "recipient": "Иван Петров",
                "account_type": "checking",
            },
            "Перевожу 5 000 рублей Ивану Петрову с текущего счёта. Подтвердите кодом из SMS.",
            "Перевожу <money> <recipient_dat> <account_from>. Подтвердите кодом из SMS.",
        ),
        (
            "en",
            {"amount": 1200, "date": "2026-01-10"},
            "Your payment of 1,200 rubles sent on January 10 has been executed.",
            "Your payment of <money> sent <date> has been executed.",
        ),
        ("ru", {"card_last4": "0042"}, "Карта 0042 заблокирована.", "Карта <last4> заблокирована."),
        (
            "ru",
            {"city": "Kazan"},
            "В Казани наши офисы открыты ежедневно с 9:00 до 21:00.",
            "<city_in> наши офисы открыты <hours>.",
        ),
        (
            "ru",
            {"currency": "USD"},
            "Курс доллара сегодня: покупка 91,50, продажа 95,16 рубля.",
            "Курс <currency_gen> сегодня: покупка <buy>, продажа <sell> рубля.",
        ),
        (
            "en",
            {"amount": 300, "currency": "USD", "recipient": "<PERSON>"},
            "The transfer of 300 dollars to <PERSON> is ready.",
            "The transfer of <money> to <recipient> is ready.",
        ),
        (
            "en",
            {},
            "Your complaint has been registered as CMP-123456.",
            "Your complaint has been registered as <ticket>.",
        ),
    ],
)
def test_delexicalize_round_trip(language: str, slots: dict, response: str, template: str) -> None:
    d = delexicalize(response, language, slots)
    assert d.template == template
    assert not d.unlocated
    assert relexicalize(d.template, language, slots, d.facts) == response


def test_other_formats_are_found_and_rewritten_the_bots_way() -> None:
    d = delexicalize("Кредит на 5 тысяч рублей можно оформить.", "ru", {"amount": 5000})
    assert d.template == "Кредит на <money> можно оформить."
    assert (
        relexicalize(d.template, "ru", {"amount": 5000}) == "Кредит на 5 000 рублей можно оформить."
    )
    en = delexicalize("Sent $2,500 to you.", "en", {"amount": 2500, "currency": "USD"})
    assert en.template == "Sent <money> to you."


def test_a_value_not_in_the_text_is_left_and_counted() -> None:
    d = delexicalize("Платёж в обработке.", "ru", {"amount": 777})
    assert (d.template, d.located, d.unlocated) == ("Платёж в обработке.", (), ("amount",))
    assert unfilled(relexicalize("Баланс: <balance>.", "ru", {})) == ["balance"]


def test_every_generated_response_round_trips(rows: list[dict]) -> None:
    examples = prepare(rows)
    for e in examples:
        assert relexicalize(e.template, e.language, e.slots, e.facts) == e.response
        assert detokenize(tokenize(e.response)) == e.response
    stats = delex_stats(examples)
    assert stats["slot_located_rate"] >= 0.95
    assert stats["digit_leftover_rate"] == 0.0  # no number left in any template


def test_encode_shapes(rows: list[dict]) -> None:
    examples = prepare(rows)[:10]
    vocab = Vocab.build([e.template for e in examples])
    arrays = encode(examples, vocab, max_len=12)
    assert arrays["decoder_in"].shape == arrays["target"].shape == (10, 12)
    assert (arrays["decoder_in"][:, 0] == 2).all()  # <bos>
    assert arrays["slots"].shape == (10, 8)


# --------------------------------------------------------------------------- metrics


def test_bleu_known_cases() -> None:
    ref = ["the", "cat", "is", "on", "the", "mat", "today"]
    assert corpus_bleu([ref], [[ref]]) == pytest.approx(1.0)
    assert corpus_bleu([["a", "b", "c", "d"]], [[ref]]) == 0.0
    # a correct prefix of half the length: precisions 1, brevity penalty exp(1 - 8/4)
    eight = ["a", "b", "c", "d", "e", "f", "g", "h"]
    assert corpus_bleu([eight[:4]], [[eight]]) == pytest.approx(math.exp(-1))
    # clipped counts (Papineni's "the the the ..." example), unigram only
    hyp = ["the", "the", "the", "the", "the", "the", "the"]
    refs = [
        ["the", "cat", "is", "on", "the", "mat"],
        ["there", "is", "a", "cat", "on", "the", "mat"],
    ]
    assert corpus_bleu([hyp], [refs], max_n=1) == pytest.approx(2 / 7)
    # closest reference length is used for the brevity penalty
    assert corpus_bleu([eight[:4]], [[eight, eight[:4]]]) == pytest.approx(1.0)
    assert words("Карта <last4>, готово.") == ["Карта", "<last4>", ",", "готово", "."]


def test_exact_match_and_slot_accuracy_known_cases() -> None:
    assert exact_match(["a  b", "c"], ["a b", "d"]) == 0.5
    slots = {"amount": 5000, "currency": "RUB", "card_last4": "0042"}
    good = "Карта 0042: перевод 5 000 рублей."
    assert slot_values_correct(good, "ru", slots, ("amount", "currency", "card_last4"))
    assert not slot_values_correct("Карта 0042: перевод 5000 рублей.", "ru", slots, ("amount",))
    assert not slot_values_correct("Карта 0043.", "ru", slots, ("card_last4",))
    assert slot_values_correct("Готово.", "ru", slots, ())


def test_config_hash_is_stable() -> None:
    tiny = NLGConfig.tiny()
    assert tiny.config_hash() == NLGConfig.tiny().config_hash()
    assert tiny.config_hash() != NLGConfig.demo().config_hash()
    assert tiny.config_hash() != dataclasses.replace(tiny, units=33).config_hash()
    code = "from training.nlg.config import NLGConfig; print(NLGConfig.tiny().config_hash())"
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == tiny.config_hash()


# --------------------------------------------------------------------------- train + export


@pytest.fixture(scope="module")
def trained(rows: list[dict], tmp_path_factory: pytest.TempPathFactory):
    from training.nlg.train import train

    return train(rows, NLGConfig.tiny(), tmp_path_factory.mktemp("nlg-run"))


def test_train_tiny_learns_and_records(trained) -> None:
    assert trained.config_hash == NLGConfig.tiny().config_hash()
    losses = trained.history["loss"]
    assert losses[-1] < losses[0]
    assert {"all", "ru", "en"} <= set(trained.metrics["validation"])
    validation = trained.metrics["validation"]["all"]
    assert set(validation) >= {"bleu", "bleu_multi_ref", "exact_match", "slot_value_accuracy"}
    assert validation["bleu_multi_ref"] > 0.3
    saved = json.loads((trained.model_path.parent / "metrics.json").read_text(encoding="utf-8"))
    assert saved["config_hash"] == trained.config_hash


def test_export_reload_in_a_fresh_process_gives_the_same_outputs(trained, tmp_path: Path) -> None:
    from training.nlg.export import load, predict, templates

    requests = [
        {"language": "ru", "intent": "block_card", "slots": {"card_last4": "0042"}},
        {
            "language": "en",
            "intent": "transfer_money",
            "slots": {"amount": 250, "currency": "USD", "recipient": "John Smith"},
        },
        {
            "language": "ru",
            "intent": "exchange_rate",
            "slots": {"currency": "EUR"},
            "facts": {"buy": "99,10", "sell": "103,06"},
        },
        {"language": "en", "intent": "greeting", "slots": {}},
        {"language": "en", "intent": "payment_status", "slots": {"amount": 1500, "date": None}},
    ]
    loaded = load(trained.model_path)
    here = predict(loaded, requests)
    assert all(isinstance(t, str) and t for t in here)
    template = templates(loaded, requests[:1])[0]
    assert ("0042" in here[0]) == ("<last4>" in template)  # values only come from the request
    (tmp_path / "requests.json").write_text(json.dumps(requests), encoding="utf-8")
    script = (
        "import json, sys; from training.nlg.export import load, predict; "
        "reqs = json.load(open(sys.argv[2], encoding='utf-8')); "
        "print(json.dumps(predict(load(sys.argv[1]), reqs)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(trained.model_path), str(tmp_path / "requests.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == here


def test_evaluate_exported_scores_like_the_in_process_model(trained, rows) -> None:
    from training.nlg.evaluate import evaluate_exported

    test_rows = [r for r in rows if r.get("split") == "test"]
    scores = evaluate_exported(trained.model_path, test_rows)
    assert {"all", "ru", "en"} <= set(scores)
    recorded = trained.metrics["test"]
    for lang in ("all", "ru", "en"):
        for name in ("bleu", "exact_match", "slot_value_accuracy"):
            assert scores[lang][name] == pytest.approx(recorded[lang][name], abs=1e-6)


def test_the_pipeline_and_an_import_score_the_figures_training_recorded(
    trained, rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evaluate step (``training.steps.evaluate``) and the import's evaluation
    (``registry.external_eval``) score the exported model with training's pool of references
    (the ``train`` rows): every figure training recorded, ``bleu_multi_ref`` included."""
    from registry.external_eval import evaluate_splits
    from training import steps
    from training.families import Family

    monkeypatch.setattr(Family, "load_rows", lambda self, settings, commit: rows)
    record = {"family": "nlg", "lake_commit": "c0ffee", "model_path": str(trained.model_path)}
    evaluated = steps.evaluate(None, record)["scores"]
    imported = evaluate_splits("nlg", trained.model_path, rows)
    assert list(evaluated) == list(imported) == ["test"]
    recorded = trained.metrics["test"]
    for scores in (evaluated["test"], imported["test"]):
        assert scores.keys() == recorded.keys()
        for lang, metrics in recorded.items():
            assert scores[lang].keys() == metrics.keys()
            for name, value in metrics.items():
                assert scores[lang][name] == pytest.approx(value, abs=1e-6), (lang, name)


def test_set_overrides_config_fields_like_the_other_families(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert NLGConfig.preset("tiny", ["units=8", "dropout=0.2"]) == NLGConfig.tiny(
        units=8, dropout=0.2
    )
    with pytest.raises(ValueError, match="has no field 'unit'"):
        NLGConfig.preset("tiny", ["unit=8"])
    from training.nlg.train import main

    main(["--size", "tiny", "--examples", "80", "--set", "epochs=1", "--set", "units=8",
          "--run-dir", str(tmp_path / "run")])  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert printed["epochs_run"] == 1
    assert printed["config_hash"] == NLGConfig.tiny(epochs=1, units=8).config_hash()[:12]
