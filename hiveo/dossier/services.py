"""The one write path of the dossier: every change to a document goes through here.

Submitting an upload (every check, then the file, then the row), validating,
refusing, archiving, and applying a batch of provider documents. The upload
view, `documents import`, the sync engine, the demo loader and the tests call
these functions; none of them writes `Document` rows itself. No HTTP here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import insert, select

from ..core.audit import audit
from ..core.dates import out_of_range
from ..core.inputs import parse_id
from ..core.locks import lock_company
from ..core.text import megabytes_fr
from ..extensions import db
from ..identifiers import InvalidIdentifier, validate_siret
from ..models import (
    Company,
    Document,
    Establishment,
    ReviewState,
    Source,
    User,
    slot_key,
    utcnow,
)
from ..providers import PROVIDERS
from ..relations.figures import refresh_suppliers
from .catalogue import CATALOGUE, DocumentType, effective_end
from .managed import managed_types
from .pdf import PdfRejected, inspect_pdf_isolated
from .storage import StoredFile, storage


class DocumentError(ValueError):
    """A refusal meant for a person (French); `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class Problems:
    """Every refusal found in one submission, by form field (None: the whole form)."""

    items: list[tuple[str | None, str]] = field(default_factory=list)

    def add(self, message: str, field_name: str | None = None) -> None:
        self.items.append((field_name, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_first(self) -> None:
        if self.items:
            field_name, message = self.items[0]
            raise DocumentError(message, field_name)




def check_type(code: str, problems: Problems) -> DocumentType | None:
    doc_type = CATALOGUE.get(code or "")
    if doc_type is None:
        problems.add("Choisissez un type de document du catalogue.", "doc_type")
    return doc_type


def check_slot_open(company: Company, doc_type: DocumentType | None, problems: Problems,
                    managed: dict[str, str] | None = None) -> None:
    """While a provider's sync is on, the types it supplies are not uploaded by hand."""
    if doc_type is None:
        return
    # Locked: the switch cannot turn on between this check and the upload's commit.
    managed = managed_types(company.id, lock=True) if managed is None else managed
    provider = managed.get(doc_type.code)
    if provider is not None:
        name = PROVIDERS[provider]
        problems.add(
            f"Ce type de document est géré par {name} tant que la synchronisation {name} est "
            "active. Un administrateur de l'entreprise peut la désactiver depuis la fiche de "
            "l'entreprise (menu « Plus d'actions ») pour déposer lui-même ce document.",
            "doc_type",
        )


def check_dates(
    doc_type: DocumentType | None,
    issue_date: date | None,
    validity_start: date | None,
    validity_end: date | None,
    today: date,
    problems: Problems,
) -> None:
    bounded = True
    for name, value in (("issue_date", issue_date), ("validity_start", validity_start),
                        ("validity_end", validity_end)):
        refusal = out_of_range(value) if value is not None else None
        if refusal:
            problems.add(refusal, name)
            bounded = False
    if not bounded:
        return
    if issue_date is None:
        problems.add("Indiquez la date de délivrance imprimée sur le document.", "issue_date")
    elif issue_date > today:
        problems.add("La date de délivrance ne peut pas être dans le futur.", "issue_date")
    start = validity_start or issue_date
    if start is not None and validity_end is not None and start > validity_end:
        # The end date is the one at fault when no start was typed: the issue date stands in.
        problems.add(
            "La fin de validité ne peut pas précéder le début de validité."
            if validity_start is not None else
            "La fin de validité ne peut pas précéder la date de délivrance.",
            "validity_end",
        )
    if doc_type is not None and doc_type.end_required and validity_end is None:
        problems.add(
            f"La fin de validité est obligatoire pour ce type de document "
            f"({doc_type.label}) : reportez celle qui est imprimée.",
            "validity_end",
        )


def find_establishment(company: Company, siret: str | None, problems: Problems
                       ) -> Establishment | None:
    """The establishment named by `siret`, which must belong to `company`; None: company level."""
    if not siret:
        return None
    try:
        number = validate_siret(siret)
    except InvalidIdentifier as error:
        problems.add(str(error), "siret")
        return None
    establishment = db.session.scalar(
        select(Establishment).where(
            Establishment.siret == number, Establishment.company_id == company.id
        )
    )
    if establishment is None:
        problems.add(
            f"L'établissement {number} n'appartient pas à l'entreprise {company.name}.", "siret"
        )
    return establishment


def check_replaces(
    company: Company,
    doc_type: DocumentType | None,
    establishment: Establishment | None,
    replaces_id: int | None,
    problems: Problems,
) -> Document | None:
    if replaces_id is None or doc_type is None:
        return None
    replaced = db.session.get(Document, replaces_id)
    if (
        replaced is None
        or not replaced.is_current
        or replaced.slot
        != (company.id, establishment.id if establishment else None, doc_type.code)
    ):
        problems.add("Le document à remplacer n'est pas un document en cours de ce dossier.",
                     "replaces")
        return None
    return replaced


def spool_upload(stream: IO[bytes], max_bytes: int) -> Path:
    """Copy an incoming upload to a private temporary file, refusing it past `max_bytes`."""
    directory = Path(storage().root) / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            while chunk := stream.read(256 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise DocumentError(_too_large(max_bytes), "file")
                handle.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _too_large(max_bytes: int) -> str:
    return f"Le fichier est trop volumineux : {megabytes_fr(max_bytes)} au plus."


def check_pdf(path: Path, max_bytes: int) -> None:
    """Refuse (DocumentError) anything but a readable, unencrypted, passive PDF.

    The content is checked in a child process limited in time and memory
    (PDF_CHECK_TIMEOUT, PDF_CHECK_MEMORY_MB): a file built to exhaust the
    parser is refused as too complex instead of stalling the portal.
    """
    size = path.stat().st_size
    if size == 0:
        raise DocumentError("Le fichier est vide.", "file")
    if size > max_bytes:
        raise DocumentError(_too_large(max_bytes), "file")
    config = current_app.config
    try:
        inspect_pdf_isolated(path, timeout=config.get("PDF_CHECK_TIMEOUT", 20.0),
                             memory_mb=config.get("PDF_CHECK_MEMORY_MB", 512))
    except PdfRejected as error:
        raise DocumentError(str(error), "file") from None


_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}
MAX_FILENAME = 200


def check_filename(name: str | None) -> str:
    """The uploader's file name, kept for display only and never used as a path.

    Names that only a tampering client sends are refused: directories or
    traversal, control characters, bidirectional overrides, look-alike
    characters (anything NFKC would rewrite), and absurd lengths.
    """
    name = unicodedata.normalize("NFC", name or "")
    refusal = "Le nom du fichier n'est pas accepté : "
    if not name.strip():
        raise DocumentError("Choisissez le fichier PDF à déposer.", "file")
    if len(name) > MAX_FILENAME:
        raise DocumentError(refusal + f"il dépasse {MAX_FILENAME} caractères.", "file")
    if "/" in name or "\\" in name or ".." in name:
        raise DocumentError(refusal + "il contient un chemin (« / », « \\ » ou « .. »).",
                            "file")
    if any(not ch.isprintable() for ch in name) or _BIDI_CONTROLS & set(name):
        raise DocumentError(refusal + "il contient des caractères de contrôle.", "file")
    if unicodedata.normalize("NFKC", name) != name:
        raise DocumentError(
            refusal + "il contient des caractères qui imitent d'autres caractères.", "file"
        )
    return name.strip()




def archive(document: Document, replaced_by: Document, now: datetime) -> None:
    """Move `document` to history, replaced by `replaced_by`: the one way a document leaves.

    Its row and file stay for proof (DOMAIN 2: never deleted). A current one
    gives up its slot; a refused one is settled by the document that answers it.
    """
    document.is_current = False
    document.current_slot = None
    document.archived_at = now
    document.replaced_by_id = replaced_by.id


def claim_slot(document: Document) -> None:
    """Make `document` current; its slot's previous holder is archived and flushed first."""
    document.is_current = True
    document.current_slot = (
        None if CATALOGUE[document.doc_type].multi
        else slot_key(document.company_id, document.establishment_id, document.doc_type)
    )


def make_current(document: Document, now: datetime) -> list[Document]:
    """Make `document` current in its slot; archive what it replaces. Returns the archived."""
    doc_type = CATALOGUE[document.doc_type]
    archived: list[Document] = []
    if doc_type.multi:
        if document.replaces_id is not None:
            replaced = db.session.get(Document, document.replaces_id)
            if replaced is not None and replaced.is_current and replaced.slot == document.slot:
                archived.append(replaced)
    else:
        key = slot_key(document.company_id, document.establishment_id, document.doc_type)
        previous = db.session.scalar(
            select(Document)
            .where(Document.current_slot == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if previous is not None and previous.id != document.id:
            archived.append(previous)
    for old in archived:
        archive(old, document, now)
    # The archive must reach the database before the new row claims the slot.
    db.session.flush()
    claim_slot(document)
    db.session.flush()
    return archived


def settle_refusals(documents: list[Document], now: datetime) -> None:
    """New documents settle the refusals of their slots: those move to history.

    A refused upload stays in view (with its reason) until something answers
    it in its slot: a new upload, or a provider document that became current.
    """
    by_slot = {(d.company_id, d.establishment_id, d.doc_type): d for d in documents}
    if not by_slot:
        return
    refused = db.session.scalars(select(Document).where(
        Document.company_id.in_(sorted({company for company, _site, _type in by_slot})),
        Document.doc_type.in_(sorted({doc_type for _company, _site, doc_type in by_slot})),
        Document.review_state == ReviewState.REFUSED.value,
        Document.archived_at.is_(None),
    ))
    for old in refused:
        new = by_slot.get((old.company_id, old.establishment_id, old.doc_type))
        if new is not None and new.id != old.id:
            archive(old, new, now)


def add_document(
    *,
    company: Company,
    establishment: Establishment | None,
    doc_type: DocumentType,
    issue_date: date,
    validity_start: date | None,
    validity_end: date | None,
    stored: StoredFile,
    filename: str,
    uploaded_by: User | None,
    validated: bool,
    replaces: Document | None = None,
    source: str = Source.MANUAL.value,
    now: datetime | None = None,
) -> Document:
    """Record a checked, stored document; validated ones become current at once."""
    now = now or utcnow()
    start = validity_start or issue_date
    lock_company(company.id)
    document = Document(
        company_id=company.id,
        establishment_id=establishment.id if establishment else None,
        doc_type=doc_type.code,
        source=source,
        issue_date=issue_date,
        validity_start=start,
        validity_end=validity_end,
        effective_end=effective_end(doc_type, issue_date, start, validity_end),
        sha256=stored.sha256,
        size=stored.size,
        filename=filename,
        uploaded_by_id=uploaded_by.id if uploaded_by else None,
        uploaded_at=now,
        review_state=ReviewState.VALIDATED.value if validated else ReviewState.PENDING.value,
        reviewed_at=now if validated else None,
        replaces_id=replaces.id if replaces else None,
    )
    db.session.add(document)
    db.session.flush()
    settle_refusals([document], now)
    archived = make_current(document, now) if validated else []
    refresh_suppliers([company.id])
    audit(
        company.id,
        uploaded_by,
        "document.imported" if validated else "document.uploaded",
        document_id=document.id,
        doc_type=doc_type.code,
        siret=establishment.siret if establishment else None,
        archived=[old.id for old in archived],
    )
    return document


@dataclass(frozen=True)
class KeptFile:
    """A file that passed its checks in a submission refused for another reason.

    Kept under a random token in the store's temporary folder, so that the
    person corrects the form without choosing the file again; `storage check
    --fix` removes the ones never submitted again. Callers bind the token to
    the person who sent the file (the session); the token alone is no right.
    """

    token: str
    filename: str
    size: int

    @property
    def path(self) -> Path:
        return _kept_directory() / f"kept-{self.token}"

    @classmethod
    def find(cls, token: str, filename: str) -> KeptFile | None:
        """The kept file of `token`, if it is still there."""
        if not (token.isascii() and len(token) == 32 and all(c in _TOKEN_CHARS for c in token)):
            return None
        path = _kept_directory() / f"kept-{token}"
        return cls(token, filename, path.stat().st_size) if path.is_file() else None


_TOKEN_CHARS = frozenset("0123456789abcdef")


def _kept_directory() -> Path:
    return Path(storage().root) / "tmp"


def _keep(spooled: Path, filename: str) -> KeptFile:
    token = secrets.token_hex(16)
    kept = KeptFile(token, filename, spooled.stat().st_size)
    os.replace(spooled, kept.path)
    return kept


class UploadRejected(DocumentError):
    """An upload refused by one or more checks; `problems` holds every one, by field.

    `kept` is the submitted file when it passed its own checks: the next
    submission may name it instead of sending it again.
    """

    def __init__(self, problems: Problems, kept: KeptFile | None = None):
        field_name, message = problems.items[0]
        super().__init__(message, field_name)
        self.problems = problems
        self.kept = kept


@dataclass(frozen=True)
class Submission:
    """What a person (form) or a script (`documents import`) says of a document."""

    doc_type: str
    issue_date: date | None
    validity_start: date | None = None
    validity_end: date | None = None
    siret: str | None = None
    # The id of the current document this one replaces (multi types), as typed.
    replaces: str | int | None = None
    validated: bool = False


def _replaces_id(raw: str | int | None, problems: Problems) -> int | None:
    """A document id as typed: ASCII digits of a size ids can have, else a refusal."""
    if raw is None or raw == "":
        return None
    number = parse_id(str(raw))
    if number is not None:
        return number
    problems.add("Le document à remplacer n'est pas un document en cours de ce dossier.",
                 "replaces")
    return None


def submit_upload(
    company: Company,
    submission: Submission,
    stream: IO[bytes] | None,
    filename: str | None,
    *,
    uploaded_by: User | None,
    today: date,
    problems: Problems | None = None,
    kept: KeptFile | None = None,
    keep_on_refusal: bool = False,
) -> Document:
    """Check everything about an upload, then store its file, then record it.

    Every check runs and every refusal is collected (UploadRejected carries
    them all, by form field): type, establishment of this company, dates
    (bounded), the document it replaces, the slot open to manual upload, the
    file name, the size and the PDF's content (in a child process). The file
    reaches storage only once all of it is accepted, so a refusal leaves
    nothing behind. `problems` may hold refusals the caller found already
    (a form's own validation).

    Without a new file, `kept` (a file kept from a refused submission) is
    used. With `keep_on_refusal`, a file that passed its checks in a refused
    submission is kept and returned in UploadRejected.kept.
    """
    problems = problems if problems is not None else Problems()
    doc_type = check_type(submission.doc_type, problems)
    establishment = find_establishment(company, submission.siret, problems)
    check_dates(doc_type, submission.issue_date, submission.validity_start,
                submission.validity_end, today, problems)
    replaces = check_replaces(company, doc_type, establishment,
                              _replaces_id(submission.replaces, problems), problems)
    check_slot_open(company, doc_type, problems)

    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    spooled: Path | None = None
    file_ok = False
    try:
        if (stream is None or not filename) and kept is not None:
            filename, spooled = kept.filename, kept.path
        elif stream is None or not filename:
            problems.add("Choisissez le fichier PDF à déposer.", "file")
        try:
            if spooled is None and stream is not None and filename:
                filename = check_filename(filename)
                spooled = spool_upload(stream, max_bytes)
            if spooled is not None:
                check_pdf(spooled, max_bytes)
                file_ok = True
        except DocumentError as error:
            problems.add(str(error), "file")
        if problems:
            if keep_on_refusal and file_ok and spooled is not None and filename:
                kept = kept if spooled == (kept.path if kept else None) else _keep(
                    spooled, filename)
                spooled = None
                raise UploadRejected(problems, kept)
            raise UploadRejected(problems)
        assert doc_type is not None and submission.issue_date is not None and filename
        assert spooled is not None
        with spooled.open("rb") as handle:
            stored = storage().save(handle, max_bytes=max_bytes)
    finally:
        if spooled is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(spooled)
    return add_document(
        company=company, establishment=establishment, doc_type=doc_type,
        issue_date=submission.issue_date, validity_start=submission.validity_start,
        validity_end=submission.validity_end, stored=stored, filename=filename,
        uploaded_by=uploaded_by, validated=submission.validated, replaces=replaces,
    )


def add_current_bulk(company_id: int, rows: list[dict], stored: StoredFile) -> None:
    """Insert many validated documents into empty slots at once (benchmarks, large tests).

    Each row gives doc_type, establishment_id (or None), issue_date and
    optionally validity_end, and company_id when it is another company's
    (many suppliers at once); all share one stored file. The slots must be
    empty: the unique slot key refuses a second current document, so this
    fast path cannot bend the rules, only fail on them.
    """
    now = utcnow()
    values = []
    for row in rows:
        spec = CATALOGUE[row["doc_type"]]
        issue = row["issue_date"]
        end = row.get("validity_end")
        owner = row.get("company_id", company_id)
        values.append({
            "company_id": owner,
            "establishment_id": row.get("establishment_id"),
            "doc_type": spec.code,
            "source": Source.MANUAL.value,
            "issue_date": issue,
            "validity_start": issue,
            "validity_end": end,
            "effective_end": effective_end(spec, issue, issue, end),
            "sha256": stored.sha256,
            "size": stored.size,
            "filename": f"{spec.code.lower()}.pdf",
            "uploaded_at": now,
            "review_state": ReviewState.VALIDATED.value,
            "reviewed_at": now,
            "is_current": True,
            "current_slot": None if spec.multi else slot_key(
                owner, row.get("establishment_id"), spec.code),
        })
    for start in range(0, len(values), 1000):
        # Core rows (one executemany), not the ORM's per-row bookkeeping: 3x faster.
        db.session.execute(insert(Document.metadata.tables[Document.__tablename__]),
                           values[start:start + 1000])
    db.session.flush()
    refresh_suppliers(value["company_id"] for value in values)


class ReviewConflict(DocumentError):
    """The document was reviewed meanwhile (another operator, another tab)."""


def _pending_for_update(document_id: int) -> Document:
    document = db.session.scalar(
        select(Document)
        .where(Document.id == document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if document is None or document.review_state != ReviewState.PENDING:
        raise ReviewConflict("Ce document a déjà été traité.")
    return document


def _lock_pending(document_id: int) -> Document:
    """The document to review, under its company's lock, still pending (else ReviewConflict)."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise ReviewConflict("Ce document n'existe pas.")
    lock_company(document.company_id)
    return _pending_for_update(document_id)


def validate_document(document_id: int, reviewer: User, now: datetime | None = None
                      ) -> Document:
    now = now or utcnow()
    document = _lock_pending(document_id)
    document.review_state = ReviewState.VALIDATED.value
    document.reviewed_by_id = reviewer.id
    document.reviewed_at = now
    archived = make_current(document, now)
    refresh_suppliers([document.company_id])
    audit(document.company_id, reviewer, "document.validated", document_id=document.id,
          doc_type=document.doc_type, archived=[old.id for old in archived])
    return document


def refuse_document(document_id: int, reviewer: User, reason: str,
                    now: datetime | None = None) -> Document:
    reason = (reason or "").strip()
    if not reason:
        raise DocumentError("Indiquez la raison du refus : le fournisseur la verra.", "reason")
    now = now or utcnow()
    document = _lock_pending(document_id)
    document.review_state = ReviewState.REFUSED.value
    document.refusal_reason = reason[:2000]
    document.reviewed_by_id = reviewer.id
    document.reviewed_at = now
    refresh_suppliers([document.company_id])
    audit(document.company_id, reviewer, "document.refused", document_id=document.id,
          doc_type=document.doc_type, reason=document.refusal_reason)
    return document


def download_name(document: Document, siren: str, siret: str | None) -> str:
    """A file name built from facts we trust, never the uploader's."""
    owner = siret or siren
    return f"{document.doc_type}-{owner}-{document.issue_date.isoformat()}-{document.id}.pdf"

