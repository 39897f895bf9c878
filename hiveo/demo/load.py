"""The demo world written to the portal's database, for `make demo` and `flask demo load`.

`flask --app app demo load` is registered by `create_app()`, which imports this
module only when the command runs: production start-up never loads `hiveo.demo`.
"""

from __future__ import annotations

from datetime import date, timedelta

import click
from sqlalchemy import func, select

from ..core import clock
from ..extensions import begin_write, db
from ..models import Company, User
from ..organisations.services import add_establishment, add_member, create_company
from .companies import (
    BERNARD,
    CATEGORIES,
    CLIENTS,
    CLINIQUE,
    COMPANIES,
    DURAND,
    FONCIERE,
    HORIZON,
    LEFEVRE,
    MARTIN,
    USERS,
    DemoSupplier,
    demo_suppliers,
)


def database_is_empty() -> bool:
    return (db.session.scalar(select(func.count(Company.id))) or 0) == 0 and (
        db.session.scalar(select(func.count(User.id))) or 0
    ) == 0


def load_demo(profile: str = "default") -> None:
    """Write the demo world (companies, establishments, people, dossiers). Caller commits."""
    from .factories import make_user

    companies: dict[str, Company] = {}
    for demo in COMPANIES + CLIENTS:
        company = create_company(demo.siren, demo.name)
        companies[demo.siren] = company
        for establishment in demo.establishments:
            add_establishment(
                establishment.siret,
                establishment.name,
                address=establishment.address,
                postal_code=establishment.postal_code,
                city=establishment.city,
                company=company,
            )
    users: dict[str, User] = {}
    for person in USERS:
        user = users[person.email] = make_user(
            person.email,
            name=person.name,
            password=person.password,
            operator=person.is_operator,
            profile=profile,
        )
        for siren, role in person.memberships:
            add_member(user, companies[siren], role)
    load_demo_documents(companies, users, clock.today())
    load_demo_clients(companies, users, clock.today())


def load_demo_documents(companies: dict[str, Company], users: dict[str, User],
                        today: date) -> None:
    """Realistic dossiers for the companies that keep their documents here, by hand.

    Durand Bâtiment shows every state: valid, expiring soon, expired, refused,
    awaiting review, and a Kbis slot with two archived versions.
    """
    from sqlalchemy import select

    from ..dossier.services import refuse_document
    from ..models import Establishment
    from .factories import make_document

    durand = companies[DURAND.siren]
    sophie = users["sophie.durand@durand-batiment.fr"]
    claire = users["claire.petit@hiveo.example"]
    siege = db.session.scalar(
        select(Establishment).where(Establishment.company_id == durand.id)
    )

    def ago(days: int) -> date:
        return today - timedelta(days=days)

    for days in (250, 160, 40):
        make_document(durand, "KBIS", issue_date=ago(days), uploaded_by=sophie)
    make_document(durand, "URSSAF_VIGILANCE", issue_date=ago(170), validity_start=ago(168),
                  uploaded_by=sophie)
    make_document(durand, "FISCAL_REGULARITY", issue_date=ago(380),
                  validity_end=ago(15), uploaded_by=sophie)
    make_document(durand, "INSURANCE_DECENNALE", issue_date=ago(60),
                  validity_end=ago(60) + timedelta(days=365), uploaded_by=sophie)
    make_document(durand, "BTP_PAID_LEAVE", establishment=siege, issue_date=ago(30),
                  validity_end=ago(30) + timedelta(days=180), uploaded_by=sophie)
    lnte = make_document(durand, "LNTE", issue_date=ago(5), validated=False, uploaded_by=sophie)
    refuse_document(lnte.id, claire,
                    "La liste n'est pas signée par le représentant légal : "
                    "déposez la version signée.")
    make_document(durand, "INSURANCE_RC_PRO", issue_date=ago(3),
                  validity_end=ago(3) + timedelta(days=365), validated=False,
                  uploaded_by=sophie)

    lefevre = companies[LEFEVRE.siren]
    make_document(lefevre, "FISCAL_REGULARITY", issue_date=ago(90),
                  validity_end=ago(90) + timedelta(days=365))


