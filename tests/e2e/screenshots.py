"""`make screenshots`: full-page PNGs of the main pages at 390 and 1440 px into docs/screenshots/.

Not a test module (pytest only runs it when named on the command line). Playwright's
page.screenshot() injects inline styles, which the strict CSP reports as console errors:
that is the tool, not the portal. So these pages use a context of their own with no
console guard; the e2e tests keep the guard strict on the same pages (test_experience.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_experience import ACME, AL, build_client_world, build_world, sign_in

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
