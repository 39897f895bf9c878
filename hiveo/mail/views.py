"""The outbox as people see it: operators (every message), the demo's mailbox."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import OutboxMessage

bp = Blueprint("mail", __name__)

SHOWN = 200


def _latest() -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(SHOWN)))


@bp.get("/operateur/courriels")
@login_required
def outbox() -> ResponseReturnValue:
    if not current_user.is_operator:
        abort(403)
    return render_template("mail/outbox.html", messages=_latest())


@bp.get("/demo/courriels")
def demo_mailbox() -> ResponseReturnValue:
    """Every message, links included, for a demo visitor: only when the demo turns it on."""
    if not current_app.config["DEMO_MAILBOX"]:
        abort(404)
    return render_template("mail/demo_mailbox.html", messages=_latest())
