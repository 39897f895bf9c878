"""`flask sync run | enable | disable`, and uploads while a provider manages a type."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from hiveo.extensions import db
from hiveo.models import AuditEvent, Document, ProviderLink
from tests import pdfs
from tests.helpers import login, page_text, upload

AL = "attestation_legale"
ACME = "732829320"


@pytest.fixture
def app_overrides(simulator):
    return simulator.config()


@pytest.fixture
def world(app, cast, simulator):
    sim = simulator.sim
    sim.add_company(AL, ACME, "Acme Nettoyage")
    sim.add_document(AL, ACME, "KBIS", issue_date=date(2026, 10, 1))
    sim.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 10, 1))
    return sim


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_sync_run_prints_a_line_per_company_and_links_new_accounts(app, world):
    result = cli(app, "sync", "run")
    assert result.exit_code == 0, result.output
    assert "732 829 320" in result.output
    assert "2 documents importés" in result.output
    # Globex has no account anywhere: nothing printed for it.
    assert result.output.count("\n") == 1


def test_sync_run_exits_non_zero_when_a_run_fails(app, world):
    cli(app, "sync", "run")
    world.fail_listing_page(AL, ACME, 1, status=500)
    result = cli(app, "sync", "run", "--siren", ACME, "--provider", AL)
    assert result.exit_code == 1
    assert "ÉCHEC" in result.output


def test_sync_run_refuses_an_unconfigured_provider(app, world):
    app.config["ACTRADIS_URL"] = ""
    result = cli(app, "sync", "run", "--provider", "actradis")
    assert result.exit_code != 0
    assert "n'est pas configuré" in result.output


def test_disable_then_enable_from_the_command_line(app, world):
    cli(app, "sync", "run")
    result = cli(app, "sync", "disable", ACME, "--provider", AL, "--by", "alice@example.com")
    assert result.exit_code == 0, result.output
    assert "désactivée" in result.output
    again = cli(app, "sync", "disable", ACME, "--provider", AL)
    assert again.exit_code == 0 and "déjà désactivée" in again.output
    data = json.loads(cli(app, "dossier", "export", ACME).output)
    assert data["providers"][AL]["sync_enabled"] is False
    assert data["providers"][AL]["changed_by"] == "alice@example.com"
    assert len(data["documents"]) == 2  # nothing removed
    world.add_document(AL, ACME, "LISTE_SALARIES_ETRANGERS", issue_date=date(2026, 11, 1))
    enable = cli(app, "sync", "enable", ACME, "--provider", AL, "--by", "alice@example.com")
    assert enable.exit_code == 0, enable.output
    assert "1 document importé" in enable.output
    data = json.loads(cli(app, "dossier", "export", ACME).output)
    assert data["providers"][AL]["sync_enabled"] is True
    assert data["providers"][AL]["last_run"]["trigger"] == "reactivation"
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.like("sync.%")).order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["sync.disabled", "sync.enabled"]
        assert events[1].details["run_id"] is not None


def test_enable_reports_a_failed_run_and_stays_on(app, world):
    cli(app, "sync", "run")
    cli(app, "sync", "disable", ACME, "--provider", AL)
    world.delay(AL, 2.0)
    result = cli(app, "sync", "enable", ACME, "--provider", AL)
    assert result.exit_code == 1
    assert "Attestation Légale ne répond pas" in result.output
    assert "reste active" in result.output
    with app.app_context():
        assert db.session.scalar(select(ProviderLink.sync_enabled)) is True


def test_switch_refuses_a_company_without_account(app, world):
    result = cli(app, "sync", "disable", ACME, "--provider", "actradis")
    assert result.exit_code != 0
    assert "n'a pas de compte Actradis" in result.output


def upload_kbis(client):
    return upload(client, ACME, pdfs.valid_pdf(), filename="kbis.pdf", doc_type="KBIS",
                  issue_date="2026-11-01", validity_start="")


def test_types_managed_by_a_provider_refuse_uploads_until_sync_is_off(app, client, world):
    cli(app, "sync", "run")
    login(client, "bob@example.com")
    dossier = page_text(client.get(f"/organisations/{ACME}/documents"))
    assert "Géré par Attestation Légale" in dossier
    # Said once per section, not on every row; a member is sent to an admin.
    assert dossier.count("Géré par Attestation Légale :") == 1
    assert f'depuis <a href="/organisations/{ACME}">la fiche de l' in dossier
    assert "Synchroniser maintenant" not in dossier
    admin = app.test_client()
    login(admin, "alice@example.com")
    switch = f"/organisations/{ACME}/synchronisation/{AL}/desactiver"
    admin_dossier = page_text(admin.get(f"/organisations/{ACME}/documents"))
    assert f'action="/organisations/{ACME}/synchronisation/{AL}/maintenant"' in admin_dossier
    assert f'<a class="secondary-link" href="{switch}">ou désactiver' in admin_dossier
    refused = upload_kbis(client)
    assert refused.status_code == 422
    assert "géré par Attestation Légale" in page_text(refused)
    cli(app, "sync", "disable", ACME, "--provider", AL)
    assert "Géré par Attestation Légale" not in page_text(
        client.get(f"/organisations/{ACME}/documents"))
    assert upload_kbis(client).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 3


def test_import_cli_refuses_a_managed_type(app, world, tmp_path):
    cli(app, "sync", "run")
    pdf = tmp_path / "kbis.pdf"
    pdf.write_bytes(pdfs.valid_pdf())
    result = cli(app, "documents", "import", ACME, str(pdf), "--type", "KBIS",
                 "--issue-date", "2026-11-01", "--validity-start", "2026-11-01")
    assert result.exit_code != 0
    assert "géré par Attestation Légale" in result.output


def test_types_the_provider_does_not_supply_stay_open(app, client, simulator, cast):
    sim = simulator.sim
    sim.add_company("actradis", ACME, "Acme")
    sim.add_document("actradis", ACME, "EXTRAIT_KBIS", issue_date=date(2026, 10, 1))
    cli(app, "sync", "run")
    login(client, "bob@example.com")
    html = page_text(client.get(f"/organisations/{ACME}/documents"))
    assert "Géré par Actradis" in html
    establishment = page_text(client.get(
        f"/organisations/{ACME}/documents/etablissements/73282932000017"))
    btp = establishment[establishment.index("Certificat caisse de congés payés BTP"):]
    assert "Déposer un document" in btp[:3000]
