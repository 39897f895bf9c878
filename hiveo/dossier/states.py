"""The state a person sees for a document, computed from its dates and review."""

from __future__ import annotations

import enum
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Document

EXPIRING_DAYS = 30


class State(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    PENDING = "pending"
    REFUSED = "refused"
    ARCHIVED = "archived"
    MISSING = "missing"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    State.VALID: "valide",
    State.EXPIRING: "expire bientôt",
    State.EXPIRED: "expiré",
    State.PENDING: "en cours de validation",
    State.REFUSED: "refusé",
    State.ARCHIVED: "archivé",
    State.MISSING: "manquant",
}

# What needs the supplier's attention, most urgent first.
ACTION_STATES = (State.MISSING, State.EXPIRED, State.EXPIRING, State.REFUSED)


def validity_state(effective_end: date, today: date, *, provider_expired: bool = False) -> State:
    if provider_expired or today > effective_end:
        return State.EXPIRED
    if effective_end - today <= timedelta(days=EXPIRING_DAYS):
        return State.EXPIRING
    return State.VALID


def document_state(document: Document, today: date) -> State:
    if document.archived_at is not None:
        return State.ARCHIVED
    if document.review_state == "refused":
        return State.REFUSED
    if document.review_state == "pending":
        return State.PENDING
    return validity_state(
        document.effective_end, today, provider_expired=document.provider_state == "expired"
    )
