"""``voiceops explain TEXT``: the NLU decision on TEXT and the training examples nearest to it.

voiceops explain "Заблокируйте карту"            # the champion, language guessed from the text
voiceops explain "block my card" --k 10 --version 3 --json
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, JsonOption, print_json
from voiceops.cli._registry import registry_call


def explain_cmd(
    text: Annotated[str, typer.Argument(help="A customer utterance.")],
    language: Annotated[
        str | None, typer.Option(help="ru or en (default: guessed from the alphabet).")
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="How many neighbours.")] = 5,
    version: Annotated[
        str, typer.Option(help="The NLU version: @ALIAS or a number.")
    ] = "@champion",
    reindex: Annotated[
        bool, typer.Option(help="Embed the version's training rows again first.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """The NLU decision on TEXT (intent, confidence, slots) and the K nearest training
    examples of its version, with their labels and similarity."""
    from voiceops.cli._tensorflow import import_tensorflow

    import_tensorflow()
    from monitoring.vectors.neighbours import nearest_training
    from monitoring.vectors.qdrant import open_store
    from monitoring.vectors.versions import version_index
    from registry.serving import language_of
    from training.nlu.export import predict

    if language not in (None, "ru", "en"):
        raise CliError(f"--language {language}: ru or en")
    language = language or language_of(text)
    settings = current_settings()
    with open_store(settings) as store:
        index, commit = registry_call(
            lambda: version_index(settings, store, version, reindex=reindex)
        )
        decision = predict(index.model, [text])[0]
        neighbours = nearest_training(index, text, language, k)
    result = {
        "model": "voicebot-nlu",
        "version": index.version,
        "lake_commit": commit,
        "language": language,
        "decision": {key: decision[key] for key in ("intent", "confidence", "slots")},
        "neighbours": [
            {
                "similarity": round(n.similarity, 4),
                "intent": n.row["intent"],
                "text": n.row["text"],
            }
            for n in neighbours
        ],
    }
    if json_out:
        print_json(result)
        return
    for line in explain_lines(result):
        sys.stdout.write(line + "\n")


def explain_lines(result: dict) -> list[str]:
    """The human-readable form of :func:`explain_cmd`'s result."""
    decision = result["decision"]
    slots = ", ".join(f"{name}={value}" for name, value in decision["slots"].items())
    lines = [
        f"voicebot-nlu v{result['version']} ({result['language']}): intent "
        f"{decision['intent']}, confidence {decision['confidence']:.3f}"
        + (f", slots {slots}" if slots else ""),
        f"nearest training examples (train split at lake commit {result['lake_commit'][:12]}):",
    ]
    for neighbour in result["neighbours"]:
        lines.append(
            f"  {neighbour['similarity']:6.3f}  {neighbour['intent']:<22} {neighbour['text']}"
        )
    if not result["neighbours"]:
        lines.append(f"  none in {result['language']}")
    return lines
