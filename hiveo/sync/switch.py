"""The sync switch of a company, per provider (DOMAIN.md 3.1 to 3.4).

One row changes whatever the number of establishments. Turning it off removes
nothing; turning it on records who and when, then runs a full synchronisation
of the company at once. Doing the same twice is a no-op: one state change,
one audit event.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.audit import audit
from ..extensions import begin_write, db
from ..models import User, utcnow
from ..providers import PROVIDERS
from . import wording
from .engine import RunReport, sync_company
from .locks import lock_link


class SwitchError(ValueError):
    """A refusal meant for a person (French)."""


@dataclass(frozen=True)
class SwitchResult:
    changed: bool
    enabled: bool
    report: RunReport | None = None


def set_sync_enabled(company_id: int, provider: str, enabled: bool, user: User | None,
                     *, run_deadline: float | None = None) -> SwitchResult:
    """Turn a provider's sync off or on for a company; commits.

    Turning it on runs the sync at once, bounded by `run_deadline` seconds when
    given (a web request must not wait on a slow provider for longer).
    """
    if provider not in PROVIDERS:
        raise SwitchError(wording.unknown_provider(provider))
    name = PROVIDERS[provider]
    begin_write()
    link = lock_link(company_id, provider)
    if link is None or not link.linked:
        db.session.rollback()
        raise SwitchError(wording.no_account_to_switch(name))
    if link.sync_enabled == enabled:
        db.session.rollback()
        return SwitchResult(changed=False, enabled=enabled)
    user_id = user.id if user is not None else None
    link.sync_enabled = enabled
    link.changed_by_id = user_id
    link.changed_at = utcnow()
    event = audit(company_id, user, "sync.enabled" if enabled else "sync.disabled",
                  provider=provider)
    db.session.flush()
    event_id = event.id
    db.session.commit()
    if not enabled:
        return SwitchResult(changed=True, enabled=False)

    report = sync_company(company_id, provider, trigger="reactivation", user_id=user_id,
                          full=True, deadline=run_deadline)
    # The audit event names the run it triggered.
    db.session.rollback()
    begin_write()
    reread = db.session.get(type(event), event_id)
    assert reread is not None  # committed above, never deleted
    event = reread
    event.details = {**event.details, "run_id": report.run_id, "outcome": report.outcome}
    db.session.commit()
    return SwitchResult(changed=True, enabled=True, report=report)
