"""The supplier's experience in a browser: keyboard, swaps, small screens, accessibility."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from stdnum import luhn

from hiveo.demo.bulk import add_companies_bulk, add_relations_bulk
from hiveo.demo.factories import (
    add_documents_bulk,
    make_company,
    make_document,
    make_relation,
    make_user,
)
from hiveo.extensions import db
from hiveo.models import Company
from hiveo.sync.engine import sync_company
from tests import pdfs
from tests.conftest import TODAY
from tests.e2e.conftest import ConsoleWatch, axe_violations
from tests.helpers import PASSWORD

ACME = "732829320"
AL = "attestation_legale"
WIDTHS = (390, 1440)


@pytest.fixture
def live_overrides(simulator):
    return simulator.config()


def build_world(app, sim) -> dict:
    """Acme synchronised with Attestation Légale, a manual upload waiting, an empty company."""
    sim.add_company(AL, ACME, "Acme Nettoyage")
    sim.add_document(AL, ACME, "KBIS", issue_date=date(2026, 10, 1))
    sim.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 10, 1))
    with app.app_context():
        company = make_company("Acme Nettoyage", siren=ACME, establishments=3)
        empty = make_company("Globex Bâtiment Rénovation et Maintenance", establishments=1)
        marie = make_user("marie@example.com", name="Marie Dupont", profile="fast",
                          memberships=((company, "admin"), (empty, "admin")))
        make_user("paul@example.com", name="Paul Girard", profile="fast",
                  memberships=((company, "member"),))
        make_user("claire@example.com", name="Claire Petit", profile="fast", operator=True)
        make_user("nouveau@example.com", name="Nina Nouvelle", profile="fast")
        pending = make_document(company, "FISCAL_REGULARITY", issue_date=date(2026, 11, 2),
                                validity_end=date(2027, 5, 1), validated=False,
                                uploaded_by=marie)
        db.session.commit()
        ids = {"company": company.id, "empty": empty.siren, "pending": pending.id}
        assert sync_company(company.id, AL).outcome == "success"
    return ids


def build_client_world(app, globex_siren: str) -> dict:
    """A client following Acme (active), Globex (invited, Marie answers) and eight more."""
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == ACME))
        globex = db.session.scalar(select(Company).where(Company.siren == globex_siren))
        client = make_company("Initech Immobilier", establishments=1)
        dan = make_user("dan@example.com", name="Dan Client", profile="fast",
                        memberships=((client, "admin"),))
        make_relation(client, acme, by=dan, supplier_code="F-0001", category="Nettoyage",
                      contact_email="marie@example.com")
        make_relation(client, globex, state="invited", by=dan, contact_email="marie@example.com")
        names = ("Plomberie Bertrand", "Électricité Roux", "Peinture Vincent", "Jardins Morel",
                 "Sécurité Girard", "Ascenseurs André", "Propreté Mercier", "Couverture Blanc")
        sirens = [base + luhn.calc_check_digit(base)
                  for base in (f"6000{number:04d}" for number in range(1, len(names) + 1))]
        ids = add_companies_bulk(list(zip(sirens, names, strict=True)))
        states = ("active", "active", "active", "invited", "suspended", "closed", "active",
                  "active")
        add_relations_bulk(client, [
            {"supplier_id": ids[siren], "state": state, "supplier_code": f"F-{number + 2:04d}",
             "state_reason": "Contrat en pause" if state in ("suspended", "closed") else None}
            for number, (siren, state) in enumerate(zip(ids, states, strict=True))], by=dan)
        # Some of them conforme (one expiring soon): the legal dossier on the tests' TODAY.
        ages = {"KBIS": 20, "URSSAF_VIGILANCE": 40, "LNTE": 30}
        add_documents_bulk(client, [
            {"company_id": ids[siren], "doc_type": doc_type,
             "issue_date": TODAY - timedelta(days=170 if (siren, doc_type) == (
                 sirens[2], "URSSAF_VIGILANCE") else days)}
            for siren in (*sirens[:3], sirens[6]) for doc_type, days in ages.items()])
        db.session.commit()
        return {"client": client.siren}


@pytest.fixture
def world(live_app, simulator):
    return build_world(live_app, simulator.sim)


def sign_in(page, base_url: str, email: str = "marie@example.com") -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def more_actions(page):
    return page.locator("summary[aria-label=\"Plus d'actions\"]")


def test_arrow_keys_move_in_the_three_dot_menu(watched_page, live_server, world):
    page = watched_page
    sign_in(page, live_server.url)
    page.goto(live_server.url + f"/organisations/{ACME}")
    more_actions(page).focus()
    page.keyboard.press("ArrowDown")
    first = page.get_by_role("link", name="Désactiver la synchronisation Attestation Légale")
    last = page.get_by_role("link", name="Voir les documents")
    expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(last).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(first).to_be_focused()  # wraps around
    page.keyboard.press("ArrowUp")
    expect(last).to_be_focused()
    page.keyboard.press("Home")
    expect(first).to_be_focused()
    page.keyboard.press("End")
    expect(last).to_be_focused()
    page.keyboard.press("Escape")
    expect(more_actions(page)).to_be_focused()
    expect(last).to_be_hidden()


def test_the_dialog_traps_focus_and_starts_on_annuler(watched_page, live_server, world):
    page = watched_page
    sign_in(page, live_server.url)
    page.goto(live_server.url + f"/organisations/{ACME}")
    more_actions(page).click()
    page.get_by_role("link", name="Désactiver la synchronisation Attestation Légale").click()
    dialog = page.get_by_role("dialog")
    cancel = dialog.get_by_role("link", name="Annuler")
    confirm = dialog.get_by_role("button", name="Valider")
    expect(cancel).to_be_focused()
    # Annuler is the last control: Tab goes round to the first, never out of the dialog.
    page.keyboard.press("Tab")
    expect(confirm).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(cancel).to_be_focused()
    for _ in range(5):
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('dialog[open]').contains("
                             "document.activeElement)")
    # Enter on the initial focus cancels: nothing changed.
    cancel.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Synchronisation Attestation Légale active et à jour")).to_be_visible()


def test_run_now_swaps_the_state_and_the_history_explains_the_run(
        watched_page, live_server, world, simulator):
    page = watched_page
    simulator.sim.add_document(AL, ACME, "LISTE_SALARIES_ETRANGERS", issue_date=date(2026, 11, 1))
    sign_in(page, live_server.url)
    page.goto(live_server.url + f"/organisations/{ACME}")
    page.get_by_role("button", name="Synchroniser maintenant avec Attestation Légale").click()
    expect(page.get_by_text(
        "Synchronisation Attestation Légale terminée : 1 document importé.")).to_be_visible()
    rows = page.locator("table.runs tbody tr")
    expect(rows).to_have_count(2)
    rows.first.get_by_text("Documents concernés").click()
    expect(rows.first.get_by_text(re.compile("Liste nominative des travailleurs étrangers.*"
                                             "importé"))).to_be_visible()
    assert axe_violations(page) == []


def test_a_failing_sync_looks_failing_and_says_what_to_do(
        watched_page, live_server, world, simulator):
    page = watched_page
    simulator.sim.set_subscription(AL, ACME, False)
    sign_in(page, live_server.url)
    page.goto(live_server.url + f"/organisations/{ACME}")
    page.get_by_role("button", name="Synchroniser maintenant avec Attestation Légale").click()
    banner = page.locator(".banner-failing")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Abonnement Attestation Légale inactif")
    expect(banner).to_contain_text("Renouvelez l\u2019abonnement")
    expect(banner.get_by_role("link", name="Désactiver la synchronisation")).to_be_visible()
    expect(page.locator(".banner-ok")).to_have_count(0)
    assert axe_violations(page) == []


def test_a_refused_upload_swaps_in_the_dialog_under_the_strict_guard(
        watched_page, live_server, world, tmp_path):
    page = watched_page
    sign_in(page, live_server.url)
    page.goto(live_server.url + f"/organisations/{world['empty']}/documents")
    page.locator("#company-docs-title ~ table").get_by_role(
        "link", name=re.compile("Déposer un document")).first.click()
    dialog = page.get_by_role("dialog")
    fake = tmp_path / "photo.pdf"
    fake.write_bytes(pdfs.png_bytes())
    dialog.get_by_label("Fichier PDF").set_input_files(str(fake))
    # The upload zone shows the chosen file and its size before anything is sent.
    expect(dialog.locator("[data-upload-chosen]")).to_contain_text(
        re.compile(r"Fichier choisi\s: photo\.pdf \(\d+ octets\)"))
    dialog.get_by_role("button", name="Déposer").click()  # no date: a 422 swap
    expect(dialog.get_by_text("Le document n'a pas été déposé")).to_be_visible()
    expect(dialog.get_by_role("heading", name="Déposer un document")).to_be_in_viewport()
    assert axe_violations(page) == []
    # The guard (watched_page) fails the test on any console error of the swap.


def test_the_upload_zone_warns_of_a_file_too_large(watched_page, live_server, world, tmp_path):
    page = watched_page
    sign_in(page, live_server.url)
    page.goto(live_server.url + f"/organisations/{world['empty']}/documents/deposer?type=LNTE")
    big = tmp_path / "gros.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024))
    page.get_by_label("Fichier PDF").set_input_files(str(big))
    chosen = page.locator("[data-upload-chosen]")
    expect(chosen).to_contain_text("gros.pdf (11\u202fMo)")
    expect(chosen).to_contain_text("trop volumineux : 10 Mo au plus")


def test_tables_become_stacked_cards_at_390_px(watched_page, live_server, world):
    page = watched_page
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url)
    for path in ("/organisations", f"/organisations/{ACME}", f"/organisations/{ACME}/documents"):
        page.goto(live_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate("[...document.querySelectorAll('body *')].filter(e => "
                             "e.getBoundingClientRect().right > 391).slice(0, 8).map(e => "
                             "e.tagName + '.' + e.className + ' ' + "
                             "Math.round(e.getBoundingClientRect().right))")
        assert overflow <= 390, f"{path} is {overflow} px wide: {wide}"
        assert page.evaluate("[...document.querySelectorAll('table.table thead')]"
                             ".every(t => getComputedStyle(t).display === 'none')")
        assert page.evaluate("[...document.querySelectorAll('table.table tbody tr')]"
                             ".every(r => getComputedStyle(r).display === 'block')")
    # Document names keep whole words on a line: the name cell is as wide as the card.
    width = page.evaluate("document.querySelector('.slots tbody th').getBoundingClientRect()"
                          ".width")
    assert width > 250
    page.goto(live_server.url + f"/organisations/{ACME}")
    search = page.get_by_label("Rechercher un établissement")
    assert search.evaluate("e => e.scrollWidth <= e.clientWidth")


PAGES = (
    ("marie@example.com", "/organisations"),
    ("marie@example.com", f"/organisations/{ACME}"),
    ("marie@example.com", f"/organisations/{ACME}/documents"),
    ("marie@example.com", f"/organisations/{ACME}/documents?etat=missing"),
    ("marie@example.com", f"/organisations/{ACME}/documents?etat=archived"),
    ("marie@example.com", f"/organisations/{ACME}/documents/etablissements/73282932000017"),
    ("marie@example.com", "/organisations/{empty}/documents"),
    ("marie@example.com", "/organisations/{empty}/documents/deposer?type=LNTE"),
    ("marie@example.com", f"/organisations/{ACME}/synchronisation/{AL}/desactiver"),
    ("marie@example.com", f"/organisations/{ACME}/synchronisation/{AL}/executions/1"),
    ("marie@example.com", "/compte"),
    ("marie@example.com", "/organisations/000000000"),
    ("paul@example.com", f"/organisations/{ACME}"),
    ("nouveau@example.com", "/organisations"),
    ("claire@example.com", "/operateur/validation"),
    ("claire@example.com", "/operateur/documents/{pending}"),
    ("claire@example.com", "/operateur/entreprises"),
    ("claire@example.com", "/operateur/entreprises/nouveau-client"),
    ("claire@example.com", "/operateur/comptes"),
    # The client side (issue 16): Marie answers Initech on "Mes clients"; Dan is Initech.
    ("marie@example.com", f"/organisations/{ACME}/clients"),
    ("dan@example.com", "/organisations/{client}/fournisseurs"),
    ("dan@example.com", "/organisations/{client}/fournisseurs?afficher=non-conformes"),
    ("dan@example.com", f"/organisations/{{client}}/fournisseurs/{ACME}"),
    ("dan@example.com", f"/organisations/{{client}}/fournisseurs/{ACME}/references"),
    ("dan@example.com", f"/organisations/{{client}}/fournisseurs/{ACME}/suspendre"),
    ("dan@example.com", "/organisations/{client}/fournisseurs/inviter"),
    ("dan@example.com", "/organisations/{client}/fournisseurs/importer"),
    ("dan@example.com", "/organisations/{client}/exigences"),
    ("dan@example.com", "/compte"),
)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_is_axe_clean(live_app, live_server, browser, world, width):
    world = {**world, **build_client_world(live_app, world["empty"])}
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    watch = ConsoleWatch()
    watch.attach(page)
    problems = []
    page.goto(live_server.url + "/login")
    problems += [f"/login: {v}" for v in axe_violations(page)]
    user = None
    for email, path in PAGES:
        if email != user:
            context.clear_cookies()
            sign_in(page, live_server.url, email)
            user = email
        page.goto(live_server.url + path.format(**world))
        expect(page.locator("main")).to_be_visible()
        problems += [f"{path} ({email}): {v}" for v in axe_violations(page)]
        overflow = page.evaluate("document.documentElement.scrollWidth")
        if overflow > width:
            problems.append(f"{path} ({email}): {overflow} px wide at {width} px")
    context.close()
    # A missing page answers 404 and Chromium logs it; nothing else may reach the console.
    console = [p for p in watch.problems if "status of 404" not in p]
    assert problems == [] and console == [], "\n".join(problems + console)
