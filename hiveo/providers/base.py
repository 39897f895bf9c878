"""What every provider connector shares: the interface, its data, its errors, its HTTP.

A provider module only adapts its contract (paths, field names, codes) to the
types below. Everything about talking to a remote platform safely lives here,
so that every provider behaves the same when the network misbehaves:

- one `requests.Session` per connector, so a sync run reuses its connections;
- a (connect, read) timeout on every call, redirects never followed;
- retries only for GETs, only on connection failures and 429/503, with
  Retry-After honoured up to a bound, and timeouts never retried;
- strict reading of the JSON, so that an answer outside the contract becomes a
  `ProviderError("malformed")` instead of a KeyError deep in the sync engine;
- files streamed to storage, checked to be PDFs and against the announced size
  and SHA-256 before anything is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata
from typing import Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from hiveo.dossier.storage import ChecksumMismatch, StoredFile, TooLarge

# A provider file larger than this is refused whatever the listing announces.
MAX_FILE_BYTES = 50 * 1024 * 1024
# Slightly above a multiple of 3 s, the TCP SYN retransmission step: the kernel
# gets to resend a lost SYN once before we give up on connecting.
CONNECT_TIMEOUT_CAP = 3.05
RETRIES = 3
# Waits between tries without Retry-After: 0 s, then 1 s, then 2 s (each capped
# by PROVIDER_RETRY_AFTER_MAX, so tests and impatient operators can shrink them).
BACKOFF_FACTOR = 0.5
DOWNLOAD_CHUNK = 64 * 1024
PDF_MAGIC = b"%PDF-"

STATES = ("valid", "awaiting", "refused", "expired")
KINDS = frozenset(
    {
        "unreachable",
        "timeout",
        "subscription",
        "unauthorized",
        "throttled",
        "redirect",
        "malformed",
        "checksum",
        "not_pdf",
        "http",
        "too_large",
    }
)

SIREN_PATTERN = re.compile(r"^[0-9]{9}$")
SIRET_PATTERN = re.compile(r"^[0-9]{14}$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
_DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _user_agent() -> str:
    try:
        version = metadata.version("hiveo")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"hiveo/{version} (supplier-compliance portal; provider connector)"


USER_AGENT = _user_agent()


# -- errors ----------------------------------------------------------------------


def _from(name: str) -> str:
    """French elision: "d'Actradis", "de Provigis"."""
    return f"d'{name}" if name[:1].lower() in "aeiouyàâäéèêëîïôöùûüœ" else f"de {name}"


def error_message(display_name: str, kind: str, status: int | None = None) -> str:
    """The sentence a supplier admin reads for an error of `kind` from a provider."""
    name, source = display_name, _from(display_name)
    if kind in ("unreachable", "timeout"):
        return f"{name} ne répond pas"
    if kind == "subscription":
        return f"Abonnement {name} inactif"
    if kind == "unauthorized":
        return f"{name} refuse l'accès du portail (identifiants de l'API à vérifier)"
    if kind == "throttled":
        return f"{name} est surchargé et demande de patienter : nouvel essai plus tard"
    if kind == "redirect":
        return (
            f"{name} renvoie vers une autre adresse, que le portail ne suit pas "
            "(adresse de l'API à vérifier)"
        )
    if kind == "malformed":
        return f"{name} a envoyé une réponse illisible ou incomplète"
    if kind == "checksum":
        return f"Un fichier reçu {source} est corrompu (empreinte SHA-256 différente)"
    if kind == "not_pdf":
        return f"Un fichier reçu {source} n'est pas un PDF"
    if kind == "too_large":
        return (
            f"Un fichier reçu {source} dépasse la taille annoncée "
            f"ou la limite de {MAX_FILE_BYTES // (1024 * 1024)} Mo"
        )
    if kind == "http":
        code = f" (HTTP {status})" if status is not None else ""
        if status is not None and status >= 500:
            return f"{name} est en erreur{code}"
        return f"{name} a refusé la demande du portail{code}"
    raise ValueError(f"unknown provider error kind {kind!r}")


class ProviderError(Exception):
    """A provider call that failed; `message` is French and meant for a supplier admin.

    `detail` is English and technical (path, status, what did not match), for
    logs; `status` is the HTTP status when there was an answer.
    """

    def __init__(
        self,
        provider: str,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown provider error kind {kind!r}")
        super().__init__(message)
        self.provider = provider
        self.kind = kind
        self.message = message
        self.status = status
        self.detail = detail

    @classmethod
    def of(
        cls,
        provider: str,
        display_name: str,
        kind: str,
        *,
        status: int | None = None,
        detail: str | None = None,
    ) -> ProviderError:
        """The error with the standard message for its kind (e.g. "subscription" on discovery)."""
        return cls(
            provider,
            kind,
            error_message(display_name, kind, status),
            status=status,
            detail=detail,
        )

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the error intact across processes (a job queue, a worker pool).
        return (
            type(self),
            (self.provider, self.kind, self.message),
            {"status": self.status, "detail": self.detail},
        )

    def __repr__(self) -> str:
        return f"ProviderError({self.provider!r}, {self.kind!r}, {self.message!r})"


# -- data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    siren: str
    name: str
    active: bool


@dataclass(frozen=True)
class RemoteDocument:
    provider: str
    external_id: str
    revision: int
    provider_code: str
    doc_type: str | None
    siret: str | None
    state: str
    rejection_reason: str | None
    issue_date: date
    validity_start: date
    validity_end: date | None
    sha256: str
    size: int
    filename: str
    modified_at: datetime
    cursor_value: str


@dataclass
class Listing:
    documents: list[RemoteDocument]
    unknown: list[RemoteDocument]
    high_water: str | None
    requests: int


@runtime_checkable
class Connector(Protocol):
    provider: str
    display_name: str

    def discover(self, siren: str) -> Account | None: ...

    def list_documents(self, siren: str, *, since: str | None = None) -> Listing: ...

    def fetch_file(
        self, document: RemoteDocument, store: Callable[..., StoredFile]
    ) -> StoredFile: ...

    def close(self) -> None: ...


# -- settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class HttpSettings:
    base_url: str
    timeout: float
    retry_after_max: float
    page_size: int


def _number(config: Mapping[str, Any], key: str, default: float) -> float:
    raw = config.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number of seconds, not {raw!r}") from None


def http_settings(
    config: Mapping[str, Any], url_key: str, *, default_page_size: int, max_page_size: int
) -> HttpSettings | None:
    """The connector's settings from the app config; None when its URL is empty (provider off)."""
    base_url = str(config.get(url_key) or "").strip().rstrip("/")
    if not base_url:
        return None
    timeout = _number(config, "PROVIDER_TIMEOUT", 10.0)
    if timeout <= 0:
        raise ValueError("PROVIDER_TIMEOUT must be positive")
    retry_after_max = _number(config, "PROVIDER_RETRY_AFTER_MAX", 5.0)
    if retry_after_max < 0:
        raise ValueError("PROVIDER_RETRY_AFTER_MAX must not be negative")
    raw_size = config.get("PROVIDER_PAGE_SIZE")
    page_size = default_page_size if raw_size in (None, "") else int(raw_size)
    if page_size < 1:
        raise ValueError("PROVIDER_PAGE_SIZE must be at least 1")
    # The contract caps the page size; asking for more would only be ignored.
    return HttpSettings(base_url, timeout, retry_after_max, min(page_size, max_page_size))


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
    RETRY_AFTER_STATUS_CODES: ClassVar[frozenset[int]] = frozenset({429, 503})

    def __init__(self, *args: Any, retry_after_bound: float = 5.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_bound = retry_after_bound

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("retry_after_bound", self.retry_after_bound)
        return super().new(**kw)

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
        if isinstance(error, ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        if isinstance(error, ConnectTimeoutError) and not isinstance(error, NewConnectionError):
            raise MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)


def retry_policy(retry_after_max: float) -> BoundedRetry:
    """At most RETRIES more tries of a GET, on connection failures, 429 and 503 only."""
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
    )


