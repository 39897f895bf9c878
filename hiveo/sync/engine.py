"""A synchronisation run for one company and one provider (DOMAIN.md 3.5 to 3.7).

Phase 1, with no database transaction open: discover the account, list the
documents, decide which files are needed against a snapshot of the dossier,
fetch them (checked against their SHA-256) into the content-addressed store.
Phase 2, one short write transaction: re-read the switch (turned off
meanwhile, it wins), lock the link and the company, decide again on fresh
rows, write every change and the run record. Anything that fails before
phase 2 commits applies nothing; the files already stored are simply reused
by the next run. No Flask request is needed: views, the CLI and tests call
`sync_company()` inside an app context.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..core.locks import lock_company
from ..dossier.catalogue import CATALOGUE, effective_end
from ..dossier.pdf import TOO_COMPLEX, PdfChecker, PdfRejected
from ..dossier.storage import CHUNK, ChecksumMismatch, LocalStorage, StoredFile, TooLarge, storage
from ..extensions import begin_write, db
from ..identifiers import format_siret
from ..models import (
    Company,
    Document,
    Establishment,
    ProviderLink,
    ReviewState,
    SyncRun,
    slot_key,
    utcnow,
)
from ..providers import PROVIDERS, connector_for, supplied_types
from ..providers.reading import latest_instant
from ..providers.records import (
    FILE_CONTENT_ERRORS,
    Account,
    ErrorCode,
    Listing,
    ProviderError,
    Rejected,
    RemoteDocument,
)
from . import wording
from .locks import lock_link, run_lock
from .outcomes import Outcome
from .rules import Action, Held, decide

log = logging.getLogger("hiveo.sync")

TRIGGERS = ("periodic", "manual", "reactivation")
_COUNTS = SyncRun.COUNTS


@dataclass
class SyncHooks:
    """Points where tests inject faults; each callable may raise."""

    after_discovery: Callable[[], None] | None = None
    after_listing: Callable[[], None] | None = None
    after_file: Callable[[RemoteDocument], None] | None = None
    before_apply: Callable[[], None] | None = None
    during_apply: Callable[[], None] | None = None

    def call(self, name: str, *args) -> None:
        hook = getattr(self, name)
        if hook is not None:
            hook(*args)


@dataclass
class RunReport:
    """What a caller shows: the outcome of one run, or why none took place."""

    provider: str
    siren: str
    outcome: Outcome
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTS, 0))
    error: str | None = None
    details: list[str] = field(default_factory=list)
    run_id: int | None = None
    files_downloaded: int = 0

    @property
    def provider_name(self) -> str:
        return PROVIDERS[self.provider]

    @property
    def ok(self) -> bool:
        return self.outcome is not Outcome.FAILED

    def summary(self) -> str:
        """The French sentence people read after a run."""
        return wording.summary(self.outcome, self.provider_name, self.counts, self.error)


class CurrentIndex:
    """Current documents by slot, and by (slot, source, external id) for quick matches.

    decide() only ever needs the document with the same external id, or for a
    single-occurrence type the slot's one current document: a multi type slot
    holding hundreds of certificates costs one lookup per remote document.
    """

    def __init__(self, items: Iterable[tuple[tuple[int | None, str], Any]] = ()):
        """`items`: (slot, Held or Document) pairs; both have source and external_id."""
        self.slots: dict[tuple[int | None, str], list] = defaultdict(list)
        self._external: dict[tuple, Any] = {}
        for slot, item in items:
            self.add(slot, item)

    def add(self, slot: tuple[int | None, str], item) -> None:
        self.slots[slot].append(item)
        if item.external_id is not None:
            self._external[(slot, item.source, item.external_id)] = item

    def remove(self, slot: tuple[int | None, str], item) -> None:
        self.slots[slot] = [other for other in self.slots[slot] if other is not item]
        if item.external_id is not None:
            self._external.pop((slot, item.source, item.external_id), None)

    def relevant(self, slot: tuple[int | None, str], remote: RemoteDocument, multi: bool
                 ) -> list:
        same = self._external.get((slot, remote.provider, remote.external_id))
        if same is not None:
            return [same]
        return [] if multi else list(self.slots.get(slot, ()))


@dataclass(frozen=True)
class Snapshot:
    siren: str
    linked: bool
    link_enabled: bool | None
    cursor: str | None
    current: CurrentIndex
    known: frozenset[tuple[str, int]]


def _where(remote: RemoteDocument | Rejected) -> str:
    return f"établissement {format_siret(remote.siret)}" if remote.siret else "entreprise"


def _label(remote: RemoteDocument | Rejected) -> str:
    return CATALOGUE[remote.doc_type].label if remote.doc_type in CATALOGUE else (
        remote.provider_code)


def _held(document: Document) -> Held:
    """A Held that names its document by Python identity: new rows have no id yet."""
    return Held(id(document), document.source, document.external_id,
                document.external_revision, document.issue_date, document.validity_start)


def _current_documents(company_id: int, provider: str) -> list[Document]:
    return list(db.session.scalars(
        select(Document).where(
            Document.company_id == company_id,
            Document.is_current.is_(True),
            Document.doc_type.in_(sorted(supplied_types(provider))),
        )
    ))


def _known_revisions(company_id: int, provider: str) -> frozenset[tuple[str, int]]:
    rows = db.session.execute(
        select(Document.external_id, Document.external_revision).where(
            Document.company_id == company_id, Document.source == provider
        )
    )
    return frozenset((external_id, revision) for external_id, revision in rows)


def _snapshot(company: Company, provider: str) -> Snapshot:
    link = db.session.scalar(select(ProviderLink).where(
        ProviderLink.company_id == company.id, ProviderLink.provider == provider))
    return Snapshot(
        siren=company.siren,
        linked=link is not None and link.linked,
        link_enabled=None if link is None else link.sync_enabled,
        cursor=link.cursor if link is not None else None,
        # Plain Held values: the rows expire when phase 1 closes the transaction.
        current=CurrentIndex(((d.establishment_id, d.doc_type), _held(d))
                             for d in _current_documents(company.id, provider)),
        known=_known_revisions(company.id, provider),
    )


@dataclass
class Candidate:
    remote: RemoteDocument
    establishment_id: int | None


@dataclass
class Phase1:
    account_name: str
    subscription_active: bool
    candidates: list[Candidate]
    counts: dict[str, int]
    details: list[str]
    high_water: str | None
    files_downloaded: int


def _check_dates(remote: RemoteDocument) -> str | None:
    """Why the provider's dates cannot make a document here, or None."""
    spec = CATALOGUE[remote.doc_type]
    if remote.validity_end is None and spec.end_required:
        return wording.NO_END_DATE
    end = effective_end(spec, remote.issue_date, remote.validity_start, remote.validity_end)
    if remote.validity_start > end:
        return wording.INCOHERENT_DATES
    return None


