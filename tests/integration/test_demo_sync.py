"""`make demo` synchronises the demo companies only, not the clients' generated suppliers."""

from __future__ import annotations

import pytest

from hiveo.demo.__main__ import sync_all
from hiveo.demo.companies import COMPANIES
from hiveo.demo.load import load_demo
from hiveo.extensions import db


@pytest.fixture
def app_overrides(simulator):
    return simulator.config()


def test_the_start_up_sync_asks_the_providers_about_the_demo_companies_only(app, simulator):
    with app.app_context():
        load_demo("fast")
        db.session.commit()
        sync_all()
    asked = {call.siren for call in simulator.sim.calls if call.siren}
    assert asked
    assert asked <= {company.siren for company in COMPANIES}
