"""Content-addressed object files: written once, atomically, streamed in constant memory."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from versioning.lake.base import CHUNK_SIZE, Source
from versioning.lake.errors import InvalidInputError

#: Content at most this large is hashed in memory before anything touches the disk.
SMALL_OBJECT = 1 << 20


@dataclass
class StagedBlob:
    """Bytes hashed and parked in a temp file (or memory), waiting to be published."""

    checksum: str
    size: int
    temp_path: Path | None
    data: bytes | None


class ObjectStore:
    """``objects/<aa>/<bb>/<sha256>`` files under a repository directory."""

    def __init__(self, root: Path, *, fsync: bool = True):
        self.root = root
        self.temp_dir = root / ".tmp"
        self.fsync = fsync
        self._made_dirs: set[Path] = set()

    def _ensure_dir(self, path: Path) -> None:
        """mkdir once per process and directory (a syscall per object adds up)."""
        if path not in self._made_dirs:
            path.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(path)

    def path_of(self, checksum: str) -> Path:
        return self.root / checksum[:2] / checksum[2:4] / checksum

    def has(self, checksum: str) -> bool:
        return self.path_of(checksum).is_file()

    def stage(self, source: Source, name_for_errors: str = "", *, sync: bool = True) -> StagedBlob:
        """Hash ``source`` while copying it to a temp file; small content stays in memory.

        ``sync=False`` leaves durability to a later :meth:`sync_all` (batched uploads).
        """
        with _open_source(source) as stream:
            digest = hashlib.sha256()
            head = stream.read(SMALL_OBJECT + 1)
            if not isinstance(head, bytes | bytearray):
                raise InvalidInputError(f"upload source {name_for_errors}: not a binary stream")
            if len(head) <= SMALL_OBJECT:
                digest.update(head)
                return StagedBlob(digest.hexdigest(), len(head), None, bytes(head))
            self._ensure_dir(self.temp_dir)
            temp = self.temp_dir / f"{uuid.uuid4().hex}.part"
            size = 0
            try:
                with open(temp, "wb") as out:
                    chunk = head
                    while chunk:
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                        chunk = stream.read(CHUNK_SIZE)
                    if self.fsync and sync:
                        out.flush()
                        os.fsync(out.fileno())
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            return StagedBlob(digest.hexdigest(), size, temp, None)

    def publish(self, blob: StagedBlob, *, sync: bool = True) -> bool:
        """Move a staged blob to its content address; False if it was already stored."""
        final = self.path_of(blob.checksum)
        if final.is_file():
            self.discard(blob)
            return False
        self._ensure_dir(final.parent)
        if blob.temp_path is None:
            self._ensure_dir(self.temp_dir)
            temp = self.temp_dir / f"{uuid.uuid4().hex}.part"
            with open(temp, "wb") as out:
                out.write(blob.data or b"")
                if self.fsync and sync:
                    out.flush()
                    os.fsync(out.fileno())
            blob.temp_path = temp
        os.replace(blob.temp_path, final)
        if self.fsync and sync:
            _fsync_dir(final.parent)
        blob.temp_path = None
        return True

    def sync_all(self) -> None:
        """Make every file written with ``sync=False`` durable: one syncfs, not one per file."""
        if not self.fsync or not self.root.exists():
            return
        fd = os.open(self.root, os.O_RDONLY)
        try:
            syncfs = getattr(_libc(), "syncfs", None)
            if syncfs is None or syncfs(fd) != 0:
                os.sync()
        finally:
            os.close(fd)

    def discard(self, blob: StagedBlob) -> None:
        if blob.temp_path is not None:
            blob.temp_path.unlink(missing_ok=True)
            blob.temp_path = None

    def open(self, checksum: str) -> BinaryIO:
        return open(self.path_of(checksum), "rb")

    def delete(self, checksum: str) -> bool:
        try:
            self.path_of(checksum).unlink()
        except FileNotFoundError:
            return False
        return True

    def iter_files(self):
        """(checksum, path) of every stored object file."""
        if not self.root.exists():
            return
        for first in sorted(self.root.iterdir()):
            if first.name.startswith(".") or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                for file in sorted(second.iterdir()):
                    yield file.name, file

    def iter_temp_files(self):
        if self.temp_dir.exists():
            yield from sorted(self.temp_dir.iterdir())


@cache
def _libc() -> Any:
    """The C library (for ``syncfs``), loaded on the first batched sync, not at import."""
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _open_source:
    """Context manager giving a binary stream for a path, bytes or an open stream."""

    def __init__(self, source: Source):
        self.source = source
        self._owned: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        import io

        if isinstance(self.source, bytes | bytearray | memoryview):
            return io.BytesIO(bytes(self.source))
        if isinstance(self.source, str | os.PathLike):
            path = Path(self.source)
            if not path.is_file():
                raise InvalidInputError(f"upload source {path}: no such file")
            self._owned = open(path, "rb")
            return self._owned
        if hasattr(self.source, "read"):
            return self.source  # type: ignore[return-value]
        raise InvalidInputError(
            f"upload source of type {type(self.source).__name__}: expected a path, bytes "
            "or a binary stream"
        )

    def __exit__(self, *exc: object) -> None:
        if self._owned is not None:
            self._owned.close()
