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

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from ..core.locks import lock_company
from ..core.text import format_date, plural
from ..dossier.catalogue import CATALOGUE, effective_end
from ..dossier.provider import (
    Candidate,
    CurrentIndex,
    apply_provider_documents,
    current_documents,
    held,
    known_revisions,
)
from ..dossier.storage import storage
from ..extensions import begin_write, db
from ..identifiers import format_siret
from ..models import (
    Company,
    Establishment,
    ProviderLink,
    SyncRun,
    utcnow,
)
from ..providers import PROVIDERS, connector_for
from ..providers.base import Account, ProviderError, RemoteDocument, latest_instant
from .locks import lock_link, run_lock
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
    # success / failed: a run happened and was recorded; cancelled: it was
    # recorded too, but the switch was turned off while it ran, so it applied
    # nothing (not a failure: nobody wants it retried); otherwise no run:
    # disabled (switch off), off (provider not configured), not_linked (no
    # account), busy (another run of this company holds the lock).
    outcome: str
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
        return self.outcome != "failed"

    def summary(self) -> str:
        """The French sentence people read after a run."""
        name = self.provider_name
        if self.outcome in ("failed", "cancelled"):
            return self.error or f"La synchronisation {name} a échoué."
        if self.outcome == "disabled":
            return f"Synchronisation {name} désactivée : aucun appel n'a été fait."
        if self.outcome == "off":
            return f"{name} n'est pas configuré sur ce portail."
        if self.outcome == "not_linked":
            return f"Aucun compte {name} pour cette entreprise."
        if self.outcome == "busy":
            return (f"Une synchronisation {name} de cette entreprise est déjà en cours : "
                    "ses résultats apparaîtront dans l'historique.")
        return count_sentence(self.counts, name)



def count_sentence(counts: dict[str, int], provider_name: str) -> str:
    """"12 documents importés, 2 remplacés par une version plus récente, …" (non-zero parts)."""
    parts = []
    if counts["imported"]:
        parts.append(plural(counts["imported"], "document importé", "documents importés"))
    if counts["replaced"]:
        parts.append(plural(counts["replaced"], "remplacé par une version plus récente",
                             "remplacés par une version plus récente"))
    if counts["kept"]:
        parts.append(plural(counts["kept"], "conservé (votre version est plus récente)",
                             "conservés (votre version est plus récente)"))
    if counts["awaiting"]:
        parts.append(f"{counts['awaiting']} en attente de validation chez {provider_name}")
    if counts["refused"]:
        parts.append(plural(counts["refused"], f"refusé par {provider_name}",
                             f"refusés par {provider_name}"))
    if counts["skipped"]:
        parts.append(plural(counts["skipped"], "ignoré", "ignorés"))
    if not parts:
        return f"Aucun changement : le dossier est à jour avec {provider_name}."
    return ", ".join(parts)


@dataclass(frozen=True)
class Snapshot:
    siren: str
    linked: bool
    link_enabled: bool | None
    cursor: str | None
    current: CurrentIndex
    known: frozenset[tuple[str, int]]


def _where(remote: RemoteDocument) -> str:
    return f"établissement {format_siret(remote.siret)}" if remote.siret else "entreprise"


def _label(remote: RemoteDocument) -> str:
    return CATALOGUE[remote.doc_type].label if remote.doc_type in CATALOGUE else (
        remote.provider_code)


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
    details: list[str]
    high_water: str | None
    files_downloaded: int


def _check_dates(remote: RemoteDocument) -> str | None:
    """Why the provider's dates cannot make a document here, or None."""
    spec = CATALOGUE[remote.doc_type]
    if remote.validity_end is None and spec.end_required:
        return "sans date de fin de validité"
    end = effective_end(spec, remote.issue_date, remote.validity_start, remote.validity_end)
    if remote.validity_start > end:
        return "dates de validité incohérentes"
    return None


class InactiveSubscription(Exception):
    """The provider knows the company, but its subscription has ended."""

    def __init__(self, account: Account):
        super().__init__(account.name)
        self.account = account


