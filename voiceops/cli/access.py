"""``voiceops access``: the API keys and roles of the network surfaces.

voiceops access roles                              # each role's scopes
voiceops access create-key --name gateway --role service   # prints the key once
voiceops access list [--json]                      # keys (never their secrets)
voiceops access revoke gateway                     # refused from the next request on
"""

from __future__ import annotations

from typing import Annotated

import typer

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, JsonOption, print_json

access_app = typer.Typer(
    help="Access control: API keys (hashed at rest) and the roles of the network surfaces.",
    no_args_is_help=True,
)


def _store():
    from core.access.keys import KeyStore

    return KeyStore(current_settings().access_location)


@access_app.command("roles")
def roles_cmd(as_json: JsonOption = False) -> None:
    """Print each role and the scopes it holds."""
    from core.access.roles import ROLES, SCOPES

    if as_json:
        print_json({role: sorted(scopes) for role, scopes in ROLES.items()})
        return
    typer.echo(f"{'role':<13}" + "".join(f"{scope:<16}" for scope in SCOPES))
    for role, scopes in ROLES.items():
        marks = "".join(f"{'yes' if scope in scopes else '-':<16}" for scope in SCOPES)
        typer.echo(f"{role:<13}{marks}")


@access_app.command("create-key")
def create_key_cmd(
    name: Annotated[str, typer.Option(help="Who or what uses the key (unique).")],
    role: Annotated[str, typer.Option(help="The key's role (`voiceops access roles`).")],
) -> None:
    """Create an API key and print it once (only its SHA-256 is kept)."""
    store = _store()
    try:
        record, key = store.create(name, role)
    except ValueError as error:
        raise CliError(str(error)) from None
    finally:
        store.close()
    typer.echo(key)
    typer.echo(
        f"created key {record.key_id} ({record.name}, role {record.role}): this is the only "
        "time it is shown; callers send it as 'Authorization: Bearer <key>'",
        err=True,
    )


@access_app.command("list")
def list_cmd(as_json: JsonOption = False) -> None:
    """List the API keys: id, name, role, created, revoked (never the keys)."""
    store = _store()
    try:
        keys = store.list()
    finally:
        store.close()
    if as_json:
        print_json([key.__dict__ for key in keys])
        return
    for key in keys:
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        typer.echo(f"{key.key_id}  {key.name:<24} {key.role:<12} {key.created_at}  {state}")


@access_app.command("revoke")
def revoke_cmd(
    name: Annotated[str, typer.Argument(help="The key's name or id.")],
) -> None:
    """Revoke an API key: every surface refuses it from its next request."""
    store = _store()
    try:
        record = store.revoke(name)
    except KeyError as error:
        raise CliError(str(error.args[0])) from None
    finally:
        store.close()
    typer.echo(f"revoked {record.key_id} ({record.name}) at {record.revoked_at}")
