"""`flask documents import` and `flask dossier export`."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from ..clitools import company_by_siren, fail
from ..core import clock
from ..dossier import services
from ..dossier.catalogue import CATALOGUE
from ..dossier.export import export_dossier
from ..extensions import begin_write, db

documents = AppGroup("documents", help="Documents des dossiers.")
dossier = AppGroup("dossier", help="Dossiers des entreprises.")


@documents.command("import", help="Importe un document déjà vérifié (validé d'office).")
@click.argument("siren")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--type", "doc_type_code", required=True, help="Code du catalogue (ex. KBIS).")
@click.option("--siret", default=None, help="Établissement concerné (sinon : l'entreprise).")
@click.option("--issue-date", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--validity-start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--validity-end", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--replaces", default=None,
              help="Identifiant du document en cours qu'il remplace (types multiples).")
def documents_import(siren, file: Path, doc_type_code, siret, issue_date, validity_start,
                     validity_end, replaces) -> None:
    """The upload form's door, with the same checks; validated at once."""
    begin_write()
    company = company_by_siren(siren)
    submission = services.Submission(
        doc_type=doc_type_code, siret=siret, issue_date=issue_date.date(),
        validity_start=validity_start.date(),
        validity_end=validity_end.date() if validity_end else None,
        replaces=replaces, validated=True,
    )
    try:
        with contextlib.ExitStack() as stack:
            stream = stack.enter_context(file.open("rb")) if file.is_file() else None
            document = services.submit_upload(company, submission, stream, file.name,
                                              uploaded_by=None, today=clock.today())
    except services.UploadRejected as rejected:
        db.session.rollback()
        missing = [] if file.is_file() else [f"Le fichier {file} n'existe pas."]
        fail("\n".join(missing + [message for _field, message in rejected.problems.items
                                   if not (missing and _field == "file")]))
    db.session.commit()
    doc_type = CATALOGUE[document.doc_type]
    click.echo(
        f"Document importé : {doc_type.label} ({document.id}), valable jusqu'au "
        f"{document.effective_end:%d/%m/%Y}."
    )


@dossier.command("export", help="Affiche le dossier d'une entreprise en JSON.")
@click.argument("siren")
def dossier_export(siren: str) -> None:
    company = company_by_siren(siren)
    click.echo(json.dumps(export_dossier(company, clock.today()), ensure_ascii=False, indent=2))


def register(app: Flask) -> None:
    app.cli.add_command(documents)
    app.cli.add_command(dossier)
