"""The audit trail: one function writes every event, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditEvent, User


def audit(company_id: int | None, user: User | None, action: str, **details: Any) -> AuditEvent:
    """Record `action` on a company by `user` (None: the system), with JSON `details`."""
    event = AuditEvent(
        company_id=company_id, user_id=user.id if user else None, action=action, details=details
    )
    db.session.add(event)
    return event
