"""The HTTP policy every connector shares, so that every provider behaves the same
when the network misbehaves:

- one `requests.Session` per connector, so a sync run reuses its connections;
- a (connect, read) timeout on every call, redirects never followed;
- a total deadline per call (HIVEO_PROVIDER_DEADLINE), and optionally per run:
  a body trickling one byte at a time stops there, not when it ends;
- retries only for GETs, only on connection failures and 429/503, with
  Retry-After honoured up to a bound, and timeouts never retried;
- every body streamed and stopped at its size limit (HIVEO_PROVIDER_MAX_JSON_MB,
  HIVEO_PROVIDER_MAX_FILE_MB and the size the listing announced);
- files streamed to storage, checked to start like a PDF and against the
  announced size and SHA-256 before anything is kept.

Failures are `ProviderError`s with a code; nothing here is worded for people.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from hiveo.dossier.storage import ChecksumMismatch, StoredFile, TooLarge

from .reading import MalformedData, json_object
from .records import ErrorCode, ProviderError, RemoteDocument

MEGABYTE = 1024 * 1024
# Defaults of the settings below (config.py reads the environment).
DEFAULT_DEADLINE = 60.0
DEFAULT_MAX_JSON_MB = 20.0
DEFAULT_MAX_FILE_MB = 50.0
# Slightly above a multiple of 3 s, the TCP SYN retransmission step: the kernel
# gets to resend a lost SYN once before we give up on connecting.
CONNECT_TIMEOUT_CAP = 3.05
RETRIES = 3
# Waits between tries without Retry-After: 0 s, then 1 s, then 2 s (each capped
# by PROVIDER_RETRY_AFTER_MAX, so tests and impatient operators can shrink them).
BACKOFF_FACTOR = 0.5
DOWNLOAD_CHUNK = 64 * 1024
PDF_MAGIC = b"%PDF-"


def _user_agent() -> str:
    try:
        version = metadata.version("hiveo")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"hiveo/{version} (supplier-compliance portal; provider connector)"


USER_AGENT = _user_agent()


# -- settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class HttpSettings:
    base_url: str
    timeout: float
    retry_after_max: float
    page_size: int
    deadline: float = DEFAULT_DEADLINE
    max_json_bytes: int = int(DEFAULT_MAX_JSON_MB * MEGABYTE)
    max_file_bytes: int = int(DEFAULT_MAX_FILE_MB * MEGABYTE)


def _number(config: Mapping[str, Any], key: str, default: float) -> float:
    raw = config.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, not {raw!r}") from None


def _positive(config: Mapping[str, Any], key: str, default: float) -> float:
    value = _number(config, key, default)
    if value <= 0:
        raise ValueError(f"{key} must be positive")
    return value


def http_settings(
    config: Mapping[str, Any], url_key: str, *, default_page_size: int, max_page_size: int
) -> HttpSettings | None:
    """The connector's settings from the app config; None when its URL is empty (provider off)."""
    base_url = str(config.get(url_key) or "").strip().rstrip("/")
    if not base_url:
        return None
    timeout = _positive(config, "PROVIDER_TIMEOUT", 10.0)
    retry_after_max = _number(config, "PROVIDER_RETRY_AFTER_MAX", 5.0)
    if retry_after_max < 0:
        raise ValueError("PROVIDER_RETRY_AFTER_MAX must not be negative")
    raw_size = config.get("PROVIDER_PAGE_SIZE")
    page_size = default_page_size if raw_size is None or raw_size == "" else int(raw_size)
    if page_size < 1:
        raise ValueError("PROVIDER_PAGE_SIZE must be at least 1")
    return HttpSettings(
        base_url,
        timeout,
        retry_after_max,
        # The contract caps the page size; asking for more would only be ignored.
        min(page_size, max_page_size),
        deadline=_positive(config, "PROVIDER_DEADLINE", DEFAULT_DEADLINE),
        max_json_bytes=int(_positive(config, "PROVIDER_MAX_JSON_MB", DEFAULT_MAX_JSON_MB)
                           * MEGABYTE),
        max_file_bytes=int(_positive(config, "PROVIDER_MAX_FILE_MB", DEFAULT_MAX_FILE_MB)
                           * MEGABYTE),
    )


# -- retries -------------------------------------------------------------------------


