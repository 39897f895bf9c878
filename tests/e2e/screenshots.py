"""`make screenshots`: full-page PNGs of the main pages at 390 and 1440 px into docs/screenshots/.

Not a test module (pytest only runs it when named on the command line). Playwright's
page.screenshot() injects inline styles, which the strict CSP reports as console errors:
that is the tool, not the portal. So these pages use a context of their own with no
console guard; the e2e tests keep the guard strict on the same pages (test_experience.py).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from stdnum import luhn

from hiveo.demo.bulk import add_companies_bulk, add_relations_bulk
from hiveo.demo.factories import add_documents_bulk, make_company, make_relation, make_user
from hiveo.extensions import db
from hiveo.models import Company
from tests.conftest import TODAY
from tests.e2e.test_experience import ACME, AL, build_world, sign_in

OUT = Path(os.environ.get("HIVEO_SCREENSHOTS", "docs/screenshots"))

SHOTS = (
    ("connexion", None, "/login"),
    ("organisations", "marie@example.com", "/organisations"),
    ("entreprise", "marie@example.com", f"/organisations/{ACME}"),
    ("documents", "marie@example.com", f"/organisations/{ACME}/documents"),
    ("execution", "marie@example.com", f"/organisations/{ACME}/synchronisation/{AL}/executions/1"),
    ("depot", "marie@example.com", "/organisations/{empty}/documents/deposer?type=LNTE"),
    ("validation", "claire@example.com", "/operateur/documents/{pending}"),
)

# The client side (issue 16): (the page's endpoint, its shot).
CLIENT_SHOTS = (
    ("suppliers.list", ("fournisseurs", "dan@example.com", "/organisations/{client}/fournisseurs")),
    ("supplier_dossier.detail",
     ("fournisseur", "dan@example.com", f"/organisations/{{client}}/fournisseurs/{ACME}")),
    ("supplier_invites.invite",
     ("inviter", "dan@example.com", "/organisations/{client}/fournisseurs/inviter")),
    ("supplier_dossier.requirements",
     ("exigences", "dan@example.com", "/organisations/{client}/exigences")),
    ("clients.index", ("mes-clients", "marie@example.com", "/organisations/{empty}/clients")),
)


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
def live_overrides(simulator):
    return simulator.config()


@pytest.mark.parametrize("width", (390, 1440))
def test_screenshots(live_server, live_app, simulator, browser, width):
    world = build_world(live_app, simulator.sim)
    world.update(build_client_world(live_app, world["empty"]))
    shots = list(SHOTS) + [shot for _endpoint, shot in CLIENT_SHOTS]
    OUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  device_scale_factor=1)
    page = context.new_page()
    user = None
    for name, email, path in shots:
        if email != user:
            context.clear_cookies()
            if email:
                sign_in(page, live_server.url, email)
            user = email
        page.goto(live_server.url + path.format(**world))
        expect(page.locator("main")).to_be_visible()
        page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=True,
                        animations="disabled")
    context.close()
