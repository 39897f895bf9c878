"""Each state's SQL condition against its Python test, on SQLite in memory, without the app.

The integration test (tests/integration/test_states.py) says the same through the
portal's database on both backends; this one is fast enough for mutation testing
(`make mutation`) to run it against every mutant of hiveo/dossier/states.py.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, insert, select

from hiveo.dossier.states import (
    EXPIRING_DAYS,
    RULES,
    document_state,
    sql_dates,
    state_column,
    state_condition,
)
from hiveo.models import Document

TODAY = date(2026, 11, 29)
OFFSETS = (-400, -1, 0, 1, EXPIRING_DAYS - 1, EXPIRING_DAYS, EXPIRING_DAYS + 1, 400)
DAYS = (TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=1))


@pytest.fixture(scope="module")
def documents():
    engine = create_engine("sqlite://")
    Document.__table__.create(engine)
    rows = []
    for number, (offset, review, provider_state, archived) in enumerate(itertools.product(
            OFFSETS, ("pending", "validated", "refused"), (None, "valid", "expired"),
            (False, True)), start=1):
        end = TODAY + timedelta(days=offset)
        rows.append({
            "id": number, "company_id": 1, "doc_type": "KBIS", "source": "manual",
            "issue_date": end - timedelta(days=90), "validity_start": end - timedelta(days=90),
            "validity_end": end, "effective_end": end, "sha256": "0" * 64, "size": 1,
            "filename": "kbis.pdf", "uploaded_at": datetime(2026, 10, 1, tzinfo=UTC),
            "review_state": review, "provider_state": provider_state,
            "is_current": review == "validated" and not archived,
            "archived_at": datetime(2026, 11, 1, tzinfo=UTC) if archived else None,
        })
    with engine.begin() as connection:
        connection.execute(insert(Document), rows)
    yield engine, [SimpleNamespace(**row) for row in rows]
    engine.dispose()


@pytest.mark.parametrize("today", DAYS)
def test_the_state_column_says_what_python_says(documents, today):
    engine, rows = documents
    with engine.connect() as connection:
        in_sql = dict(connection.execute(select(Document.id, state_column()),
                                         sql_dates(today)).all())
    assert in_sql == {row.id: document_state(row, today).value for row in rows}


@pytest.mark.parametrize(("today", "rule"), list(itertools.product(DAYS, RULES)),
                         ids=lambda value: getattr(getattr(value, "state", None), "value",
                                                   str(value)))
def test_each_condition_selects_what_its_test_accepts(documents, today, rule):
    engine, rows = documents
    with engine.connect() as connection:
        selected = set(connection.scalars(select(Document.id).where(state_condition(
            rule.state)), sql_dates(today)))
    expected = {row.id for row in rows if document_state(row, today) is rule.state}
    assert selected == expected
    assert expected, f"no generated document is {rule.state.value}"


def test_the_expiring_window_is_thirty_days_from_today():
    assert sql_dates(TODAY) == {"today": TODAY, "soon": date(2026, 12, 29)}


def test_a_review_state_no_rule_knows_is_an_error_that_names_it():
    stray = SimpleNamespace(archived_at=None, review_state="lost", effective_end=TODAY,
                            provider_state=None)
    with pytest.raises(ValueError, match="no state for review state 'lost'"):
        document_state(stray, TODAY)
