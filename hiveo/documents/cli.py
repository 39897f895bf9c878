"""`flask documents import` and `flask dossier export`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..clitools import DAY, company_by_siren, fail
from ..core import clock
from ..dossier import services
from ..dossier.export import export_dossier
from ..dossier.storage import storage
from ..extensions import begin_write, db

documents = AppGroup("documents", help="Documents des dossiers.")
dossier = AppGroup("dossier", help="Dossiers des entreprises.")


@documents.command("import", help="Importe un document déjà vérifié (validé d'office).")
@click.argument("siren")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--type", "doc_type_code", required=True, help="Code du catalogue (ex. KBIS).")
@click.option("--siret", default=None, help="Établissement concerné (sinon : l'entreprise).")
@click.option("--issue-date", type=DAY, required=True)
@click.option("--validity-start", type=DAY, required=True)
@click.option("--validity-end", type=DAY, default=None)
def documents_import(siren, file: Path, doc_type_code, siret, issue_date, validity_start,
                     validity_end) -> None:
    begin_write()
    company = company_by_siren(siren)
    problems = services.Problems()
    doc_type = services.check_type(doc_type_code, problems)
    establishment = services.find_establishment(company, siret, problems)
    services.check_dates(doc_type, issue_date, validity_start, validity_end, clock.today(),
                         problems)
    services.check_slot_open(company, doc_type, problems)
    if not file.is_file():
        problems.add(f"Le fichier {file} n'existe pas.", "file")
    else:
        max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
        try:
            services.check_pdf(file, max_bytes)
        except services.DocumentError as error:
            problems.add(str(error), "file")
    if problems:
        fail("\n".join(message for _field, message in problems.items))
    with file.open("rb") as handle:
        stored = storage().save(handle)
    document = services.add_document(
        company=company, establishment=establishment, doc_type=doc_type,
        issue_date=issue_date, validity_start=validity_start, validity_end=validity_end,
        stored=stored,
        filename=file.name[:services.MAX_FILENAME], uploaded_by=None, validated=True,
    )
    db.session.commit()
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
