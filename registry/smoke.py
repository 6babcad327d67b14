"""Gate rule "smoke": the artifact *as stored in the registry* loads in a fresh Python process,
answers reference inputs with plausible outputs, within the latency budget.

    python -m registry.smoke FAMILY MODEL_DIR [--repeats N]   # prints one JSON line

The parent (:func:`smoke_test`) runs that on the directory downloaded from the registry's
artifact store and checks what came back (:func:`output_problems`): NLU answers intents of
the taxonomy, NLG non-empty texts, STT transcribes held-out espeak voices within a CER bound,
TTS gives finite, audible audio of a plausible length. An imported STT version hears the
reference speech of the languages its manifest declares (``registry.external``: PocketSphinx
only the English one); one that declares none of them fails. When MODEL_DIR is an MLflow model
(``registry.mlflow_model``) it is loaded as MLflow serves it, with ``mlflow.pyfunc``, and its
stored input example must come back with one answer per row; the reference inputs then run
on the SavedModel it wraps. A bare SavedModel directory is loaded with TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class SmokeLimits:
    """What counts as a plausible output (``smoke:`` in ``thresholds.yaml``)."""

    stt_max_cer: float = 0.5
    tts_min_seconds: float = 0.3
    tts_max_seconds: float = 20.0
    tts_min_rms: float = 1e-3


@dataclass
class SmokeResult:
    """Outcome of one smoke run."""

    ok: bool
    reason: str
    load_s: float = 0.0
    latency_ms: float = 0.0
    outputs: object = None
    problems: list[str] = field(default_factory=list)
    #: an MLflow model's answers to its input example: ``{"rows", "answers": [[field, ...]]}``
    pyfunc: dict[str, Any] | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _known_intents() -> set[str]:
    from core.taxonomy import load_taxonomy

    return set(load_taxonomy().intents)


def output_problems(family: str, outputs: Any, limits: SmokeLimits) -> list[str]:
    """What is implausible in the reference outputs of ``family`` (empty: nothing)."""
    if family == "nlu":
        unknown = sorted({str(i) for i in outputs} - _known_intents())
        return [f"NLU answered intents outside the taxonomy: {unknown}"] if unknown else []
    if family == "nlg":
        empty = [i for i, text in enumerate(outputs) if not str(text).strip()]
        return [f"NLG gave empty responses for reference requests {empty}"] if empty else []
    if family == "stt":
        if not outputs["references"]:
            return ["STT speaks none of the reference speech's languages"]
        cer = float(outputs["cer"])
        if cer > limits.stt_max_cer:
            heard = "; ".join(f"{r!r} -> {h!r}" for r, h in zip(
                outputs["references"], outputs["transcripts"], strict=True))  # fmt: skip
            return [f"STT CER {cer:.3f} > {limits.stt_max_cer:g} on reference speech ({heard})"]
        return []
    if family == "tts":
        rate = int(outputs["sample_rate"])
        problems = []
        for i, (samples, rms, finite) in enumerate(
            zip(outputs["samples"], outputs["rms"], outputs["finite"], strict=True)
        ):
            seconds = samples / rate if rate else 0.0
            if not finite:
                problems.append(f"TTS output {i} has NaN or infinite samples")
            elif not limits.tts_min_seconds <= seconds <= limits.tts_max_seconds:
                problems.append(
                    f"TTS output {i} lasts {seconds:.2f} s (plausible: "
                    f"{limits.tts_min_seconds:g}-{limits.tts_max_seconds:g} s)"
                )
            elif rms < limits.tts_min_rms:
                problems.append(f"TTS output {i} is silent (RMS {rms:.2e})")
        return problems
    return [f"no smoke checks for family {family!r}"]


def smoke_test(
    family: str,
    model_dir: Path,
    budget_ms: float,
    *,
    repeats: int = 5,
    timeout_s: float = 240,
    limits: SmokeLimits | None = None,
) -> SmokeResult:
    """Run the smoke process; ok when it succeeds, its outputs are plausible and the median
    call is within budget."""
    command = [sys.executable, "-m", "registry.smoke", family, str(model_dir)]
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        done = subprocess.run(
            [*command, "--repeats", str(repeats)],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return SmokeResult(False, f"smoke test did not finish within {timeout_s:.0f} s")
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return SmokeResult(False, f"smoke test failed in a fresh process: {tail[:300]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    latency = float(report["latency_ms"])
    problems = output_problems(family, report["outputs"], limits or SmokeLimits())
    problems += pyfunc_problems(report.get("pyfunc"))
    if latency > budget_ms:
        problems.append(f"median latency {latency:.1f} ms > budget {budget_ms:g} ms")
    reason = "; ".join(problems) or (
        f"plausible outputs, median latency {latency:.1f} ms <= budget {budget_ms:g} ms"
    )
    return SmokeResult(
        not problems,
        reason,
        report["load_s"],
        latency,
        report["outputs"],
        problems,
        report.get("pyfunc"),
    )


def pyfunc_problems(pyfunc: dict[str, Any] | None) -> list[str]:
    """What is wrong with the MLflow model's answers to its input example, reported as the
    fields of each answer (None: the artifact is a bare SavedModel, nothing to check)."""
    if pyfunc is None:
        return []
    rows, answers = int(pyfunc["rows"]), pyfunc["answers"]
    if len(answers) != rows or not all(isinstance(a, list) and a for a in answers):
        return [f"the MLflow model answered its {rows}-row input example with {answers!r:.200}"]
    return []


def _load(model_dir: Path) -> tuple[Any, dict[str, Any] | None]:
    """The SavedModel to time, and (for an MLflow model) its answers to the input example."""
    if not (model_dir / "MLmodel").is_file():
        from registry.external import load_artifact

        return load_artifact(model_dir), None
    import mlflow.pyfunc
    from mlflow.models import Model

    served = mlflow.pyfunc.load_model(str(model_dir))
    example = Model.load(str(model_dir)).load_input_example(str(model_dir))
    fields = [sorted(a) if isinstance(a, dict) else None for a in served.predict(example)]
    return served.unwrap_python_model().saved_model, {"rows": len(example), "answers": fields}


def _stt_outputs(heard: dict[str, Any]) -> dict[str, Any]:
    """Transcripts of the reference speech with their CER (the STT family's normalization)."""
    from training.stt.evaluate import cer
    from training.stt.text import normalize

    langs = heard["languages"]
    refs = [normalize(t, lang) for t, lang in zip(heard["references"], langs, strict=True)]
    hyps = [normalize(t, lang) for t, lang in zip(heard["transcripts"], langs, strict=True)]
    return heard | {"cer": cer(refs, hyps)}


def spoken_speech(speech: tuple, model_dir: Path) -> tuple:
    """The reference speech in the languages the artifact's manifest declares (all of it for
    an in-house model; ``registry.external``)."""
    from registry.external import languages_of
    from registry.mlflow_model import saved_model_dir

    spoken = set(languages_of(saved_model_dir(model_dir)))
    keep = [i for i, language in enumerate(speech[2]) if language in spoken]
    return tuple([part[i] for i in keep] for part in speech)


def main(argv: list[str] | None = None) -> None:
    """The fresh process: load, warm up once, time ``repeats`` reference calls, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("family")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    for module in ("tensorflow", "mlflow.pyfunc"):  # imported before the load is timed
        importlib.import_module(module)
    from registry.serving import reference_speech, run_reference

    with tempfile.TemporaryDirectory(prefix="voiceops-smoke-") as workdir:
        speech = None
        if args.family == "stt":
            speech = spoken_speech(reference_speech(Path(workdir)), args.model_dir)
        started = time.perf_counter()
        model, pyfunc = _load(args.model_dir)
        load_s = time.perf_counter() - started
        outputs = run_reference(args.family, model, speech)  # warm-up: the first call traces
        times = []
        for _ in range(max(args.repeats, 1)):
            start = time.perf_counter()
            run_reference(args.family, model, speech)
            times.append((time.perf_counter() - start) * 1000)
    if args.family == "stt":
        outputs = _stt_outputs(outputs)
    print(
        json.dumps(
            {
                "load_s": load_s,
                "latency_ms": statistics.median(times),
                "outputs": outputs,
                "pyfunc": pyfunc,
            },
            ensure_ascii=False,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