class InactiveSubscription(Exception):
    """The provider knows the company, but its subscription has ended."""

    def __init__(self, account: Account):
        super().__init__(account.name)
        self.account = account


class RunDeadline(Exception):
    """The run's own deadline passed between two provider calls."""


@dataclass
class CheckedStore:
    """Stores a provider's file only once the isolated PDF check accepted its bytes.

    The bytes are spooled to a private temporary file (hashed and counted as
    they arrive), checked there by the same child process as uploads, under
    the PDF_CHECK_* limits (one child for the whole run: `PdfChecker`), and
    only then copied into the content-addressed store: a refused file never
    enters storage, so nothing there ever has to be deleted. `deadline`
    (time.monotonic()) shortens the check's time limit to what is left of the run.
    """

    store: LocalStorage
    checker: PdfChecker
    deadline: float | None = None

    def __call__(self, chunks: Iterable[bytes], *, max_bytes: int | None = None,
                 expected_sha256: str | None = None) -> StoredFile:
        directory = Path(self.store.root) / "tmp"
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix="provider-")
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(f"more than {max_bytes} bytes")
                    digest.update(chunk)
                    handle.write(chunk)
            received = digest.hexdigest()
            if expected_sha256 is not None and received != expected_sha256:
                raise ChecksumMismatch(f"expected {expected_sha256}, received {received}")
            timeout = self.checker.timeout
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise RunDeadline
                timeout = min(timeout, max(1.0, left))
            try:
                self.checker.check(name, timeout=timeout)
            except PdfRejected as refusal:
                if timeout < self.checker.timeout and str(refusal) == TOO_COMPLEX:
                    # Cut short by the run's deadline, not judged: the next run checks it.
                    raise RunDeadline from refusal
                raise
            with open(name, "rb") as spooled:
                return self.store.save_chunks(iter(lambda: spooled.read(CHUNK), b""),
                                              expected_sha256=received, durable=False)
        finally:
            os.unlink(name)