def load_demo_clients(companies: dict[str, Company], users: dict[str, User],
                      today: date) -> None:
    """The two clients and their suppliers (DOMAIN.md 5).

    Foncière Rhône Habitat follows the five demo companies and 160 generated
    suppliers in every state "Mes fournisseurs" shows (companies.SUPPLIER_PROFILES),
    with a requirement set per purchase category; Clinique du Parc, a small client,
    follows a few of the same suppliers. The generated ones go in with the bulk
    helpers, a few statements per thousand rows, so that `make demo` starts fast.
    """
    from ..relations import services as relations
    from ..relations.requirements import Rule, default_rules, set_requirements
    from .bulk import add_companies_bulk, add_relations_bulk
    from .factories import make_relation

    fonciere, clinique = companies[FONCIERE.siren], companies[CLINIQUE.siren]
    julie = users["julie.moreau@fonciere-rhone.fr"]

    # The demo companies, by hand, through the same transitions a person makes.
    make_relation(fonciere, companies[DURAND.siren], by=julie, supplier_code="F-DURAND",
                  category="Travaux", contact_email="sophie.durand@durand-batiment.fr")
    make_relation(fonciere, companies[HORIZON.siren], by=julie, supplier_code="F-HORIZON",
                  category="Nettoyage", contact_email="marie.dupont@horizon-proprete.fr")
    make_relation(fonciere, companies[MARTIN.siren], by=julie, supplier_code="F-MARTIN",
                  category="Maintenance", contact_email="luc.martin@martin-electricite.fr")
    make_relation(fonciere, companies[LEFEVRE.siren], state="invited", by=julie,
                  contact_email="sophie.durand@durand-batiment.fr")
    make_relation(fonciere, companies[BERNARD.siren], state="suspended", by=julie,
                  supplier_code="F-BERNARD", category="Maintenance",
                  reason="Chantier de la résidence Les Tilleuls terminé : relation en pause "
                         "jusqu'au prochain appel d'offres.")
    for category, extra, per_establishment in CATEGORIES:
        set_requirements(fonciere, category, [
            *default_rules(), *(Rule(code, "company") for code in extra),
            *(Rule(code, "establishment") for code in per_establishment)])
    # Durand shows its fiscal certificate, which Foncière does not require.
    durand = relations.relation_between(fonciere.id, companies[DURAND.siren].id)
    assert durand is not None
    relations.share(durand, users["sophie.durand@durand-batiment.fr"], ["FISCAL_REGULARITY"])

    suppliers = demo_suppliers()
    ids = add_companies_bulk([(supplier.siren, supplier.name) for supplier in suppliers])
    _load_supplier_documents(suppliers, ids, users["claire.petit@hiveo.example"], today)
    reasons = {
        "suspended": "Prestation interrompue le temps de l'audit qualité annuel.",
        "closed": "Contrat résilié à son échéance : aucune nouvelle commande prévue.",
    }
    add_relations_bulk(fonciere, [
        {"supplier_id": ids[supplier.siren],
         "state": supplier.profile if supplier.profile in ("invited", "suspended", "closed")
         else "active",
         "state_reason": reasons.get(supplier.profile),
         "supplier_code": f"F-{number:04d}", "category": supplier.category,
         "contract_ref": f"CT-2026-{number:04d}",
         "contact_email": f"contact@fournisseur-{supplier.siren}.example"}
        for number, supplier in enumerate(suppliers, start=1)], by=julie)

    # The small client: a few suppliers, all shared with the big one.
    make_relation(clinique, companies[HORIZON.siren], by=julie, supplier_code="CP-01",
                  category="Nettoyage", contact_email="marie.dupont@horizon-proprete.fr")
    make_relation(clinique, companies[MARTIN.siren], by=julie, supplier_code="CP-02")
    make_relation(clinique, companies[LEFEVRE.siren], by=julie, supplier_code="CP-03")
    make_relation(clinique, companies[DURAND.siren], state="invited", by=julie,
                  contact_email="sophie.durand@durand-batiment.fr")
    set_requirements(clinique, "Nettoyage", [*default_rules(), Rule("INSURANCE_RC_PRO",
                                                                    "company")])
    shared = [supplier for supplier in suppliers
              if supplier.profile in ("conforme", "missing")][::10]
    add_relations_bulk(clinique, [
        {"supplier_id": ids[supplier.siren], "supplier_code": f"CP-{number:02d}"}
        for number, supplier in enumerate(shared, start=4)], by=julie)


