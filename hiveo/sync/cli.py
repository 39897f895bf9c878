"""`flask sync run | enable | disable`: for cron, systemd timers and operators."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..clitools import company_by_siren, fail
from ..extensions import db
from ..identifiers import format_siren
from ..models import Company, ProviderLink, User
from ..providers import PROVIDERS, configured_providers
from . import wording
from .engine import RunReport, pdf_checker, sync_company
from .outcomes import Outcome
from .switch import SwitchError, set_sync_enabled

sync = AppGroup("sync", help="Synchronisation avec les plateformes des fournisseurs.")
_PROVIDER = click.Choice(list(PROVIDERS))


def _targets(siren: str | None, provider: str | None) -> list[tuple[int, str, str, str]]:
    """(company id, SIREN, name, provider) to run: enabled links, and unlinked companies to check.

    A company whose sync is off is left out entirely: it receives no call.
    """
    providers = [provider] if provider else configured_providers(current_app.config)
    companies = (
        [company_by_siren(siren)] if siren
        else list(db.session.scalars(select(Company).order_by(Company.siren)))
    )
    disabled = set(db.session.execute(
        select(ProviderLink.company_id, ProviderLink.provider).where(
            ProviderLink.sync_enabled.is_(False), ProviderLink.linked.is_(True))
    ).all())
    targets = [
        (company.id, company.siren, company.name, name)
        for company in companies
        for name in providers
        if (company.id, name) not in disabled
    ]
    db.session.rollback()
    return targets


def _line(siren: str, company_name: str, report: RunReport) -> str:
    status = wording.cli_status(report.outcome)
    return (f"{format_siren(siren)}  {company_name[:40]:<40}  {report.provider_name:<18}  "
            f"{status:<5}  {report.summary()}")


@sync.command("run", help="Synchronise les entreprises liées (ou celle du SIREN donné).")
@click.option("--siren", default=None, help="Une seule entreprise.")
@click.option("--provider", type=_PROVIDER, default=None, help="Un seul fournisseur.")
def sync_run(siren: str | None, provider: str | None) -> None:
    if provider and provider not in configured_providers(current_app.config):
        fail(wording.not_configured(PROVIDERS[provider]))
    if siren:
        company = company_by_siren(siren)
        link = db.session.scalar(select(ProviderLink).where(
            ProviderLink.company_id == company.id, ProviderLink.sync_enabled.is_(False),
            *([ProviderLink.provider == provider] if provider else [])))
        if link is not None and provider:
            db.session.rollback()
            click.echo(wording.disabled_nothing_to_do(PROVIDERS[provider], company.name))
            return
    targets = _targets(siren, provider)
    trigger = "manual" if siren else "periodic"
    failures = 0
    lines: list[str] = []
    show_bar = sys.stderr.isatty() and len(targets) > 1
    # One child process checks the files of every run.
    with pdf_checker() as checker, click.progressbar(
            targets, label="Synchronisation", file=sys.stderr, hidden=not show_bar) as bar:
        for company_id, number, name, target_provider in bar:
            report = sync_company(company_id, target_provider, trigger=trigger,
                                  checker=checker)
            if report.outcome in (Outcome.NOT_LINKED, Outcome.OFF):
                continue
            failures += report.outcome is Outcome.FAILED
            line = _line(number, name, report)
            if show_bar:
                lines.append(line)
            else:
                click.echo(line)
    for line in lines:
        click.echo(line)
    if failures:
        raise SystemExit(1)


def _user(email: str | None) -> User | None:
    if not email:
        return None
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        fail(f"Aucun compte pour l'adresse {email}.")
    return user


def _switch(siren: str, provider: str, enabled: bool, by: str | None) -> None:
    company = company_by_siren(siren)
    user = _user(by)
    company_id, company_name = company.id, company.name
    db.session.rollback()
    try:
        result = set_sync_enabled(company_id, provider, enabled, user)
    except SwitchError as error:
        fail(str(error))
    name = PROVIDERS[provider]
    if not result.changed:
        click.echo(wording.switch_unchanged(name, enabled, company_name))
        return
    click.echo(wording.switched(name, enabled, company_name))
    if result.report is not None:
        click.echo(result.report.summary())
        for detail in result.report.details:
            click.echo(f"  - {detail}")
        if result.report.outcome is Outcome.FAILED:
            click.echo(f"{wording.STAYS_ON.capitalize()}.")
            raise SystemExit(1)


@sync.command("disable", help="Désactive la synchronisation d'une entreprise (rien n'est retiré).")
@click.argument("siren")
@click.option("--provider", type=_PROVIDER, required=True)
@click.option("--by", default=None, help="Adresse e-mail de la personne à l'origine.")
def sync_disable(siren: str, provider: str, by: str | None) -> None:
    _switch(siren, provider, False, by)


@sync.command("enable", help="Réactive la synchronisation et synchronise aussitôt.")
@click.argument("siren")
@click.option("--provider", type=_PROVIDER, required=True)
@click.option("--by", default=None, help="Adresse e-mail de la personne à l'origine.")
def sync_enable(siren: str, provider: str, by: str | None) -> None:
    _switch(siren, provider, True, by)


def register(app: Flask) -> None:
    app.cli.add_command(sync)
