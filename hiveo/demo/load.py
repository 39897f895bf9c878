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
from .companies import COMPANIES, DURAND, LEFEVRE, USERS


def database_is_empty() -> bool:
    return (db.session.scalar(select(func.count(Company.id))) or 0) == 0 and (
        db.session.scalar(select(func.count(User.id))) or 0
    ) == 0


def load_demo(profile: str = "default") -> None:
    """Write the demo world (companies, establishments, people, dossiers). Caller commits."""
    from .factories import make_user

    companies: dict[str, Company] = {}
    for demo in COMPANIES:
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
    return next(company.name for company in COMPANIES if company.siren == siren)


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
