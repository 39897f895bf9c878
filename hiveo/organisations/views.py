from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request, session
from flask_login import current_user, login_required

from ..htmx import is_partial, render
from ..sync.state import sync_state
from ..web import page_number
from .services import CompanyAccess, company_access, establishments_page, organisations_of

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


def require_member(siren: str) -> CompanyAccess:
    """The company for its members; 404 for everyone else, so ids do not leak."""
    access = company_access(current_user, siren) if siren.isdigit() else None
    if access is None:
        abort(404)
    return access


@bp.get("")
@login_required
def index() -> Response:
    rows = organisations_of(current_user)
    return render("organisations/index.html", "organisations/_list.html", rows=rows)


@bp.get("/<siren>")
@login_required
def company(siren: str) -> Response:
    access = require_member(siren)
    # The company one opens is the one one works in: the Documents tab follows it.
    if session.get("dossier_siren") != access.company.siren:
        session["dossier_siren"] = access.company.siren
    page = establishments_page(
        access.company,
        query=request.args.get("q", ""),
        page=page_number(),
        per_page=current_app.config["ESTABLISHMENTS_PER_PAGE"],
    )
    return render(
        "organisations/company.html",
        "organisations/_establishments.html",
        access=access,
        company=access.company,
        page=page,
        sync=None if is_partial() else sync_state(access.company.id),
    )
