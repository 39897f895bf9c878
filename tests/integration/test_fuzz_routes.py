"""Every route of the URL map, fuzzed (issue 12): no input gives a 500, a refusal stores nothing.

For each route and method, as an admin, a member and an operator, Hypothesis
draws the path's values, query parameters (those the views read, and others)
and, for POSTs, every field of every form of the portal, with the session's
CSRF token or not: arbitrary text, control characters, huge and non-ASCII
numbers, dates out of range, and plausible values. After each request: no
500, and when the request was a GET or was refused (4xx), no row added or
removed (documents, audit events, accounts, companies, links, runs) and no
file under the storage directory.

Bounded for `make test` (HIVEO_FUZZ_EXAMPLES, default 4 per route and role);
run longer by hand, e.g. HIVEO_FUZZ_EXAMPLES=200.
"""

from __future__ import annotations

import io
import os
from datetime import date
from urllib.parse import quote

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from wtforms.fields.core import UnboundField

from hiveo.demo.factories import make_document, make_user
from hiveo.extensions import db
from hiveo.models import (
    AuditEvent,
    Company,
    Document,
    Establishment,
    Membership,
    ProviderLink,
    SyncRun,
    User,
)
from tests import pdfs
from tests.helpers import fetch_csrf, login, stored_files

EXAMPLES = int(os.environ.get("HIVEO_FUZZ_EXAMPLES", "4"))
ROLES = {"admin": "alice@example.com", "member": "bob@example.com",
         "operator": "olivia@example.com"}
COUNTED = (Document, AuditEvent, User, Company, Establishment, Membership, ProviderLink,
           SyncRun)
# What the views read from query strings, and names no view reads.
QUERY_NAMES = ("q", "page", "etat", "type", "siret", "siren", "next", "x", "page[]")
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None,
    # A failing example reads well as drawn; shrinking HTTP requests takes minutes.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)


def form_fields() -> list[str]:
    """Every field name of every form of the portal (its forms, found from FlaskForm)."""
    names: set[str] = set()
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        if form.__module__.startswith("hiveo."):
            for klass in form.__mro__:
                names.update(name for name, value in vars(klass).items()
                             if isinstance(value, UnboundField))
    return sorted(names)


NON_ASCII_DIGITS = "²³¹٠١٢٣٤٥٦٧٨٩۰۵०५০০௫๕０１９߀᠐"
CONTROL = st.characters(categories=["Cc"])
numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from([str(2**31), str(2**31 - 1), str(2**63), str(2**63 - 1), str(10**30),
                     "0", "-1", "1e9", "1.5", "0x10", " 1", "1 ", "1_000", "+1"]),
    st.text(alphabet=NON_ASCII_DIGITS, min_size=1, max_size=20),
)
dates = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
    .flatmap(lambda d: st.sampled_from([d.isoformat(), d.strftime("%d/%m/%Y")])),
    st.sampled_from(["2026-02-30", "31/02/2026", "2026-13-01", "9999-12-01", "1899-12-31"]),
)
with_controls = st.builds(lambda a, c, b: a + c + b, st.text(max_size=10),
                          st.text(CONTROL, min_size=1, max_size=3), st.text(max_size=10))


def fuzz_values(plausible: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(plausible) if plausible else st.nothing(),
        st.text(max_size=60),
        st.text(min_size=300, max_size=3000),
        numbers, dates, with_controls,
    )


@pytest.fixture
def app_overrides():
    # Every example may sign in or post to /login: the per-IP limit would answer 429 first.
    return {"LOGIN_RATE_LIMIT": "100000 per minute"}


