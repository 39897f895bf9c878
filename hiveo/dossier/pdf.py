"""Is this file a PDF we accept? Checked by content, never by name or declared type.

`inspect_pdf` is the check itself, in-process. Uploads go through
`inspect_pdf_isolated`, which runs it in a child process (`pdfcheck.py`) under
CPU, memory and wall-clock limits: a hostile file can cost at most that much,
and a child that is killed, crashes or overruns is a refusal.

This module must import nothing from the hiveo package: the child loads it by
path so that it does not pay for importing Flask.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import selectors
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, LimitReachedError, PyPdfError
from pypdf.filters import decode_stream_data
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

try:  # pypdf >= 6: per-context resource limits
    from pypdf import Configuration, apply_configuration
except ImportError:  # pragma: no cover - older pypdf; the child's limits still apply
    Configuration = apply_configuration = None  # type: ignore[misc,assignment]

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
# Active content has no place in a legal certificate: a client opening it
# must not run anything. /EF holds the embedded files of a file specification
# (file attachment annotations, /GoToE targets).
_ACTIVE_KEYS = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/EF", "/RichMedia", "/XFA",
                "/SubmitForm", "/ImportData"}
# Action types (/S) that run code, open other files or send data away.
_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
                   "/Rendition"}
# Items (objects, array elements, dictionary values) the active-content walk may visit.
_MAX_WALK = 200_000
# Decoded bytes: of one stream, and of all the pages' content streams together.
_MAX_STREAM_BYTES = 16 * 1024 * 1024
_MAX_CONTENT_BYTES = 32 * 1024 * 1024
_PYPDF_LIMITS = {
    "zlib_maximum_output_length": _MAX_STREAM_BYTES,
    "lzw_maximum_output_length": _MAX_STREAM_BYTES,
    "run_length_maximum_output_length": _MAX_STREAM_BYTES,
    "brotli_maximum_output_length": _MAX_STREAM_BYTES,
    "array_based_stream_maximum_output_length": _MAX_STREAM_BYTES,
    "stream_decoding_work_maximum_length": 4 * _MAX_STREAM_BYTES,
    # pypdf would retry a damaged Flate stream byte by byte (about 2 µs a byte, for
    # every damaged stream): in strict mode a damaged stream is simply refused.
    "zlib_maximum_recovery_input_length": 0,
    # Never start a decoder program on uploaded bytes.
    "jbig2dec_binary": None,
}

NOT_A_PDF = "Ce fichier n'est pas un PDF : son contenu n'en est pas un, quel que soit son nom."
EMPTY = "Le fichier est vide."
UNREADABLE = "Ce PDF est illisible ou endommagé."
TOO_COMPLEX = "Ce PDF est trop complexe pour être vérifié : il a été refusé."
ENCRYPTED = "Ce PDF est protégé (chiffré) : déposez une version sans mot de passe."
NO_PAGE = "Ce PDF ne contient aucune page."
ACTIVE = ("Ce PDF contient du contenu actif (JavaScript, pièce jointe ou action) : "
          "déposez une version imprimée en PDF simple.")

_CHILD = Path(__file__).with_name("pdfcheck.py")
# The child gets none of the portal's secrets (HIVEO_SECRET_KEY, database URL…).
_CHILD_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LD_LIBRARY_PATH", "SYSTEMROOT")


class PdfRejected(ValueError):
    """The message is meant for the uploader (French)."""


@dataclass(frozen=True)
class PdfInfo:
    pages: int


def _resolve(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def _pypdf_limits():
    if apply_configuration is None:  # pragma: no cover
        return contextlib.nullcontext()
    known = {item.name for item in dataclasses.fields(Configuration)}
    overrides: dict[str, Any] = {k: v for k, v in _PYPDF_LIMITS.items() if k in known}
    return apply_configuration(**overrides)


def _has_active_content(reader: PdfReader) -> bool:
    """Walk the document's object graph (object streams included) for active content."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer["/Root"]]
    visited = 0
    while stack:
        item = stack.pop()
        visited += 1
        if visited > _MAX_WALK:
            raise PdfRejected(TOO_COMPLEX)
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            for name, value in item.items():
                if name in _ACTIVE_KEYS:
                    return True
                if name == "/S" and _resolve(value) in _ACTIVE_ACTIONS:
                    return True
                if name != "/Parent":
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def _check_page_tree(reader: PdfReader) -> int:
    """The number of pages, which must be the number the page tree declares."""
    pages = len(reader.pages)
    root = _resolve(reader.trailer["/Root"])
    declared = _resolve(_resolve(root["/Pages"]).get("/Count"))
    if declared != pages:
        raise PdfRejected(UNREADABLE)
    return pages