def pdf_checker() -> PdfChecker:
    """The checker of provider files, under the app's PDF_CHECK_* limits (close it after use).

    `sync_company()` opens one per run; a caller running many (`flask sync run`)
    may lend one to all of them, so that one child process checks every file.
    """
    config = current_app.config
    return PdfChecker(timeout=float(config.get("PDF_CHECK_TIMEOUT", 20.0)),
                      memory_mb=int(config.get("PDF_CHECK_MEMORY_MB", 512)))


def _phase1(connector, company_id: int, snapshot: Snapshot, *, full: bool,
            hooks: SyncHooks, deadline: float | None = None,
            checker: PdfChecker | None = None) -> Phase1 | None:
    account = connector.discover(snapshot.siren)
    hooks.call("after_discovery")
    if account is None:
        return None
    if not account.active:
        raise InactiveSubscription(account)
    listing = connector.list_documents(snapshot.siren, since=None if full else snapshot.cursor)
    hooks.call("after_listing")

    counts = dict.fromkeys(_COUNTS, 0)
    details: list[str] = []
    for remote in listing.unknown:
        counts["skipped"] += 1
        details.append(wording.unknown_type(remote.provider_code, _where(remote)))
    for rejected in listing.rejected:
        counts["skipped"] += 1
        details.append(wording.date_out_of_range(_label(rejected), _where(rejected),
                                                 rejected.value))

    sirets = sorted({remote.siret for remote in listing.documents if remote.siret})
    establishments: dict[str, int] = {}
    if sirets:
        establishments = dict(db.session.execute(
            select(Establishment.siret, Establishment.id).where(
                Establishment.company_id == company_id, Establishment.siret.in_(sirets))
        ).all())
        db.session.rollback()  # no transaction stays open while we fetch

    if checker is not None:
        return _fetch(connector, snapshot, listing, establishments, counts, details,
                      CheckedStore(storage(), checker, deadline), account, hooks)
    with pdf_checker() as own:
        return _fetch(connector, snapshot, listing, establishments, counts, details,
                      CheckedStore(storage(), own, deadline), account, hooks)


