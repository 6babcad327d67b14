"""``voiceops trail``: the append-only, hash-chained record of who did what.

voiceops trail list [--action promote] [--since 2026-12-01] [--json]
voiceops trail verify        # exit 1 naming the first edited/deleted/reordered/forged entry
"""

from __future__ import annotations

from typing import Annotated

import typer

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, JsonOption, print_json, say

trail_app = typer.Typer(
    help="The trail of who did what: list its entries, verify its hash chain.",
    no_args_is_help=True,
)


@trail_app.command("list")
def list_cmd(
    action: Annotated[
        str | None,
        typer.Option(
            "--action", help="Only this action (e.g. promote), or a family of them (promote.)."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only entries at or after this UTC time (e.g. 2026-12-01)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the trail's entries, oldest first: when, who, what, on what, and the details."""
    from core.trail import ACTIONS, open_trail

    family = action.endswith(".") if action else False
    if action and not family and action not in ACTIONS:
        raise CliError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    entries = open_trail(current_settings()).entries(action=action, since=since)
    if as_json:
        print_json([entry.to_dict() for entry in entries])
        return
    for entry in entries:
        say(f"#{entry.seq} {entry.at} {entry.actor} {entry.action} {entry.subject} {entry.details}")


@trail_app.command("verify")
def verify_cmd() -> None:
    """Check every entry's hash and link, and the anchor: exit 1 naming the first entry that
    was edited, deleted, reordered or forged."""
    from core.trail import check, open_trail

    settings = current_settings()
    trail = open_trail(settings)
    count, problem = check(trail)
    if problem is not None:
        raise CliError(f"trail verification failed at {problem.describe()}")
    keyed = "HMAC-SHA256 with VOICEOPS_TRAIL_KEY" if trail.key else "SHA-256, no key"
    say(f"trail verified: {count} entries, chain ({keyed}) and anchor {trail.anchor.path} hold")