# -- reading the JSON ------------------------------------------------------------------


class MalformedData(ValueError):
    """An answer that does not match the provider's contract (English, for logs)."""


def parse_instant(raw: str) -> datetime:
    """An RFC 3339 instant with its offset, as an aware datetime; ValueError otherwise."""
    if not isinstance(raw, str) or "T" not in raw.upper():
        raise ValueError(f"not an RFC 3339 instant: {raw!r}")
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"an instant needs an offset: {raw!r}")
    return parsed


def latest_instant(values: Iterable[str]) -> str | None:
    """The raw value of the latest instant, compared as instants, not as strings.

    "2026-10-02T10:00:00+02:00" is before "2026-10-02T08:30:00Z" although it
    sorts after it as text.
    """
    latest: tuple[datetime, str] | None = None
    for raw in values:
        instant = parse_instant(raw)
        if latest is None or instant > latest[0]:
            latest = (instant, raw)
    return latest[1] if latest else None


def as_object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedData(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _field(obj: Mapping[str, Any], key: str, where: str, required: bool) -> Any:
    if key not in obj:
        if required:
            raise MalformedData(f"{where}: missing {key!r}")
        return None
    return obj[key]


def text(
    obj: Mapping[str, Any], key: str, where: str, *, pattern: re.Pattern[str] | None = None
) -> str:
    value = _field(obj, key, where, True)
    if not isinstance(value, str):
        raise MalformedData(f"{where}.{key}: expected a string, got {type(value).__name__}")
    if pattern is not None and not pattern.fullmatch(value):
        raise MalformedData(f"{where}.{key}: {value!r} does not match {pattern.pattern}")
    return value


def optional_text(
    obj: Mapping[str, Any],
    key: str,
    where: str,
    *,
    required: bool = True,
    pattern: re.Pattern[str] | None = None,
) -> str | None:
    """A string or null; `required=False` also accepts the key being absent."""
    if _field(obj, key, where, required) is None:
        return None
    return text(obj, key, where, pattern=pattern)


def integer(obj: Mapping[str, Any], key: str, where: str, *, minimum: int | None = None) -> int:
    value = _field(obj, key, where, True)
    # bool is an int in Python, never in JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedData(f"{where}.{key}: expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise MalformedData(f"{where}.{key}: {value} is below {minimum}")
    return value


def boolean(obj: Mapping[str, Any], key: str, where: str) -> bool:
    value = _field(obj, key, where, True)
    if not isinstance(value, bool):
        raise MalformedData(f"{where}.{key}: expected a boolean, got {value!r}")
    return value


def array(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = _field(obj, key, where, True)
    if not isinstance(value, list):
        raise MalformedData(f"{where}.{key}: expected an array, got {type(value).__name__}")
    return value


def choice(obj: Mapping[str, Any], key: str, where: str, table: Mapping[str, str]) -> str:
    """A value of a closed vocabulary, translated through `table`."""
    value = text(obj, key, where)
    if value not in table:
        raise MalformedData(f"{where}.{key}: {value!r} is not one of {sorted(table)}")
    return table[value]


def day(obj: Mapping[str, Any], key: str, where: str) -> date:
    value = text(obj, key, where)
    # fromisoformat alone would also take 20261129 or 2026-W48-7.
    if not _DATE_PATTERN.fullmatch(value):
        raise MalformedData(f"{where}.{key}: {value!r} is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise MalformedData(f"{where}.{key}: {value!r} is not a date") from None


def optional_day(obj: Mapping[str, Any], key: str, where: str) -> date | None:
    if _field(obj, key, where, True) is None:
        return None
    return day(obj, key, where)


def instant(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, datetime]:
    """The raw string (what goes back to the provider) and the aware instant."""
    raw = text(obj, key, where)
    try:
        return raw, parse_instant(raw)
    except ValueError:
        raise MalformedData(f"{where}.{key}: {raw!r} is not an RFC 3339 instant") from None


def check_siren(siren: str) -> str:
    """A SIREN goes into URL paths: refuse anything else before it gets there."""
    if not isinstance(siren, str) or not SIREN_PATTERN.fullmatch(siren):
        raise ValueError(f"a SIREN is 9 digits, not {siren!r}")
    return siren


def split_known(
    documents: Iterable[RemoteDocument],
) -> tuple[list[RemoteDocument], list[RemoteDocument]]:
    known: list[RemoteDocument] = []
    unknown: list[RemoteDocument] = []
    for document in documents:
        (known if document.doc_type is not None else unknown).append(document)
    return known, unknown


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
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self._adapter = HTTPAdapter(max_retries=retry_policy(settings.retry_after_max))
        # Mounted on our base URL only, so a session lent by the caller keeps its
        # own behaviour everywhere else.
        self.session.mount(self.base_url + "/", self._adapter)

    # -- lifecycle

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
        self, kind: str, *, status: int | None = None, detail: str | None = None
    ) -> ProviderError:
        return ProviderError.of(
            self.provider, self.display_name, kind, status=status, detail=detail
        )

    def _send(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        accept: str = "application/json",
        stream: bool = False,
        subscription_statuses: frozenset[int] = frozenset(),
    ) -> requests.Response:
        """One GET: a 200 response, or a ProviderError."""
        try:
            response = self.session.get(
                self.base_url + path,
                params=params,
                headers={"Accept": accept, "User-Agent": USER_AGENT},
                # An auth callable (rather than a header) also stops requests from
                # swapping in ~/.netrc credentials.
                auth=self._authorize,
                timeout=self.timeout,
                allow_redirects=False,
                stream=stream,
            )
        except requests.RequestException as exc:
            raise self._transport_error(exc, path) from exc
        status = response.status_code
        if status == 200:
            return response
        location = response.headers.get("Location")
        response.close()
        detail = f"GET {path}: HTTP {status}"
        if 300 <= status < 400:
            raise self.error("redirect", status=status, detail=f"{detail} to {location}")
        if status == 401:
            raise self.error("unauthorized", status=status, detail=detail)
        if status in subscription_statuses:
            raise self.error("subscription", status=status, detail=detail)
        if status in (429, 503):
            raise self.error("throttled", status=status, detail=f"{detail} after retries")
        raise self.error("http", status=status, detail=detail)

    def _transport_error(self, exc: requests.RequestException, path: str) -> ProviderError:
        detail = f"GET {path}: {type(exc).__name__}: {exc}"
        if isinstance(exc, requests.Timeout) or _caused_by_read_timeout(exc):
            return self.error("timeout", detail=detail)
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            return self.error("malformed", detail=detail)
        # Refused, reset, DNS failures, a connection cut mid-body, a bad URL.
        return self.error("unreachable", detail=detail)

    def _get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        subscription_statuses: frozenset[int] = frozenset(),
        missing_ok: bool = False,
    ) -> Mapping[str, Any] | None:
        try:
            response = self._send(path, params=params, subscription_statuses=subscription_statuses)
        except ProviderError as exc:
            if missing_ok and exc.kind == "http" and exc.status == 404:
                return None
            raise
        try:
            body = response.json()
        except ValueError as exc:
            raise self.error("malformed", detail=f"GET {path}: not JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise self.error("malformed", detail=f"GET {path}: expected a JSON object")
        return body

    def _malformed(self, exc: MalformedData, path: str) -> ProviderError:
        return self.error("malformed", detail=f"GET {path}: {exc}")

    # -- files

    def fetch_file(self, document: RemoteDocument, store: Callable[..., StoredFile]) -> StoredFile:
        """Stream the document's bytes into `store` (e.g. `LocalStorage.save_chunks`).

        The store sees the bytes only once they start like a PDF, at most the
        announced size, and must check the announced SHA-256: whatever fails
        leaves nothing stored.
        """
        if document.provider != self.provider:
            raise ValueError(f"{document.provider} document given to the {self.provider} connector")
        if document.size > MAX_FILE_BYTES:
            raise self.error(
                "too_large", detail=f"{document.external_id}: announced {document.size} bytes"
            )
        limit = document.size
        path = self._file_path(quote(document.external_id, safe=""))
        response = self._send(path, accept="application/pdf", stream=True)
        with response:
            length = response.headers.get("Content-Length", "")
            if (
                length.isdigit()
                and int(length) > limit
                and not response.headers.get("Content-Encoding")
            ):
                raise self.error(
                    "too_large", detail=f"GET {path}: Content-Length {length} > {limit}"
                )
            chunks = _pdf_chunks(response.iter_content(DOWNLOAD_CHUNK))
            try:
                return store(chunks, max_bytes=limit, expected_sha256=document.sha256)
            except _NotPdf as exc:
                raise self.error("not_pdf", detail=f"GET {path}: starts with {exc}") from exc
            except ChecksumMismatch as exc:
                raise self.error("checksum", detail=f"GET {path}: {exc}") from exc
            except TooLarge as exc:
                raise self.error("too_large", detail=f"GET {path}: {exc}") from exc
            except requests.RequestException as exc:
                raise self._transport_error(exc, path) from exc