def _fetch(connector, snapshot: Snapshot, listing: Listing, establishments: dict[str, int],
           counts: dict[str, int], details: list[str], save: CheckedStore, account: Account,
           hooks: SyncHooks) -> Phase1:
    """Phase 1's second half: decide on the snapshot, fetch and check the files needed."""
    store = save.store
    candidates: list[Candidate] = []
    downloaded = 0
    for remote in listing.documents:
        if (remote.external_id, remote.revision) in snapshot.known:
            continue
        establishment_id = None
        if remote.siret:
            establishment_id = establishments.get(remote.siret)
            if establishment_id is None:
                counts["skipped"] += 1
                details.append(wording.establishment_missing(_label(remote),
                                                             format_siret(remote.siret)))
                continue
        problem = _check_dates(remote) if remote.state not in ("awaiting", "refused") else None
        if problem:
            counts["skipped"] += 1
            details.append(wording.bad_dates(_label(remote), _where(remote), problem))
            continue
        multi = CATALOGUE[remote.doc_type].multi
        slot = (establishment_id, remote.doc_type)
        decision = decide(remote, multi=multi,
                          current=snapshot.current.relevant(slot, remote, multi))
        if decision.needs_file:
            if store.exists(remote.sha256):
                # Reused (from a failed run, or another document): young again, so that
                # `storage check --fix` cannot take it before phase 2 refers to it.
                store.touch(remote.sha256)
            else:
                try:
                    connector.fetch_file(remote, save)
                except PdfRejected as refusal:
                    reason = wording.pdf_reason(str(refusal))
                except ProviderError as error:
                    if error.code not in FILE_CONTENT_ERRORS:
                        raise
                    reason = wording.file_problem(error)
                else:
                    reason = None
                downloaded += 1
                if reason is not None:
                    # Not applied, and the run goes on: the next file may well be fine.
                    log.warning("%s file %s refused: %s", remote.provider, remote.external_id,
                                reason)
                    counts["skipped"] += 1
                    details.append(wording.file_refused(_label(remote), _where(remote), reason))
                    continue
                hooks.call("after_file", remote)
        candidates.append(Candidate(remote, establishment_id))
    if downloaded:
        # One flush to disk for the whole run, before any row may refer to the files.
        store.sync()
    return Phase1(account.name, account.active, candidates, counts, details,
                  listing.high_water, downloaded)


def _document_from(remote: RemoteDocument, company_id: int, establishment_id: int | None,
                   now: datetime) -> Document:
    spec = CATALOGUE[remote.doc_type]
    return Document(
        company_id=company_id,
        establishment_id=establishment_id,
        doc_type=remote.doc_type,
        source=remote.provider,
        external_id=remote.external_id,
        external_revision=remote.revision,
        provider_state="expired" if remote.state == "expired" else "valid",
        issue_date=remote.issue_date,
        validity_start=remote.validity_start,
        validity_end=remote.validity_end,
        effective_end=effective_end(spec, remote.issue_date, remote.validity_start,
                                    remote.validity_end),
        sha256=remote.sha256,
        size=remote.size,
        filename=remote.filename[:200] or "document.pdf",
        uploaded_at=now,
        review_state=ReviewState.VALIDATED.value,
        reviewed_at=now,
        is_current=False,
    )


