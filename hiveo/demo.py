"""`make demo`: the portal with demo data, on SQLite, beside the provider simulator.

`python -m hiveo.demo` migrates the database under instance/, loads the demo
world when the database is empty, starts the bundled provider simulator and
serves the portal, all in one process so that Ctrl-C stops everything.
`flask --app app demo load` loads the same world into any configured database.
"""

from __future__ import annotations

import contextlib
import os
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from .demo_companies import COMPANIES, USERS
from .extensions import db
from .models import Company, User
from .organisations.services import add_establishment, add_member, create_company

PORTAL_PORT = 5000
SIMULATOR_PORT = 5101


def database_is_empty() -> bool:
    return (db.session.scalar(select(func.count(Company.id))) or 0) == 0 and (
        db.session.scalar(select(func.count(User.id))) or 0
    ) == 0


def load_demo(profile: str = "default") -> None:
    """Write the demo world (companies, establishments, people). Caller commits."""
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
    for person in USERS:
        user = make_user(
            person.email,
            name=person.name,
            password=person.password,
            operator=person.is_operator,
            profile=profile,
        )
        for siren, role in person.memberships:
            add_member(user, companies[siren], role)


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


def register(app: Flask) -> None:
    demo = AppGroup("demo", help="Données de démonstration.")
    app.cli.add_command(demo)

    @demo.command("load", help="Charge les données de démonstration si la base est vide.")
    def demo_load() -> None:
        if not database_is_empty():
            click.echo("La base contient déjà des données : rien n'a été chargé.")
            return
        load_demo(app.config["ARGON2_PROFILE"])
        db.session.commit()
        click.echo("Données de démonstration chargées.")
        click.echo(accounts_text())


def main() -> None:
    """Entry point of `make demo`."""
    os.environ.setdefault("HIVEO_SESSION_COOKIE_SECURE", "0")
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    from . import create_app

    app = create_app()
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        if database_is_empty():
            print("Chargement des données de démonstration…", flush=True)
            load_demo(app.config["ARGON2_PROFILE"])
            db.session.commit()
        db.session.remove()

    print()
    print(accounts_text())
    print()
    print(f"Portail : http://127.0.0.1:{PORTAL_PORT}   (Ctrl-C pour tout arrêter)")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        run_simple("127.0.0.1", PORTAL_PORT, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
