"""The sync switch pages: who may toggle, what they see, and that it happens once."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from hiveo.demo.factories import add_establishments, make_company, make_user
from hiveo.extensions import db
from hiveo.models import AuditEvent, Document, ProviderLink, SyncRun
from hiveo.sync.engine import sync_company
from tests.helpers import count_queries, fetch_csrf, login, page_text, post

AL = "attestation_legale"
ACME = "732829320"
DISABLE = f"/organisations/{ACME}/synchronisation/{AL}/desactiver"
ENABLE = f"/organisations/{ACME}/synchronisation/{AL}/reactiver"


@pytest.fixture
def app_overrides(simulator):
    return simulator.config()


@pytest.fixture
def linked(app, cast, simulator):
    sim = simulator.sim
    sim.add_company(AL, ACME, "Acme Nettoyage")
    sim.add_document(AL, ACME, "KBIS", issue_date=date(2026, 10, 1))
    with app.app_context():
        assert sync_company(cast.acme_id, AL).outcome == "success"
    return sim


def link(app) -> ProviderLink:
    with app.app_context():
        row = db.session.scalar(select(ProviderLink))
        db.session.expunge(row)
        return row


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("sync.%"))
            .order_by(AuditEvent.id)))


def test_company_page_has_the_three_dot_menu_for_linked_providers(client, linked):
    login(client, "alice@example.com")
    html = page_text(client.get(f"/organisations/{ACME}"))
    assert 'aria-label="Plus d\'actions"' in html
    assert "Désactiver la synchronisation Attestation Légale" in html
    assert f'href="{DISABLE}"' in html
    assert "Actradis" not in html.split('id="company-actions"')[1].split("</details>")[0]
    assert "Synchronisation Attestation Légale active" in html


def test_a_company_without_account_shows_no_sync_item(client, cast):
    login(client, "charlie@example.com")
    html = page_text(client.get(f"/organisations/{cast.globex}"))
    assert "la synchronisation" not in html.split('id="company-actions"')[1].split("</details>")[0]


def test_members_see_disabled_items_and_get_403(app, client, linked):
    login(client, "bob@example.com")
    html = page_text(client.get(f"/organisations/{ACME}"))
    assert "Réservé aux administrateurs de l'entreprise" in html
    assert f'href="{DISABLE}"' not in html
    assert client.get(DISABLE).status_code == 403
    response = post(client, DISABLE)
    assert response.status_code == 403
    assert "Réservé aux administrateurs" in page_text(response)
    assert link(app).sync_enabled is True
    assert audit_actions(app) == []


@pytest.mark.parametrize("who", ["charlie@example.com", "olivia@example.com"])
def test_outsiders_get_404_and_change_nothing(app, client, linked, who):
    login(client, who)
    assert client.get(DISABLE).status_code == 404
    assert post(client, DISABLE).status_code == 404
    assert link(app).sync_enabled is True


def test_unknown_provider_action_or_unlinked_provider_are_404(client, linked):
    login(client, "alice@example.com")
    for path in (f"/organisations/{ACME}/synchronisation/nope/desactiver",
                 f"/organisations/{ACME}/synchronisation/{AL}/supprimer",
                 f"/organisations/{ACME}/synchronisation/actradis/desactiver"):
        assert client.get(path).status_code == 404
        assert post(client, path).status_code == 404


def test_confirmation_is_a_page_and_a_dialog_fragment(client, linked):
    login(client, "alice@example.com")
    page = page_text(client.get(DISABLE))
    assert "<html" in page
    assert "3 établissements" in page
    assert "Aucun document n'est supprimé" in page
    assert "Certificat caisse de congés payés BTP" in page
    assert 'name="csrf_token"' in page
    fragment = page_text(client.get(DISABLE, headers={"HX-Request": "true"}))
    assert fragment.lstrip().startswith("<dialog")
    assert "Valider" in fragment and "Annuler" in fragment
    reactivate = page_text(client.get(ENABLE))
    assert "archivée et remplacée" in reactivate


def test_post_without_csrf_is_refused(app, client, linked):
    login(client, "alice@example.com")
    assert client.post(DISABLE).status_code == 400
    assert client.post(DISABLE, headers={"HX-Request": "true"}).status_code == 400
    assert link(app).sync_enabled is True


def test_deactivation_without_javascript_redirects_to_the_company_page(app, client, linked):
    login(client, "alice@example.com")
    response = post(client, DISABLE)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/organisations/{ACME}"
    html = page_text(client.get(response.headers["Location"]))
    assert "Synchronisation Attestation Légale désactivée le" in html
    assert "par Alice Admin" in html
    assert "Aucun document n'a été supprimé" in html
    assert "Réactiver la synchronisation Attestation Légale" in html
    assert "Alice Admin a désactivé la synchronisation Attestation Légale" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 1


def test_deactivation_with_htmx_swaps_state_menu_and_message(client, linked):
    login(client, "alice@example.com")
    response = post(client, DISABLE, htmx=True)
    html = page_text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="sync-state"')
    assert 'id="company-actions" data-menu hx-swap-oob="true"' in html
    assert "Réactiver la synchronisation Attestation Légale" in html
    assert 'id="flash"' in html and "Aucun document n'a été supprimé" in html


def test_double_submit_changes_state_once_with_one_audit_event(app, client, linked):
    login(client, "alice@example.com")
    post(client, DISABLE)
    second = post(client, DISABLE)
    assert second.status_code == 303
    assert "était déjà désactivée" in page_text(client.get(f"/organisations/{ACME}"))
    assert audit_actions(app) == ["sync.disabled"]


def test_reactivation_runs_a_sync_and_shows_its_result(app, client, linked):
    login(client, "alice@example.com")
    post(client, DISABLE)
    linked.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 10, 1))
    linked.add_document(AL, ACME, "LISTE_SALARIES_ETRANGERS", state="AWAITING_VALIDATION")
    response = post(client, ENABLE, htmx=True)
    html = page_text(response)
    assert ("Synchronisation Attestation Légale réactivée : 1 document importé, "
            "1 en attente de validation chez Attestation Légale.") in html
    assert "réactivation" in html  # the run, in the history
    with app.app_context():
        run = db.session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
        assert run.trigger == "reactivation" and run.imported == 1
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sync.enabled"))
        assert event.details["run_id"] == run.id
        from hiveo.models import User

        assert db.session.get(User, event.user_id).email == "alice@example.com"


def test_a_failed_reactivation_keeps_the_switch_on(app, client, linked):
    login(client, "alice@example.com")
    post(client, DISABLE)
    linked.delay(AL, 2.0)
    response = post(client, ENABLE)
    html = page_text(client.get(response.headers["Location"]))
    assert ("Attestation Légale ne répond pas : la synchronisation reste active et sera "
            "retentée.") in html
    assert link(app).sync_enabled is True


def test_a_reactivation_overtaken_by_a_deactivation_says_so(app, client, linked, monkeypatch):
    from hiveo.sync import switch
    from hiveo.sync.engine import SyncHooks

    def turn_off():  # another admin, while the run is fetching
        with app.app_context():
            db.session.scalar(select(ProviderLink)).sync_enabled = False
            db.session.commit()

    monkeypatch.setattr(switch, "sync_company", lambda *args, **kwargs: sync_company(
        *args, **kwargs, hooks=SyncHooks(before_apply=turn_off)))
    login(client, "alice@example.com")
    post(client, DISABLE)
    response = post(client, ENABLE)
    html = page_text(client.get(response.headers["Location"]))
    assert ("Synchronisation Attestation Légale désactivée pendant son exécution : rien "
            "n'a été appliqué.") in html
    assert "reste active" not in html
    assert "Synchronisation Attestation Légale réactivée" not in html
    assert link(app).sync_enabled is False
    # Recorded as cancelled, and the history says so rather than "échec".
    with app.app_context():
        assert db.session.scalar(select(SyncRun.outcome).order_by(SyncRun.id.desc())) == (
            "cancelled")
    assert re.search(r'<span class="badge badge-pending">(<svg.*?</svg>)? ?annulée</span>', html)
    assert "échec" not in html


def _admin_of_company_with(app, simulator, count: int) -> tuple[str, str]:
    sim = simulator.sim
    with app.app_context():
        company = make_company(f"Réseau {count}")
        add_establishments(company, count)
        make_user(f"admin{count}@example.com", profile="fast",
                  memberships=((company, "admin"),))
        db.session.commit()
        siren = company.siren
        sim.add_company(AL, siren, company.name)
        sim.add_document(AL, siren, "KBIS", issue_date=date(2026, 10, 1))
        sync_company(company.id, AL)
        return siren, f"admin{count}@example.com"


def test_toggle_costs_the_same_queries_for_1_and_2000_establishments(app, cast, simulator):
    counts = {}
    for size in (1, 2000):
        siren, email = _admin_of_company_with(app, simulator, size)
        client = app.test_client()
        login(client, email)
        for action in ("desactiver", "reactiver"):
            path = f"/organisations/{siren}/synchronisation/{AL}/{action}"
            token = fetch_csrf(client, f"/organisations/{siren}")
            with count_queries(app) as statements:
                response = client.post(path, data={"csrf_token": token},
                                       headers={"HX-Request": "true"})
            assert response.status_code == 200
            counts[(size, action)] = len(statements)
            with count_queries(app) as statements:
                client.get(path)
            counts[(size, action, "confirm")] = len(statements)
    for key in [("desactiver",), ("reactiver",), ("desactiver", "confirm"),
                ("reactiver", "confirm")]:
        assert counts[(1, *key)] == counts[(2000, *key)], key
