"""What the company page shows about synchronisation, in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core.text import format_date, format_datetime
from ..extensions import db
from ..models import AuditEvent, ProviderLink, SyncRun, SyncRunItem
from ..providers import PROVIDERS
from . import wording


@dataclass(frozen=True)
class SyncState:
    """The company's links, its last runs and its last switch changes."""

    links: list[ProviderLink]
    runs: list[SyncRun]
    events: list[AuditEvent]
    # Per provider whose last run failed: when its failures began.
    failing_since: dict[str, datetime] | None = None

    @property
    def linked(self) -> list[ProviderLink]:
        return [link for link in self.links if link.linked]

    @classmethod
    def none(cls) -> SyncState:
        """A company with no provider account: no links, so no runs nor changes."""
        return cls([], [], [])

    def last_run(self, provider: str) -> SyncRun | None:
        return next((run for run in self.runs if run.provider == provider), None)

    def look(self, link: ProviderLink) -> SyncLook:
        return sync_look(link, self.last_run(link.provider),
                         (self.failing_since or {}).get(link.provider))


@dataclass(frozen=True)
class SyncLook:
    """One of the three looks of a provider's sync on the company page.

    `kind` is "ok" (on, last run fine or none yet), "failing" (on, last run
    failed) or "off". `advice` lists what the admin can do, most useful first.
    """

    kind: str
    title: str
    lines: list[str]
    advice: list[str]

    @property
    def icon(self) -> str:
        return {"ok": "circle-check", "failing": "triangle-alert", "off": "circle-pause"}[self.kind]


def sync_look(link: ProviderLink, last: SyncRun | None,
              failing_since: datetime | None = None) -> SyncLook:
    """The French sentences for a link's state: what it is, since when, what to do."""
    name = PROVIDERS.get(link.provider, link.provider)
    who = f" par {link.changed_by.name}" if link.changed_by else ""
    if not link.sync_enabled:
        changed = f" le {format_date(link.changed_at)}{who}" if link.changed_at else ""
        return SyncLook(
            "off", f"Synchronisation {name} désactivée{changed}",
            ["Les documents déjà synchronisés restent dans le dossier. Les mises à jour faites "
             f"sur {name} n'apparaissent plus ici : déposez vous-même les nouvelles versions."],
            [f"Réactivez-la depuis le menu ⋮ pour que {name} tienne de nouveau ces documents "
             "à jour."],
        )
    if last is not None and last.outcome == "failed":
        since = failing_since or last.started_at
        reason = (last.error or "Erreur inconnue").rstrip(".")
        if link.subscription_active is False:
            advice = [f"Renouvelez l'abonnement de l'entreprise sur la plateforme {name}, "
                      "puis lancez « Synchroniser maintenant »."]
        else:
            advice = [f"Réessayez avec « Synchroniser maintenant » ; si l'erreur persiste, "
                      f"contactez le support de la plateforme {name}."]
        advice.append(f"Ou désactivez la synchronisation {name} pour déposer vous-même "
                      "les documents qu'elle fournit.")
        return SyncLook(
            "failing", f"Synchronisation {name} en échec depuis le {format_datetime(since)}",
            [f"Raison : {reason}.",
             "Les documents déjà synchronisés restent dans le dossier, mais ne sont plus mis "
             "à jour tant que l'échec dure."],
            advice,
        )
    again = ""
    if link.changed_at:
        again = f" — réactivée le {format_date(link.changed_at)}{who}"
    lines = []
    if last is not None:
        lines.append(f"Dernière synchronisation le {format_datetime(last.finished_at)} : "
                     f"{run_summary(last)}")
    else:
        lines.append("Aucune synchronisation n'a encore eu lieu.")
    return SyncLook("ok", f"Synchronisation {name} active et à jour{again}", lines, [])


def sync_state(company_id: int, *, history: int = 10) -> SyncState:
    links = list(db.session.scalars(
        select(ProviderLink)
        .where(ProviderLink.company_id == company_id)
        .options(joinedload(ProviderLink.changed_by))
    ))
    order = list(PROVIDERS)
    links.sort(key=lambda link: order.index(link.provider) if link.provider in order else 99)
    if not links:
        # Runs and changes exist only for companies that have an account somewhere.
        return SyncState.none()
    runs = list(db.session.scalars(
        select(SyncRun)
        .where(SyncRun.company_id == company_id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(history)
    ))
    events = list(db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.company_id == company_id, AuditEvent.action.in_(
            ("sync.enabled", "sync.disabled")))
        .options(joinedload(AuditEvent.user))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(history)
    ))
    return SyncState(links, runs, events, _failing_since(company_id, runs))


def _failing_since(company_id: int, runs: list[SyncRun]) -> dict[str, datetime]:
    """For each provider whose last run failed: when the failures began (after its last success)."""
    latest: dict[str, SyncRun] = {}
    for run in runs:  # newest first
        latest.setdefault(run.provider, run)
    failing = {provider for provider, run in latest.items() if run.outcome == "failed"}
    if not failing:
        return {}
    last_success = (
        select(SyncRun.provider, func.max(SyncRun.started_at).label("at"))
        .where(SyncRun.company_id == company_id, SyncRun.outcome == "success",
               SyncRun.provider.in_(failing))
        .group_by(SyncRun.provider)
        .subquery()
    )
    rows = db.session.execute(
        select(SyncRun.provider, func.min(SyncRun.started_at))
        .outerjoin(last_success, last_success.c.provider == SyncRun.provider)
        .where(SyncRun.company_id == company_id, SyncRun.outcome == "failed",
               SyncRun.provider.in_(failing),
               (last_success.c.at.is_(None)) | (SyncRun.started_at > last_success.c.at))
        .group_by(SyncRun.provider)
    ).all()
    return dict(rows)


def run_summary(run: SyncRun) -> str:
    return wording.recorded_summary(run.outcome, run.error, run.counts,
                                    PROVIDERS.get(run.provider, run.provider))


@dataclass(frozen=True)
class RunLine:
    """One document a run touched, with what became of it, as the run page shows it."""

    kind: str
    label: str
    text: str
    icon: str

    @property
    def css(self) -> str:
        """The colour class: one per group, every kind of skipped document sharing one."""
        return self.kind if self.kind in _GROUPS else "skipped"


_GROUPS = ("imported", "replaced", "kept", "awaiting", "refused")


def run_items(run: SyncRun) -> list[SyncRunItem]:
    """The run's items in the engine's order, with the documents replacements archived."""
    return list(db.session.scalars(
        select(SyncRunItem)
        .where(SyncRunItem.run_id == run.id)
        .options(joinedload(SyncRunItem.archived))
        .order_by(SyncRunItem.position, SyncRunItem.id)
    ))


def run_lines(run: SyncRun) -> list[RunLine]:
    """The run's lines, built from its items; a run older than items shows its stored lines."""
    name = PROVIDERS.get(run.provider, run.provider)
    lines = []
    for item in run_items(run):
        label, icon = wording.item_group(item.kind)
        lines.append(RunLine(item.kind, label, wording.item_line(item, name), icon))
    if lines:
        return lines
    return [RunLine(kind, label, text, icon)
            for text in run.details or []
            for kind, label, icon in [wording.line_group(text)]]
