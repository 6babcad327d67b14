"""``voiceops lake``: the lakectl verbs over ``lakefs://REPO/REF/PATH`` URIs.

The object (``fs``) and pointer (``repo``, ``branch``, ``tag``) sub-commands live in their
own modules; this one has the history verbs (commit, log, show, diff, merge) and
maintenance (gc, fsck).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, ClassVar

import typer

from versioning.lake import ChangeType, Commit, ConflictError, DiffEntry
from voiceops.cli._group import LazyCommand, LazyGroup
from voiceops.cli._lakeargs import (
    commit_branch,
    committed_line,
    configured_lake,
    parse_meta,
    ref_and_prefix_uri,
    ref_uri,
    repo_uri,
    same_repository,
)
from voiceops.cli._output import (
    CliError,
    JsonOption,
    esc,
    format_meta,
    format_size,
    format_time,
    print_json,
    say,
    short_id,
    stdout_console,
)

if TYPE_CHECKING:
    from rich.table import Table


class LakeGroup(LazyGroup):
    """``voiceops lake``: the history verbs below, then the object and pointer groups, which
    are imported when used."""

    lazy: ClassVar[dict[str, LazyCommand]] = {
        "repo": LazyCommand(
            "voiceops.cli.lake_refs", "repo_app", "Create, list and delete repositories."
        ),
        "branch": LazyCommand(
            "voiceops.cli.lake_refs",
            "branch_app",
            "Create, list, delete, reset and revert branches.",
        ),
        "tag": LazyCommand(
            "voiceops.cli.lake_refs", "tag_app", "Create, list and delete tags (immutable)."
        ),
        "branch-protect": LazyCommand(
            "voiceops.cli.lake_refs",
            "protect_app",
            "Branch protection rules (as lakectl branch-protect): a protected branch takes no "
            "direct upload, delete, commit or reset; merges into it must pass the pre-merge "
            "checks.",
        ),
        "fs": LazyCommand(
            "voiceops.cli.lake_fs", "fs_app", "Objects: upload, download, cat, ls, stat, rm."
        ),
        "gc": LazyCommand(
            "voiceops.cli.lake", "gc_app", "Garbage collection of unreachable objects."
        ),
    }


lake_app = typer.Typer(
    cls=LakeGroup,
    help="The versioned data lake (lakeFS semantics; lakefs://REPO/REF/PATH URIs).",
    no_args_is_help=True,
)
gc_app = typer.Typer(help="Garbage collection of unreachable objects.", no_args_is_help=True)

MetaOption = Annotated[
    list[str] | None,
    typer.Option("--meta", help="Commit metadata KEY=VALUE (repeatable)."),
]

_CHANGE_STYLE: dict[ChangeType, tuple[str, str]] = {
    ChangeType.ADDED: ("+", "green"),
    ChangeType.REMOVED: ("-", "red"),
    ChangeType.CHANGED: ("~", "yellow"),
    ChangeType.PREFIX_CHANGED: ("~", "yellow"),
}


class MergeStrategy(StrEnum):
    SOURCE_WINS = "source-wins"
    DEST_WINS = "dest-wins"


# ---- rendering --------------------------------------------------------------------------
def commit_table(title: str, commits: list[Commit], *, metadata: bool = True) -> Table:
    """Commits as rows; ``metadata`` adds a KEY=VALUE column."""
    from rich.table import Table

    table = Table(title=esc(title), title_justify="left")
    table.add_column("ID", no_wrap=True)
    table.add_column("Date", no_wrap=True)
    table.add_column("Committer")
    table.add_column("Message", overflow="fold")
    if metadata:
        table.add_column("Metadata", overflow="fold")
    for c in commits:
        message = esc(c.message) + (" [dim](merge)[/dim]" if len(c.parents) > 1 else "")
        row = [short_id(c.id), format_time(c.creation_date), esc(c.committer), message]
        table.add_row(*row, *([format_meta(c.metadata)] if metadata else []))
    return table


def _show_commit(commit: Commit) -> None:
    from rich.table import Table

    table = Table(show_header=False, title=f"Commit {commit.id}", title_justify="left")
    table.add_column("Field", style="bold")
    table.add_column("Value", overflow="fold")
    table.add_row("ID", commit.id)
    table.add_row("Parents", ", ".join(commit.parents) or "(none)")
    table.add_row("Committer", esc(commit.committer))
    table.add_row("Date", format_time(commit.creation_date))
    table.add_row("Message", esc(commit.message))
    for key, value in sorted(commit.metadata.items()):
        table.add_row(f"meta: {esc(key)}", esc(value))
    stdout_console().print(table)


def print_diff(title: str, entries: list[DiffEntry]) -> None:
    """A +/-/~ table of changes and a one-line count."""
    from rich.table import Table

    table = Table(title=esc(title), title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("Path", overflow="fold")
    table.add_column("Size", justify="right", no_wrap=True)
    for entry in entries:
        sign, colour = _CHANGE_STYLE[entry.type]
        size = format_size(entry.size_bytes)
        if entry.type == ChangeType.CHANGED:
            size = f"{format_size(entry.left_size)} -> {format_size(entry.right_size)}"
        table.add_row(
            f"[{colour}]{sign}[/{colour}]", f"[{colour}]{esc(entry.path)}[/{colour}]", size
        )
    if entries:
        stdout_console().print(table)
    counts = {t: sum(e.type == t for e in entries) for t in ChangeType}
    changed = counts[ChangeType.CHANGED] + counts[ChangeType.PREFIX_CHANGED]
    say(
        f"{counts[ChangeType.ADDED]} added, {counts[ChangeType.REMOVED]} removed, "
        f"{changed} changed" + ("" if entries else f" ({esc(title)}: no differences)")
    )


# ---- history ----------------------------------------------------------------------------
@lake_app.command("commit")
def commit_cmd(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/BRANCH")],
    message: Annotated[str, typer.Option("--message", "-m", help="Commit message.")],
    meta: MetaOption = None,
    allow_empty: Annotated[bool, typer.Option(help="Commit even without changes.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Commit the branch's uncommitted changes."""
    # Plain invocations without --json run the same work without Typer (commit_fast_path).
    target, commit = commit_branch(uri, message, meta, allow_empty)
    if json_out:
        print_json(commit.to_dict())
    else:
        say(committed_line(target, commit))


