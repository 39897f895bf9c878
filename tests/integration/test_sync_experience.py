"""What a supplier admin reads about a sync: three looks, "Synchroniser maintenant", run details."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from hiveo.demo.factories import make_document
from hiveo.extensions import db
from hiveo.models import Company, Document, SyncRun, SyncRunItem
from hiveo.sync.engine import sync_company
from tests.helpers import count_queries, login, page_text, post, raw_text

AL = "attestation_legale"
ACME = "732829320"
COMPANY = f"/organisations/{ACME}"
RUN_NOW = f"/organisations/{ACME}/synchronisation/{AL}/maintenant"
DISABLE = f"/organisations/{ACME}/synchronisation/{AL}/desactiver"
ENABLE = f"/organisations/{ACME}/synchronisation/{AL}/reactiver"
KEPT = ("Attestation de vigilance URSSAF (entreprise) : votre version est plus récente, "
        "elle est conservée.")


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


def banner(html: str) -> str:
    return html[html.index('class="banner'):html.index("</section>")]


def runs(app) -> list[SyncRun]:
    with app.app_context():
        rows = list(db.session.scalars(select(SyncRun).order_by(SyncRun.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_a_healthy_sync_says_active_and_up_to_date(client, linked):
    login(client, "alice@example.com")
    text = banner(page_text(client.get(COMPANY)))
    assert "banner-ok" in text
    assert "Synchronisation Attestation Légale active et à jour" in text
    assert "1 document importé" in text
    assert "Que faire" not in text


def test_a_failing_sync_says_since_when_why_and_what_to_do(app, client, cast, linked):
    linked.set_subscription(AL, ACME, False)
    with app.app_context():
        first = sync_company(cast.acme_id, AL)
        sync_company(cast.acme_id, AL)
    assert first.outcome == "failed"
    started = runs(app)[1].started_at
    login(client, "alice@example.com")
    text = banner(page_text(client.get(COMPANY)))
    assert "banner-failing" in text and "banner-ok" not in text
    assert "active et à jour" not in text
    # Since the first failure after the last success, not the latest one.
    from hiveo.core.text import format_datetime
    assert f"en échec depuis le {format_datetime(started)}" in text
    assert "Abonnement Attestation Légale inactif" in text
    assert "Renouvelez l'abonnement de l'entreprise sur la plateforme" in text
    assert "désactivez la synchronisation Attestation Légale pour déposer vous-même" in text
    assert "Synchroniser maintenant" in text


def test_an_unreachable_provider_advises_retrying_then_the_provider(app, client, cast, linked):
    linked.fail_discovery(AL, ACME, status=503)
    with app.app_context():
        assert sync_company(cast.acme_id, AL).outcome == "failed"
    login(client, "alice@example.com")
    text = banner(page_text(client.get(COMPANY)))
    assert "banner-failing" in text
    assert "Renouvelez" not in text
    assert "contactez le support de la plateforme Attestation Légale" in text


def test_a_sync_turned_off_says_since_when_and_by_whom(client, linked):
    login(client, "alice@example.com")
    post(client, f"/organisations/{ACME}/synchronisation/{AL}/desactiver")
    text = banner(page_text(client.get(COMPANY)))
    assert "banner-off" in text
    assert re.search(r"désactivée le \d\d/\d\d/\d{4} par Alice", text)
    assert "Synchroniser maintenant" not in text


def test_run_now_runs_the_sync_and_shows_its_report(app, client, linked):
    linked.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 11, 1))
    login(client, "alice@example.com")
    response = post(client, RUN_NOW)
    assert response.status_code == 303
    last = runs(app)[-1]
    assert last.trigger == "manual" and last.outcome == "success" and last.imported == 1
    assert response.headers["Location"] == (
        f"/organisations/{ACME}/synchronisation/{AL}/executions/{last.id}")
    html = page_text(client.get(response.headers["Location"]))
    assert "Synchronisation Attestation Légale terminée : 1 document importé." in html
    assert "Attestation de vigilance URSSAF" in html and "Importé" in html


def test_run_now_with_htmx_swaps_the_state_and_flashes_the_result(app, client, linked):
    login(client, "alice@example.com")
    response = post(client, RUN_NOW, htmx=True)
    assert response.status_code == 200
    html = page_text(response)
    assert html.startswith('<div id="sync-state">')
    assert "Aucun changement : le dossier est à jour avec Attestation Légale" in html
    assert 'id="flash"' in html and "hx-swap-oob" in html


def test_run_now_is_for_admins_only(app, client, linked):
    login(client, "bob@example.com")
    assert post(client, RUN_NOW).status_code == 403
    assert len(runs(app)) == 1
    assert "Synchroniser maintenant" not in page_text(client.get(COMPANY))


def test_run_now_refuses_a_sync_turned_off(app, client, linked):
    login(client, "alice@example.com")
    post(client, f"/organisations/{ACME}/synchronisation/{AL}/desactiver")
    response = post(client, RUN_NOW)
    assert response.status_code == 303
    assert len(runs(app)) == 1
    assert "réactivez-la pour lancer" in page_text(client.get(COMPANY))


def test_run_now_rejects_get_and_outsiders(client, linked):
    login(client, "charlie@example.com")
    assert post(client, RUN_NOW).status_code == 404
    assert client.get(RUN_NOW).status_code in (404, 405)


def test_the_run_detail_names_the_archived_manual_upload(app, client, cast, linked):
    with app.app_context():
        company = db.session.get(Company, cast.acme_id)
        make_document(company, "URSSAF_VIGILANCE", issue_date=date(2026, 11, 20))
        db.session.commit()
    linked.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 12, 1))
    login(client, "alice@example.com")
    post(client, RUN_NOW)
    last = runs(app)[-1]
    html = page_text(client.get(
        f"/organisations/{ACME}/synchronisation/{AL}/executions/{last.id}"))
    assert last.replaced == 1
    assert "Remplacé" in html
    assert re.search(r"votre dépôt du \d\d/\d\d/\d{4} a été archivé, la version "
                     r"Attestation Légale du 01/12/2026 est plus récente", html)


def test_the_run_detail_says_when_the_portal_version_is_kept(app, client, cast, linked):
    with app.app_context():
        company = db.session.get(Company, cast.acme_id)
        make_document(company, "URSSAF_VIGILANCE", issue_date=date(2026, 12, 1))
        db.session.commit()
    linked.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 11, 1))
    login(client, "alice@example.com")
    post(client, RUN_NOW)
    last = runs(app)[-1]
    assert last.kept == 1
    html = page_text(client.get(
        f"/organisations/{ACME}/synchronisation/{AL}/executions/{last.id}"))
    assert "Conservé" in html and "votre version est plus récente, elle est conservée" in html


def items(app, run_id: int) -> list[tuple[str, int | None]]:
    with app.app_context():
        return [(kind, document_id) for kind, document_id in db.session.execute(
            select(SyncRunItem.kind, SyncRunItem.document_id)
            .where(SyncRunItem.run_id == run_id).order_by(SyncRunItem.position))]


def test_every_reactivation_lists_the_provider_document_the_portal_keeps_over(
        app, client, cast, linked):
    linked.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 11, 1))
    with app.app_context():
        assert sync_company(cast.acme_id, AL).counts["imported"] == 1
    login(client, "alice@example.com")
    post(client, DISABLE)
    with app.app_context():
        # Sync off, the supplier deposits a newer one: the provider's is archived (seen before).
        company = db.session.get(Company, cast.acme_id)
        manual = make_document(company, "URSSAF_VIGILANCE", issue_date=date(2026, 11, 25)).id
        db.session.commit()
    reactivations = []
    for _ in range(2):
        post(client, ENABLE)
        reactivations.append(runs(app)[-1])
        post(client, DISABLE)
    for run in reactivations:
        assert run.trigger == "reactivation" and run.kept == 1
        assert ("kept", manual) in items(app, run.id)
        html = page_text(client.get(
            f"/organisations/{ACME}/synchronisation/{AL}/executions/{run.id}"))
        assert "Conservé" in html and KEPT in html
    with app.app_context():
        assert db.session.get(Document, manual).is_current


def test_the_run_page_costs_the_same_queries_for_one_document_and_thirty(
        app, client, cast, linked):
    login(client, "bob@example.com")
    one = runs(app)[-1]
    for day in range(1, 31):
        linked.add_document(AL, ACME, "ATTESTATION_ASSURANCE_DECENNALE" if day % 2 else
                            "CERTIFICAT_QUALIPROPRE", issue_date=date(2026, 10, day))
    with app.app_context():
        sync_company(cast.acme_id, AL, full=True)
    many = runs(app)[-1]
    assert len(items(app, many.id)) >= 30
    counts = []
    for run in (one, many):
        href = f"/organisations/{ACME}/synchronisation/{AL}/executions/{run.id}"
        for headers in ({}, {"HX-Request": "true"}):
            with count_queries(app) as statements:
                assert client.get(href, headers=headers).status_code == 200
            counts.append(len(statements))
    assert counts[:2] == counts[2:]


def test_a_run_recorded_before_run_items_shows_its_stored_lines(app, client, cast, linked):
    with app.app_context():
        old = SyncRun(company_id=cast.acme_id, provider=AL, trigger="periodic",
                      started_at=runs(app)[0].started_at, finished_at=runs(app)[0].finished_at,
                      outcome="success", imported=1, skipped=1,
                      details=["Extrait Kbis (entreprise) : importé (délivré le 01/10/2026).",
                               "Type inconnu « XYZ » (entreprise) : ignoré."])
        db.session.add(old)
        db.session.commit()
        old_id = old.id
    login(client, "bob@example.com")
    html = page_text(client.get(
        f"/organisations/{ACME}/synchronisation/{AL}/executions/{old_id}"))
    assert "Importé" in html and "Extrait Kbis (entreprise) : importé" in html
    assert "Ignoré" in html and "Type inconnu « XYZ »" in html


def test_the_history_offers_a_disclosure_loaded_with_htmx(app, client, linked):
    login(client, "bob@example.com")
    html = page_text(client.get(COMPANY))
    run = runs(app)[0]
    href = f"/organisations/{ACME}/synchronisation/{AL}/executions/{run.id}"
    assert f'hx-get="{href}"' in html and "Documents concernés" in html
    fragment = page_text(client.get(href, headers={"HX-Request": "true"}))
    assert "<html" not in fragment
    assert "Importé" in fragment and "Extrait Kbis" in fragment
    page = page_text(client.get(href))
    assert "<html" in page and "Synchronisation Attestation Légale du" in page


def test_a_failed_run_detail_says_nothing_changed(app, client, cast, linked):
    linked.set_subscription(AL, ACME, False)
    with app.app_context():
        sync_company(cast.acme_id, AL)
    run = runs(app)[-1]
    login(client, "bob@example.com")
    html = page_text(client.get(
        f"/organisations/{ACME}/synchronisation/{AL}/executions/{run.id}"))
    assert "Abonnement Attestation Légale inactif" in html
    assert "aucun document n'a été modifié" in html


def test_another_company_run_is_not_found(app, client, cast, linked):
    run = runs(app)[0]
    login(client, "charlie@example.com")
    assert client.get(f"/organisations/{cast.globex}/synchronisation/{AL}/executions/"
                      f"{run.id}").status_code == 404
    assert client.get(f"/organisations/{ACME}/synchronisation/{AL}/executions/"
                      f"{run.id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(SyncRun.id))) == 1


def test_the_dossier_says_managed_once_per_section(client, linked):
    login(client, "alice@example.com")
    html = page_text(client.get(f"/organisations/{ACME}/documents"))
    company_section = html[html.index('id="company-docs-title"'):
                           html.index('id="establishment-docs-title"')]
    assert company_section.count("Géré par Attestation Légale :") == 1
    assert company_section.count('aria-label="Géré par Attestation Légale"') >= 1


def test_flash_messages_and_banners_follow_french_typography(client, linked):
    login(client, "alice@example.com")
    post(client, f"/organisations/{ACME}/synchronisation/{AL}/desactiver")
    html = raw_text(client.get(COMPANY))
    assert ("Synchronisation Attestation Légale désactivée. Aucun document n\u2019a été "
            "supprimé\u202f; vous pouvez") in html
    assert ("Les mises à jour faites sur Attestation Légale n\u2019apparaissent plus "
            "ici\u00a0:") in html
