"""``voiceops lake repo|branch|tag|branch-protect``: repositories, the named pointers in them
and the rules that protect branches."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from versioning.lake import Ref, parse_uri
from voiceops.cli._lakeargs import configured_lake, ref_uri, repo_uri, same_repository
from voiceops.cli._output import (
    CliError,
    JsonOption,
    format_time,
    print_json,
    say,
    short_id,
    stdout_console,
)

repo_app = typer.Typer(help="Create, list and delete repositories.", no_args_is_help=True)
branch_app = typer.Typer(
    help="Create, list, delete, reset and revert branches.", no_args_is_help=True
)
tag_app = typer.Typer(help="Create, list and delete tags (immutable).", no_args_is_help=True)
protect_app = typer.Typer(
    help="Branch protection rules (as lakectl branch-protect): a protected branch takes no "
    "direct upload, delete, commit or reset; merges into it must pass the pre-merge checks.",
    no_args_is_help=True,
)


def _refs_table(title: str, refs: list[Ref], default: str | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("Name", overflow="fold")
    table.add_column("Commit ID", overflow="fold")
    for ref in refs:
        name = f"{ref.id} [dim](default)[/dim]" if ref.id == default else ref.id
        table.add_row(name, ref.commit_id)
    return table


# ---- repositories -----------------------------------------------------------------------
@repo_app.command("create")
def repo_create(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO")],
    default_branch: Annotated[str, typer.Option(help="Name of the default branch.")] = "main",
    json_out: JsonOption = False,
) -> None:
    """Create a repository with an empty initial commit on its default branch."""
    repo = configured_lake().create_repository(repo_uri(uri), default_branch=default_branch)
    if json_out:
        print_json(repo.to_dict())
    else:
        say(f"Repository [bold]{repo.id}[/bold] created (default branch {repo.default_branch})")


@repo_app.command("list")
def repo_list(json_out: JsonOption = False) -> None:
    """List the repositories."""
    repos = configured_lake().list_repositories()
    if json_out:
        print_json([r.to_dict() for r in repos])
        return
    table = Table(title="Repositories", title_justify="left")
    for column in ("Repository", "Default branch", "Created", "Storage namespace"):
        table.add_column(column, overflow="fold")
    for r in repos:
        table.add_row(r.id, r.default_branch, format_time(r.creation_date), r.storage_namespace)
    stdout_console().print(table)


@repo_app.command("delete")
def repo_delete(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a repository with all its branches, tags and commits."""
    repository = repo_uri(uri)
    lake = configured_lake()
    lake.get_repository(repository)  # fail before asking if it does not exist
    if not yes and not typer.confirm(f"Delete repository {repository!r} and all its data?"):
        raise CliError("not confirmed; nothing was deleted")
    lake.delete_repository(repository)
    say(f"Repository [bold]{repository}[/bold] deleted")


# ---- branches ---------------------------------------------------------------------------
@branch_app.command("create")
def branch_create(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/BRANCH")],
    source: Annotated[str, typer.Option("--source", "-s", help="lakefs://REPO/REF to start from.")],
    json_out: JsonOption = False,
) -> None:
    """Create a branch pointing at the commit of ``--source``."""
    target, origin = ref_uri(uri), ref_uri(source)
    repository = same_repository(target, origin)
    ref = configured_lake().create_branch(repository, target.require_ref(), origin.require_ref())
    if json_out:
        print_json(ref.to_dict())
    else:
        say(f"Created branch [bold]{ref.id}[/bold] at {ref.commit_id} (from {origin.ref})")


@branch_app.command("list")
def branch_list(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO")], json_out: JsonOption = False
) -> None:
    """List the branches of a repository."""
    repository = repo_uri(uri)
    lake = configured_lake()
    branches = lake.list_branches(repository)
    if json_out:
        print_json([b.to_dict() for b in branches])
        return
    default = lake.get_repository(repository).default_branch
    stdout_console().print(_refs_table(f"Branches of {repository}", branches, default))


@branch_app.command("delete")
def branch_delete(uri: Annotated[str, typer.Argument(help="lakefs://REPO/BRANCH")]) -> None:
    """Delete a branch (its commits stay reachable by ID and through tags)."""
    target = ref_uri(uri)
    configured_lake().delete_branch(target.repository, target.require_ref())
    say(f"Deleted branch [bold]{target.ref}[/bold]")