def _phase2(company_id: int, provider: str, trigger: str, user_id: int | None, started: datetime,
            result: Phase1, hooks: SyncHooks) -> tuple[int, dict[str, int], list[str]]:
    """Apply everything in one transaction; returns the run id, counts and report lines."""
    name = PROVIDERS[provider]
    begin_write()
    link = lock_link(company_id, provider)
    if link is None:
        link = ProviderLink(company_id=company_id, provider=provider, sync_enabled=True)
        db.session.add(link)
    elif not link.sync_enabled:
        raise SyncCancelled(wording.cancelled(name))
    lock_company(company_id)

    now = utcnow()
    counts = dict(result.counts)
    details = list(result.details)
    current = CurrentIndex(((d.establishment_id, d.doc_type), d)
                           for d in _current_documents(company_id, provider))
    known = set(_known_revisions(company_id, provider))
    store = storage()
    new_documents: list[Document] = []
    archived: list[tuple[Document, Document]] = []
    missing_file = False
    for candidate in result.candidates:
        remote = candidate.remote
        if (remote.external_id, remote.revision) in known:
            continue
        slot = (candidate.establishment_id, remote.doc_type)
        multi = CATALOGUE[remote.doc_type].multi
        relevant = current.relevant(slot, remote, multi)
        by_id = {id(document): document for document in relevant}
        decision = decide(remote, multi=multi, current=[_held(doc) for doc in relevant])
        label = f"{_label(remote)} ({_where(remote)})"
        if decision.action is Action.AWAITING:
            counts["awaiting"] += 1
            details.append(f"{label} : en attente de validation chez {name}.")
        elif decision.action is Action.REFUSED:
            counts["refused"] += 1
            reason = f" : {remote.rejection_reason}" if remote.rejection_reason else ""
            details.append(f"{label} : refusé par {name}{reason}.")
        elif decision.action is Action.KEEP:
            counts["kept"] += 1
            details.append(f"{label} : votre version est plus récente, elle est conservée.")
        elif decision.action is Action.LOWER:
            details.append(f"{label} : {name} propose une révision antérieure, ignorée.")
        elif decision.needs_file:
            if not store.exists(remote.sha256):
                # The dossier changed since phase 1 and this file was not fetched.
                missing_file = True
                counts["skipped"] += 1
                details.append(f"{label} : fichier non reçu, repris à la prochaine "
                               "synchronisation.")
                continue
            document = _document_from(remote, company_id, candidate.establishment_id, now)
            new_documents.append(document)
            if decision.replaces is not None:
                old = by_id[decision.replaces.id]
                archived.append((old, document))
                current.remove(slot, old)
                counts["replaced"] += 1
            else:
                counts["imported"] += 1
            current.add(slot, document)
            known.add((remote.external_id, remote.revision))

    # New rows first (for their ids), then the archives, then the new current
    # documents claim their slots: the unique slot key never sees two.
    db.session.add_all(new_documents)
    db.session.flush()
    for old, new in archived:
        old.is_current = False
        old.current_slot = None
        old.archived_at = now
        old.replaced_by_id = new.id
    db.session.flush()
    survivors = {id(document) for documents in current.slots.values() for document in documents}
    for document in new_documents:
        if id(document) in survivors:
            document.is_current = True
            if not CATALOGUE[document.doc_type].multi:
                document.current_slot = slot_key(company_id, document.establishment_id,
                                                 document.doc_type)
    _settle_refusals(company_id, new_documents, now)
    db.session.flush()

    link.linked = True
    link.account_name = result.account_name[:200]
    link.subscription_active = result.subscription_active
    link.checked_at = now
    if result.high_water and not missing_file:
        link.cursor = latest_instant([c for c in (link.cursor, result.high_water) if c])
    run = SyncRun(company_id=company_id, provider=provider, trigger=trigger,
                  triggered_by_id=user_id, started_at=started, finished_at=utcnow(),
                  outcome=Outcome.SUCCESS, files_downloaded=result.files_downloaded,
                  details=details, **counts)
    db.session.add(run)
    hooks.call("during_apply")
    db.session.flush()
    return run.id, counts, details


def _settle_refusals(company_id: int, new_documents: list[Document], now: datetime) -> None:
    """Manual refusals answered by a provider document move to history, as for uploads."""
    slots = {(d.establishment_id, d.doc_type): d for d in new_documents if d.is_current}
    if not slots:
        return
    refused = db.session.scalars(select(Document).where(
        Document.company_id == company_id,
        Document.review_state == ReviewState.REFUSED.value,
        Document.archived_at.is_(None),
    ))
    for old in refused:
        new = slots.get((old.establishment_id, old.doc_type))
        if new is not None:
            old.archived_at = now
            old.replaced_by_id = new.id


class SyncCancelled(Exception):
    """The switch was turned off while the run was fetching."""


def _record_failure(company_id: int, provider: str, trigger: str, user_id: int | None,
                    started: datetime, message: str, *, downloaded: int = 0,
                    link_state: dict | None = None,
                    outcome: Outcome = Outcome.FAILED) -> int:
    """A failed (or cancelled) run's record, in a transaction of its own; `link_state`
    updates the link."""
    db.session.rollback()
    begin_write()
    if link_state is not None:
        link = lock_link(company_id, provider)
        if link is None and link_state.get("linked"):
            link = ProviderLink(company_id=company_id, provider=provider, sync_enabled=True)
            db.session.add(link)
        if link is not None:
            for key, value in link_state.items():
                setattr(link, key, value)
            link.checked_at = utcnow()
    run = SyncRun(company_id=company_id, provider=provider, trigger=trigger,
                  triggered_by_id=user_id, started_at=started, finished_at=utcnow(),
                  outcome=outcome, error=message, files_downloaded=downloaded, details=[])
    db.session.add(run)
    db.session.commit()
    return run.id


