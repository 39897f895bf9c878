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

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from ..core.locks import lock_company
from ..dossier.catalogue import CATALOGUE, effective_end
from ..dossier.pdf import TOO_COMPLEX, PdfChecker, PdfRejected
from ..dossier.provider import (
    Candidate,
    CurrentIndex,
    apply_provider_documents,
    current_documents,
    held,
    known_revisions,
)
from ..dossier.storage import LocalStorage, StoredFile, storage
from ..extensions import begin_write, db
from ..models import (
    Company,
    Document,
    Establishment,
    ProviderLink,
    SyncRun,
    SyncRunItem,
    utcnow,
)
from ..providers import PROVIDERS, connector_for
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
from .rules import Action, decide

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


@dataclass(frozen=True)
class Snapshot:
    siren: str
    linked: bool
    link_enabled: bool | None
    cursor: str | None
    current: CurrentIndex
    known: frozenset[tuple[str, int]]


def _item(kind: str, remote: RemoteDocument | Rejected, establishment_id: int | None = None,
          **fields) -> SyncRunItem:
    """A run item naming `remote`; phase 1 builds them with no transaction open."""
    if isinstance(remote, RemoteDocument):
        fields.setdefault("external_revision", remote.revision)
        fields.setdefault("issue_date", remote.issue_date)
    return SyncRunItem(kind=kind, doc_type=remote.doc_type,
                       provider_code=remote.provider_code[:200], siret=remote.siret,
                       establishment_id=establishment_id,
                       external_id=remote.external_id[:200], **fields)


def _snapshot(company: Company, provider: str) -> Snapshot:
    link = db.session.scalar(select(ProviderLink).where(
        ProviderLink.company_id == company.id, ProviderLink.provider == provider))
    return Snapshot(
        siren=company.siren,
        linked=link is not None and link.linked,
        link_enabled=None if link is None else link.sync_enabled,
        cursor=link.cursor if link is not None else None,
        # Plain Held values: the rows expire when phase 1 closes the transaction.
        current=CurrentIndex(((d.establishment_id, d.doc_type), held(d))
                             for d in current_documents(company.id, provider)),
        known=known_revisions(company.id, provider),
    )


@dataclass
class Phase1:
    account_name: str
    subscription_active: bool
    candidates: list[Candidate]
    counts: dict[str, int]
    items: list[SyncRunItem]
    high_water: str | None
    files_downloaded: int


def _check_dates(remote: RemoteDocument) -> str | None:
    """Why the provider's dates cannot make a document here, or None."""
    spec = CATALOGUE[remote.code]
    if remote.validity_end is None and spec.end_required:
        return "no_end_date"
    end = effective_end(spec, remote.issue_date, remote.validity_start, remote.validity_end)
    if remote.validity_start > end:
        return "incoherent_dates"
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
        spooled = self.store.spool(chunks, max_bytes=max_bytes,
                                   expected_sha256=expected_sha256, durable=False)
        try:
            timeout = self.checker.timeout
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise RunDeadline
                timeout = min(timeout, max(1.0, left))
            try:
                self.checker.check(str(spooled.path), timeout=timeout)
            except PdfRejected as refusal:
                if timeout < self.checker.timeout and str(refusal) == TOO_COMPLEX:
                    # Cut short by the run's deadline, not judged: the next run checks it.
                    raise RunDeadline from refusal
                raise
            return self.store.adopt(spooled)
        finally:
            spooled.discard()


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
            checker: PdfChecker | None = None, recheck_known: bool = False) -> Phase1 | None:
    """`recheck_known`: offer phase 2 the documents already seen too (a reactivation), so
    that each one the portal keeps a newer version over is reported again."""
    account = connector.discover(snapshot.siren)
    hooks.call("after_discovery")
    if account is None:
        return None
    if not account.active:
        raise InactiveSubscription(account)
    listing = connector.list_documents(snapshot.siren, since=None if full else snapshot.cursor)
    hooks.call("after_listing")

    counts = dict.fromkeys(_COUNTS, 0)
    items: list[SyncRunItem] = []
    for remote in listing.unknown:
        counts["skipped"] += 1
        items.append(_item("unknown_type", remote))
    for rejected in listing.rejected:
        counts["skipped"] += 1
        items.append(_item("date_out_of_range", rejected, value=rejected.value[:200]))

    sirets = sorted({remote.siret for remote in listing.documents if remote.siret})
    establishments: dict[str, int] = {}
    if sirets:
        establishments = dict(db.session.execute(
            select(Establishment.siret, Establishment.id).where(
                Establishment.company_id == company_id, Establishment.siret.in_(sirets))
        ).all())
        db.session.rollback()  # no transaction stays open while we fetch

    if checker is not None:
        return _fetch(connector, snapshot, listing, establishments, counts, items,
                      CheckedStore(storage(), checker, deadline), account, hooks,
                      recheck_known)
    with pdf_checker() as own:
        return _fetch(connector, snapshot, listing, establishments, counts, items,
                      CheckedStore(storage(), own, deadline), account, hooks, recheck_known)