@pytest.fixture
def world(app, cast):
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        globex = db.session.get(Company, cast.globex_id)
        db.session.add(ProviderLink(company_id=acme.id, provider="attestation_legale",
                                    linked=True, sync_enabled=True))
        pending = make_document(acme, "KBIS", issue_date=date(2026, 11, 1), validated=False)
        current = make_document(acme, "INSURANCE_RC_PRO", issue_date=date(2026, 1, 1),
                                validity_end=date(2026, 12, 31))
        foreign = make_document(globex, "KBIS", issue_date=date(2026, 11, 1))
        siret = db.session.scalar(select(Establishment.siret)
                                  .where(Establishment.company_id == acme.id).limit(1))
        # An account in no company: the operators' pages may suspend it.
        gus = make_user("gus@example.com", profile="fast")
        db.session.commit()
        return {
            "siren": [cast.acme, cast.globex],
            "siret": [siret, "73282932000017"],
            "document_id": [str(pending.id), str(current.id), str(foreign.id)],
            "provider": ["attestation_legale", "actradis"],
            "action": ["desactiver", "activer"],
            "filename": ["css/app.css", "js/app.js"],
            "doc_type": ["KBIS", "INSURANCE_RC_PRO", "URSSAF_VIGILANCE"],
            "replaces": [str(current.id)],
            "email": ["nobody@example.com"],
            "etat": ["valide", "expire", "en_cours"],
            "user_id": [str(gus.id)],
        }


def counts(app) -> dict[str, int]:
    with app.app_context():
        result = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                  for model in COUNTED}
        db.session.remove()
        return result


def routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def build_path(rule, values: dict[str, str]) -> str:
    """The rule's path with each value quoted into place, whatever its converter accepts."""
    sentinels = {name: str(1_000_000_007 + index) for index, name in enumerate(rule.arguments)}
    path = rule.build(sentinels, append_unknown=False)[1]
    for name, sentinel in sentinels.items():
        path = path.replace(sentinel, quote(values[name], safe=""), 1)
    return path


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_input_to_any_route_gives_a_500_or_stores_a_refusal(app, world, role):
    fields = form_fields()
    assert {"email", "password", "doc_type", "issue_date", "replaces", "reason"} <= set(fields)
    client = app.test_client()
    session = {"token": None}

    def sign_in() -> None:
        assert login(client, ROLES[role]).status_code == 303
        session["token"] = fetch_csrf(client, "/organisations")

    sign_in()
    exercised = []

    def examples_for(rule, method):
        @SETTINGS
        @given(data=st.data())
        def example(data) -> None:
            if rule.endpoint == "auth.logout" or session["token"] is None:
                sign_in()
            values = {name: data.draw(fuzz_values(world.get(name, [])), label=name)
                      for name in rule.arguments}
            path = build_path(rule, values)
            query = data.draw(st.lists(st.tuples(st.sampled_from(QUERY_NAMES) | st.text(max_size=8),
                                                 fuzz_values(world["etat"])),
                                       max_size=4), label="query")
            form = {}
            if method != "GET":
                form = data.draw(st.dictionaries(st.sampled_from(fields) | st.text(max_size=8),
                                                 fuzz_values([]), max_size=len(fields)),
                                 label="form")
                for name in form:
                    if name in world and data.draw(st.booleans(), label=f"plausible {name}"):
                        form[name] = data.draw(st.sampled_from(world[name]), label=name)
                if data.draw(st.booleans(), label="with this session's CSRF token"):
                    form["csrf_token"] = session["token"]
                if rule.endpoint == "documents.upload" and data.draw(st.booleans(),
                                                                     label="with a file"):
                    content = data.draw(st.sampled_from([pdfs.valid_pdf(), b"%PDF-1.4 x",
                                                         b"", b"\x00" * 64]), label="file")
                    name = data.draw(fuzz_values(["attestation.pdf"]), label="filename")
                    form["file"] = FileStorage(io.BytesIO(content), filename=name,
                                               content_type="application/pdf")
            before, files_before = counts(app), stored_files(app)
            if method == "GET":
                response = client.get(path, query_string=query)
            else:
                response = client.post(path, query_string=query, data=form)
            status = response.status_code
            response.close()
            assert status < 500, (method, path, status)
            if method == "GET" or status >= 400:
                assert counts(app) == before, (method, path, status)
                assert stored_files(app) == files_before, (method, path, status)
            if rule.endpoint == "auth.logout" and status < 400:
                session["token"] = None

        return example

    for rule, method in routes(app):
        examples_for(rule, method)()
        exercised.append(rule.endpoint)

    assert set(exercised) == {rule.endpoint for rule in app.url_map.iter_rules()}