def _check_page_contents(reader: PdfReader) -> None:
    """Decode every page's content streams, within a budget for the whole document.

    The decoded bytes are counted and dropped (pypdf would keep them cached on
    the stream): a decompression bomb is stopped at the budget, never inflated.
    """
    budget = _MAX_CONTENT_BYTES
    seen: set[tuple[int, int]] = set()
    for page in reader.pages:
        contents = page.get("/Contents")
        resolved = _resolve(contents)
        if resolved is None:
            continue
        items = resolved if isinstance(resolved, ArrayObject) else [contents]
        for item in items:
            if isinstance(item, IndirectObject):
                key = (item.idnum, item.generation)
                if key in seen:
                    continue
                seen.add(key)
            stream = _resolve(item)
            if not isinstance(stream, StreamObject):
                raise PdfRejected(UNREADABLE)
            # Unfiltered data is already in memory, read as it is in the file.
            budget -= len(decode_stream_data(stream) if "/Filter" in stream
                          else stream.get_data())
            if budget < 0:
                raise PdfRejected(TOO_COMPLEX)


_EXHAUSTION = (LimitReachedError, RecursionError, MemoryError)


def _exhausted(error: BaseException) -> bool:
    """Did a limit cause this error? pypdf wraps a deep recursion in a read error."""
    cause: BaseException | None = error
    for _ in range(5000):
        if cause is None:
            return False
        if isinstance(cause, _EXHAUSTION):
            return True
        cause = cause.__cause__ or cause.__context__
    return True


def _damaged(error: LimitReachedError) -> bool:
    """pypdf's refusal to recover a damaged Flate stream (recovery limit 0) is no bomb."""
    return isinstance(error.__cause__, zlib.error)


def check_head(path: str | Path) -> None:
    """The cheap part of the check: the file starts as a PDF does."""
    with Path(path).open("rb") as handle:
        head = handle.read(1024)
    if not head:
        raise PdfRejected(EMPTY)
    if not head.startswith(PDF_MAGIC):
        raise PdfRejected(NOT_A_PDF)


def inspect_pdf(path: str | Path) -> PdfInfo:
    """Return the PDF's page count, or raise PdfRejected with the reason.

    In-process: bounded by pypdf's limits and ours, but not in memory or time
    as a whole. Uploaded files go through `inspect_pdf_isolated`.
    """
    path = Path(path)
    check_head(path)
    try:
        with _pypdf_limits():
            reader = PdfReader(path, strict=True)
            if reader.is_encrypted:
                raise PdfRejected(ENCRYPTED)
            pages = _check_page_tree(reader)
            active = _has_active_content(reader)
            if not active:
                _check_page_contents(reader)
    except PdfRejected:
        raise
    except DependencyError:
        # Nothing here decodes images: only AES decryption (trying the empty
        # password, without the cryptography package) needs another package.
        raise PdfRejected(ENCRYPTED) from None
    except LimitReachedError as error:
        raise PdfRejected(UNREADABLE if _damaged(error) else TOO_COMPLEX) from None
    except (RecursionError, MemoryError):
        raise PdfRejected(TOO_COMPLEX) from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            ArithmeticError, NotImplementedError, OSError, AssertionError, zlib.error) as error:
        raise PdfRejected(TOO_COMPLEX if _exhausted(error) else UNREADABLE) from None
    if pages == 0:
        raise PdfRejected(NO_PAGE)
    if active:
        raise PdfRejected(ACTIVE)
    return PdfInfo(pages=pages)


