"""The simulator's state: companies, documents, faults and the call log.

Everything here is plain Python guarded by one lock, so that tests drive the
simulator directly while a server thread answers HTTP requests from it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hiveo.demo.companies import COMPANIES
from hiveo.demo.pdfgen import make_pdf
from hiveo.dossier.catalogue import add_months

from .catalogue import (
    ACTRADIS,
    AL,
    PLATFORM_NAMES,
    STATES,
    check_provider,
    french_date,
    kind_of,
    slug,
)
from .demo import load_demo

_SECOND = timedelta(seconds=1)
_SIREN = re.compile(r"^[0-9]{9}$")
_SIRET = re.compile(r"^[0-9]{14}$")
_FILE_PATHS = {
    AL: re.compile(r"^/v1/documents/[^/]+/file$"),
    ACTRADIS: re.compile(r"^/api/v2/pieces/[^/]+/contenu$"),
}
_ESTABLISHMENT_NAMES = {
    establishment.siret: establishment.name
    for company in COMPANIES
    for establishment in company.establishments
}
_INSURERS = (
    "AXA France IARD",
    "Allianz IARD",
    "MMA IARD",
    "SMABTP",
    "Groupama Rhône-Alpes Auvergne",
    "MAAF Assurances",
    "Generali IARD",
)
_REVISABLE = {"issue_date", "validity_start", "validity_end", "state", "rejection_reason"}


@dataclass(frozen=True)
class Call:
    """One request the simulator answered, faults and 401s included."""

    provider: str | None
    method: str
    path: str
    query: dict[str, str]
    status: int
    siren: str | None = None


@dataclass(frozen=True)
class DocumentView:
    """A snapshot of one stored document, in the provider's own vocabulary."""

    provider: str
    id: str
    siren: str
    siret: str | None
    type_code: str
    type_name: str
    validity_period: int | None
    state: str
    rejection_reason: str | None
    issue_date: date
    validity_start: date
    validity_end: date | None
    revision: int
    updated_at: datetime
    file_name: str
    size: int
    sha256: str
    detail: str | None

    @property
    def version(self) -> int:
        return self.revision

    def __getitem__(self, key: str) -> Any:
        # Callers written against a dict view keep working.
        return getattr(self, key)

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "id": self.id,
            "siren": self.siren,
            "siret": self.siret,
            "type_code": self.type_code,
            "type_name": self.type_name,
            "state": self.state,
            "rejection_reason": self.rejection_reason,
            "issue_date": self.issue_date.isoformat(),
            "validity_start": self.validity_start.isoformat(),
            "validity_end": self.validity_end.isoformat() if self.validity_end else None,
            "revision": self.revision,
            "updated_at": self.updated_at.isoformat(),
            "file_name": self.file_name,
            "size": self.size,
            "sha256": self.sha256,
            "detail": self.detail,
        }


@dataclass
class _Company:
    siren: str
    name: str
    active: bool
    ends_on: date | None


@dataclass
class _Document:
    provider: str
    id: str
    siren: str
    type_code: str
    siret: str | None
    state: str
    issue_date: date
    validity_start: date
    validity_end: date | None
    rejection_reason: str | None
    detail: str | None
    revision: int
    updated_at: datetime
    order: int


