"""`flask companies add` and `flask establishments add`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..clitools import fail
from ..extensions import begin_write, db
from ..identifiers import format_siren, format_siret
from .services import OrganisationError, add_establishment, create_company, make_client

companies = AppGroup("companies", help="Entreprises (SIREN).")


@companies.command("add", help="Ajoute une entreprise (ou, avec --client, en fait une cliente).")
@click.argument("siren")
@click.option("--name", default="", help="Raison sociale (obligatoire pour une entreprise "
              "nouvelle).")
@click.option("--client", is_flag=True, help="Une cliente, qui recueille les documents de ses "
              "fournisseurs ; une entreprise existante le devient.")
def companies_add(siren: str, name: str, client: bool) -> None:
    begin_write()
    try:
        if client:
            company, created = make_client(siren, name)
        else:
            company, created = create_company(siren, name), True
    except OrganisationError as error:
        fail(str(error))
    db.session.commit()
    shown = f"{company.name} (SIREN {format_siren(company.siren)})"
    if not created:
        click.echo(f"Entreprise cliente : {shown}")
    else:
        click.echo(f"Entreprise ajoutée : {shown}{' (cliente)' if client else ''}")


establishments = AppGroup("establishments", help="Établissements (SIRET).")


@establishments.command("add", help="Ajoute un établissement à l'entreprise de son SIREN.")
@click.argument("siret")
@click.option("--name", required=True, help="Nom de l'établissement.")
@click.option("--address", default="", help="Adresse (rue).")
@click.option("--postal-code", default="", help="Code postal.")
@click.option("--city", default="", help="Ville.")
def establishments_add(siret: str, name: str, address: str, postal_code: str, city: str) -> None:
    begin_write()
    try:
        establishment = add_establishment(
            siret, name, address=address, postal_code=postal_code, city=city
        )
    except OrganisationError as error:
        fail(str(error))
    db.session.commit()
    click.echo(
        f"Établissement ajouté : {establishment.name} (SIRET {format_siret(establishment.siret)})"
    )


def register(app: Flask) -> None:
    app.cli.add_command(companies)
    app.cli.add_command(establishments)
