"""What a connector hands to the sync engine: plain records and coded errors.

Nothing here talks to the network or words anything for a person: a
`ProviderError` carries a code and data (provider, HTTP status, limit...), and
the sync layer (`hiveo/sync/wording.py`) turns it into French.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from hiveo.dossier.storage import StoredFile


class ErrorCode(enum.StrEnum):
    """Why a provider call failed."""

    UNREACHABLE = "unreachable"    # refused, reset, DNS, connection cut mid-body
    TIMEOUT = "timeout"            # no answer within the read timeout
    DEADLINE = "deadline"          # the call (or the run) went past its total deadline
    SUBSCRIPTION = "subscription"  # the provider says the company's subscription lapsed
    UNAUTHORIZED = "unauthorized"  # our credentials were refused
    THROTTLED = "throttled"        # 429/503 still after the retries
    REDIRECT = "redirect"          # a 3xx, never followed
    MALFORMED = "malformed"        # an answer outside the contract
    JSON_TOO_LARGE = "json_too_large"  # a JSON body past HIVEO_PROVIDER_MAX_JSON_MB
    CHECKSUM = "checksum"          # a file whose bytes are not the announced SHA-256
    NOT_PDF = "not_pdf"            # a file that does not start like a PDF
    TOO_LARGE = "too_large"        # a file past its announced size or HIVEO_PROVIDER_MAX_FILE_MB
    HTTP = "http"                  # any other status


# Errors about one file's content: the run skips that document and goes on.
FILE_CONTENT_ERRORS = frozenset({ErrorCode.NOT_PDF, ErrorCode.TOO_LARGE})


class ProviderError(Exception):
    """A provider call that failed, by code; `detail` is English and technical, for logs.

    `status` is the HTTP status when there was an answer; `limit` the bound
    that was crossed (seconds for DEADLINE, bytes for the size codes).
    """

    def __init__(
        self,
        provider: str,
        code: ErrorCode | str,
        *,
        status: int | None = None,
        detail: str | None = None,
        limit: float | None = None,
    ) -> None:
        try:
            code = ErrorCode(code)
        except ValueError:
            raise ValueError(f"unknown provider error code {code!r}") from None
        super().__init__(provider, code.value)
        self.provider = provider
        self.code = code
        self.status = status
        self.detail = detail
        self.limit = limit

    @property
    def kind(self) -> str:
        return self.code.value

    def __str__(self) -> str:
        return f"{self.provider}: {self.code.value}" + (f" ({self.detail})" if self.detail else "")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps the error intact across processes (a job queue, a worker pool).
        return (
            type(self),
            (self.provider, self.code.value),
            {"status": self.status, "detail": self.detail, "limit": self.limit},
        )

    def __repr__(self) -> str:
        return f"ProviderError({self.provider!r}, {self.code.value!r}, status={self.status!r})"


STATES = ("valid", "awaiting", "refused", "expired")


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

    @property
    def code(self) -> str:
        """Its catalogue code: a listing sets unknown types apart, they never reach a slot."""
        if self.doc_type is None:
            raise ValueError(f"{self.provider_code!r} is not a catalogue type")
        return self.doc_type


@dataclass(frozen=True)
class Rejected:
    """A record of a listing that could not become a RemoteDocument, and why.

    `field` names the contract's field; `value` is the raw value (a date out
    of the accepted range, for instance). The run reports it and goes on.
    """

    provider: str
    external_id: str
    provider_code: str
    doc_type: str | None
    siret: str | None
    field: str
    value: str


@dataclass
class Listing:
    documents: list[RemoteDocument]
    unknown: list[RemoteDocument]
    high_water: str | None
    requests: int
    rejected: list[Rejected] = field(default_factory=list)


@runtime_checkable
class Connector(Protocol):
    provider: str
    display_name: str

    def discover(self, siren: str) -> Account | None: ...

    def list_documents(self, siren: str, *, since: str | None = None) -> Listing: ...

    def fetch_file(
        self, document: RemoteDocument, store: Callable[..., StoredFile]
    ) -> StoredFile: ...

    def set_run_deadline(self, at: float | None) -> None: ...

    def close(self) -> None: ...
