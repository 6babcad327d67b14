"""Recursive upload and download with a progress bar (files and bytes) on stderr."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from versioning.lake import Lake, LakeError, ObjectStat
from versioning.lake.base import Source, iter_source_files
from versioning.lake.validation import validate_path
from voiceops.cli._output import CliError, stderr_console

#: Files per ``upload_many`` call: the backend does its bookkeeping once per batch.
UPLOAD_BATCH = 500


def batched(items: Sequence[_Item], size: int) -> Iterator[Sequence[_Item]]:
    """Consecutive slices of at most ``size`` items (``itertools.batched`` is Python 3.12+)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class TransferSummary:
    objects: int
    bytes: int
    destination: str

    def to_dict(self) -> dict[str, object]:
        return {"objects": self.objects, "bytes": self.bytes, "destination": self.destination}


@dataclass(frozen=True)
class _Item:
    target: str
    file: Path
    size: int


def _progress() -> Progress:
    """Files and bytes on stderr; off when stderr is not a terminal (logs, pipes, tests)."""
    console = stderr_console()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]}/{task.fields[total_files]} files"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        # Off the terminal it stays silent (a disabled rich 13 Progress still ends a line).
        console=console if console.is_terminal else Console(stderr=True, quiet=True),
        transient=False,
        disable=not console.is_terminal,
    )


def plan_upload(root: Path, prefix: str) -> list[_Item]:
    """Every file under ``root`` with its target path; a bad name fails before any change."""
    if not root.exists():
        raise CliError(f"upload source {root}: no such file or directory")
    items = []
    for relative, file in iter_source_files(root):
        target = prefix + relative
        validate_path(target)
        items.append(_Item(target, file, file.stat().st_size))
    return items


def upload_tree(
    lake: Lake,
    repository: str,
    branch: str,
    prefix: str,
    root: Path,
    *,
    batch_size: int | None = None,
) -> TransferSummary:
    """Stage every file under ``root`` at ``prefix`` + its relative path, in batches."""
    batch_size = batch_size or UPLOAD_BATCH
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    items = plan_upload(root, prefix)
    total_bytes = sum(item.size for item in items)
    done_files = done_bytes = 0
    with _progress() as progress:
        task = progress.add_task("upload", total=total_bytes, files=0, total_files=len(items))
        for batch in batched(items, batch_size):
            try:
                lake.upload_many(repository, branch, _feed(batch, progress, task, done_files))
            except (LakeError, OSError) as error:
                raise CliError(
                    f"{error} (upload stopped after {done_files} of {len(items)} files; "
                    f"staged files show in `voiceops lake diff lakefs://{repository}/{branch}`)"
                ) from error
            done_files += len(batch)
            done_bytes += sum(item.size for item in batch)
            progress.update(task, completed=done_bytes, files=done_files)
    return TransferSummary(len(items), total_bytes, f"lakefs://{repository}/{branch}/{prefix}")


def _feed(
    batch: Sequence[_Item], progress: Progress, task: TaskID, files_before: int
) -> Iterator[tuple[str, Source]]:
    """The batch as ``upload_many`` items, advancing the bar as the backend consumes them."""
    for count, item in enumerate(batch, start=files_before + 1):
        yield item.target, item.file
        progress.update(task, advance=item.size, files=count)


def confined(root: Path, relative: str) -> Path:
    """``root / relative``, refused (before anything is written) when the key a server sent
    would land outside ``root`` (``..`` segments, an absolute path, an empty name)."""
    parts = relative.split("/")
    if not relative or relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise CliError(f"refusing to download object key {relative!r}: it escapes {root}")
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise CliError(f"refusing to download object key {relative!r}: it escapes {root}")
    return root / relative


def download_tree(
    lake: Lake, repository: str, ref: str, prefix: str, destination: Path
) -> TransferSummary:
    """Download every object under ``prefix`` into ``destination`` + its relative path."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    objects = [o for o in lake.list_objects(repository, ref, prefix) if isinstance(o, ObjectStat)]
    if not objects:
        raise CliError(f"no objects under lakefs://{repository}/{ref}/{prefix}")
    targets = [confined(destination, obj.path[len(prefix) :]) for obj in objects]
    total_bytes = sum(o.size_bytes for o in objects)
    with _progress() as progress:
        task = progress.add_task("download", total=total_bytes, files=0, total_files=len(objects))
        for count, (obj, target) in enumerate(zip(objects, targets, strict=True), start=1):
            lake.download(repository, ref, obj.path, target)
            progress.update(task, advance=obj.size_bytes, files=count)
    return TransferSummary(len(objects), total_bytes, str(destination))
