"""``voiceops lake fs``: upload, download, read, list and delete objects."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from versioning.lake import CommonPrefix, Lake, NotFoundError, ObjectStat, parse_uri
from versioning.lake.base import CHUNK_SIZE
from versioning.lake.validation import validate_path
from voiceops.cli._lakeargs import configured_lake, object_uri, ref_and_prefix_uri
from voiceops.cli._output import (
    CliError,
    JsonOption,
    esc,
    format_meta,
    format_size,
    format_time,
    print_json,
    say,
    stdout_console,
)
from voiceops.cli._transfer import TransferSummary, download_tree, upload_tree

fs_app = typer.Typer(help="Objects: upload, download, cat, ls, stat, rm.", no_args_is_help=True)

RecursiveOption = Annotated[
    bool, typer.Option("--recursive", "-r", help="Treat the path as a prefix (a directory).")
]


@fs_app.command("upload")
def fs_upload(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/BRANCH/PATH (a prefix with -r)")],
    source: Annotated[Path, typer.Option("--source", "-s", help="Local file or directory.")],
    recursive: RecursiveOption = False,
    content_type: Annotated[
        str | None, typer.Option(help="Content type of a single uploaded object.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Stage a file (or, with -r, a directory tree) on a branch."""
    target = parse_uri(uri, allow_prefix=True)
    branch = target.require_ref()
    if not source.exists():
        raise CliError(f"upload source {source}: no such file or directory")
    lake = configured_lake()
    if recursive:
        summary = upload_tree(lake, target.repository, branch, target.path or "", source)
        if json_out:
            print_json(summary.to_dict())
        else:
            say(
                f"Uploaded {summary.objects} files ({format_size(summary.bytes)}) "
                f"to {esc(summary.destination)}"
            )
        return
    if source.is_dir():
        raise CliError(f"upload source {source} is a directory; use --recursive")
    path = target.path or ""
    if path == "" or path.endswith("/"):
        path += source.name
    validate_path(path)
    stat = lake.upload(target.repository, branch, path, source, content_type=content_type)
    if json_out:
        print_json(stat.to_dict())
    else:
        say(
            f"Uploaded {esc(source)} to {esc(f'lakefs://{target.repository}/{branch}/{path}')} "
            f"({format_size(stat.size_bytes)})"
        )


@fs_app.command("download")
def fs_download(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/REF/PATH (a prefix with -r)")],
    destination: Annotated[str, typer.Argument(help="Local file or directory.")],
    recursive: RecursiveOption = False,
    json_out: JsonOption = False,
) -> None:
    """Download an object (or, with -r, every object under a prefix)."""
    lake = configured_lake()
    if recursive:
        source = ref_and_prefix_uri(uri)
        summary = download_tree(
            lake, source.repository, source.require_ref(), source.path or "", Path(destination)
        )
    else:
        source = object_uri(uri)
        path, ref = source.require_path(), source.require_ref()
        target = Path(destination)
        if target.is_dir() or destination.endswith(("/", os.sep)):
            target = target / path.rsplit("/", 1)[-1]
        stat = lake.stat(source.repository, ref, path)
        lake.download(source.repository, ref, path, target)
        summary = TransferSummary(1, stat.size_bytes, str(target))
    if json_out:
        print_json(summary.to_dict())
    else:
        say(
            f"Downloaded {summary.objects} file(s) ({format_size(summary.bytes)}) "
            f"to {esc(summary.destination)}"
        )


@fs_app.command("cat")
def fs_cat(uri: Annotated[str, typer.Argument(help="lakefs://REPO/REF/PATH")]) -> None:
    """Write an object's bytes to stdout."""
    source = object_uri(uri)
    out = typer.get_binary_stream("stdout")
    with configured_lake().open(
        source.repository, source.require_ref(), source.require_path()
    ) as f:
        while chunk := f.read(CHUNK_SIZE):
            out.write(chunk)
    out.flush()


def _listing(lake: Lake, repository: str, ref: str, path: str, recursive: bool) -> list:
    """Entries under ``path``: a path naming an object lists it, anything else is a prefix."""
    if path and not path.endswith("/"):
        try:
            return [lake.stat(repository, ref, path)]
        except NotFoundError:
            path += "/"
    return list(lake.list_objects(repository, ref, path, delimiter=None if recursive else "/"))


@fs_app.command("ls")
def fs_ls(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/REF[/PREFIX]")],
    recursive: RecursiveOption = False,
    json_out: JsonOption = False,
) -> None:
    """List objects and (without -r) the "directories" under a prefix."""
    source = ref_and_prefix_uri(uri)
    lake = configured_lake()
    entries = _listing(lake, source.repository, source.require_ref(), source.path or "", recursive)
    if json_out:
        print_json([entry.to_dict() for entry in entries])
        return
    table = Table(title=esc(source), title_justify="left")
    table.add_column("Type")
    table.add_column("Modified")
    table.add_column("Size", justify="right")
    table.add_column("Path", overflow="fold")
    for entry in entries:
        if isinstance(entry, CommonPrefix):
            table.add_row("[blue]dir[/blue]", "", "", f"[blue]{esc(entry.path)}[/blue]")
        else:
            table.add_row(
                "object", format_time(entry.mtime), format_size(entry.size_bytes), esc(entry.path)
            )
    stdout_console().print(table)
    objects = sum(isinstance(e, ObjectStat) for e in entries)
    say(f"{objects} objects, {len(entries) - objects} directories")


@fs_app.command("stat")
def fs_stat(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/REF/PATH")], json_out: JsonOption = False
) -> None:
    """Show an object's size, checksum, content type and metadata."""
    source = object_uri(uri)
    stat = configured_lake().stat(source.repository, source.require_ref(), source.require_path())
    if json_out:
        print_json(stat.to_dict())
        return
    table = Table(show_header=False, title=esc(source), title_justify="left")
    table.add_column("Field", style="bold")
    table.add_column("Value", overflow="fold")
    table.add_row("Path", esc(stat.path))
    table.add_row("Size", f"{format_size(stat.size_bytes)} ({stat.size_bytes} bytes)")
    table.add_row("Modified", format_time(stat.mtime))
    table.add_row("Checksum", stat.checksum)
    table.add_row("Content type", esc(stat.content_type))
    table.add_row("Metadata", format_meta(stat.metadata))
    stdout_console().print(table)


@fs_app.command("rm")
def fs_rm(
    uri: Annotated[str, typer.Argument(help="lakefs://REPO/BRANCH/PATH (a prefix with -r)")],
    recursive: RecursiveOption = False,
) -> None:
    """Stage the deletion of an object (or, with -r, of every object under a prefix)."""
    lake = configured_lake()
    if not recursive:
        target = object_uri(uri)
        lake.delete_object(target.repository, target.require_ref(), target.require_path())
        say(f"Deleted {esc(target)}")
        return
    target = ref_and_prefix_uri(uri)
    prefix = target.path or ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    validate_path(prefix, allow_prefix=True)
    branch = target.require_ref()
    paths = [o.path for o in lake.list_objects(target.repository, branch, prefix)]
    if not paths:
        raise CliError(f"no objects under lakefs://{target.repository}/{branch}/{prefix}")
    for path in paths:
        lake.delete_object(target.repository, branch, path)
    where = f"lakefs://{target.repository}/{branch}/{prefix}"
    say(f"Deleted {len(paths)} objects under {esc(where)}")