def sync_company(company_id: int, provider: str, *, trigger: str = "manual",
                 user_id: int | None = None, full: bool = False,
                 hooks: SyncHooks | None = None, deadline: float | None = None,
                 checker: PdfChecker | None = None) -> RunReport:
    """Run one synchronisation; never raises for provider trouble (the report says it).

    `deadline`: seconds the whole run may take (calls, file checks); past it the
    run fails with nothing applied, as for any provider failure. Each provider
    call is bounded by HIVEO_PROVIDER_DEADLINE in any case. `checker`: a
    `pdf_checker()` lent by a caller that runs many syncs.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    hooks = hooks or SyncHooks()
    name = PROVIDERS[provider]
    started = utcnow()
    run_deadline = time.monotonic() + deadline if deadline is not None else None
    company = db.session.get(Company, company_id)
    if company is None:
        raise ValueError(f"no company {company_id}")
    snapshot = _snapshot(company, provider)
    del company  # expired by the rollback: phase 1 must not reload it
    db.session.rollback()  # phase 1 runs with no transaction open
    if snapshot.link_enabled is False:
        return RunReport(provider, snapshot.siren, Outcome.DISABLED)
    connector = connector_for(provider, current_app.config)
    if connector is None:
        return RunReport(provider, snapshot.siren, Outcome.OFF)
    connector.set_run_deadline(run_deadline)

    with run_lock(company_id, provider) as held:
        if not held:
            connector.close()
            return RunReport(provider, snapshot.siren, Outcome.BUSY)
        downloaded = 0
        link_state = None
        outcome = Outcome.FAILED
        try:
            phase1 = _phase1(connector, company_id, snapshot,
                             full=full or snapshot.cursor is None, hooks=hooks,
                             deadline=run_deadline, checker=checker)
            if phase1 is None:
                if not snapshot.linked:
                    return RunReport(provider, snapshot.siren, Outcome.NOT_LINKED)
                message = wording.account_gone(name)
                run_id = _record_failure(company_id, provider, trigger, user_id, started,
                                         message, link_state={"linked": False})
                return RunReport(provider, snapshot.siren, Outcome.FAILED, error=message,
                                 run_id=run_id)
            downloaded = phase1.files_downloaded
            hooks.call("before_apply")
            run_id, counts, details = _phase2(company_id, provider, trigger, user_id, started,
                                              phase1, hooks)
            db.session.commit()
            return RunReport(provider, snapshot.siren, Outcome.SUCCESS, counts=counts,
                             details=details, run_id=run_id, files_downloaded=downloaded)
        except InactiveSubscription as inactive:
            message = wording.provider_error(ProviderError(provider, ErrorCode.SUBSCRIPTION),
                                             name)
            link_state = {"linked": True, "subscription_active": False,
                          "account_name": inactive.account.name[:200]}
        except ProviderError as error:
            log.warning("sync of company %s with %s: %r %s", company_id, provider, error,
                        error.detail or "")
            message = wording.provider_error(error, name, run_seconds=deadline)
            if error.code is ErrorCode.SUBSCRIPTION:
                link_state = {"linked": True, "subscription_active": False}
        except RunDeadline:
            message = wording.run_deadline(name, deadline or 0.0)
        except SyncCancelled as error:
            message = str(error)
            outcome = Outcome.CANCELLED
        except Exception:
            log.exception("sync of company %s with %s failed", company_id, provider)
            message = wording.internal_error(name)
        finally:
            connector.close()
        run_id = _record_failure(company_id, provider, trigger, user_id, started, message,
                                 downloaded=downloaded, link_state=link_state, outcome=outcome)
        return RunReport(provider, snapshot.siren, outcome, error=message, run_id=run_id,
                         files_downloaded=downloaded)