def _fetch(connector, snapshot: Snapshot, listing: Listing, establishments: dict[str, int],
           counts: dict[str, int], items: list[SyncRunItem], save: CheckedStore,
           account: Account, hooks: SyncHooks, recheck_known: bool) -> Phase1:
    """Phase 1's second half: decide on the snapshot, fetch and check the files needed."""
    store = save.store
    candidates: list[Candidate] = []
    downloaded = 0
    for remote in listing.documents:
        known = (remote.external_id, remote.revision) in snapshot.known
        if known and not recheck_known:
            continue
        establishment_id = None
        if remote.siret:
            establishment_id = establishments.get(remote.siret)
            if establishment_id is None:
                if not known:
                    counts["skipped"] += 1
                    items.append(_item("establishment_missing", remote))
                continue
        if known:
            # No file to fetch: phase 2 only says whether the portal keeps a newer one.
            candidates.append(Candidate(remote, establishment_id))
            continue
        problem = _check_dates(remote) if remote.state not in ("awaiting", "refused") else None
        if problem:
            counts["skipped"] += 1
            items.append(_item("bad_dates", remote, establishment_id, reason=problem))
            continue
        multi = CATALOGUE[remote.code].multi
        slot = (establishment_id, remote.code)
        decision = decide(remote, multi=multi,
                          current=snapshot.current.relevant(slot, remote, multi))
        if decision.needs_file:
            if store.exists(remote.sha256):
                # Reused (from a failed run, or another document): young again, so that
                # `storage check --fix` cannot take it before phase 2 refers to it.
                store.touch(remote.sha256)
            else:
                reason: str | None
                value: str | None = None
                try:
                    connector.fetch_file(remote, save)
                except PdfRejected as refusal:
                    reason = wording.pdf_code(str(refusal))
                except ProviderError as error:
                    if error.code not in FILE_CONTENT_ERRORS:
                        raise
                    reason, value = wording.file_problem_code(error)
                else:
                    reason = None
                downloaded += 1
                if reason is not None:
                    # Not applied, and the run goes on: the next file may well be fine.
                    log.warning("%s file %s refused: %s", remote.provider, remote.external_id,
                                reason)
                    counts["skipped"] += 1
                    items.append(_item("file_refused", remote, establishment_id,
                                       reason=reason, value=value))
                    continue
                hooks.call("after_file", remote)
        candidates.append(Candidate(remote, establishment_id))
    if downloaded:
        # One flush to disk for the whole run, before any row may refer to the files.
        store.sync()
    return Phase1(account.name, account.active, candidates, counts, items,
                  listing.high_water, downloaded)


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
    items = list(result.items)
    archived: dict[int, Document] = {}  # by id(item): what a replacement archived
    establishment_of = {id(c.remote): c.establishment_id for c in result.candidates}
    missing_file = False
    for applied in apply_provider_documents(company_id, provider, result.candidates, now):
        remote = applied.remote
        where = establishment_of.get(id(remote))
        if applied.missing_file:
            missing_file = True
            counts["skipped"] += 1
            items.append(_item("file_missing", remote, where))
        elif applied.action is Action.AWAITING:
            counts["awaiting"] += 1
            items.append(_item("awaiting", remote, where))
        elif applied.action is Action.REFUSED:
            counts["refused"] += 1
            items.append(_item("refused", remote, where, reason=remote.rejection_reason))
        elif applied.action is Action.KEEP:
            counts["kept"] += 1
            kept = applied.kept
            items.append(_item("kept", remote, where,
                               document_id=kept.id if kept is not None else None))
        elif applied.action is Action.LOWER:
            items.append(_item("lower_revision", remote, where))
        elif applied.action in (Action.REPLACE, Action.IMPORT):
            replacing = applied.action is Action.REPLACE
            counts["replaced" if replacing else "imported"] += 1
            document, old = applied.document, applied.archived
            item = _item("replaced" if replacing else "imported", remote, where,
                         document_id=document.id if document is not None else None,
                         archived_id=old.id if old is not None else None)
            if old is not None:
                archived[id(item)] = old
            items.append(item)

    link.linked = True
    link.account_name = result.account_name[:200]
    link.subscription_active = result.subscription_active
    link.checked_at = now
    if result.high_water and not missing_file:
        link.cursor = latest_instant([c for c in (link.cursor, result.high_water) if c])
    run = SyncRun(company_id=company_id, provider=provider, trigger=trigger,
                  triggered_by_id=user_id, started_at=started, finished_at=utcnow(),
                  outcome=Outcome.SUCCESS, files_downloaded=result.files_downloaded,
                  details=[], **counts)
    db.session.add(run)
    for position, item in enumerate(items):
        item.run, item.position = run, position
    db.session.add_all(items)
    hooks.call("during_apply")
    db.session.flush()
    details = [wording.item_line(item, name, archived.get(id(item))) for item in items]
    return run.id, counts, details


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
                             deadline=run_deadline, checker=checker,
                             recheck_known=trigger == "reactivation")
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
