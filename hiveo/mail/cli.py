"""`flask mail send`: what cron runs to send the outbox and retry failures."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..core.text import plural
from .outbox import send_pending

mail = AppGroup("mail", help="Courriels : la boîte d'envoi.")


@mail.command("send", help="Envoie les courriels en attente (sans risque si lancé deux fois).")
@click.option("--limit", default=500, show_default=True, help="Nombre maximal de messages.")
def mail_send(limit: int) -> None:
    if not current_app.config["SMTP_URL"]:
        click.echo("HIVEO_SMTP_URL est vide : les courriels restent dans la boîte d'envoi.")
        return
    report = send_pending(limit=limit)
    parts = [plural(len(report.sent), "courriel envoyé", "courriels envoyés")]
    if report.retried:
        parts.append(plural(len(report.retried), "à réessayer plus tard", "à réessayer plus tard"))
    if report.failed:
        parts.append(plural(len(report.failed), "en échec définitif", "en échec définitif"))
    if report.interrupted:
        parts.append(plural(report.interrupted, "envoi interrompu", "envois interrompus"))
    click.echo(", ".join(parts) + ".")
    if report.retried or report.failed or report.interrupted:
        raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(mail)
