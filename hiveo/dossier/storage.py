"""Files stored by the SHA-256 of their content.

Identical bytes are stored once. A file is written to a temporary name in the
same directory tree, flushed to disk, then renamed into place, so a reader
never sees half a file and a crash leaves at most a temporary file behind.
Nothing here deletes a file that a document references: only
`flask storage check --fix` removes unreferenced files, after a grace period.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

CHUNK = 256 * 1024


def _load_syncfs():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


_syncfs = _load_syncfs()


class TooLarge(ValueError):
    """The stream holds more bytes than allowed."""


class ChecksumMismatch(ValueError):
    """The bytes received are not the ones announced; nothing was stored."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int


@dataclass(frozen=True)
class Spooled:
    """Bytes received and hashed, waiting under `<root>/tmp` to be adopted or discarded."""

    path: Path
    sha256: str
    size: int

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class Storage(Protocol):
    def save(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredFile: ...
    def save_chunks(
        self,
        chunks: Iterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_sha256: str | None = None,
        durable: bool = True,
    ) -> StoredFile: ...
    def spool(
        self,
        chunks: Iterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_sha256: str | None = None,
        durable: bool = True,
    ) -> Spooled: ...
    def adopt(self, spooled: Spooled) -> StoredFile: ...
    def sync(self) -> None: ...
    def touch(self, sha256: str) -> None: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def exists(self, sha256: str) -> bool: ...
    def path(self, sha256: str) -> Path: ...
    def digests(self) -> Iterator[str]: ...
    def delete(self, sha256: str) -> None: ...


def _is_digest(value: str) -> bool:
    return len(value) == 64 and all(ch in "0123456789abcdef" for ch in value)


class LocalStorage:
    """A directory: `<root>/ab/abcd…` for the file whose SHA-256 is abcd…

    One level of 256 directories: a million documents make 4,000 entries per
    directory, and storing a file rarely needs a new directory.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._tmp_ready = False

    def path(self, sha256: str) -> Path:
        if not _is_digest(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def save(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredFile:
        return self.save_chunks(iter(lambda: stream.read(CHUNK), b""), max_bytes=max_bytes)

    def save_chunks(
        self,
        chunks: Iterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_sha256: str | None = None,
        durable: bool = True,
    ) -> StoredFile:
        """Stream chunks to disk while hashing them; never holds the whole file.

        With `expected_sha256`, bytes that hash differently are discarded and
        ChecksumMismatch is raised: a failed transfer leaves nothing behind.
        With `durable=False` the caller promises to call `sync()` before anything
        refers to the file (a sync run stores hundreds, then syncs once).
        """
        spooled = self.spool(chunks, max_bytes=max_bytes, expected_sha256=expected_sha256,
                             durable=durable)
        try:
            return self.adopt(spooled)
        finally:
            spooled.discard()

    def spool(
        self,
        chunks: Iterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_sha256: str | None = None,
        durable: bool = True,
    ) -> Spooled:
        """Write chunks to a private file under `<root>/tmp`, hashing and counting them.

        The file is not in the store yet: `adopt()` moves it in (after a check,
        say) and `Spooled.discard()` removes it. Too many bytes or the wrong
        digest leave nothing behind.
        """
        if not self._tmp_ready:
            self._tmp.mkdir(parents=True, exist_ok=True)
            self._tmp_ready = True
        digest = hashlib.sha256()
        size = 0
        tmp_name = str(self._tmp / f"incoming-{uuid.uuid4().hex}")
        fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(f"more than {max_bytes} bytes")
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                if durable:
                    os.fsync(handle.fileno())
            sha256 = digest.hexdigest()
            if expected_sha256 is not None and sha256 != expected_sha256:
                raise ChecksumMismatch(f"expected {expected_sha256}, received {sha256}")
            return Spooled(Path(tmp_name), sha256, size)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def adopt(self, spooled: Spooled) -> StoredFile:
        """Move a spooled file into the store under its digest (a copy already there wins)."""
        target = self.path(spooled.sha256)
        if target.is_file():
            spooled.discard()
        else:
            try:
                os.replace(spooled.path, target)
            except FileNotFoundError:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(spooled.path, target)
        return StoredFile(spooled.sha256, spooled.size)

    def touch(self, sha256: str) -> None:
        """Mark a stored file as just used: `storage check --fix` spares young files."""
        os.utime(self.path(sha256))

    def sync(self) -> None:
        """Make every file stored so far durable: one syncfs() of the storage's filesystem."""
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _syncfs is None or _syncfs(fd) != 0:
                os.sync()
        finally:
            os.close(fd)

    def digests(self) -> Iterator[str]:
        for path in self.root.glob("??/*"):
            if path.is_file() and _is_digest(path.name):
                yield path.name

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)


def storage() -> LocalStorage:
    """The storage configured for the current app (HIVEO_STORAGE_DIR)."""
    return LocalStorage(current_app.config["STORAGE_DIR"])
