"""Required documents first (DOMAIN.md 5): a supplier's required documents are the union
of what its active clients require; the other types are complementary, never an action.

Acme (alice admin, bob member) has three establishments; its clients are built per test.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from hiveo.demo.factories import (
    add_establishments,
    make_company,
    make_document,
    make_relation,
    make_user,
)
from hiveo.extensions import db
from hiveo.models import Company, DocumentAccess, Establishment, Relation
from hiveo.relations.requirements import Rule, set_requirements
from hiveo.relations.services import close, suspend
from tests.conftest import TODAY
from tests.helpers import count_queries, login
from tests.helpers import page_text as page_html


def text_of(html: str) -> str:
    """What a person reads: no tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def documents(client, siren: str, query: str = "") -> str:
    response = client.get(f"/organisations/{siren}/documents{query}")
    assert response.status_code == 200
    return page_html(response)


def section(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin:html.index(end, begin)]


def row_of(html: str, label: str) -> str:
    """The text of the slot row of the company section whose type is `label`."""
    company = section(html, 'id="company-docs-title"', 'id="establishment-docs-title"')
    for row in re.findall(r"<tr class=\"slot.*?</tr>", company, re.S):
        if label in row:
            return text_of(row)
    raise AssertionError(f"no row for {label}")


def required_part(html: str) -> str:
    company = section(html, 'id="company-docs-title"', 'id="establishment-docs-title"')
    return text_of(company.split('class="complementary"')[0])


def complementary_part(html: str) -> str:
    company = section(html, 'id="company-docs-title"', 'id="establishment-docs-title"')
    parts = company.split('class="complementary"')
    return text_of(parts[1]) if len(parts) > 1 else ""


def actions(html: str) -> str:
    return text_of(section(html, 'id="actions-title"', 'id="company-docs-title"'))


def summary(html: str) -> str:
    return text_of(section(html, 'id="summary-title"', 'id="actions-title"'))


def _acme(cast) -> Company:
    return db.session.get(Company, cast.acme_id)


def test_with_no_active_client_the_legal_dossier_is_required(app, client, cast):
    login(client, cast.bob)
    html = documents(client, cast.acme)
    required = required_part(html)
    for label in ("Extrait Kbis", "Attestation de vigilance URSSAF",
                  "Liste nominative des travailleurs étrangers"):
        assert label in required
    assert "Dossier légal" in row_of(html, "Extrait Kbis")
    assert "Attestation d'assurance décennale" in complementary_part(html)
    assert "Certificat caisse de congés payés BTP" not in actions(html)
    assert "0 / 3" in summary(html)
    assert "Déposez 3 documents manquants" in summary(html)


def test_the_union_of_active_clients_names_who_requires_each_type(app, client, cast):
    with app.app_context():
        acme = _acme(cast)
        make_relation(make_company("Initech Services"), acme)  # the legal dossier
        hooli = make_company("Hooli Achats")
        set_requirements(hooli, "", [Rule("KBIS", "company"), Rule("INSURANCE_RC_PRO", "company")])
        make_relation(hooli, acme)
        db.session.commit()
    login(client, cast.bob)
    html = documents(client, cast.acme)
    assert "Exigé par Hooli Achats, Initech Services" in row_of(html, "Extrait Kbis")
    assert "Exigé par Initech Services" in row_of(html, "Attestation de vigilance URSSAF")
    assert "Exigé par Hooli Achats" in row_of(html, "responsabilité civile professionnelle")
    assert "manquant" in row_of(html, "responsabilité civile professionnelle")
    assert "Attestation de régularité fiscale" in complementary_part(html)
    assert "facultatif" in row_of(html, "Attestation de régularité fiscale")
    assert "0 / 4" in summary(html)
    assert "Déposez 4 documents manquants" in summary(html)
    # Required first: the required table comes before the complementary group.
    company = section(html, 'id="company-docs-title"', 'id="establishment-docs-title"')
    assert company.index("responsabilité civile") < company.index("Documents complémentaires")


def test_a_category_with_its_own_set_adds_its_types(app, client, cast):
    with app.app_context():
        client_company = make_company("Initech Services")
        set_requirements(client_company, "", [Rule("KBIS", "company")])
        set_requirements(client_company, "Travaux", [Rule("KBIS", "company"),
                                                     Rule("INSURANCE_DECENNALE", "company")])
        make_relation(client_company, _acme(cast), category="Travaux")
        db.session.commit()
    login(client, cast.bob)
    html = documents(client, cast.acme)
    assert "Exigé par Initech Services" in row_of(html, "Attestation d'assurance décennale")
    # The default set would have asked for URSSAF; the category's set replaces it.
    assert "Attestation de vigilance URSSAF" in complementary_part(html)
    assert "0 / 2" in summary(html)