def inspect_pdf_isolated(path: str | Path, *, timeout: float, memory_mb: int) -> PdfInfo:
    """`inspect_pdf` in a child process limited to `timeout` seconds and `memory_mb` MiB.

    The child sets its own limits (RLIMIT_AS, RLIMIT_CPU) before parsing and
    prints a JSON verdict; no verdict (killed, crashed, too slow) is a refusal.
    Safe to call from threads: nothing runs in the parent between fork and exec.
    """
    path = Path(path)
    check_head(path)
    command = [
        sys.executable, "-I", str(_CHILD),
        "--memory-mb", str(int(memory_mb)),
        "--cpu-seconds", str(max(1, math.ceil(timeout))),
        str(path.resolve()),
    ]
    environment = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
    try:
        completed = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
            env=environment, check=False,
        )
    except subprocess.TimeoutExpired:
        logger.warning("PDF check of %s stopped after %s s", path.name, timeout)
        raise PdfRejected(TOO_COMPLEX) from None
    verdict = _parse_verdict(completed.stdout)
    if completed.returncode != 0 or verdict is None:
        logger.warning("PDF check of %s ended with status %s: %r", path.name,
                       completed.returncode, completed.stderr[-2000:])
        raise PdfRejected(TOO_COMPLEX)
    if verdict.get("ok") is True and isinstance(verdict.get("pages"), int):
        return PdfInfo(pages=verdict["pages"])
    message = verdict.get("message")
    if verdict.get("ok") is False and isinstance(message, str) and 0 < len(message) < 500:
        raise PdfRejected(message)
    logger.warning("PDF check of %s gave an unexpected verdict: %r", path.name, verdict)
    raise PdfRejected(TOO_COMPLEX)


def _parse_verdict(output: bytes) -> dict | None:
    lines = output.strip().splitlines()
    if not lines:
        return None
    try:
        verdict = json.loads(lines[-1])
    except ValueError:
        return None
    return verdict if isinstance(verdict, dict) else None


class PdfChecker:
    """`inspect_pdf_isolated` for many files in a row: one child process checks them in turn.

    Same child, same limits (the address space for the process, the CPU time
    granted afresh per file, `timeout` of wall-clock per file), without paying
    a process start per file. A child that overruns, crashes or is killed
    refuses that file and is replaced for the next one. Not for sharing
    between threads; close it (or use it as a context manager) when done.
    """

    def __init__(self, *, timeout: float, memory_mb: int) -> None:
        self.timeout = timeout
        self.memory_mb = int(memory_mb)
        self._child: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PdfChecker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        command = [
            sys.executable, "-I", str(_CHILD),
            "--memory-mb", str(self.memory_mb),
            "--cpu-seconds", str(max(1, math.ceil(self.timeout))),
            "--batch",
        ]
        environment = {name: os.environ[name] for name in _CHILD_ENVIRONMENT
                       if name in os.environ}
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=environment)

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(OSError):
            child.kill()
        child.wait()
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        child = self._child
        if child is not None and child.poll() is None and child.stdin is not None:
            with contextlib.suppress(OSError):
                child.stdin.close()  # EOF: the child ends by itself
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)
        self._stop()

    def check(self, path: str | Path, *, timeout: float | None = None) -> PdfInfo:
        """The verdict on one file; `timeout` may shorten (never extend) the wall-clock limit."""
        path = Path(path)
        check_head(path)
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        if self._child is None or self._child.poll() is not None:
            self._stop()
            self._child = self._start()
        child = self._child
        assert child.stdin is not None and child.stdout is not None  # started with pipes
        try:
            child.stdin.write(os.fsencode(str(path.resolve())) + b"\n")
            child.stdin.flush()
            line = self._read_line(child, limit)
        except OSError:
            line = None
        if line is None:
            logger.warning("PDF check of %s gave no verdict within %s s", path.name, limit)
            self._stop()
            raise PdfRejected(TOO_COMPLEX)
        verdict = _parse_verdict(line)
        if verdict is not None and verdict.get("ok") is True and isinstance(
                verdict.get("pages"), int):
            return PdfInfo(pages=verdict["pages"])
        message = verdict.get("message") if verdict is not None else None
        if verdict is not None and verdict.get("ok") is False and isinstance(message, str) \
                and 0 < len(message) < 500:
            raise PdfRejected(message)
        logger.warning("PDF check of %s gave an unexpected verdict: %r", path.name, verdict)
        self._stop()
        raise PdfRejected(TOO_COMPLEX)

    @staticmethod
    def _read_line(child: subprocess.Popen[bytes], limit: float) -> bytes | None:
        """One line from the child within `limit` seconds; None on timeout or EOF."""
        deadline = time.monotonic() + limit
        assert child.stdout is not None
        fd = child.stdout.fileno()
        received = b""
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while not received.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                chunk = os.read(fd, 4096)
                if not chunk:
                    return None
                received += chunk
        return received
