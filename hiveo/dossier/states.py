"""The state a person sees for a document: one table, in Python and in SQL side by side.

Each row of `RULES` gives a document state its test on a loaded document (the
pages' slots, the review page) and the same test as an SQL condition on the
`documents` table (the counts, the filters, the export). The rules exclude
each other and together cover every document (review_state is one of three,
by a check constraint); tests/integration/test_states.py checks that both columns
agree on documents generated around every boundary date.

"manquant" is the state of an empty slot, not of a document: it has no row
here (queries.py counts empty slots with NOT EXISTS).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import Date, and_, bindparam, case, or_
from sqlalchemy.sql.elements import ColumnElement

from ..models import Document, ReviewState

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

# What needs the supplier's attention, most urgent first: the "Ce qui demande une
# action" section, the slots counted "à traiter".
ACTION_STATES = (State.MISSING, State.EXPIRED, State.EXPIRING, State.REFUSED)


class DocumentFacts(Protocol):
    """What a state depends on: a Document, or a row selecting these columns."""

    archived_at: Any
    review_state: str
    effective_end: date
    provider_state: str | None


# The SQL conditions take the day as parameters: statements are built once and
# executed with sql_dates(today).
TODAY = bindparam("today", type_=Date)
SOON = bindparam("soon", type_=Date)


def sql_dates(today: date) -> dict[str, date]:
    return {"today": today, "soon": today + timedelta(days=EXPIRING_DAYS)}


def _validated(doc: DocumentFacts) -> bool:
    return doc.archived_at is None and doc.review_state == ReviewState.VALIDATED


def _expired(doc: DocumentFacts, today: date) -> bool:
    return doc.provider_state == "expired" or doc.effective_end < today


def _soon(today: date) -> date:
    return today + timedelta(days=EXPIRING_DAYS)


def _sql_live() -> ColumnElement[bool]:
    return Document.archived_at.is_(None)


def _sql_validated() -> ColumnElement[bool]:
    return and_(_sql_live(), Document.review_state == ReviewState.VALIDATED.value)


def _sql_expired() -> ColumnElement[bool]:
    return or_(Document.provider_state == "expired", Document.effective_end < TODAY)


def _sql_not_expired() -> ColumnElement[bool]:
    # provider_state is often NULL, and NOT (NULL = 'expired') is NULL in SQL.
    return and_(or_(Document.provider_state.is_(None), Document.provider_state != "expired"),
                Document.effective_end >= TODAY)


@dataclass(frozen=True)
class StateRule:
    state: State
    test: Callable[[DocumentFacts, date], bool]
    condition: Callable[[], ColumnElement[bool]]


RULES: tuple[StateRule, ...] = (
    StateRule(State.ARCHIVED,
              lambda doc, _today: doc.archived_at is not None,
              lambda: Document.archived_at.is_not(None)),
    StateRule(State.REFUSED,
              lambda doc, _today: doc.archived_at is None
              and doc.review_state == ReviewState.REFUSED,
              lambda: and_(_sql_live(), Document.review_state == ReviewState.REFUSED.value)),
    StateRule(State.PENDING,
              lambda doc, _today: doc.archived_at is None
              and doc.review_state == ReviewState.PENDING,
              lambda: and_(_sql_live(), Document.review_state == ReviewState.PENDING.value)),
    StateRule(State.EXPIRED,
              lambda doc, today: _validated(doc) and _expired(doc, today),
              lambda: and_(_sql_validated(), _sql_expired())),
    StateRule(State.EXPIRING,
              lambda doc, today: _validated(doc) and not _expired(doc, today)
              and doc.effective_end <= _soon(today),
              lambda: and_(_sql_validated(), _sql_not_expired(), Document.effective_end <= SOON)),
    StateRule(State.VALID,
              lambda doc, today: _validated(doc) and not _expired(doc, today)
              and doc.effective_end > _soon(today),
              lambda: and_(_sql_validated(), _sql_not_expired(), Document.effective_end > SOON)),
)
RULE = {rule.state: rule for rule in RULES}


def document_state(document: DocumentFacts, today: date) -> State:
    for rule in RULES:
        if rule.test(document, today):
            return rule.state
    raise ValueError(f"no state for review state {document.review_state!r}")


def state_condition(state: State) -> ColumnElement[bool]:
    """The SQL condition of `state` on `documents` (parameters: sql_dates())."""
    return RULE[state].condition()


def in_force_condition() -> ColumnElement[bool]:
    """A current document that counts as held: valid or expiring (parameters: sql_dates())."""
    return and_(Document.is_current.is_(True),
                or_(state_condition(State.VALID), state_condition(State.EXPIRING)))


def holds_until_end_condition() -> ColumnElement[bool]:
    """A current document that is in force on every day up to its `effective_end`, and on
    none after: validated, and not declared expired by its provider. Unlike
    in_force_condition() it takes no day: in force on day D is this and effective_end >= D
    (tests/integration/test_states.py checks both say so)."""
    return and_(Document.is_current.is_(True), _sql_validated(),
                or_(Document.provider_state.is_(None), Document.provider_state != "expired"))


IN_FORCE = (State.VALID, State.EXPIRING)


def state_column() -> ColumnElement[str]:
    """The state of each document as an SQL expression (parameters: sql_dates())."""
    return case(*[(rule.condition(), rule.state.value) for rule in RULES])