def _phase1(connector, company_id: int, snapshot: Snapshot, *, full: bool,
            hooks: SyncHooks) -> Phase1 | None:
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
        details.append(f"Type inconnu « {remote.provider_code} » ({_where(remote)}) : ignoré.")

    sirets = sorted({remote.siret for remote in listing.documents if remote.siret})
    establishments: dict[str, int] = {}
    if sirets:
        establishments = dict(db.session.execute(
            select(Establishment.siret, Establishment.id).where(
                Establishment.company_id == company_id, Establishment.siret.in_(sirets))
        ).all())
        db.session.rollback()  # no transaction stays open while we fetch

    store = storage()
    save = functools.partial(store.save_chunks, durable=False)
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
                details.append(f"{_label(remote)} : l'établissement "
                               f"{format_siret(remote.siret)} n'est pas sur le portail.")
                continue
        problem = _check_dates(remote) if remote.state not in ("awaiting", "refused") else None
        if problem:
            counts["skipped"] += 1
            details.append(f"{_label(remote)} ({_where(remote)}) : {problem}, ignoré.")
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
                connector.fetch_file(remote, save)
                downloaded += 1
                hooks.call("after_file", remote)
        candidates.append(Candidate(remote, establishment_id))
    if downloaded:
        # One flush to disk for the whole run, before any row may refer to the files.
        store.sync()
    return Phase1(account.name, account.active, candidates, counts, details,
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
        raise SyncCancelled(
            f"Synchronisation {name} désactivée pendant son exécution : "
            "rien n'a été appliqué."
        )
    lock_company(company_id)

    now = utcnow()
    counts = dict(result.counts)
    details = list(result.details)
    missing_file = False
    for item in apply_provider_documents(company_id, provider, result.candidates, now):
        remote = item.remote
        label = f"{_label(remote)} ({_where(remote)})"
        if item.missing_file:
            missing_file = True
            counts["skipped"] += 1
            details.append(f"{label} : fichier non reçu, repris à la prochaine "
                           "synchronisation.")
        elif item.action is Action.AWAITING:
            counts["awaiting"] += 1
            details.append(f"{label} : en attente de validation chez {name}.")
        elif item.action is Action.REFUSED:
            counts["refused"] += 1
            reason = f" : {remote.rejection_reason}" if remote.rejection_reason else ""
            details.append(f"{label} : refusé par {name}{reason}.")
        elif item.action is Action.KEEP:
            counts["kept"] += 1
            details.append(f"{label} : votre version est plus récente, elle est conservée.")
        elif item.action is Action.LOWER:
            details.append(f"{label} : {name} propose une révision antérieure, ignorée.")
        elif item.action is Action.REPLACE:
            counts["replaced"] += 1
            details.append(f"{label} : {_archived_line(item.archived, name)} a été archivé, "
                           f"la version {name} du {format_date(remote.issue_date)} "
                           "est plus récente.")
        elif item.action is Action.IMPORT:
            counts["imported"] += 1
            details.append(f"{label} : importé (délivré le {format_date(remote.issue_date)}).")

    link.linked = True
    link.account_name = result.account_name[:200]
    link.subscription_active = result.subscription_active
    link.checked_at = now
    if result.high_water and not missing_file:
        link.cursor = latest_instant([c for c in (link.cursor, result.high_water) if c])
    run = SyncRun(company_id=company_id, provider=provider, trigger=trigger,
                  triggered_by_id=user_id, started_at=started, finished_at=utcnow(),
                  outcome="success", files_downloaded=result.files_downloaded, details=details,
                  **counts)
    db.session.add(run)
    hooks.call("during_apply")
    db.session.flush()
    return run.id, counts, details


def _archived_line(archived, name: str) -> str:
    """"votre dépôt du 20/11/2026" or "la version Actradis du 01/10/2026": what was archived."""
    if archived is None:
        return "l'ancienne version"
    if archived.source == "manual":
        return f"votre dépôt du {format_date(archived.uploaded_at)}"
    provider = PROVIDERS.get(archived.source, archived.source)
    return f"la version {provider} du {format_date(archived.issue_date)}"


class SyncCancelled(Exception):
    """The switch was turned off while the run was fetching."""


def _record_failure(company_id: int, provider: str, trigger: str, user_id: int | None,
                    started: datetime, message: str, *, downloaded: int = 0,
                    link_state: dict | None = None) -> int:
    """A failed run's record, in a transaction of its own; `link_state` updates the link."""
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
                  outcome="failed", error=message, files_downloaded=downloaded, details=[])
    db.session.add(run)
    db.session.commit()
    return run.id


def sync_company(company_id: int, provider: str, *, trigger: str = "manual",
                 user_id: int | None = None, full: bool = False,
                 hooks: SyncHooks | None = None) -> RunReport:
    """Run one synchronisation; never raises for provider trouble (the report says it)."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    hooks = hooks or SyncHooks()
    name = PROVIDERS[provider]
    started = utcnow()
    company = db.session.get(Company, company_id)
    if company is None:
        raise ValueError(f"no company {company_id}")
    snapshot = _snapshot(company, provider)
    del company  # expired by the rollback: phase 1 must not reload it
    db.session.rollback()  # phase 1 runs with no transaction open
    if snapshot.link_enabled is False:
        return RunReport(provider, snapshot.siren, "disabled")
    connector = connector_for(provider, current_app.config)
    if connector is None:
        return RunReport(provider, snapshot.siren, "off")

    with run_lock(company_id, provider) as held:
        if not held:
            connector.close()
            return RunReport(provider, snapshot.siren, "busy")
        downloaded = 0
        link_state = None
        outcome = "failed"
        try:
            phase1 = _phase1(connector, company_id, snapshot,
                             full=full or snapshot.cursor is None, hooks=hooks)
            if phase1 is None:
                if not snapshot.linked:
                    return RunReport(provider, snapshot.siren, "not_linked")
                message = f"Aucun compte {name} ne correspond plus au SIREN de l'entreprise."
                run_id = _record_failure(company_id, provider, trigger, user_id, started,
                                         message, link_state={"linked": False})
                return RunReport(provider, snapshot.siren, "failed", error=message,
                                 run_id=run_id)
            downloaded = phase1.files_downloaded
            hooks.call("before_apply")
            run_id, counts, details = _phase2(company_id, provider, trigger, user_id, started,
                                              phase1, hooks)
            db.session.commit()
            return RunReport(provider, snapshot.siren, "success", counts=counts,
                             details=details, run_id=run_id, files_downloaded=downloaded)
        except InactiveSubscription as inactive:
            message = ProviderError.of(provider, name, "subscription").message
            link_state = {"linked": True, "subscription_active": False,
                          "account_name": inactive.account.name[:200]}
        except ProviderError as error:
            message = str(error)
            if error.kind == "subscription":
                link_state = {"linked": True, "subscription_active": False}
        except SyncCancelled as error:
            message = str(error)
            outcome = "cancelled"
        except Exception:
            log.exception("sync of company %s with %s failed", company_id, provider)
            message = (f"Erreur interne pendant la synchronisation {name} : "
                       "aucun changement n'a été appliqué.")
        finally:
            connector.close()
        run_id = _record_failure(company_id, provider, trigger, user_id, started, message,
                                 downloaded=downloaded, link_state=link_state)
        return RunReport(provider, snapshot.siren, outcome, error=message, run_id=run_id,
                         files_downloaded=downloaded)
