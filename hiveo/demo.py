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
from datetime import date, timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from .core import clock
from .demo_companies import COMPANIES, DURAND, LEFEVRE, USERS
from .extensions import begin_write, db
from .models import Company, User
from .organisations.services import add_establishment, add_member, create_company

PORTAL_PORT = 5000
SIMULATOR_PORT = 5101


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

    from .dossier.services import refuse_document
    from .factories import make_document
    from .models import Establishment

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


def register(app: Flask) -> None:
    demo = AppGroup("demo", help="Données de démonstration.")
    app.cli.add_command(demo)

    @demo.command("load", help="Charge les données de démonstration si la base est vide.")
    def demo_load() -> None:
        begin_write()
        if not database_is_empty():
            click.echo("La base contient déjà des données : rien n'a été chargé.")
            return
        load_demo(app.config["ARGON2_PROFILE"])
        db.session.commit()
        click.echo("Données de démonstration chargées.")
        click.echo(accounts_text())


def sync_all() -> None:
    """Synchronise every company with every configured provider, printing a line each."""
    from flask import current_app

    from .providers import PROVIDERS, configured_providers
    from .sync.engine import sync_company

    companies = list(db.session.execute(select(Company.id, Company.name).order_by(Company.name)))
    db.session.rollback()
    for company_id, name in companies:
        for provider in configured_providers(current_app.config):
            report = sync_company(company_id, provider, trigger="periodic")
            if report.outcome not in ("not_linked", "off"):
                print(f"  {name} · {PROVIDERS[provider]} : {report.summary()}", flush=True)


def demo_ports(environ: dict[str, str] = os.environ) -> tuple[int, int]:
    """The portal's and the simulator's ports: HIVEO_PORT, HIVEO_SIMULATOR_PORT, or defaults.

    Each is checked free now, so that a taken port stops `make demo` with a sentence
    that says which variable to set, rather than a traceback halfway through start-up.
    """
    import socket

    ports = []
    for name, default in (("HIVEO_PORT", PORTAL_PORT), ("HIVEO_SIMULATOR_PORT", SIMULATOR_PORT)):
        raw = environ.get(name, "").strip() or str(default)
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise SystemExit(f"{name}={raw} : un numéro de port entre 1 et 65535 est attendu.")
        port = int(raw)
        if port in ports:
            raise SystemExit(f"{name}={port} : le portail et le simulateur ont besoin de deux "
                             "ports différents.")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise SystemExit(
                    f"Le port {port} est déjà utilisé (une autre démo tourne-t-elle ?). "
                    f"Choisissez-en un autre : {name}=<port> make demo") from None
        ports.append(port)
    return ports[0], ports[1]


def main() -> None:
    """Entry point of `make demo`: simulator, portal, demo data, one process."""
    from .providers.simulator import Simulator, serve_in_thread

    portal_port, simulator_port = demo_ports()
    simulator_url = f"http://127.0.0.1:{simulator_port}"
    sim = Simulator(seed="demo")
    defaults = {
        "HIVEO_SESSION_COOKIE_SECURE": "0",
        "HIVEO_ATTESTATION_LEGALE_URL": simulator_url,
        "HIVEO_ATTESTATION_LEGALE_TOKEN": sim.al_token,
        "HIVEO_ACTRADIS_URL": simulator_url,
        "HIVEO_ACTRADIS_API_KEY": sim.actradis_key,
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    from . import create_app

    simulator_server, _ = serve_in_thread(sim, port=simulator_port)
    app = create_app()
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        if database_is_empty():
            print("Chargement des données de démonstration…", flush=True)
            load_demo(app.config["ARGON2_PROFILE"])
            db.session.commit()
        print(f"Synchronisation avec le simulateur de fournisseurs ({simulator_url}) :",
              flush=True)
        sync_all()
        db.session.remove()

    print()
    print(accounts_text())
    print()
    print(f"Portail : http://127.0.0.1:{portal_port}   (Ctrl-C pour tout arrêter)")
    print(f"Simulateur des plateformes Attestation Légale et Actradis : {simulator_url}")
    sys.stdout.flush()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            run_simple("127.0.0.1", portal_port, app, threaded=True, use_reloader=False)
    finally:
        simulator_server.shutdown()


if __name__ == "__main__":
    main()