def test_an_establishment_requirement_counts_only_the_covered_establishments(app, client, cast):
    with app.app_context():
        acme = _acme(cast)
        first, second, third = db.session.scalars(
            select(Establishment).where(Establishment.company_id == acme.id)
            .order_by(Establishment.siret)).all()
        builder = make_company("Bâtir SA")
        set_requirements(builder, "", [Rule("KBIS", "company"),
                                       Rule("BTP_PAID_LEAVE", "establishment")])
        make_relation(builder, acme, establishments=(first, second))
        make_document(acme, "KBIS", issue_date=TODAY - timedelta(days=5))
        make_document(acme, "BTP_PAID_LEAVE", establishment=first,
                      issue_date=TODAY - timedelta(days=5),
                      validity_end=TODAY + timedelta(days=200))
        sirets = first.siret, second.siret, third.siret
        db.session.commit()
    login(client, cast.bob)
    html = documents(client, cast.acme)
    # Kbis, and the BTP certificate of the first two establishments; the second lacks it.
    assert "2 / 3" in summary(html)
    assert "Déposez 1 document manquant" in summary(html)
    lines = {siret: text_of(line) for siret, line in zip(
        sirets, re.findall(r"<summary>.*?</summary>", section(
            html, 'id="establishment-docs-title"', "</section>"), re.S), strict=True)}
    assert "complet" in lines[sirets[0]]
    assert "1 à traiter" in lines[sirets[1]]
    assert "complet" in lines[sirets[2]]
    missing = text_of(documents(client, cast.acme, "?etat=missing"))
    assert "1 élément" in missing
    second_page = text_of(page_html(client.get(
        f"/organisations/{cast.acme}/documents/etablissements/{sirets[1]}")))
    third_page = page_html(client.get(
        f"/organisations/{cast.acme}/documents/etablissements/{sirets[2]}"))
    assert "Exigé par Bâtir SA" in second_page and "manquant" in second_page
    btp_row = next(row for row in re.findall(r"<tr class=\"slot.*?</tr>", third_page, re.S)
                   if "congés payés BTP" in row)
    assert "facultatif" in text_of(btp_row)


def test_suspended_and_closed_clients_no_longer_count(app, client, cast):
    with app.app_context():
        acme = _acme(cast)
        hooli = make_company("Hooli Achats")
        set_requirements(hooli, "", [Rule("INSURANCE_RC_PRO", "company")])
        suspended = make_relation(hooli, acme)
        umbrella = make_company("Umbrella Corp")
        set_requirements(umbrella, "", [Rule("FISCAL_REGULARITY", "company")])
        closed = make_relation(umbrella, acme)
        db.session.commit()
        ids = suspended.id, closed.id
    login(client, cast.bob)
    html = documents(client, cast.acme)
    assert "Exigé par Hooli Achats" in row_of(html, "responsabilité civile professionnelle")
    with app.app_context():
        suspend(db.session.get(Relation, ids[0]), None, "Audit")
        close(db.session.get(Relation, ids[1]), None, "Fin du marché")
        db.session.commit()
    html = documents(client, cast.acme)
    # No active client any more: back to the legal dossier.
    assert "responsabilité civile professionnelle" in complementary_part(html)
    assert "Attestation de régularité fiscale" in complementary_part(html)
    assert "Dossier légal" in row_of(html, "Extrait Kbis")