@branch_app.command("reset")
def branch_reset(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/BRANCH[/PATH or PREFIX/]")],
) -> None:
    """Drop uncommitted changes: all of them, or those of one object or prefix."""
    target = parse_uri(uri, allow_prefix=True)
    configured_lake().reset(target.repository, target.require_ref(), target.path)
    scope = f" under {target.path}" if target.path else ""
    say(f"Dropped uncommitted changes{scope} on branch [bold]{target.ref}[/bold]")


@branch_app.command("revert")
def branch_revert(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/BRANCH")],
    commit_refs: Annotated[list[str], typer.Argument(help="Commit(s) whose changes to undo.")],
    parent_number: Annotated[
        int, typer.Option("--parent-number", min=1, help="Parent to diff a merge against.")
    ] = 1,
    json_out: JsonOption = False,
) -> None:
    """Commit on the branch the inverse of the changes each given commit made."""
    target = ref_uri(uri)
    lake = configured_lake()
    commits = [
        lake.revert(target.repository, target.require_ref(), ref, parent_number=parent_number)
        for ref in commit_refs
    ]
    if json_out:
        print_json([c.to_dict() for c in commits])
        return
    for ref, commit in zip(commit_refs, commits, strict=True):
        say(f"Reverted {ref} on [bold]{target.ref}[/bold]: new commit {short_id(commit.id)}")


# ---- tags -------------------------------------------------------------------------------
@tag_app.command("create")
def tag_create(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/TAG")],
    ref: Annotated[str, typer.Argument(help="lakefs://REPO/REF to tag.")],
    json_out: JsonOption = False,
) -> None:
    """Tag a commit; tags never move."""
    target, origin = ref_uri(uri), ref_uri(ref)
    repository = same_repository(target, origin)
    tag = configured_lake().create_tag(repository, target.require_ref(), origin.require_ref())
    if json_out:
        print_json(tag.to_dict())
    else:
        say(f"Created tag [bold]{tag.id}[/bold] at {tag.commit_id}")


@tag_app.command("list")
def tag_list(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO")], json_out: JsonOption = False
) -> None:
    """List the tags of a repository."""
    repository = repo_uri(uri)
    tags = configured_lake().list_tags(repository)
    if json_out:
        print_json([t.to_dict() for t in tags])
    else:
        stdout_console().print(_refs_table(f"Tags of {repository}", tags))


@tag_app.command("delete")
def tag_delete(uri: Annotated[str, typer.Argument(help="lakefs://REPO/TAG")]) -> None:
    """Delete a tag (the commit stays)."""
    target = ref_uri(uri)
    configured_lake().delete_tag(target.repository, target.require_ref())
    say(f"Deleted tag [bold]{target.ref}[/bold]")


# ---- branch protection ------------------------------------------------------------------
PatternArg = Annotated[str, typer.Argument(help="Branch name pattern, '*' and '?' wildcards.")]


@protect_app.command("add")
def protect_add(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO")], pattern: PatternArg
) -> None:
    """Protect the branches matching PATTERN."""
    repository = repo_uri(uri)
    configured_lake().add_branch_protection(repository, pattern)
    say(f"Branches matching [bold]{pattern}[/bold] of {repository} are protected")


@protect_app.command("list")
def protect_list(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO")], json_out: JsonOption = False
) -> None:
    """List the protection rules of a repository."""
    patterns = configured_lake().list_branch_protection(repo_uri(uri))
    if json_out:
        print_json(patterns)
        return
    table = Table(title=f"Branch protection rules of {repo_uri(uri)}", title_justify="left")
    table.add_column("Pattern")
    for pattern in patterns:
        table.add_row(pattern)
    stdout_console().print(table)


@protect_app.command("delete")
def protect_delete(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO")], pattern: PatternArg
) -> None:
    """Delete the protection rule PATTERN."""
    repository = repo_uri(uri)
    configured_lake().delete_branch_protection(repository, pattern)
    say(f"Deleted the protection rule [bold]{pattern}[/bold] of {repository}")