@lake_app.command("log")
def log_cmd(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/REF")],
    amount: Annotated[
        int | None, typer.Option("--amount", "-n", min=1, help="At most this many commits.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Commits reachable from a ref, newest first."""
    source = ref_uri(uri)
    commits = configured_lake().log(source.repository, source.require_ref(), amount)
    if json_out:
        print_json([c.to_dict() for c in commits])
    else:
        stdout_console().print(commit_table(f"Log of {source}", commits))


@lake_app.command("show")
def show_cmd(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/REF")], json_out: JsonOption = False
) -> None:
    """One commit: parents, committer, message and metadata."""
    source = ref_uri(uri)
    commit = configured_lake().get_commit(source.repository, source.require_ref())
    if json_out:
        print_json(commit.to_dict())
    else:
        _show_commit(commit)


@lake_app.command("diff")
def diff_cmd(
    left: Annotated[str, typer.Argument(help="lakefs://REPO/LEFT[/PREFIX] (or a branch alone)")],
    right: Annotated[str | None, typer.Argument(help="lakefs://REPO/RIGHT")] = None,
    json_out: JsonOption = False,
) -> None:
    """Changes from LEFT to RIGHT; with one branch URI, its uncommitted changes."""
    lake = configured_lake()
    left_uri = ref_and_prefix_uri(left)
    if right is None:
        entries = lake.uncommitted(left_uri.repository, left_uri.require_ref(), left_uri.path or "")
        title = f"Uncommitted changes on {left_uri}"
    else:
        right_uri = ref_and_prefix_uri(right)
        repository = same_repository(left_uri, right_uri)
        prefix = left_uri.path or right_uri.path or ""
        entries = lake.diff(repository, left_uri.require_ref(), right_uri.require_ref(), prefix)
        title = f"{left_uri.ref}..{right_uri.ref}"
    if json_out:
        print_json([e.to_dict() for e in entries])
    else:
        print_diff(title, entries)


@lake_app.command("merge")
def merge_cmd(
    source: Annotated[str, typer.Argument(help="lakefs://REPO/SOURCE_REF")],
    destination: Annotated[str, typer.Argument(help="lakefs://REPO/DESTINATION_BRANCH")],
    strategy: Annotated[
        MergeStrategy | None, typer.Option(help="How to resolve conflicts (default: fail).")
    ] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Merge message.")] = None,
    meta: MetaOption = None,
    json_out: JsonOption = False,
) -> None:
    """Three-way merge of SOURCE into the DESTINATION branch."""
    src, dst = ref_uri(source), ref_uri(destination)
    repository = same_repository(src, dst)
    try:
        result = configured_lake().merge(
            repository,
            src.require_ref(),
            dst.require_ref(),
            message=message,
            metadata=parse_meta(meta),
            strategy=strategy.value if strategy else None,
        )
    except ConflictError as error:
        text = str(error)
        if error.paths and error.paths[0] not in text:
            text += " (" + ", ".join(error.paths[:5]) + (" ...)" if len(error.paths) > 5 else ")")
        raise CliError(f"{text}; resolve with --strategy source-wins or dest-wins") from error
    if json_out:
        print_json(result.to_dict())
        return
    how = "fast-forward" if result.fast_forward else f"{result.changes} changes"
    say(f"Merged {src.ref} into [bold]{dst.ref}[/bold]: commit {result.commit_id} ({how})")


# ---- maintenance ------------------------------------------------------------------------
@gc_app.command("run")
def gc_run(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO")],
    retention_days: Annotated[
        float, typer.Option(min=0, help="Keep objects deleted less than this many days ago.")
    ] = 7.0,
    json_out: JsonOption = False,
) -> None:
    """Delete stored objects no commit, branch or staging area has needed for N days."""
    report = configured_lake().gc(repo_uri(uri), retention_days=retention_days)
    if json_out:
        print_json(report.to_dict())
        return
    say(
        f"GC of {report.repository}: deleted {report.deleted_objects} objects "
        f"({format_size(report.deleted_bytes)}), kept {report.kept_objects}, "
        f"removed {report.removed_temp_files} temporary files"
    )


@lake_app.command("fsck")
def fsck_cmd(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO")],
    verify_content: Annotated[
        bool, typer.Option(help="Re-hash every stored object (slower).")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Check a repository's commits, trees and objects; exit 1 if anything is wrong."""
    report = configured_lake().fsck(repo_uri(uri), verify_content=verify_content)
    if json_out:
        print_json(report.to_dict())
    else:
        for warning in report.warnings:
            say(f"[yellow]warning:[/yellow] {esc(warning)}")
        for problem in report.errors:
            say(f"[red]problem:[/red] {esc(problem)}")
        say(
            f"fsck {report.repository}: {report.checked_commits} commits, "
            f"{report.checked_nodes} tree nodes, {report.checked_objects} objects checked: "
            + ("[green]OK[/green]" if report.ok else f"[red]{len(report.errors)} problems[/red]")
        )
    if not report.ok:
        raise CliError(f"fsck found {len(report.errors)} problems in {report.repository}")
