"""All four families trained at their tiny sizes and loaded from their SavedModels, as the API
loads registry versions (the serving tests and the serving benchmark without a demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny_model_paths(root: Path) -> dict[str, Path]:
    """Train STT, NLU, NLG and TTS tiny (~1 min in all on 2 cores); their SavedModel dirs."""
    from training.nlg.config import NLGConfig
    from training.nlg.data import synthetic_rows as nlg_rows
    from training.nlg.train import train as nlg_train
    from training.nlu.config import NLUConfig
    from training.nlu.export import export as nlu_export
    from training.nlu.synthetic import synthetic_rows as nlu_rows
    from training.nlu.train import train as nlu_train
    from training.stt.config import STTConfig
    from training.stt.export import export as stt_export
    from training.stt.synthetic import synthetic_rows as stt_rows
    from training.stt.train import train as stt_train
    from training.tts.config import TTSConfig
    from training.tts.export import export as tts_export
    from training.tts.synthetic import synthetic_rows as tts_rows
    from training.tts.train import train as tts_train

    root = Path(root)
    nlu = nlu_train(nlu_rows(8, seed=3), NLUConfig.tiny(epochs=6), root / "nlu")
    intents = ("greeting", "check_balance", "exchange_rate", "talk_to_operator")
    nlg = nlg_train(nlg_rows(200, seed=1, intents=intents), NLGConfig.tiny(), root / "nlg")
    stt = stt_train(stt_rows(6, seed=1, cache=root / "stt_audio"), STTConfig.tiny(), root / "stt")
    tts = tts_train(tts_rows(6, root / "tts_audio", seed=3), TTSConfig.tiny(epochs=2), root / "tts")
    return {
        "nlu": nlu_export(nlu.serving, root / "nlu" / "saved_model"),
        "nlg": nlg.model_path,
        "stt": stt_export(stt.serving, root / "stt" / "saved_model"),
        "tts": tts_export(tts.serving, root / "tts" / "saved_model"),
    }


def load_models(paths: dict[str, Path]) -> dict[str, Any]:
    """Each family's SavedModel loaded with its own ``export.load``."""
    from training.families import family

    return {name: family(name).module("export").load(path) for name, path in paths.items()}


def app_factory():
    """The API over tiny models saved on disk, for ``uvicorn --factory`` (one app per worker
    process): settings from ``VOICEOPS_*``, models from ``VOICEOPS_TEST_MODELS`` (a JSON
    object family -> SavedModel path), each family's version 1 and champion."""
    import json
    import os

    from core.settings import Settings
    from serving.api import create_app
    from serving.app_state import ServingState, connect
    from serving.options import ServingOptions

    paths = {k: Path(v) for k, v in json.loads(os.environ["VOICEOPS_TEST_MODELS"]).items()}
    settings, options = Settings(), ServingOptions()
    state = ServingState(settings, options)
    for name, model in load_models(paths).items():
        state.pool.install(name, "1", model, champion=True)
    connect(state, None)
    return create_app(settings, options, state=state)
