"""`flask reminders send`: the daily cron run (safe to run twice, or two at once)."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from ..clitools import fail
from ..core.clock import today as portal_today
from .engine import BATCH_SIZE, send_reminders

reminders = AppGroup("reminders", help="Relances : documents, invitations, récapitulatifs.")


@reminders.command("send", help="Écrit les relances du jour dans la boîte d'envoi "
                                "(sans risque si lancé deux fois).")
@click.option("--today", "day", default=None, metavar="AAAA-MM-JJ",
              help="Le jour à traiter (par défaut : aujourd'hui, ou TODAY).")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(1),
              help="Fournisseurs lus par lot.")
def reminders_send(day: str | None, batch_size: int) -> None:
    if day is None:
        when = portal_today()
    else:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            fail(f"Date invalide : {day} (attendu : AAAA-MM-JJ).")
    report = send_reminders(when, batch_size=batch_size,
                            progress=lambda line: click.echo(line, file=sys.stderr))
    click.echo(report.summary() + ".")


def register(app: Flask) -> None:
    app.cli.add_command(reminders)