@dataclass
class _Faults:
    listing_pages: dict[tuple[str, str, int], int] = field(default_factory=dict)
    discovery: dict[tuple[str, str], int] = field(default_factory=dict)
    malformed: set[tuple[str, str]] = field(default_factory=set)
    corrupt: set[tuple[str, str]] = field(default_factory=set)
    files: dict[tuple[str, str], int] = field(default_factory=dict)
    redirects: list[tuple[str, str]] = field(default_factory=list)
    delays: list[tuple[str, str, float]] = field(default_factory=list)
    # provider -> [requests left, Retry-After seconds, status]
    throttles: dict[str, list[int]] = field(default_factory=dict)
    slow_files: dict[str, float] = field(default_factory=dict)
    # (provider, path prefix, seconds between two bytes of the body)
    trickles: list[tuple[str, str, float]] = field(default_factory=list)
    trickled_bytes: int = 0
    # Bytes served (and announced: size, SHA-256) for a document instead of its PDF.
    file_bodies: dict[tuple[str, str], bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class FileAnswer:
    """What a file endpoint should send (used by the HTTP layer)."""

    body: bytes
    sha256: str
    file_name: str
    fail_status: int | None
    slow_seconds: float


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


class Simulator:
    """Two provider platforms' data, faults and call log, shared by their HTTP app.

    `seed="demo"` loads the demo world (see `demo.py`); `seed=None` starts empty.
    `today` anchors every default date; when left out the simulator follows the
    wall clock, so a live demo's changes carry the real time.
    """

    def __init__(
        self,
        today: date | None = None,
        seed: str | None = "demo",
        *,
        al_token: str = "demo-al-token",
        actradis_key: str = "demo-actradis-key",
        control_key: str = "demo-simulator-control",
    ) -> None:
        if seed not in (None, "demo"):
            raise ValueError(f"unknown seed {seed!r}; expected 'demo' or None")
        self.today: date = today or date.today()
        self.seed = seed
        self.al_token = al_token
        self.actradis_key = actradis_key
        self.control_key = control_key
        self._follow_wall_clock = today is None
        self._lock = threading.RLock()
        # Signs Actradis cursors so that a forged or foreign one is "unknown".
        self.cursor_key = secrets.token_bytes(16)
        self.reset()

    # -- lifecycle ---------------------------------------------------------

    def reset(self) -> None:
        """Return to the initial seed: data, faults, call log and clock.

        The clock restarts with the data, so a client should forget the
        `depuis` it remembered and list in full after a reset.
        """
        with self._lock:
            self._companies: dict[tuple[str, str], _Company] = {}
            self._documents: dict[tuple[str, str], _Document] = {}
            self._files: dict[tuple[str, str, int], tuple[bytes, str]] = {}
            self._faults = _Faults()
            self._calls: list[Call] = []
            self._counter = 0
            self._last_change: datetime | None = None
            if self.seed == "demo":
                load_demo(self)

    # -- clock and identifiers ---------------------------------------------

    def _tick(self, at: datetime | None = None) -> datetime:
        """The instant of a new change: strictly after every earlier one, in whole seconds.

        Whole seconds keep `depuis` = a returned `modifie_le` exact; the +1 s
        floor keeps "strictly after the last change I applied" lossless.
        """
        if at is not None:
            if at.tzinfo is None:
                raise ValueError("a change instant needs a time zone")
            at = at.astimezone(UTC).replace(microsecond=0)
        elif self._follow_wall_clock:
            at = datetime.now(UTC).replace(microsecond=0)
        floor = self._last_change + _SECOND if self._last_change else None
        if at is None:
            at = floor or datetime.combine(self.today, time(8, 0), UTC)
        self._last_change = max(at, floor) if floor else at
        return self._last_change

    def _new_id(self, provider: str) -> str:
        self._counter += 1
        salt = self.seed or "vide"
        digest = hashlib.sha256(f"{salt}:{provider}:{self._counter}".encode()).digest()
        if provider == AL:
            return "al_doc_" + digest[:10].hex()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    # -- companies ---------------------------------------------------------

    def add_company(
        self,
        provider: str,
        siren: str,
        name: str,
        subscription_active: bool = True,
        *,
        ends_on: date | str | None = None,
    ) -> None:
        """Open (or update) a company's account on a platform."""
        check_provider(provider)
        if not _SIREN.match(siren):
            raise ValueError(f"SIREN must be 9 digits, got {siren!r}")
        if ends_on is None:
            days = 200 if subscription_active else -1
            ends_on = self.today + timedelta(days=days)
        with self._lock:
            self._companies[(provider, siren)] = _Company(
                siren, name, subscription_active, _as_date(ends_on)
            )

    def set_subscription(self, provider: str, siren: str, active: bool) -> None:
        with self._lock:
            company = self._company(provider, siren)
            company.active = active
            company.ends_on = self.today + timedelta(days=365 if active else -1)

    def _company(self, provider: str, siren: str) -> _Company:
        check_provider(provider)
        company = self._companies.get((provider, siren))
        if company is None:
            raise KeyError(f"no company {siren} on {provider}")
        return company

    def company(self, provider: str, siren: str) -> dict[str, Any] | None:
        """The company's account as the HTTP layer reports it, or None."""
        with self._lock:
            company = self._companies.get((check_provider(provider), siren))
            if company is None:
                return None
            return {
                "siren": company.siren,
                "name": company.name,
                "active": company.active,
                "ends_on": company.ends_on,
            }

    # -- documents -----------------------------------------------------------

    def add_document(
        self,
        provider: str,
        siren: str,
        type_code: str,
        *,
        siret: str | None = None,
        state: str | None = None,
        issue_date: date | str | None = None,
        validity_start: date | str | None = None,
        validity_end: date | str | None = None,
        rejection_reason: str | None = None,
        detail: str | None = None,
        at: datetime | None = None,
    ) -> str:
        """Store a new document and return its provider id.

        Missing dates follow the type's habits relative to `today`; a missing
        state is the valid one, or the expired one when the end date is past.
        `detail` is an extra line printed on the file (insurer, vehicle...);
        `at` backdates the change (the demo seed uses it), never before the
        previous change.
        """
        with self._lock:
            self._company(provider, siren)
            if siret is not None and not (_SIRET.match(siret) and siret.startswith(siren)):
                raise ValueError(f"SIRET {siret!r} is not an establishment of {siren}")
            kind = kind_of(provider, type_code)
            words = STATES[provider]
            issue = _as_date(issue_date) or _as_date(validity_start)
            issue = issue or self.today - timedelta(days=20)
            start = _as_date(validity_start) or issue
            end = _as_date(validity_end)
            if end is None and kind.printed_months:
                end = add_months(start, kind.printed_months) - timedelta(days=1)
            if state is None:
                state = words.expired if end and end < self.today else words.valid
            self._check_state(provider, state)
            if state == words.rejected and not rejection_reason:
                rejection_reason = "Document refusé par la plateforme."
            document = _Document(
                provider=provider,
                id=self._new_id(provider),
                siren=siren,
                type_code=type_code,
                siret=siret,
                state=state,
                issue_date=issue,
                validity_start=start,
                validity_end=end,
                rejection_reason=rejection_reason if state == words.rejected else None,
                detail=detail,
                revision=1,
                updated_at=self._tick(at),
                order=self._counter,
            )
            self._documents[(provider, document.id)] = document
            return document.id

    @staticmethod
    def _check_state(provider: str, state: str) -> None:
        if state not in STATES[provider].all:
            raise ValueError(
                f"state {state!r} is not in {provider}'s vocabulary {STATES[provider].all}"
            )

    def revise_document(self, provider: str, ext_id: str, **changes: Any) -> DocumentView:
        """Replace a document's dates or state: a new revision with a new file."""
        unknown = set(changes) - _REVISABLE
        if unknown:
            raise TypeError(f"cannot revise {sorted(unknown)}; allowed: {sorted(_REVISABLE)}")
        with self._lock:
            document = self._document(provider, ext_id)
            words = STATES[provider]
            for name in ("issue_date", "validity_start", "validity_end"):
                if name in changes:
                    setattr(document, name, _as_date(changes[name]))
            if "state" in changes:
                self._check_state(provider, changes["state"])
                document.state = changes["state"]
            if document.state == words.rejected:
                document.rejection_reason = (
                    changes.get("rejection_reason")
                    or document.rejection_reason
                    or "Document refusé par la plateforme."
                )
            else:
                document.rejection_reason = None
            self._files.pop((provider, ext_id, document.revision), None)
            document.revision += 1
            document.updated_at = self._tick()
            return self._view(document)

    def remove_document(self, provider: str, ext_id: str) -> None:
        with self._lock:
            document = self._document(provider, ext_id)
            del self._documents[(provider, ext_id)]
            self._files.pop((provider, ext_id, document.revision), None)

    def _document(self, provider: str, ext_id: str) -> _Document:
        check_provider(provider)
        document = self._documents.get((provider, ext_id))
        if document is None:
            raise KeyError(f"no document {ext_id} on {provider}")
        return document

    def document_siren(self, provider: str, ext_id: str) -> str | None:
        with self._lock:
            document = self._documents.get((provider, ext_id))
            return document.siren if document else None

    def document(self, provider: str, ext_id: str) -> DocumentView:
        with self._lock:
            return self._view(self._document(provider, ext_id))

    def documents(self, provider: str, siren: str) -> list[DocumentView]:
        """A company's documents in the provider's listing order.

        Attestation Légale lists in creation order; Actradis's feed is ordered
        by (modifie_le, uid).
        """
        return self.listing(provider, siren)[0]

    def listing(
        self,
        provider: str,
        siren: str,
        *,
        since: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[list[DocumentView], int]:
        """One window of a company's listing, and how many documents match in all.

        `since` keeps documents changed strictly after it; `after` those past a
        (updated_at, id) position of the Actradis order. Only the window's
        documents are rendered, so paging through a large company stays cheap.
        """
        with self._lock:
            self._company(provider, siren)
            found = [
                document
                for (owner, _), document in self._documents.items()
                if owner == provider
                and document.siren == siren
                and (since is None or document.updated_at > since)
                and (after is None or (document.updated_at, document.id) > after)
            ]
            if provider == AL:
                found.sort(key=lambda document: document.order)
            else:
                found.sort(key=lambda document: (document.updated_at, document.id))
            stop = None if limit is None else offset + limit
            return [self._view(document) for document in found[offset:stop]], len(found)

    def file_bytes(self, provider: str, ext_id: str) -> bytes:
        with self._lock:
            return self._file(self._document(provider, ext_id))[0]

    def seed_bulk(
        self, provider: str, siren: str, n_documents: int, *, sirets: tuple[str, ...] = ()
    ) -> list[str]:
        """Add `n_documents` valid documents, for benchmarks.

        About a quarter are establishment-level, spread over `sirets`; the rest
        are company-level insurance certificates (a type that may hold many).
        Files are rendered on first use, not here.
        """
        check_provider(provider)
        with self._lock:
            if (provider, siren) not in self._companies:
                self.add_company(provider, siren, f"Entreprise {siren}")
            if provider == AL:
                per_site = "CONGES_PAYES_BTP"
                insurances = ("ASSURANCE_RC_PRO", "ASSURANCE_DECENNALE")
                # One current certificate per establishment: the type is not multi.
                site_count = min(len(sirets), n_documents // 4)
            else:
                per_site = "ATTESTATION_ASSURANCE_RC"
                insurances = ("ATTESTATION_ASSURANCE_RC", "ATTESTATION_ASSURANCE_DECENNALE")
                site_count = n_documents // 4 if sirets else 0
            ids = []
            for index in range(n_documents):
                insurer = _INSURERS[index % len(_INSURERS)]
                contract = f"{insurer} — contrat n° {siren[-4:]}-{index + 1:05d}"
                if index < site_count:
                    start = self.today - timedelta(days=index % 60)
                    ids.append(
                        self.add_document(
                            provider,
                            siren,
                            per_site,
                            siret=sirets[index % len(sirets)],
                            state=STATES[provider].valid,
                            validity_start=start,
                            detail=contract if provider == ACTRADIS else None,
                        )
                    )
                    continue
                start = self.today - timedelta(days=5 + (index * 7) % 200)
                ids.append(
                    self.add_document(
                        provider,
                        siren,
                        insurances[index % 2],
                        state=STATES[provider].valid,
                        validity_start=start,
                        detail=contract,
                    )
                )
            return ids

    # -- files ---------------------------------------------------------------

    def _file(self, document: _Document) -> tuple[bytes, str]:
        body = self._faults.file_bodies.get((document.provider, document.id))
        if body is not None:
            return body, hashlib.sha256(body).hexdigest()
        key = (document.provider, document.id, document.revision)
        cached = self._files.get(key)
        if cached is None:
            body = self._render(document)
            cached = self._files[key] = (body, hashlib.sha256(body).hexdigest())
        return cached

    def _render(self, document: _Document) -> bytes:
        company = self._companies[(document.provider, document.siren)]
        kind = kind_of(document.provider, document.type_code)
        platform = PLATFORM_NAMES[document.provider]
        revision_word = "Révision" if document.provider == AL else "Version"
        if document.siret:
            name = _ESTABLISHMENT_NAMES.get(document.siret)
            scope = (
                f"Établissement : {name} (SIRET {document.siret})"
                if name
                else (f"Établissement : SIRET {document.siret}")
            )
        else:
            scope = "Portée : toute l'entreprise (niveau SIREN)"
        lines = [
            f"Raison sociale : {company.name}",
            f"SIREN : {document.siren}",
            scope,
        ]
        if document.detail:
            lines.append(document.detail)
        lines += [
            "",
            f"Date d'émission : {french_date(document.issue_date)}",
            f"Début de validité : {french_date(document.validity_start)}",
            f"Fin de validité : {french_date(document.validity_end)}",
            f"Statut sur {platform} : {document.state}",
        ]
        if document.rejection_reason:
            lines.append(f"Motif du refus : {document.rejection_reason}")
        lines += [
            f"{revision_word} : {document.revision}",
            f"Référence {platform} : {document.id}",
            f"Code du type : {document.type_code}",
            "",
            "Document simulé, généré par le simulateur de plateformes de hiveo.",
            "Il n'a aucune valeur légale.",
        ]
        return make_pdf(
            kind.label,
            lines,
            footer=f"{platform} — simulateur hiveo — document simulé, sans valeur légale",
        )

    def _file_name(self, document: _Document) -> str:
        holder = document.siret or document.siren
        if document.provider == AL:
            company = self._companies[(AL, document.siren)].name
            return (
                f"{slug(document.type_code)}_{slug(company)}_{holder}_"
                f"{document.issue_date.isoformat()}.pdf"
            )
        return f"{document.type_code}_{holder}_{document.issue_date:%Y%m%d}.pdf"

    def _view(self, document: _Document) -> DocumentView:
        body, sha = self._file(document)
        kind = kind_of(document.provider, document.type_code)
        return DocumentView(
            provider=document.provider,
            id=document.id,
            siren=document.siren,
            siret=document.siret,
            type_code=document.type_code,
            type_name=kind.label,
            validity_period=kind.validity_months,
            state=document.state,
            rejection_reason=document.rejection_reason,
            issue_date=document.issue_date,
            validity_start=document.validity_start,
            validity_end=document.validity_end,
            revision=document.revision,
            updated_at=document.updated_at,
            file_name=self._file_name(document),
            size=len(body),
            sha256=sha,
            detail=document.detail,
        )

    def file_answer(self, provider: str, ext_id: str) -> FileAnswer | None:
        """What a download of this document should send, faults applied; None if unknown."""
        with self._lock:
            document = self._documents.get((provider, ext_id))
            if document is None:
                return None
            body, sha = self._file(document)
            if (provider, ext_id) in self._faults.corrupt:
                middle = len(body) // 2
                body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
            return FileAnswer(
                body=body,
                sha256=sha,
                file_name=self._file_name(document),
                fail_status=self._faults.files.get((provider, ext_id)),
                slow_seconds=self._faults.slow_files.get(provider, 0.0),
            )

    # -- faults ----------------------------------------------------------------

    def fail_listing_page(self, provider: str, siren: str, page: int, status: int = 500) -> None:
        """Answer `status` for that listing page (Actradis: the n-th slice, 1-based)."""
        with self._lock:
            self._faults.listing_pages[(check_provider(provider), siren, int(page))] = status

    def fail_discovery(self, provider: str, siren: str, status: int = 500) -> None:
        with self._lock:
            self._faults.discovery[(check_provider(provider), siren)] = status

    def malformed_json(self, provider: str, siren: str) -> None:
        with self._lock:
            self._faults.malformed.add((check_provider(provider), siren))

    def corrupt_file(self, provider: str, ext_id: str) -> None:
        with self._lock:
            self._faults.corrupt.add((check_provider(provider), ext_id))

    def fail_file(self, provider: str, ext_id: str, status: int = 500) -> None:
        with self._lock:
            self._faults.files[(check_provider(provider), ext_id)] = status

    def redirect(self, provider: str, path_prefix: str) -> None:
        with self._lock:
            self._faults.redirects.append((check_provider(provider), path_prefix))

    def delay(self, provider: str, seconds: float, path_prefix: str = "") -> None:
        with self._lock:
            self._faults.delays.append((check_provider(provider), path_prefix, float(seconds)))

    def throttle(self, provider: str, count: int, retry_after: int = 1, status: int = 429) -> None:
        if status not in (429, 503):
            raise ValueError("a throttle answers 429 or 503")
        with self._lock:
            self._faults.throttles[check_provider(provider)] = [int(count), retry_after, status]

    def slow_files(self, provider: str, seconds: float) -> None:
        with self._lock:
            self._faults.slow_files[check_provider(provider)] = float(seconds)

    def trickle(self, provider: str, seconds: float, path_prefix: str = "") -> None:
        """Send the body of matching answers one byte every `seconds` (headers at once)."""
        with self._lock:
            self._faults.trickles.append((check_provider(provider), path_prefix, float(seconds)))

    def serve_file_bytes(self, provider: str, ext_id: str, body: bytes | None = None,
                         body_base64: str | None = None) -> None:
        """Serve these bytes as the document's file, and announce their size and SHA-256.

        The control API takes them in base64; a hostile provider is one call away.
        """
        if (body is None) == (body_base64 is None):
            raise ValueError("give either body or body_base64")
        data = body if body is not None else base64.b64decode(body_base64 or "", validate=True)
        with self._lock:
            self._document(check_provider(provider), ext_id)
            self._faults.file_bodies[(provider, ext_id)] = data

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = _Faults()

    def trickle_interval(self, provider: str, path: str) -> float | None:
        with self._lock:
            matching = [s for p, prefix, s in self._faults.trickles
                        if p == provider and path.startswith(prefix)]
        return max(matching, default=None)

    def count_trickled_byte(self) -> None:
        with self._lock:
            self._faults.trickled_bytes += 1

    @property
    def trickled_bytes(self) -> int:
        """Bytes sent so far by trickling answers (a client that gives up stops the count)."""
        with self._lock:
            return self._faults.trickled_bytes

    # Lookups for the HTTP layer: each answers under the lock, then the caller
    # sleeps or answers outside it so a slow request never blocks the others.

    def request_delay(self, provider: str, path: str) -> float:
        with self._lock:
            matching = [
                s
                for p, prefix, s in self._faults.delays
                if p == provider and (path.startswith(prefix))
            ]
        return max(matching, default=0.0)

    def is_redirected(self, provider: str, path: str) -> bool:
        with self._lock:
            return any(
                p == provider and path.startswith(prefix) for p, prefix in self._faults.redirects
            )

    def take_throttle(self, provider: str) -> tuple[int, int] | None:
        """(status, Retry-After) if this request is throttled; uses one of the count."""
        with self._lock:
            throttle = self._faults.throttles.get(provider)
            if not throttle or throttle[0] <= 0:
                return None
            throttle[0] -= 1
            return throttle[2], throttle[1]

    def listing_fault(self, provider: str, siren: str, page: int) -> int | None:
        with self._lock:
            return self._faults.listing_pages.get((provider, siren, page))

    def discovery_fault(self, provider: str, siren: str) -> int | None:
        with self._lock:
            return self._faults.discovery.get((provider, siren))

    def is_malformed(self, provider: str, siren: str) -> bool:
        with self._lock:
            return (provider, siren) in self._faults.malformed

    # -- call log --------------------------------------------------------------

    def record_call(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def file_downloads(self, provider: str | None = None, siren: str | None = None) -> int:
        """Successful (200) file downloads, optionally for one provider and company."""
        with self._lock:
            return sum(
                1
                for call in self._calls
                if call.status == 200
                and call.provider is not None
                and _FILE_PATHS[call.provider].match(call.path)
                and provider in (None, call.provider)
                and siren in (None, call.siren)
            )
