from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..core.tenancy import member_required, memberships_of
from ..htmx import is_partial, render, render_fragment
from ..members.services import members_section
from ..sync.state import SyncState, sync_state
from ..web import page_number
from .services import establishments_page, organisations_of

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    rows = organisations_of(memberships_of(current_user))
    return render("organisations/index.html", "organisations/_list.html", rows=rows)


@bp.get("/<siren>")
@login_required
def company(siren: str) -> ResponseReturnValue:
    access = member_required(siren)
    # The company one opens is the one one works in: the Documents tab follows it.
    if session.get("dossier_siren") != access.company.siren:
        session["dossier_siren"] = access.company.siren
    query, number = request.args.get("q", "").strip()[:100], page_number()
    closed = request.args.get("fermes") == "1"
    page = establishments_page(access.company, query=query, page=number, include_closed=closed,
                               per_page=current_app.config["ESTABLISHMENTS_PER_PAGE"])
    context: dict[str, Any] = {"access": access, "company": access.company, "page": page,
                               "query": query, "closed": closed}
    if is_partial():
        return render_fragment("organisations/_establishments.html", **context)
    sync = (sync_state(access.company.id) if access.company.has_provider_links
            else SyncState.none())
    return render_template("organisations/company.html", sync=sync,
                           members=members_section(access.company.id), **context)
