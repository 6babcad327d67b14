"""Hyperparameters of the TTS model, with ``tiny`` (tests), ``demo`` and ``large`` presets."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from core.voices import REAL_SPEECH_ENGINE, is_held_out, speaker_engine, speaker_language
from training.common.config import TrainConfig


def house_voice_problem(voice: str, language: str, *, natural: bool, real: bool) -> str:
    """Why ``voice`` cannot be the house voice of ``language`` for a model trained with
    natural voices (``natural``) and real speech (``real``) or not; "" if it can. A voice the
    model never trains on has an untrained speaker embedding: it would speak as nobody."""
    try:
        spoken = speaker_language(voice)
        held_out = is_held_out(voice)
    except ValueError as error:
        return str(error)
    engine = speaker_engine(voice)
    if spoken != language:
        return f"it speaks {spoken}, not {language}"
    if held_out:
        return "a held-out voice (test splits only): the model never trains on it"
    if engine == REAL_SPEECH_ENGINE and not real:
        return "the real speaker is trained on only with real_speech=true"
    if engine in ("flite", "festival") and not natural:
        return f"{engine} voices are trained on only with natural_voices=true"
    return ""


@dataclasses.dataclass(frozen=True)
class TTSConfig(TrainConfig):
    """Characters -> conv encoder -> durations -> length regulator -> conv decoder -> log-mel."""

    PRESETS: ClassVar[tuple[str, ...]] = ("tiny", "demo", "large")

    # audio (the recordings are 8 kHz telephone speech)
    sample_rate: int = 8000
    n_fft: int = 256  # 32 ms window
    hop: int = 80  # 10 ms frames
    n_mels: int = 64
    fmin: float = 0.0
    fmax: float = 4000.0
    # training targets are floored here (natural-log mel): the quietest bins are channel
    # noise the vocoder does not need; copying recordings through a -4 floor loses no
    # intelligibility (training/tts/README), so the model's capacity goes to the speech
    mel_floor: float = -6.0
    griffin_lim_iters: int = 32
    griffin_lim_power: float = 1.3  # sharpens the magnitudes before phase recovery
    # model
    dim: int = 192
    kernel: int = 5
    encoder_layers: int = 3
    decoder_layers: int = 4
    decoder_kernel: int = 0  # 0 = ``kernel``
    reduction: int = 1  # frames per decoder step (their inputs side by side)
    separable_decoder: bool = False  # depthwise-separable decoder convs (most of the compute)
    duration_layers: int = 2
    speaker_dim: int = 16
    dropout: float = 0.1
    duration_loss_weight: float = 1.0
    delta_loss_weight: float = 0.0  # L1 on frame-to-frame mel changes (sharper transitions)
    # a postnet (Tacotron 2): conv layers at the full frame rate adding a residual to the
    # decoder's mel, both mels trained with L1 (0 = none)
    postnet_layers: int = 0
    postnet_dim: int = 128
    warmup_epochs: int = 1  # linear learning-rate warm-up, then cosine decay to 2 %
    # update budget: epochs are cut to what fits (0 = none); deterministic, unlike a time
    # budget, and it holds training time on any mart size (~0.24 s per batch of 8 here)
    max_steps: int = 0
    weight_decay: float = 0.0
    max_chars: int = 300  # longer texts are cut (serving and training)
    max_char_frames: int = 60  # a predicted character never lasts longer
    # learn from festvox-ru's real recordings too (durations from their phone labels)
    real_speech: bool = False
    # learn from the flite and Festival voices too (durations from their engine's timings)
    natural_voices: bool = False
    # learn from the voice corpus's train rows too (``tts_examples.source = 'voice_corpus'``;
    # a TTS is scored on calls' rows either way)
    voice_corpus: bool = False
    # house voices used at inference: a voice the model trains on (checked when the config is
    # made: ``house_voice_problem``): espeak variants that are not held out, flite/Festival
    # voices with ``natural_voices``, e.g. "festival:cmu_us_slt_arctic_hts:t1.00:p+0:g+0";
    # "festvox-ru" is the real speaker, with ``real_speech``. Russian speaks at 130 wpm, the
    # slowest trained speed: on the 76b260d demo's model the STT read it better than at 160
    # (test 0.159 vs 0.173, validation 0.110 vs 0.114); English read no better slower
    # (validation 0.149 vs 0.139), so it stays at 160 (training/tts/README, "House voice speed")
    house_ru: str = "espeak:ru+m3:s130:p50"
    house_en: str = "espeak:en-us+m3:s160:p50"
    deterministic: bool = True

    def __post_init__(self) -> None:
        for language, voice in (("ru", self.house_ru), ("en", self.house_en)):
            problem = house_voice_problem(
                voice, language, natural=self.natural_voices, real=self.real_speech
            )
            if problem:
                raise ValueError(f"house_{language}={voice}: {problem}")

    @classmethod
    def tiny(cls, **overrides) -> TTSConfig:
        """Seconds of training: for tests only."""
        fields = dict(
            size="tiny",
            epochs=2,
            batch_size=4,
            dim=32,
            kernel=3,
            encoder_layers=1,
            decoder_layers=1,
            duration_layers=1,
            speaker_dim=4,
            griffin_lim_iters=4,
            warmup_epochs=0,
        )
        return cls(**(fields | overrides))

    @classmethod
    def demo(cls, **overrides) -> TTSConfig:
        """A few minutes on 2 CPU cores, a few hundred utterances per language."""
        # 3,000 steps of ~0.075 s (frame pairs, separable decoder, jemalloc): ~230 s on 2 CPU
        # cores (`make demo`; a slower machine at ~0.14 s per step stops at the time budget)
        fields = {
            "size": "demo",
            "epochs": 20,
            "max_steps": 3000,
            "batch_size": 8,
            "learning_rate": 2e-3,
            "reduction": 2,
            "separable_decoder": True,
            # festvox-ru's recordings too: Russian TTS-audio CER 0.215 -> 0.181 on one demo
            # mart (training/tts/README, "Real speech in training"), ~1.6x the training time
            "real_speech": True,
            # flite and Festival rows too (their engine's timings): Russian TTS-audio CER
            # 0.182 -> 0.168, ratio 1.42 -> 1.31, English unchanged, on the 2026-12-07 mart
            # (training/tts/README, "Natural voices")
            "natural_voices": True,
            # not the voice corpus: at 3,000 steps it gave Russian nothing (cer_tts 0.199 ->
            # 0.198) and cost English (0.220 -> 0.246) and ~1.7x the time (training/tts/README,
            # "The voice corpus")
            "voice_corpus": False,
            # a postnet of 5 layers x 96: cer_tts 0.208 -> 0.199 (mean of seeds 42 and 7, both
            # languages better with each) at 1.25x the step time (training/tts/README, "Postnet")
            "postnet_layers": 5,
            "postnet_dim": 96,
        }
        return cls(**(fields | overrides))

    @classmethod
    def large(cls, **overrides) -> TTSConfig:
        """The demo model trained three times as long: 9,000 steps (tens of minutes on 2 CPU
        cores; training/tts/README, "The large preset")."""
        return cls.demo(**({"size": "large", "epochs": 100, "max_steps": 9000} | overrides))
