"""``voiceops privacy``: personal data in the platform's text.

voiceops privacy eval [--n N] [--seed S]   # precision / recall of PII detection per kind, language
"""

from __future__ import annotations

from typing import Annotated

import typer

privacy_app = typer.Typer(
    help="Personal data: how well the detector finds it (precision / recall per kind).",
    no_args_is_help=True,
)


@privacy_app.command("eval")
def eval_cmd(
    n: Annotated[int, typer.Option("--n", min=1, help="Examples to generate.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the labelled set.")] = 0,
) -> None:
    """Precision and recall of core.pii_detect on the simulator's labelled set, per kind and
    language, as a Markdown table."""
    from core.pii_scores import score
    from ingestion.simulator.pii_labelled import labelled_set

    rows = score(labelled_set(n, seed))
    print(f"PII detection on {n} generated examples (seed {seed})\n")
    print("| kind | language | gold | found | precision | recall |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.kind} | {row.language} | {row.gold} | {row.found} "
            f"| {row.precision:.3f} | {row.recall:.3f} |"
        )
