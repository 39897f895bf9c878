from datetime import date
from types import SimpleNamespace

import pytest

from hiveo.dossier.catalogue import CATALOGUE, add_months, document_type, effective_end
from hiveo.dossier.states import State, document_state


def test_catalogue_has_the_seven_types_with_their_levels():
    assert list(CATALOGUE) == [
        "KBIS", "URSSAF_VIGILANCE", "LNTE", "FISCAL_REGULARITY", "INSURANCE_RC_PRO",
        "INSURANCE_DECENNALE", "BTP_PAID_LEAVE",
    ]
    assert CATALOGUE["BTP_PAID_LEAVE"].level == "establishment"
    assert all(t.level == "company" for code, t in CATALOGUE.items() if code != "BTP_PAID_LEAVE")
    assert {code for code, t in CATALOGUE.items() if t.multi} == {
        "INSURANCE_RC_PRO", "INSURANCE_DECENNALE"}


def test_labels_are_french():
    assert document_type("URSSAF_VIGILANCE").label == "Attestation de vigilance URSSAF"
    with pytest.raises(ValueError, match="inconnu"):
        document_type("NOPE")


@pytest.mark.parametrize(
    ("code", "issue", "start", "expected"),
    [
        ("KBIS", date(2026, 10, 1), date(2026, 10, 5), date(2026, 12, 31)),
        ("URSSAF_VIGILANCE", date(2026, 9, 20), date(2026, 10, 1), date(2027, 3, 31)),
        ("LNTE", date(2026, 8, 31), date(2026, 8, 31), date(2027, 2, 27)),
    ],
)
def test_default_validity_counts_from_the_right_date(code, issue, start, expected):
    assert effective_end(CATALOGUE[code], issue, start, None) == expected


def test_a_printed_end_wins_over_the_default():
    printed = date(2026, 12, 15)
    assert effective_end(CATALOGUE["KBIS"], date(2026, 10, 1), date(2026, 10, 1), printed) == (
        printed)


@pytest.mark.parametrize("code", ["FISCAL_REGULARITY", "INSURANCE_RC_PRO",
                                  "INSURANCE_DECENNALE", "BTP_PAID_LEAVE"])
def test_types_without_default_need_a_printed_end(code):
    assert CATALOGUE[code].end_required
    with pytest.raises(ValueError):
        effective_end(CATALOGUE[code], date(2026, 1, 1), date(2026, 1, 1), None)


def test_add_months_clamps_to_the_end_of_short_months():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("end", "state"),
    [
        (date(2026, 12, 30), State.VALID),      # 31 days left
        (date(2026, 12, 29), State.EXPIRING),   # 30 days left
        (date(2026, 11, 29), State.EXPIRING),   # last day
        (date(2026, 11, 28), State.EXPIRED),    # the day after the end
    ],
)
def test_state_boundaries(end, state):
    assert document_state(_validated(end), TODAY) is state


def test_provider_expired_documents_are_expired_whatever_their_dates():
    assert document_state(_validated(date(2027, 6, 1), "expired"), TODAY) is State.EXPIRED


def _validated(end, provider_state=None):
    return SimpleNamespace(archived_at=None, review_state="validated", effective_end=end,
                           provider_state=provider_state)


def test_states_have_french_labels():
    assert [s.label for s in State] == [
        "valide", "expire bientôt", "expiré", "en cours de validation", "refusé", "archivé",
        "manquant",
    ]