def test_complementary_documents_are_never_an_action(app, client, cast):
    """The cleaning company of the issue: 43 establishments, no BTP certificate, and a
    client that requires only the legal dossier: nothing "manquant" about BTP."""
    with app.app_context():
        cleaner = make_company("Propreté Services")
        add_establishments(cleaner, 43)
        make_user("paul@example.com", profile="fast", memberships=((cleaner, "admin"),))
        make_relation(make_company("Initech Services"), cleaner)
        make_document(cleaner, "KBIS", issue_date=TODAY - timedelta(days=5))
        make_document(cleaner, "FISCAL_REGULARITY", issue_date=date(2025, 11, 1),
                      validity_end=TODAY - timedelta(days=3))  # expired, complementary
        siren = cleaner.siren
        db.session.commit()
    login(client, "paul@example.com")
    html = documents(client, siren)
    assert "Certificat caisse de congés payés BTP" not in actions(html)
    assert "Attestation de régularité fiscale" not in actions(html)
    assert "1 / 3" in summary(html)
    assert "Déposez 2 documents manquants" in summary(html)
    assert "Remplacez" not in summary(html)
    assert "à traiter" not in text_of(section(html, 'id="establishment-docs-title"',
                                              "</section>"))
    assert "expiré" in row_of(html, "Attestation de régularité fiscale")
    for state in ("missing", "expired"):
        listing = text_of(documents(client, siren, f"?etat={state}"))
        assert "BTP" not in listing and "régularité fiscale" not in listing


def test_clients_downloads_are_shown_on_the_document(app, client, cast):
    with app.app_context():
        acme = _acme(cast)
        first = db.session.scalar(select(Establishment).where(
            Establishment.company_id == acme.id).order_by(Establishment.siret))
        initech = make_company("Initech Services")
        hooli = make_company("Hooli Achats")
        make_relation(initech, acme)
        make_relation(hooli, acme)
        kbis = make_document(acme, "KBIS", issue_date=TODAY - timedelta(days=5))
        btp = make_document(acme, "BTP_PAID_LEAVE", establishment=first,
                            issue_date=TODAY - timedelta(days=5),
                            validity_end=TODAY + timedelta(days=200))
        for client_company, day in ((initech, 20), (initech, 27), (hooli, 25)):
            db.session.add(DocumentAccess(document_id=kbis.id, client_id=client_company.id,
                                          created_at=datetime(2026, 11, day, 9, tzinfo=UTC)))
        db.session.add(DocumentAccess(document_id=btp.id, client_id=hooli.id, via="zip",
                                      created_at=datetime(2026, 11, 26, 9, tzinfo=UTC)))
        siret = first.siret
        db.session.commit()
    login(client, cast.bob)
    html = documents(client, cast.acme)
    assert ("Consulté par Initech Services le 27/11/2026, Hooli Achats le 25/11/2026"
            in row_of(html, "Extrait Kbis"))
    assert "Consulté par" not in row_of(html, "Attestation de vigilance URSSAF")
    establishment = text_of(page_html(client.get(
        f"/organisations/{cast.acme}/documents/etablissements/{siret}")))
    assert "Consulté par Hooli Achats le 26/11/2026" in establishment


