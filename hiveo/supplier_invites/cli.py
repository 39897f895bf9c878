"""`flask suppliers import`: a client's CSV file of suppliers, for files too big for a page.

`flask suppliers standing [--fix]`: checks each relation's stored standing (what the
list of suppliers counts, hiveo/relations/figures.py) against its dossier, after a
restore or a change made by hand in the database; `--fix` rewrites what differs.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..auth.services import normalise_email
from ..clitools import company_by_siren, fail
from ..core.tenancy import company_access
from ..core.text import plural
from ..extensions import begin_write, db
from ..models import User
from ..relations.figures import refresh_standing, stale_standings
from ..relations.invitations import (
    MAX_CLI_ROWS,
    MAX_IMPORT_BYTES,
    ImportFileError,
    import_suppliers,
    parse_csv,
)

suppliers = AppGroup("suppliers", help="Fournisseurs d'une entreprise cliente.")


@suppliers.command("import", help="Invite les fournisseurs d'un fichier CSV (les colonnes de la "
                   "page « Importer des fournisseurs »).")
@click.argument("siren")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "email", required=True,
              help="L'administrateur de l'entreprise cliente au nom de qui les invitations "
                   "partent.")
@click.option("--row-by-row", is_flag=True,
              help="Invite les lignes correctes même si d'autres sont refusées (par défaut : "
                   "tout ou rien).")
def suppliers_import(siren: str, path: Path, email: str, row_by_row: bool) -> None:
    begin_write()
    client = company_by_siren(siren)
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        fail(f"Aucun compte pour l'adresse {normalise_email(email)}.")
    access = company_access(user, client.siren)
    if access is None or not access.is_admin:
        fail(f"{user.email} n'est pas administrateur de {client.name}.")
    try:
        rows = parse_csv(path.read_bytes(), max_rows=MAX_CLI_ROWS,
                         max_bytes=MAX_IMPORT_BYTES * MAX_CLI_ROWS // 1000)
    except ImportFileError as error:
        fail(str(error))
    mode = "row_by_row" if row_by_row else "all_or_nothing"
    report = import_suppliers(client, user, rows, mode,
                              base_url=current_app.config["BASE_URL"],
                              days=current_app.config["INVITATION_DAYS"])
    db.session.commit()
    for row in report.refused:
        click.echo(f"ligne {row.line} refusée : {row.message}", err=True)
    if report.refused and not report.written:
        fail(f"Aucune invitation envoyée : {len(report.refused)} ligne(s) refusée(s).")
    click.echo(f"{report.written} fournisseur(s) invité(s), {len(report.refused)} ligne(s) "
               "refusée(s).")


@suppliers.command("standing", help="Vérifie la conformité enregistrée de chaque relation "
                   "(comptée par « Mes fournisseurs ») contre les dossiers.")
@click.option("--fix", is_flag=True, help="Recalcule et enregistre celles qui diffèrent.")
def suppliers_standing(fix: bool) -> None:
    if not fix:
        stale = stale_standings()
        if stale:
            fail(f"{plural(len(stale), 'relation')} à recalculer "
                 f"(identifiants {', '.join(str(row[0]) for row in stale[:20])}"
                 f"{', …' if len(stale) > 20 else ''}) : relancez avec --fix.")
        click.echo("Toutes les relations sont à jour.")
        return
    begin_write()
    fixed = refresh_standing()
    db.session.commit()
    click.echo(f"{plural(fixed, 'relation recalculée', 'relations recalculées')}.")


def register(app: Flask) -> None:
    app.cli.add_command(suppliers)
