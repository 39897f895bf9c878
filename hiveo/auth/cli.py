"""`flask users add`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..clitools import company_by_siren, fail
from ..extensions import begin_write, db
from ..models import User
from ..organisations.services import OrganisationError, add_member
from ..passwords import hash_password, password_problem
from .services import (
    AccountError,
    create_user,
    normalise_email,
    restore_account,
    suspend_account,
)

users = AppGroup("users", help="Comptes utilisateurs.")


@users.command("add", help="Crée un compte, éventuellement membre d'une entreprise.")
@click.argument("email")
@click.option("--password", required=True, help="Mot de passe (12 caractères au moins).")
@click.option("--name", default="", help="Nom affiché.")
@click.option("--company", "siren", default=None, help="SIREN de l'entreprise à rejoindre.")
@click.option(
    "--role",
    type=click.Choice(["admin", "member"]),
    default=None,
    help="Rôle dans l'entreprise (avec --company).",
)
@click.option("--operator", is_flag=True, help="Donne le droit de valider les dépôts.")
def users_add(
    email: str, password: str, name: str, siren: str | None, role: str | None, operator: bool
) -> None:
    begin_write()
    if role and not siren:
        fail("--role s'utilise avec --company SIREN.")
    company = company_by_siren(siren) if siren else None
    try:
        user = create_user(
            email,
            password,
            name=name,
            is_operator=operator,
            profile=current_app.config["ARGON2_PROFILE"],
        )
        if company is not None:
            add_member(user, company, role or "member")
    except (AccountError, OrganisationError) as error:
        fail(str(error))
    db.session.commit()
    details = []
    if company is not None:
        details.append(f"{role or 'member'} de {company.name}")
    if operator:
        details.append("opérateur")
    suffix = f" ({', '.join(details)})" if details else ""
    click.echo(f"Compte créé : {user.email}{suffix}")


@users.command("set-password", help="Change le mot de passe d'un compte (et ferme ses sessions).")
@click.argument("email")
@click.option("--password", required=True, help="Nouveau mot de passe (12 caractères au moins).")
def users_set_password(email: str, password: str) -> None:
    begin_write()
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        fail(f"Aucun compte pour l'adresse {normalise_email(email)}.")
    problem = password_problem(password)
    if problem:
        fail(problem)
    user.password_hash = hash_password(password, current_app.config["ARGON2_PROFILE"])
    user.rotate_session_token()
    db.session.commit()
    click.echo(f"Mot de passe changé pour {user.email} ; ses sessions ouvertes sont fermées.")


def _account(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        fail(f"Aucun compte pour l'adresse {normalise_email(email)}.")
    return user


@users.command("suspend", help="Suspend un compte : il ne peut plus se connecter, ses sessions "
               "sont fermées.")
@click.argument("email")
def users_suspend(email: str) -> None:
    begin_write()
    user = _account(email)
    try:
        suspend_account(user, None)
    except AccountError as error:
        fail(str(error))
    db.session.commit()
    click.echo(f"Compte suspendu : {user.email} ; ses sessions ouvertes sont fermées.")


@users.command("restore", help="Rétablit un compte suspendu.")
@click.argument("email")
def users_restore(email: str) -> None:
    begin_write()
    user = _account(email)
    try:
        restore_account(user, None)
    except AccountError as error:
        fail(str(error))
    db.session.commit()
    click.echo(f"Compte rétabli : {user.email}")


def register(app: Flask) -> None:
    app.cli.add_command(users)
