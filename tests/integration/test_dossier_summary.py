"""The head of the Documents tab: completeness, next expiry, one next action per state."""

from __future__ import annotations

import re

from tests.helpers import login, page_text
from tests.integration.test_dossier import dossier  # noqa: F401 (the fixture)


def summary(html: str) -> str:
    return html[html.index('id="summary-title"'):html.index('id="actions-title"')]


def test_the_summary_counts_required_documents_valid_today(client, dossier):  # noqa: F811
    login(client, dossier.bob)
    text = summary(page_text(client.get(f"/organisations/{dossier.acme}/documents")))
    # Acme has no active client: the legal dossier (Kbis, URSSAF, LNTE) is required.
    # Kbis (valid) and URSSAF (expiring) are in force, LNTE is refused; the other
    # types (the expired tax certificate, the pending BTP one) are complementary.
    assert "2 / 3</span>" in text
    assert "documents exigés valides aujourd" in text


def test_the_summary_names_the_next_expiry(client, dossier):  # noqa: F811
    login(client, dossier.bob)
    text = summary(page_text(client.get(f"/organisations/{dossier.acme}/documents")))
    assert re.search(r"19/12/2026</span>\s*<span class=\"stat-label\">prochaine fin de "
                     r"validité : Attestation de vigilance URSSAF", text)


def test_the_summary_gives_one_next_action_per_state(client, dossier):  # noqa: F811
    login(client, dossier.bob)
    text = summary(page_text(client.get(f"/organisations/{dossier.acme}/documents")))
    base = f"/organisations/{dossier.acme}/documents"
    assert f'<a href="{base}?etat=expiring">Renouvelez 1 document qui expire bientôt</a>' in text
    assert (f'<a href="{base}?etat=refused">Déposez une nouvelle version de 1 document '
            "refusé</a>") in text
    # The expired tax certificate and the insurance types are complementary: no action.
    assert "etat=expired" not in text and "etat=missing" not in text
    assert "1 dépôt en cours de validation : rien à faire" in text
    assert "Le dossier est complet" not in text


def test_an_empty_dossier_says_what_to_do(client, cast):
    login(client, cast.charlie)
    text = summary(page_text(client.get(f"/organisations/{cast.globex}/documents")))
    assert "0 / " in text
    assert "aucun document en cours de validité" in text
    assert "Déposez" in text