def _supplier_with(app, establishments: int, accesses: int) -> str:
    with app.app_context():
        supplier = make_company(f"Réseau {establishments}")
        add_establishments(supplier, establishments)
        make_user(f"admin{establishments}@example.com", profile="fast",
                  memberships=((supplier, "admin"),))
        ests = db.session.scalars(select(Establishment).where(
            Establishment.company_id == supplier.id).order_by(Establishment.siret)).all()
        builder = make_company(f"Bâtir {establishments}")
        set_requirements(builder, "", [Rule("KBIS", "company"),
                                       Rule("BTP_PAID_LEAVE", "establishment")])
        make_relation(builder, supplier, establishments=tuple(ests[: establishments // 2]))
        make_relation(make_company(f"Initech {establishments}"), supplier)
        kbis = make_document(supplier, "KBIS", issue_date=TODAY - timedelta(days=5))
        for est in ests[:3]:
            make_document(supplier, "BTP_PAID_LEAVE", establishment=est,
                          issue_date=TODAY - timedelta(days=5),
                          validity_end=TODAY + timedelta(days=10))
        for index in range(accesses):
            reader = make_company(f"Lecteur {establishments}-{index}")
            db.session.add(DocumentAccess(document_id=kbis.id, client_id=reader.id))
        db.session.commit()
        return supplier.siren


def test_the_documents_tab_costs_the_same_queries_with_clients_and_many_establishments(app):
    counts = {}
    paths = ("", "?etat=missing", "?etat=expiring", "?q=lyon")
    for size, accesses in ((10, 1), (400, 20)):
        siren = _supplier_with(app, size, accesses)
        client = app.test_client()
        login(client, f"admin{size}@example.com")
        for query in paths:
            with count_queries(app) as statements:
                response = client.get(f"/organisations/{siren}/documents{query}")
            assert response.status_code == 200
            counts[(size, query)] = len(statements)
    for query in paths:
        assert counts[(10, query)] == counts[(400, query)], (query, counts)


def test_what_needs_action_names_the_clients_that_require_it(app, client, cast):
    with app.app_context():
        hooli = make_company("Hooli Achats")
        set_requirements(hooli, "", [Rule("KBIS", "company"), Rule("INSURANCE_RC_PRO", "company")])
        make_relation(hooli, _acme(cast))
        db.session.commit()
    login(client, cast.bob)
    assert ("Attestation d'assurance responsabilité civile professionnelle (exigé par Hooli "
            "Achats)") in actions(documents(client, cast.acme))
    missing = text_of(documents(client, cast.acme, "?etat=missing"))
    assert "2 éléments" in missing and "(exigé par Hooli Achats)" in missing


def test_a_company_type_required_of_each_establishment_is_not_covered_by_the_company(
        app, client, cast):
    with app.app_context():
        acme = _acme(cast)
        first = db.session.scalar(select(Establishment).where(
            Establishment.company_id == acme.id).order_by(Establishment.siret))
        chain = make_company("Chaîne Achats")
        set_requirements(chain, "", [Rule("URSSAF_VIGILANCE", "establishment")])
        make_relation(chain, acme)
        make_document(acme, "URSSAF_VIGILANCE", issue_date=TODAY - timedelta(days=5),
                      validity_start=TODAY - timedelta(days=5))
        siret = first.siret
        db.session.commit()
    login(client, cast.bob)
    html = documents(client, cast.acme)
    # One of each of the three establishments, all missing. The company's own certificate
    # is asked of nobody: complementary, as the relation's compliance and the reminders
    # see it, not a fourth required document.
    assert "0 / 3" in summary(html)
    assert "Déposez 3 documents manquants" in summary(html)
    assert "Attestation de vigilance URSSAF" in complementary_part(html)
    establishment = page_html(client.get(
        f"/organisations/{cast.acme}/documents/etablissements/{siret}"))
    urssaf = text_of(next(row for row in re.findall(r"<tr class=\"slot.*?</tr>", establishment,
                                                    re.S) if "vigilance URSSAF" in row))
    assert "manquant" in urssaf and "Exigé par Chaîne Achats" in urssaf
    assert "Couvert par" not in urssaf


def test_each_slot_names_the_clients_that_require_it_there(app, client, cast):
    """Initech asks for the company's URSSAF attestation, Chaîne Achats for the first
    establishment's own: each slot names only its client."""
    with app.app_context():
        acme = _acme(cast)
        first, second, _third = db.session.scalars(select(Establishment).where(
            Establishment.company_id == acme.id).order_by(Establishment.siret)).all()
        initech = make_company("Initech Services")
        set_requirements(initech, "", [Rule("URSSAF_VIGILANCE", "company")])
        make_relation(initech, acme)
        chain = make_company("Chaîne Achats")
        set_requirements(chain, "", [Rule("URSSAF_VIGILANCE", "establishment")])
        make_relation(chain, acme, establishments=(first,))
        sirets = first.siret, second.siret
        db.session.commit()
    login(client, cast.bob)
    assert "Exigé par Initech Services" in row_of(documents(client, cast.acme),
                                                  "vigilance URSSAF")
    assert "Chaîne Achats" not in row_of(documents(client, cast.acme), "vigilance URSSAF")

    def urssaf_row(siret: str) -> str:
        page = page_html(client.get(
            f"/organisations/{cast.acme}/documents/etablissements/{siret}"))
        return text_of(next(row for row in re.findall(r"<tr class=\"slot.*?</tr>", page, re.S)
                            if "vigilance URSSAF" in row))

    own = urssaf_row(sirets[0])
    assert "Exigé par Chaîne Achats" in own and "Initech" not in own
    # The second establishment has no slot of its own: it stands for the company's.
    assert "Chaîne Achats" not in urssaf_row(sirets[1])


def test_the_complementary_group_says_why_its_types_are_optional(app, client, cast):
    login(client, cast.bob)
    assert "Le dossier légal ne les comprend pas" in complementary_part(
        documents(client, cast.acme))
    with app.app_context():
        make_relation(make_company("Initech Services"), _acme(cast))
        db.session.commit()
    assert "Aucun de vos clients actifs ne les exige" in complementary_part(
        documents(client, cast.acme))
