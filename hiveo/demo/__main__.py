"""`make demo`: the portal with demo data, on SQLite, beside the provider simulator.

`python -m hiveo.demo` migrates the database under instance/, loads the demo
world when the database is empty, starts the bundled provider simulator and
serves the portal, all in one process so that Ctrl-C stops everything.
`flask --app app demo load` loads the same world into any configured database.

The simulator is the top-level `simulator` package of a source checkout (it is
not in the wheel): run this from the checkout's root.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping

from sqlalchemy import or_, select

from ..core.inputs import ascii_digits
from ..extensions import db
from ..models import Company
from .load import accounts_text, database_is_empty, load_demo

PORTAL_PORT = 5000
SIMULATOR_PORT = 5101


def sync_all() -> None:
    """Synchronise the demo companies with every configured provider, printing a line each.

    The demo companies are those of `companies.COMPANIES`, which the simulator knows,
    and any other company already linked to a provider; the clients' generated
    suppliers are on no provider: asking the simulator about each of them would
    only slow the start-up down.
    """
    from flask import current_app

    from ..providers import PROVIDERS, configured_providers
    from ..sync.engine import sync_company
    from .companies import COMPANIES

    companies = list(db.session.execute(
        select(Company.id, Company.name)
        .where(or_(Company.siren.in_([demo.siren for demo in COMPANIES]),
                   Company.has_provider_links))
        .order_by(Company.name_key)))
    db.session.rollback()
    for company_id, name in companies:
        for provider in configured_providers(current_app.config):
            report = sync_company(company_id, provider, trigger="periodic")
            if report.outcome not in ("not_linked", "off"):
                print(f"  {name} · {PROVIDERS[provider]} : {report.summary()}", flush=True)


def demo_ports(environ: Mapping[str, str] = os.environ) -> tuple[int, int]:
    """The portal's and the simulator's ports: HIVEO_PORT, HIVEO_SIMULATOR_PORT, or defaults.

    Each is checked free now, so that a taken port stops `make demo` with a sentence
    that says which variable to set, rather than a traceback halfway through start-up.
    """
    import socket

    ports = []
    for name, default in (("HIVEO_PORT", PORTAL_PORT), ("HIVEO_SIMULATOR_PORT", SIMULATOR_PORT)):
        raw = environ.get(name, "").strip() or str(default)
        if not ascii_digits(raw) or not 0 < int(raw) < 65536:
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
    try:
        from simulator import Simulator, serve_in_thread
    except ModuleNotFoundError as error:
        if error.name != "simulator":
            raise
        sys.exit(
            "make demo a besoin du simulateur de fournisseurs (le paquet `simulator` à côté "
            "de `hiveo/`), qui n'est pas installé avec le portail : lancez `make demo` "
            "depuis la racine d'une copie des sources."
        )

    portal_port, simulator_port = demo_ports()
    simulator_url = f"http://127.0.0.1:{simulator_port}"
    sim = Simulator(seed="demo")
    defaults = {
        "HIVEO_SESSION_COOKIE_SECURE": "0",
        "HIVEO_ATTESTATION_LEGALE_URL": simulator_url,
        "HIVEO_ATTESTATION_LEGALE_TOKEN": sim.al_token,
        "HIVEO_ACTRADIS_URL": simulator_url,
        "HIVEO_ACTRADIS_API_KEY": sim.actradis_key,
        # No SMTP server: e-mails stay in the outbox, shown on the demo's mailbox page.
        "HIVEO_DEMO_MAILBOX": "1",
        "HIVEO_BASE_URL": f"http://127.0.0.1:{portal_port}",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    from .. import create_app

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
    if not app.config["SMTP_URL"]:
        print(f"Courriels (invitations, mots de passe oubliés) : aucun ne part, lisez-les sur "
              f"http://127.0.0.1:{portal_port}/demo/courriels")
    sys.stdout.flush()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            run_simple("127.0.0.1", portal_port, app, threaded=True, use_reloader=False)
    finally:
        simulator_server.shutdown()


if __name__ == "__main__":
    main()
