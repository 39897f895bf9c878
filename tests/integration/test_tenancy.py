"""Who may see and do what: every route of the URL map, every method, every role.

The table below must name every endpoint the application has: a new route
fails this test until someone decides who may use it.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from hiveo.demo.factories import make_document, make_user
from hiveo.extensions import db
from hiveo.models import Company, ProviderLink, SyncRun, utcnow
from tests.helpers import fetch_csrf, login

# What kind of route each endpoint is.
ROUTES = {
    "index": "public",
    "static": "public",
    "auth.login": "public",
    "auth.logout": "signed_in",
    "auth.account": "signed_in",
    "organisations.index": "signed_in",
    "documents.index": "signed_in",
    "organisations.company": "company",
    "documents.dossier": "company",
    "documents.establishment": "company",
    "documents.download": "company",
    "documents.upload": "company",
    "sync.confirm": "company_admin",
    "sync.toggle": "company_admin",
    "sync.run_now": "company_admin",
    "sync.run_detail": "company",
    "review.queue": "operator",
    "review.document": "operator",
    "review.preview": "operator",
    "review.validate": "operator",
    "review.refuse": "operator",
    "auth.forgot_password": "public",
    "auth.reset": "public",
    "auth.email_confirm": "public",
    "auth.account_name": "signed_in",
    "auth.email_change": "signed_in",
    "auth.account_digest": "signed_in",
    "members.accept": "invitation_link",
    "members.invite_member": "company_admin",
    "members.invite_page": "company_admin",
    "members.member_role": "company_admin",
    "members.member_remove": "company_admin",
    "members.invitation_resend": "company_admin",
    "members.invitation_revoke": "company_admin",
    "mail.outbox": "operator",
    "establishments.add": "company_admin",
    "establishments.edit": "company_admin",
    "establishments.close": "company_admin",
    "mail.demo_mailbox": "demo",
    "supplier_dossier.detail": "client_supplier",
    "supplier_dossier.download": "client_supplier",
    "supplier_dossier.zip": "client_supplier",
    "supplier_dossier.action": "client_supplier_admin",
    "supplier_dossier.references": "client_supplier_admin",
    "supplier_dossier.requirements": "client_admin_writes",
    "supplier_invites.invite": "client_admin",
    "supplier_invites.bulk": "client_admin",
    "supplier_invites.model": "client_admin",
    "operators.companies": "operator",
    "operators.new_client": "operator",
    "operators.accounts": "operator",
    "operators.suspend_user": "operator",
    "operators.restore_user": "operator",
    "clients.index": "company",
    "clients.respond": "company_admin",
    "clients.share": "company_admin",
    "suppliers.index": "signed_in",
    "suppliers.list": "client",
    "suppliers.export_csv": "client",
    "suppliers.export_xlsx": "client",
}
# Reachable without signing in (the demo mailbox answers 404 unless the demo turns it on).
PUBLIC_KINDS = ("public", "invitation_link", "demo")
# Kinds of the client side: `siren` is then Initech's, the client of Acme (`supplier`).
# "client": Initech's own pages; "client_supplier": its pages about one supplier, Acme;
# "_admin" variants are refused (403) to Initech's members.
# "client_admin_writes": its members read the page (GET), only its admins change it (POST).
CLIENT_KINDS = ("client", "client_admin", "client_supplier", "client_supplier_admin",
                "client_admin_writes")
ROLES = ("anonymous", "member", "admin", "outsider", "operator",
         "client_admin", "client_member", "other_client")
EMAILS = {"member": "bob@example.com", "admin": "alice@example.com",
          "outsider": "charlie@example.com", "operator": "olivia@example.com",
          "client_admin": "dan@example.com", "client_member": "erin@example.com",
          "other_client": "frank@example.com"}
OK = {200, 302, 303, 422}  # served, redirected after success, or a form asking for fixes


def expected(kind: str, role: str, method: str) -> set[int]:
    if kind == "public":
        return OK
    if kind == "demo":
        return {404}
    if kind == "invitation_link":
        # Anyone may open it; only its addressee (nobody in the cast) may act on it.
        if method == "GET":
            return {200}
        return {422} if role == "anonymous" else {403}
    if role == "anonymous":
        return {302}
    if kind == "signed_in":
        return OK
    if kind == "operator":
        return OK if role == "operator" else {403}
    if kind in CLIENT_KINDS:
        if role not in ("client_admin", "client_member"):
            return {404}
        admins_only = kind.endswith("_admin") or (kind == "client_admin_writes"
                                                  and method != "GET")
        return {403} if admins_only and role == "client_member" else OK
    if role not in ("member", "admin"):
        return {404}
    if kind == "company_admin" and role == "member":
        return {403}
    return OK


@pytest.fixture
def app_overrides() -> dict:
    # Every request signs in afresh: more of them than the per-IP sign-in limit allows.
    return {"LOGIN_RATE_LIMIT": "1000 per minute"}


@pytest.fixture
def world(app, cast):
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == cast.acme))
        globex = db.session.scalar(select(Company).where(Company.siren == cast.globex))
        db.session.add(ProviderLink(company_id=acme.id, provider="attestation_legale",
                                    linked=True, sync_enabled=True))
        document = make_document(acme, "KBIS", issue_date=date(2026, 11, 1), validated=False)
        foreign = make_document(globex, "KBIS", issue_date=date(2026, 11, 1))
        run = SyncRun(company_id=acme.id, provider="attestation_legale", trigger="manual",
                      started_at=utcnow(), finished_at=utcnow(), outcome="success", details=[])
        db.session.add(run)
        links = _account_links(acme)
        client = _client_of(acme)
        # An account in no company for the operators to suspend and restore.
        gus = make_user("gus@example.com", profile="fast")
        db.session.commit()
        return {**client, "siren": cast.acme, "siret": "73282932000017", "document_id": document.id,
                "foreign_id": foreign.id, "provider": "attestation_legale",
                "action": "desactiver", "filename": "css/app.css", "run_id": run.id,
                "answer": "accepter", **links, "user_id": gus.id}


def _client_of(acme) -> dict:
    """Initech, a client of Acme (dan its admin, erin a member), and Hooli, a client of
    nobody here (frank its admin); a validated document of Acme for the client to read."""
    from hiveo.demo.factories import make_company, make_relation, make_user

    initech = make_company("Initech Services", establishments=1)
    hooli = make_company("Hooli Achats", establishments=1)
    dan = make_user("dan@example.com", name="Dan Donneur", profile="fast",
                    memberships=((initech, "admin"),))
    make_user("erin@example.com", name="Erin Acheteuse", profile="fast",
              memberships=((initech, "member"),))
    frank = make_user("frank@example.com", name="Frank Ailleurs", profile="fast",
                      memberships=((hooli, "admin"),))
    relation = make_relation(initech, acme, by=dan, supplier_code="ACME-1")
    make_relation(hooli, make_company("Autre Fournisseur", establishments=1), by=frank)
    readable = make_document(acme, "URSSAF_VIGILANCE", issue_date=date(2026, 11, 1),
                             validity_start=date(2026, 11, 1))
    return {"client_siren": initech.siren, "supplier": acme.siren, "relation_id": relation.id,
            "client_document_id": readable.id}


def _account_links(acme) -> dict:
    """Live links of every kind, and a member and an invitation of Acme to act on."""
    from datetime import timedelta

    from hiveo.auth import tokens
    from hiveo.demo.factories import make_user
    from hiveo.members.services import invite
    from hiveo.models import Membership, TokenPurpose, User

    alice = db.session.scalar(select(User).where(User.email == "alice@example.com"))
    # In no company, so that acting on their links changes nothing else; two of them, since
    # confirming an e-mail change rightly kills the reset links sent to the old address.
    dora = make_user("dora@example.com", profile="fast")
    emil = make_user("emil@example.com", profile="fast")
    invitation = invite(acme, alice, "pending@example.com", "member", days=7, base_url="")
    addressed = invite(acme, alice, "newcomer@example.com", "member", days=7, base_url="")
    return {
        "membership_id": db.session.scalar(select(Membership.id).join(User).where(
            User.email == "bob@example.com")),
        "invitation_id": invitation.id,
        "token_for": {
            "auth.reset": tokens.issue(TokenPurpose.PASSWORD_RESET, dora.email,
                                       timedelta(hours=1), user_id=dora.id),
            "auth.email_confirm": tokens.issue(TokenPurpose.EMAIL_CHANGE, "emil@new.example",
                                               timedelta(hours=1), user_id=emil.id),
            "members.accept": tokens.issue(TokenPurpose.INVITATION, addressed.email,
                                           timedelta(days=7), invitation_id=addressed.id),
        },
    }


def every_route(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ROUTES), (
        f"classify these routes in ROUTES: {sorted(endpoints - set(ROUTES))}; "
        f"remove these: {sorted(set(ROUTES) - endpoints)}")


def request(app, role: str, rule, method: str, values: dict, *, htmx: bool = False):
    client = app.test_client()
    if role != "anonymous":
        login(client, EMAILS[role])
    values = {**values, "token": values.get("token_for", {}).get(rule.endpoint, "")}
    if ROUTES[rule.endpoint] in CLIENT_KINDS:
        values = {**values, "siren": values["client_siren"],
                  "document_id": values["client_document_id"]}
    path = rule.build({k: v for k, v in values.items() if k in rule.arguments},
                      append_unknown=False)[1]
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        response = client.get(path, headers=headers)
    else:
        token = fetch_csrf(client, "/organisations" if role != "anonymous" else "/login")
        response = client.post(path, data={"csrf_token": token}, headers=headers)
    response.close()
    return response


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_says(app, world, role):
    failures = []
    for rule, method in every_route(app):
        kind = ROUTES[rule.endpoint]
        response = request(app, role, rule, method, world)
        if response.status_code not in expected(kind, role, method):
            failures.append(f"{method} {rule.rule} as {role}: {response.status_code} "
                            f"(expected {sorted(expected(kind, role, method))})")
        if role == "anonymous" and response.status_code == 302 and kind not in PUBLIC_KINDS:
            assert "/login" in response.headers["Location"]
    assert failures == []


def test_anonymous_fragments_get_401_with_a_redirect_for_htmx(app, world):
    for rule, method in every_route(app):
        if ROUTES[rule.endpoint] in PUBLIC_KINDS or method != "GET":
            continue
        response = request(app, "anonymous", rule, method, world, htmx=True)
        assert response.status_code == 401, rule.rule
        assert response.headers["HX-Redirect"].startswith("/login")


def test_neighbouring_ids_never_open_another_companys_document(app, world, cast):
    client = app.test_client()
    login(client, "alice@example.com")
    mine, foreign = world["document_id"], world["foreign_id"]
    acme_documents = {mine, world["client_document_id"]}
    for document_id in {foreign, foreign - 1, foreign + 1, mine + 100} - acme_documents:
        for path in (f"/organisations/{cast.acme}/documents/{document_id}/fichier",
                     f"/organisations/{cast.globex}/documents/{document_id}/fichier",
                     f"/organisations/{cast.globex}/documents/{mine}/fichier"):
            assert client.get(path).status_code == 404, path
    response = client.get(f"/organisations/{cast.acme}/documents/{mine}/fichier")
    assert response.status_code == 200
    response.close()


def test_outsiders_get_404_for_every_establishment_and_siren_shape(app, world, cast):
    client = app.test_client()
    login(client, "charlie@example.com")
    for path in (f"/organisations/{cast.acme}", f"/organisations/{cast.acme}/documents",
                 f"/organisations/{cast.acme}/documents/etablissements/73282932000017",
                 f"/organisations/{cast.acme}/synchronisation/attestation_legale/desactiver",
                 "/organisations/732 829 320", "/organisations/%2e%2e"):
        assert client.get(path).status_code == 404, path
