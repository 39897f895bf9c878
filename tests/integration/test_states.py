"""The states table: each state's Python test and SQL condition agree, document by document."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from hiveo.demo.factories import make_company
from hiveo.dossier.states import (
    EXPIRING_DAYS,
    IN_FORCE,
    RULES,
    State,
    document_state,
    holds_until_end_condition,
    in_force_condition,
    sql_dates,
    state_column,
    state_condition,
)
from hiveo.extensions import db
from hiveo.models import Document

TODAY = date(2026, 11, 29)
# Around every boundary: the day before, the last day, past the expiring window...
OFFSETS = (-400, -1, 0, 1, EXPIRING_DAYS - 1, EXPIRING_DAYS, EXPIRING_DAYS + 1, 400)
REVIEWS = ("pending", "validated", "refused")
PROVIDER_STATES = (None, "valid", "expired")


def _generate(company_id: int) -> list[Document]:
    documents = []
    for offset, review, provider_state, archived in itertools.product(
            OFFSETS, REVIEWS, PROVIDER_STATES, (False, True)):
        end = TODAY + timedelta(days=offset)
        documents.append(Document(
            company_id=company_id, doc_type="KBIS", source="manual",
            issue_date=end - timedelta(days=90), validity_start=end - timedelta(days=90),
            validity_end=end, effective_end=end, sha256="0" * 64, size=1,
            review_state=review, provider_state=provider_state,
            # As the write path keeps them: a validated document is current or archived.
            is_current=review == "validated" and not archived,
            archived_at=datetime(2026, 11, 1, tzinfo=UTC) if archived else None,
        ))
    return documents


def _stored(name: str):
    """A company holding the generated documents, committed."""
    company = make_company(name, establishments=0)
    documents = _generate(company.id)
    db.session.add_all(documents)
    db.session.commit()
    return company, documents


def test_every_document_state_has_exactly_one_rule_and_missing_has_none():
    states = [rule.state for rule in RULES]
    assert len(states) == len(set(states))
    assert set(states) == set(State) - {State.MISSING}


def test_python_and_sql_agree_on_every_state_around_every_boundary(app):
    with app.app_context():
        company, documents = _stored("États Limites")
        ids = {doc.id for doc in documents}
        # The same documents seen on several days: each boundary falls on one of them.
        for today in (TODAY + timedelta(days=shift) for shift in (-31, -1, 0, 1, 30, 31)):
            expected = {doc.id: document_state(doc, today) for doc in documents}
            for state in set(State) - {State.MISSING}:
                found = set(db.session.scalars(
                    select(Document.id).where(Document.company_id == company.id,
                                              state_condition(state)),
                    sql_dates(today)))
                assert found == {i for i, s in expected.items() if s is state}, (today, state)
            column = dict(db.session.execute(
                select(Document.id, state_column()).where(Document.company_id == company.id),
                sql_dates(today)).all())
            assert column.keys() == ids
            assert {i: State(s) for i, s in column.items()} == expected, today
        # Every state occurs, so no condition passes by matching nothing.
        assert set(expected.values()) == set(State) - {State.MISSING}


def test_a_document_held_until_its_end_is_in_force_on_exactly_the_days_up_to_it(app):
    with app.app_context():
        company, documents = _stored("Tenus Jusqu'au Bout")
        held = set(db.session.scalars(select(Document.id).where(
            Document.company_id == company.id, holds_until_end_condition())))
        assert held and held != {doc.id for doc in documents}
        for today in (TODAY + timedelta(days=shift) for shift in (-401, -1, 0, 1, 30, 31, 401)):
            in_force = set(db.session.scalars(
                select(Document.id).where(Document.company_id == company.id,
                                          in_force_condition()), sql_dates(today)))
            assert in_force == {doc.id for doc in documents
                                if doc.id in held and doc.effective_end >= today}, today
            assert in_force == {doc.id for doc in documents
                                if doc.is_current and document_state(doc, today) in IN_FORCE}
