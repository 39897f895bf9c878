"""What the company page shows about synchronisation, in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditEvent, ProviderLink, SyncRun
from ..providers import PROVIDERS
from . import wording


@dataclass(frozen=True)
class SyncState:
    """The company's links, its last runs and its last switch changes."""

    links: list[ProviderLink]
    runs: list[SyncRun]
    events: list[AuditEvent]

    @property
    def linked(self) -> list[ProviderLink]:
        return [link for link in self.links if link.linked]

    @classmethod
    def none(cls) -> SyncState:
        """A company with no provider account: no links, so no runs nor changes."""
        return cls([], [], [])

    def last_run(self, provider: str) -> SyncRun | None:
        return next((run for run in self.runs if run.provider == provider), None)


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
    return SyncState(links, runs, events)




def run_summary(run: SyncRun) -> str:
    return wording.recorded_summary(run.outcome, run.error, run.counts,
                                    PROVIDERS.get(run.provider, run.provider))
