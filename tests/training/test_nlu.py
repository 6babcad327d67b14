# ruff: noqa: RUF001 (Russian text uses Cyrillic letters on purpose)
"""NLU family: labelling, metrics, config hash, callbacks, tiny training and the SavedModel."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import tensorflow as tf

from core import language as nl
from core.taxonomy import load_taxonomy
from training.common import callbacks as cb
from training.nlu.bio import bio_tags, slot_values, spans, tag_names
from training.nlu.config import NLUConfig
from training.nlu.data import IGNORE, dataset, intent_names, label
from training.nlu.evaluate import accuracy, confusion_matrix, macro_f1, report, slot_f1
from training.nlu.export import export, load, predict
from training.nlu.human import HUMAN_SPLIT, human_rows
from training.nlu.phrasing import UNSEEN_SPLIT, phrasing, unseen_phrasings
from training.nlu.synthetic import synthetic_rows
from training.nlu.text import Encoder, build_vocabularies, tf_tokenize, tokenize
from training.nlu.train import train

ROOT = Path(__file__).resolve().parents[2]
PROBES = [
    "Заблокируйте карту 4321, пожалуйста.",
    "What's the dollar exchange rate?",
    "Где ваш офис в Казани?",
    "Transfer 5,000 rubles to <PERSON> from my savings account.",
]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return synthetic_rows(8, seed=3)


@pytest.fixture(scope="module")
def trained(rows, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("nlu_run")
    return train(rows, NLUConfig.tiny(typed_rows=2), run_dir), run_dir


# --------------------------------------------------------------------------- data


def test_rows_cover_every_intent_and_language_with_disjoint_phrasings(rows):
    pairs = {(r["intent"], r["language"]) for r in rows}
    assert pairs == {(i, lang) for i in load_taxonomy().intents for lang in ("ru", "en")}
    assert {r["split"] for r in rows} == {"train", "validation", "test"}
    texts = {split: {r["text"] for r in rows if r["split"] == split} for split in ("train", "test")}
    assert not texts["train"] & texts["test"]


def test_python_and_tensorflow_tokenization_agree(rows):
    extra = "Переведите 1 500 000 рублей, $1,200 и St. Petersburg"
    texts = [r["text"] for r in rows[:200]] + [extra]
    ragged = tf_tokenize(tf.constant(texts)).to_list()
    assert [[t.decode() for t in toks] for toks in ragged] == [tokenize(t) for t in texts]
    assert tokenize("1,500,000 руб.") == ["1500000", "руб", "."]


@pytest.mark.parametrize(
    ("text", "slots", "expected"),
    [
        ("Заблокируйте карту 4321.", {"card_last4": "4321"}, {"card_last4": "4321"}),
        (
            "Где офис в Санкт-Петербурге?",
            {"city": "Saint Petersburg"},
            {"city": "Санкт-Петербурге"},
        ),
        (
            "Переведите 5 000 долларов <PERSON> с текущего счёта",
            {
                "amount": 5000,
                "currency": "USD",
                "recipient": "<PERSON>",
                "account_type": "checking",
            },
            {
                "amount": "5000",
                "currency": "долларов",
                "recipient": "<PERSON>",
                "account_type": "текущего счёта",
            },
        ),
        (
            "Send 50 thousand euros to Helen",
            {"amount": 50000, "currency": "EUR", "recipient": "Helen"},
            {"amount": "50 thousand", "currency": "euros", "recipient": "Helen"},
        ),
        (
            "I sent it on December 28, where is it?",
            {"date": "2025-12-28"},
            {"date": "on December 28"},
        ),
        (
            "Выписку за последние три месяца",
            {"period": "2025-10-15/2026-01-15"},
            {"period": "за последние три месяца"},
        ),
        (
            "Остаток на Накопительном счете",
            {"account_type": "savings"},
            {"account_type": "Накопительном счете"},
        ),
    ],
)
def test_bio_tags_locate_values_through_case_and_inflection(text, slots, expected):
    tokens = tokenize(text)
    tags, missing = bio_tags(tokens, slots)
    assert missing == []
    assert slot_values(tokens, tags) == expected


def test_almost_every_generated_slot_is_located(rows):
    data = label(rows, max_tokens=40)
    total = Counter(s for r in rows for s in r["slots"])
    assert sum(data.unlocated.values()) <= 0.02 * sum(total.values())
    assert data.tags.shape == (len(rows), 40)
    assert set(np.unique(data.tags)) <= {IGNORE, *range(len(tag_names()))}


def test_a_phrasing_is_the_text_with_its_slot_values_masked():
    assert phrasing("Остаток на Накопительном счете", {"account_type": "savings"}) == (
        "остаток на <account_type>"
    )
    train_rows = [_row("Send 500 dollars to <PERSON>", {"amount": 500, "currency": "USD"})]
    same = _row("send 75 dollars to <PERSON>", {"amount": 75, "currency": "USD"})
    other = _row("Um, send 75 dollars to <PERSON>", {"amount": 75, "currency": "USD"})
    russian = _row("send 75 dollars to <PERSON>", {"amount": 75, "currency": "USD"}, "ru")
    assert phrasing(same["text"], same["slots"]) == phrasing(
        train_rows[0]["text"], train_rows[0]["slots"]
    )
    assert unseen_phrasings(train_rows, [same, other, russian]) == [other, russian]


def _row(text: str, slots: dict, language: str = "en") -> dict:
    return {"text": text, "slots": slots, "language": language}


def test_dataset_batches_have_the_model_shapes(rows):
    config = NLUConfig.tiny()
    words, chars = build_vocabularies([r["text"] for r in rows])
    encoder = Encoder.from_config(words, chars, config)
    assert encoder.ngram_widths == config.ngram_widths  # the n-grams training uses
    x, y = next(iter(dataset(label(rows[:5], config.max_tokens), encoder, 4)))
    assert x["words"].shape == (4, config.max_tokens)
    assert x["chars"].shape == (4, config.max_tokens, config.max_chars)
    assert x["ngrams"].shape == (4, config.max_tokens, config.max_ngrams)
    ngrams = x["ngrams"].numpy()
    assert ngrams.min() >= 0 and ngrams.max() <= config.ngram_buckets
    # every real token has n-grams, padding has none
    assert ((ngrams > 0).any(axis=-1) == (x["words"].numpy() > 0)).all()
    assert y["intent"].shape == (4,) and y["slots"].shape == (4, config.max_tokens)


# --------------------------------------------------------------------------- metrics


def test_metric_functions_on_known_cases():
    assert accuracy(["a", "b", "c", "d"], ["a", "b", "x", "d"]) == 0.75
    assert accuracy([], []) == 0.0
    # a: tp 1 fp 0 fn 1 -> 2/3; b: tp 1 fp 1 fn 0 -> 2/3
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(2 / 3)
    assert macro_f1(["a", "b"], ["a", "b"]) == 1.0
    matrix = confusion_matrix(["a", "a", "b"], ["a", "b", "b"], ["a", "b", "c"])
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 0]]


def test_spans_and_slot_f1_on_known_cases():
    assert spans(["O", "B-city", "I-city", "O", "I-amount", "B-date"]) == [
        ("city", 1, 3),
        ("amount", 4, 5),
        ("date", 5, 6),
    ]
    gold = [["B-amount", "I-amount", "O", "B-city"], ["O", "B-date"]]
    pred = [["B-amount", "O", "O", "B-city"], ["O", "B-date"]]  # amount bound is wrong
    scores = slot_f1(gold, pred)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 / 3)
    assert slot_f1([["O"]], [["O"]])["f1"] == 1.0


def test_report_is_per_language():
    result = report(
        ["ru", "en", "en"],
        ["a", "b", "b"],
        ["a", "b", "a"],
        [["O"], ["O"], ["O"]],
        [["O"], ["O"], ["O"]],
        ["a", "b"],
    )
    assert result["ru"]["intent_accuracy"] == 1.0
    assert result["en"]["intent_accuracy"] == 0.5
    assert result["all"]["confusion"] == [[1, 0], [1, 1]]


# --------------------------------------------------------------------------- config


def test_config_hash_is_stable_and_changes_with_a_field():
    assert NLUConfig.tiny().config_hash() == NLUConfig.tiny().config_hash()
    assert NLUConfig.tiny().config_hash() != NLUConfig.tiny(word_dim=17).config_hash()
    assert NLUConfig.tiny().config_hash() != NLUConfig.demo().config_hash()
    assert NLUConfig.tiny().to_dict()["family"] == "NLUConfig"


# --------------------------------------------------------------------------- callbacks


class _Gateway(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str]]] = []

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    do_POST = do_PUT

    def log_message(self, *args):
        pass


def test_callbacks_write_tensorboard_events_set_gauges_and_push(tmp_path, monkeypatch):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(cb.PUSHGATEWAY_ENV, f"http://127.0.0.1:{server.server_port}")
    try:
        import keras

        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        x = np.ones((8, 2), "float32")
        callbacks = cb.training_callbacks("testfam", tmp_path)
        model.fit(
            x, x[:, :1], validation_data=(x, x[:, :1]), epochs=2, verbose=0, callbacks=callbacks
        )
    finally:
        server.shutdown()
    assert list((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))
    value = cb.REGISTRY.get_sample_value(
        "voiceops_training_epoch_metric", {"family": "testfam", "metric": "val_loss"}
    )
    assert value is not None and np.isfinite(value)
    assert cb.REGISTRY.get_sample_value("voiceops_training_epoch", {"family": "testfam"}) == 2
    assert len(_Gateway.received) == 2
    assert "family/testfam" in _Gateway.received[0][0]


# --------------------------------------------------------------------------- training


def test_tiny_training_records_history_and_scores(trained):
    result, run_dir = trained
    assert len(result.history["loss"]) == NLUConfig.tiny().epochs
    assert all(np.isfinite(result.history["val_loss"]))
    assert list((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    # the core-phrasing split: no test phrasing is a training phrasing
    assert result.metrics[UNSEEN_SPLIT]["all"]["n"] == result.metrics["test"]["all"]["n"]
    # chat rows: typed_rows per intent with typed phrasings, in both languages
    typed_intents = len(nl.typed_intents("en")) + len(nl.typed_intents("ru"))
    assert result.typed_train_rows == result.config.typed_rows * typed_intents > 0
    human = Counter(row["language"] for row in human_rows())
    assert {lang: result.metrics[HUMAN_SPLIT][lang]["n"] for lang in human} == dict(human)
    for split in ("validation", "test", UNSEEN_SPLIT, HUMAN_SPLIT):
        scores = result.metrics[split]
        assert {"all", "ru", "en"} <= set(scores)
        assert 0.0 <= scores["all"]["intent_accuracy"] <= 1.0
        n = len(intent_names())
        assert np.array(scores["all"]["confusion"]).shape == (n, n)


def test_model_output_shapes(trained):
    result, _ = trained
    config = result.config
    _, inputs = result.encoder(tf.constant(PROBES))
    out = result.model(inputs)
    assert out["intent"].shape == (len(PROBES), len(intent_names()))
    assert out["slots"].shape == (len(PROBES), config.max_tokens, len(tag_names()))
    np.testing.assert_allclose(np.sum(out["intent"], axis=-1), 1.0, rtol=1e-5)


def test_predict_in_process(trained):
    result, _ = trained
    predictions = predict(result.serving, PROBES)
    assert [p["text"] for p in predictions] == PROBES
    for p in predictions:
        assert p["intent"] in intent_names()
        assert 0.0 < p["confidence"] <= 1.0
        assert len(p["tags"]) == len(p["tokens"]) and set(p["tags"]) <= set(tag_names())
        assert isinstance(p["slots"], dict)


def test_saved_model_reloaded_in_a_fresh_process_matches(trained, tmp_path):
    result, _ = trained
    path = export(result.serving, tmp_path / "nlu_savedmodel")
    script = (
        "import json, sys\n"
        "from training.nlu.export import load, predict\n"
        "loaded = load(sys.argv[1])\n"
        "texts = json.loads(sys.argv[2])\n"
        "sig = loaded.signatures['serving_default']\n"
        "import tensorflow as tf\n"
        "raw = sig(texts=tf.constant(texts))\n"
        "print(json.dumps({'predictions': predict(loaded, texts),\n"
        "                  'signature_keys': sorted(raw)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), json.dumps(PROBES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    fresh = json.loads(done.stdout.strip().splitlines()[-1])
    assert fresh["signature_keys"] == ["confidence", "intent", "slot_tags", "tokens"]
    here = predict(result.serving, PROBES)
    for a, b in zip(here, fresh["predictions"], strict=True):
        assert a["intent"] == b["intent"]
        assert a["tags"] == b["tags"] and a["slots"] == b["slots"]
        assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-5)
    assert predict(load(path), PROBES[:1])[0]["intent"] == here[0]["intent"]


def test_evaluate_exported_scores_like_the_in_process_model(trained, rows, tmp_path):
    from training.common.scores import flat_metrics
    from training.nlu.evaluate import evaluate_exported

    result, _ = trained
    export(result.serving, tmp_path / "saved")
    test_rows = [r for r in rows if r["split"] == "test"]
    scores = evaluate_exported(tmp_path / "saved", test_rows)
    assert {"all", "ru", "en"} <= set(scores)
    expected = {lang: flat_metrics(s) for lang, s in result.metrics["test"].items()}
    for lang, metrics in expected.items():
        assert all(isinstance(v, float) for v in scores[lang].values())
        for name in ("intent_accuracy", "intent_macro_f1", "slot_f1"):
            assert scores[lang][name] == pytest.approx(metrics[name], abs=1e-6)