def _load_supplier_documents(suppliers: tuple[DemoSupplier, ...], ids: dict[str, int],
                             reviewer: User, today: date) -> None:
    """Each generated supplier's dossier, as its profile says; one stored PDF for all."""
    from ..dossier.services import add_current_bulk, refuse_document
    from ..dossier.storage import storage
    from ..models import Establishment
    from .factories import make_document
    from .pdfgen import make_pdf

    establishments = dict(db.session.execute(
        select(Establishment.company_id, Establishment.id)
        .where(Establishment.company_id.in_(list(ids.values())))).all())
    extra = {category: (types, per_establishment)
             for category, types, per_establishment in CATEGORIES}
    stored = storage().save_chunks([make_pdf(
        "Document fournisseur", ["Fournisseur de démonstration"],
        footer="Document généré par hiveo (démonstration)")])
    by_hand: list[tuple[str, str]] = []  # (siren, profile): pending and refused uploads
    documents: list[dict] = []
    for number, supplier in enumerate(suppliers):
        if supplier.profile == "never" or (supplier.profile == "invited" and number % 2):
            continue
        spread = number % 40
        rows: list[dict] = [
            {"doc_type": "KBIS", "issue_date": today - timedelta(days=5 + spread)},
            {"doc_type": "URSSAF_VIGILANCE", "issue_date": today - timedelta(days=20 + spread)},
            {"doc_type": "LNTE", "issue_date": today - timedelta(days=10 + spread)},
        ]
        types, per_establishment = extra[supplier.category]
        for code in types:
            rows.append({"doc_type": code, "issue_date": today - timedelta(days=60),
                         "validity_end": today + timedelta(days=120 + 3 * spread)})
        for code in per_establishment:
            rows.append({"doc_type": code, "establishment_id": establishments[ids[supplier.siren]],
                         "issue_date": today - timedelta(days=30),
                         "validity_end": today + timedelta(days=150 + spread)})
        if supplier.profile == "expiring":
            # Six months from the start of validity: ends in 10 to 23 days.
            rows[1] = {"doc_type": "URSSAF_VIGILANCE",
                       "issue_date": today - timedelta(days=160 + number % 14)}
        elif supplier.profile == "expired":
            rows[0] = {"doc_type": "KBIS", "issue_date": today - timedelta(days=100 + spread)}
        elif supplier.profile in ("missing", "refused"):
            rows = [row for row in rows if row["doc_type"] != "LNTE"]
        elif supplier.profile == "pending":
            rows = [row for row in rows if row["doc_type"] != "URSSAF_VIGILANCE"]
        documents.extend({**row, "company_id": ids[supplier.siren]} for row in rows)
        if supplier.profile in ("refused", "pending"):
            by_hand.append((supplier.siren, supplier.profile))
    add_current_bulk(0, documents, stored)
    companies = {company.siren: company for company in db.session.scalars(
        select(Company).where(Company.siren.in_([siren for siren, _ in by_hand])))}
    for siren, profile in by_hand:
        if profile == "pending":
            uploaded = today - timedelta(days=2)
            make_document(companies[siren], "URSSAF_VIGILANCE", issue_date=uploaded,
                          validity_start=uploaded, validated=False)
        else:
            lnte = make_document(companies[siren], "LNTE", issue_date=today - timedelta(days=4),
                                 validated=False)
            refuse_document(lnte.id, reviewer,
                            "La liste n'est ni datée ni signée : déposez la version signée.")


def accounts_text() -> str:
    lines = ["Comptes de démonstration (adresse e-mail / mot de passe) :"]
    for person in USERS:
        roles = ", ".join(
            f"{'admin' if role == 'admin' else 'membre'} de {_company_name(siren)}"
            for siren, role in person.memberships
        )
        if person.is_operator:
            roles = "opératrice (validation des dépôts)"
        lines.append(f"  {person.email:<36} {person.password:<18} {person.name} — {roles}")
    return "\n".join(lines)


def _company_name(siren: str) -> str:
    return next(company.name for company in COMPANIES + CLIENTS if company.siren == siren)


def load_command(profile: str) -> None:
    """`flask demo load`: the demo world, into an empty database only."""
    begin_write()
    if not database_is_empty():
        click.echo("La base contient déjà des données : rien n'a été chargé.")
        return
    load_demo(profile)
    db.session.commit()
    click.echo("Données de démonstration chargées.")
    click.echo(accounts_text())
