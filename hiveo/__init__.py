"""hiveo: a self-hostable supplier-compliance portal."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_DIR = Path(__file__).resolve().parent.parent


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the portal: settings from HIVEO_* variables, then `overrides` (tests)."""
    from .auth.ratelimit import init_rate_limit
    from .clitools import refuse_control_characters
    from .config import load_settings
    from .extensions import init_extensions
    from .mail.outbox import init_mail
    from .models import render_migration_item
    from .security import init_security
    from .web import init_web

    app = Flask(
        __name__,
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PROJECT_DIR / "static"),
    )
    app.config.update(load_settings())
    app.config["MIGRATIONS_DIR"] = str(PROJECT_DIR / "migrations")
    if overrides:
        app.config.update(overrides)
    Path(app.config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    logging.getLogger("hiveo").setLevel(logging.INFO)

    init_extensions(app, render_migration_item)
    init_rate_limit(app)
    init_security(app)
    init_web(app)
    init_mail(app)
    _register_blueprints(app)
    refuse_control_characters(app.cli)
    return app


def _register_blueprints(app: Flask) -> None:
    from . import maintenance
    from .auth import cli as auth_cli
    from .auth.views import bp as auth_bp
    from .clients.views import bp as clients_bp
    from .documents import cli as documents_cli
    from .documents.views import bp as documents_bp
    from .establishments.views import bp as establishments_bp
    from .mail import cli as mail_cli
    from .mail.views import bp as mail_bp
    from .members.views import bp as members_bp
    from .operators.views import bp as operators_bp
    from .organisations import cli as organisations_cli
    from .organisations.views import bp as organisations_bp
    from .reminders import cli as reminders_cli
    from .review.views import bp as review_bp
    from .supplier_dossier.views import bp as supplier_dossier_bp
    from .supplier_invites import cli as supplier_invites_cli
    from .supplier_invites.views import bp as supplier_invites_bp
    from .suppliers.views import bp as suppliers_bp
    from .sync import cli as sync_cli
    from .sync.views import bp as sync_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(organisations_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(sync_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(members_bp)
    app.register_blueprint(establishments_bp)
    app.register_blueprint(supplier_dossier_bp)
    app.register_blueprint(supplier_invites_bp)
    app.register_blueprint(operators_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(suppliers_bp)
    auth_cli.register(app)
    organisations_cli.register(app)
    documents_cli.register(app)
    sync_cli.register(app)
    mail_cli.register(app)
    supplier_invites_cli.register(app)
    reminders_cli.register(app)
    maintenance.register(app)
    _register_demo_command(app)


def _register_demo_command(app: Flask) -> None:
    from flask.cli import AppGroup

    demo = AppGroup("demo", help="Données de démonstration.")
    app.cli.add_command(demo)

    @demo.command("load", help="Charge les données de démonstration si la base est vide.")
    def demo_load() -> None:
        # Imported here, not above: production start-up never loads hiveo.demo.
        from .demo.load import load_command

        load_command(app.config["ARGON2_PROFILE"])
