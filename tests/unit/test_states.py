"""Document states as people see them (DOMAIN.md 2), from review, archive and dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hiveo.dossier.catalogue import CATALOGUE, effective_end
from hiveo.dossier.states import State, document_state
from hiveo.models import Document

TODAY = date(2026, 11, 29)
FAR = date(2027, 6, 30)


def document(*, review_state="validated", archived=False, provider_state=None, end=FAR):
    return Document(
        review_state=review_state, provider_state=provider_state, effective_end=end,
        archived_at=datetime(2026, 11, 1, tzinfo=UTC) if archived else None,
    )


@pytest.mark.parametrize(("review_state", "state"), [
    ("validated", State.VALID), ("pending", State.PENDING), ("refused", State.REFUSED),
])
def test_the_review_decides_before_the_dates(review_state, state):
    assert document_state(document(review_state=review_state), TODAY) is state
    # Even past its end: a refusal or a pending review is what the person must see.
    past = document(review_state=review_state, end=date(2026, 1, 1))
    assert document_state(past, TODAY) is (State.EXPIRED if state is State.VALID else state)


@pytest.mark.parametrize("review_state", ["validated", "pending", "refused"])
def test_an_archived_document_is_archived_whatever_its_review(review_state):
    assert document_state(document(review_state=review_state, archived=True),
                          TODAY) is State.ARCHIVED


def test_a_document_the_provider_calls_expired_is_expired_before_its_printed_end():
    assert document_state(document(provider_state="expired"), TODAY) is State.EXPIRED
    assert document_state(document(provider_state="valid"), TODAY) is State.VALID


def test_the_days_around_the_end_and_the_thirty_day_warning():
    end = date(2026, 12, 29)  # 30 days after TODAY
    assert document_state(document(end=end), TODAY) is State.EXPIRING
    assert document_state(document(end=date(2026, 12, 30)), TODAY) is State.VALID
    assert document_state(document(end=TODAY), TODAY) is State.EXPIRING
    assert document_state(document(end=date(2026, 11, 28)), TODAY) is State.EXPIRED


def test_labels_are_the_french_words_of_the_domain():
    assert [state.label for state in State] == [
        "valide", "expire bientôt", "expiré", "en cours de validation", "refusé", "archivé",
        "manquant",
    ]


def test_a_type_without_default_validity_needs_its_printed_end():
    with pytest.raises(ValueError) as refusal:
        effective_end(CATALOGUE["FISCAL_REGULARITY"], TODAY, TODAY, None)
    assert str(refusal.value) == "FISCAL_REGULARITY requires a printed end of validity"