class BoundedRetry(Retry):
    """urllib3's Retry, made to give up in bounded time.

    - Retry-After is honoured but never waited for longer than `retry_after_bound`.
    - A read timeout is never retried: a provider that did not answer within the
      timeout rarely answers the second time, and retrying would double the
      cost of a dead provider for every call of a sync run.
    - A connect timeout is not retried either: the kernel already resent the
      SYN within the connect timeout. Refused or reset connections (fast
      failures, e.g. a provider restarting) are retried.
    """

    # 413 is in urllib3's list; a too-large request does not heal by waiting.
    RETRY_AFTER_STATUS_CODES: ClassVar[frozenset[int]] = frozenset(  # type: ignore[misc]
        {429, 503})

    def __init__(self, *args: Any, retry_after_bound: float = 5.0,
                 deadline_at: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_bound = retry_after_bound
        # No retry starts, and no wait before one, past this time.monotonic() instant.
        self.deadline_at = deadline_at

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("retry_after_bound", self.retry_after_bound)
        kw.setdefault("deadline_at", self.deadline_at)
        return super().new(**kw)

    def sleep(self, response: Any = None) -> None:
        if self.deadline_at is not None:
            wait = self.get_retry_after(response) if response is not None else None
            if wait is None:
                wait = self.get_backoff_time()
            if time.monotonic() + wait >= self.deadline_at:
                raise DeadlineReached
        super().sleep(response)

    def parse_retry_after(self, retry_after: str) -> float:
        try:
            seconds = super().parse_retry_after(retry_after)
        except InvalidHeader:
            # An unreadable Retry-After falls back to the exponential backoff.
            return 0.0
        return min(seconds, self.retry_after_bound)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> BoundedRetry:
        if self.deadline_at is not None and time.monotonic() >= self.deadline_at:
            raise DeadlineReached
        if isinstance(error, ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        if isinstance(error, ConnectTimeoutError) and not isinstance(error, NewConnectionError):
            raise MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


class DeadlineReached(Exception):
    """Retrying would go past the call's deadline."""


def retry_policy(retry_after_max: float, deadline_at: float | None = None) -> BoundedRetry:
    """At most RETRIES more tries of a GET, on connection failures, 429 and 503 only,
    and none past `deadline_at`."""
    return BoundedRetry(
        total=RETRIES,
        connect=None,
        read=None,
        other=0,
        redirect=False,
        status=None,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=frozenset({429, 503}),
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=retry_after_max,
        respect_retry_after_header=True,
        # The last 429/503 comes back as a response, which we turn into "throttled".
        raise_on_status=False,
        retry_after_bound=retry_after_max,
        deadline_at=deadline_at,
    )


# -- HTTP ----------------------------------------------------------------------------


class _NotPdf(Exception):
    pass


def _pdf_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks, after checking that the body starts like a PDF: nothing counts before."""
    iterator = iter(chunks)
    head = b""
    for chunk in iterator:
        head += chunk
        if len(head) >= len(PDF_MAGIC):
            break
    if not head.startswith(PDF_MAGIC):
        raise _NotPdf(repr(head[:16]))
    yield head
    yield from iterator


def _caused_by_read_timeout(exc: BaseException) -> bool:
    # requests reports a read timeout while streaming a body as a ConnectionError.
    for arg in exc.args:
        if isinstance(arg, ReadTimeoutError):
            return True
        if isinstance(arg, MaxRetryError) and isinstance(arg.reason, ReadTimeoutError):
            return True
    return False


class _BodyTooLarge(Exception):
    pass


# (time.monotonic() instant, the call's bound in seconds or None for the run's)
Deadline = tuple[float, float | None]


class HttpConnector:
    """The HTTP side of a connector; a provider module adds its contract's paths and fields.

    Subclasses set `provider`, `display_name`, implement `_authorize`,
    `_file_path`, `discover` and `list_documents`.
    """

    provider: str
    display_name: str

    def __init__(self, settings: HttpSettings, *, session: requests.Session | None = None):
        self.base_url = settings.base_url.rstrip("/")
        self.timeout = (min(CONNECT_TIMEOUT_CAP, settings.timeout), settings.timeout)
        self.page_size = settings.page_size
        self.retry_after_max = settings.retry_after_max
        self.deadline = settings.deadline
        self.max_json_bytes = settings.max_json_bytes
        self.max_file_bytes = settings.max_file_bytes
        # A monotonic instant after which no call starts nor goes on (a whole run's bound).
        self.run_deadline: float | None = None
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self._adapter = HTTPAdapter(max_retries=retry_policy(settings.retry_after_max))
        # Mounted on our base URL only, so a session lent by the caller keeps its
        # own behaviour everywhere else.
        self.session.mount(self.base_url + "/", self._adapter)

    # -- lifecycle

    def set_run_deadline(self, at: float | None) -> None:
        """Bound every later call by `at` (time.monotonic()) as well as by its own deadline."""
        self.run_deadline = at

    def close(self) -> None:
        if self._owns_session:
            self.session.close()
        else:
            self._adapter.close()

    def __enter__(self) -> HttpConnector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    # -- for subclasses

    def _authorize(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        raise NotImplementedError

    def _file_path(self, external_id: str) -> str:
        raise NotImplementedError

    def error(
        self,
        code: ErrorCode | str,
        *,
        status: int | None = None,
        detail: str | None = None,
        limit: float | None = None,
    ) -> ProviderError:
        return ProviderError(self.provider, code, status=status, detail=detail, limit=limit)

    # -- deadlines

    def _call_deadline(self, path: str) -> Deadline:
        """When a call starting now must be over, and the call's bound in seconds.

        The bound is None when the run's deadline comes first: the error is then
        about the run, which the caller knows the bound of.
        """
        now = time.monotonic()
        at: float = now + self.deadline
        bound: float | None = self.deadline
        if self.run_deadline is not None and self.run_deadline < at:
            at, bound = self.run_deadline, None
        if at <= now:
            raise self.error(ErrorCode.DEADLINE, detail=f"GET {path}: no time left", limit=bound)
        return at, bound

    def _timeouts(self, at: float) -> tuple[float, float]:
        remaining = max(0.01, at - time.monotonic())
        return (min(self.timeout[0], remaining), min(self.timeout[1], remaining))

    def _send(
        self,
        path: str,
        deadline: Deadline,
        *,
        params: Mapping[str, Any] | None = None,
        accept: str = "application/json",
        subscription_statuses: frozenset[int] = frozenset(),
    ) -> requests.Response:
        """One GET, body not read yet: a 200 response, or a ProviderError."""
        # Calls of one connector are sequential: the policy can carry this call's deadline.
        self._adapter.max_retries = retry_policy(self.retry_after_max, deadline[0])
        try:
            response = self.session.get(
                self.base_url + path,
                params=params,
                headers={"Accept": accept, "User-Agent": USER_AGENT},
                # An auth callable (rather than a header) also stops requests from
                # swapping in ~/.netrc credentials.
                auth=self._authorize,
                timeout=self._timeouts(deadline[0]),
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise self._transport_error(exc, path, deadline) from exc
        except DeadlineReached as exc:
            raise self.error(ErrorCode.DEADLINE, detail=f"GET {path}: no time left to retry",
                             limit=deadline[1]) from exc
        status = response.status_code
        if status == 200:
            return response
        location = response.headers.get("Location")
        response.close()
        detail = f"GET {path}: HTTP {status}"
        if 300 <= status < 400:
            raise self.error(ErrorCode.REDIRECT, status=status, detail=f"{detail} to {location}")
        if status == 401:
            raise self.error(ErrorCode.UNAUTHORIZED, status=status, detail=detail)
        if status in subscription_statuses:
            raise self.error(ErrorCode.SUBSCRIPTION, status=status, detail=detail)
        if status in (429, 503):
            raise self.error(ErrorCode.THROTTLED, status=status, detail=f"{detail} after retries")
        raise self.error(ErrorCode.HTTP, status=status, detail=detail)

    def _transport_error(
        self, exc: BaseException, path: str, deadline: Deadline
    ) -> ProviderError:
        detail = f"GET {path}: {type(exc).__name__}: {exc}"
        timed_out = isinstance(exc, (requests.Timeout, ReadTimeoutError)) or (
            _caused_by_read_timeout(exc)
        )
        if timed_out and time.monotonic() >= deadline[0] - 0.01:
            # The timeout was shortened to what was left of the deadline.
            return self.error(ErrorCode.DEADLINE, detail=detail, limit=deadline[1])
        if timed_out:
            return self.error(ErrorCode.TIMEOUT, detail=detail)
        if isinstance(exc, (requests.exceptions.ContentDecodingError, DecodeError)):
            return self.error(ErrorCode.MALFORMED, detail=detail)
        # Refused, reset, DNS failures, a connection cut mid-body, a bad URL.
        return self.error(ErrorCode.UNREACHABLE, detail=detail)

    def _body(
        self, response: requests.Response, path: str, deadline: Deadline, limit: int
    ) -> Iterator[bytes]:
        """The body's bytes as they arrive, stopped at `limit` bytes and at the deadline.

        `read1` returns what one read of the socket gave: a body trickling a
        byte at a time is checked against the deadline after every byte, where
        a plain read would wait for a whole chunk.
        """
        received = 0
        raw = response.raw
        while True:
            if time.monotonic() >= deadline[0]:
                raise self.error(
                    ErrorCode.DEADLINE,
                    detail=f"GET {path}: {received} bytes received by the deadline",
                    limit=deadline[1],
                )
            try:
                chunk = raw.read1(DOWNLOAD_CHUNK, decode_content=True)
            except (HTTPError, OSError) as exc:
                raise self._transport_error(exc, path, deadline) from exc
            if not chunk:
                return
            received += len(chunk)
            if received > limit:
                raise _BodyTooLarge(f"GET {path}: more than {limit} bytes")
            yield chunk

    def _get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        subscription_statuses: frozenset[int] = frozenset(),
    ) -> Mapping[str, Any]:
        """The JSON object at `path`; a 404 is an error like any other."""
        body = self._find_json(path, params=params, subscription_statuses=subscription_statuses)
        if body is None:  # pragma: no cover - only _find_json(missing_ok=True) gives None
            raise self.error(ErrorCode.HTTP, status=404, detail=f"GET {path}")
        return body

    def _find_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        subscription_statuses: frozenset[int] = frozenset(),
        missing_ok: bool = False,
    ) -> Mapping[str, Any] | None:
        """The JSON object at `path`, or None for a 404 when `missing_ok`."""
        deadline = self._call_deadline(path)
        try:
            response = self._send(path, deadline, params=params,
                                  subscription_statuses=subscription_statuses)
        except ProviderError as exc:
            if missing_ok and exc.code is ErrorCode.HTTP and exc.status == 404:
                return None
            raise
        limit = self.max_json_bytes
        with response:
            length = response.headers.get("Content-Length", "")
            if length.isdecimal() and int(length) > limit and not response.headers.get(
                "Content-Encoding"
            ):
                raise self.error(ErrorCode.JSON_TOO_LARGE, limit=limit,
                                 detail=f"GET {path}: Content-Length {length} > {limit}")
            try:
                body = b"".join(self._body(response, path, deadline, limit))
            except _BodyTooLarge as exc:
                raise self.error(ErrorCode.JSON_TOO_LARGE, limit=limit, detail=str(exc)) from exc
        try:
            return json_object(body, f"GET {path}")
        except MalformedData as exc:
            raise self.error(ErrorCode.MALFORMED, detail=str(exc)) from exc

    def _malformed(self, exc: MalformedData, path: str) -> ProviderError:
        return self.error(ErrorCode.MALFORMED, detail=f"GET {path}: {exc}")

    # -- files

    def fetch_file(self, document: RemoteDocument, store: Callable[..., StoredFile]) -> StoredFile:
        """Stream the document's bytes into `store` (e.g. `LocalStorage.save_chunks`).

        The store sees the bytes only once they start like a PDF, at most the
        announced size, and must check the announced SHA-256: whatever fails
        leaves nothing stored.
        """
        if document.provider != self.provider:
            raise ValueError(f"{document.provider} document given to the {self.provider} connector")
        if document.size > self.max_file_bytes:
            raise self.error(
                ErrorCode.TOO_LARGE,
                limit=self.max_file_bytes,
                detail=f"{document.external_id}: announced {document.size} bytes",
            )
        limit = document.size
        path = self._file_path(quote(document.external_id, safe=""))
        deadline = self._call_deadline(path)
        response = self._send(path, deadline, accept="application/pdf")
        with response:
            length = response.headers.get("Content-Length", "")
            if (
                length.isdecimal()
                and int(length) > limit
                and not response.headers.get("Content-Encoding")
            ):
                raise self.error(
                    ErrorCode.TOO_LARGE, limit=limit,
                    detail=f"GET {path}: Content-Length {length} > {limit}",
                )
            chunks = _pdf_chunks(self._body(response, path, deadline, limit))
            try:
                return store(chunks, max_bytes=limit, expected_sha256=document.sha256)
            except _NotPdf as exc:
                raise self.error(ErrorCode.NOT_PDF,
                                 detail=f"GET {path}: starts with {exc}") from exc
            except ChecksumMismatch as exc:
                raise self.error(ErrorCode.CHECKSUM, detail=f"GET {path}: {exc}") from exc
            except (TooLarge, _BodyTooLarge) as exc:
                raise self.error(ErrorCode.TOO_LARGE, limit=limit,
                                 detail=f"GET {path}: {exc}") from exc
