from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, session
from flask_login import current_user, login_required

from ..fragments import cached_fragment, company_key
from ..htmx import fragment_response, is_partial
from ..members.services import members_section
from ..sync.state import SyncState, sync_state
from ..web import page_number
from .services import (
    CompanyAccess,
    company_access,
    establishments_page,
    memberships_of,
    organisations_of,
)

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
    memberships = memberships_of(current_user)
    # Each company's version covers its establishment count: counting the
    # establishments of a chain is the costly part, done only when one changed.
    listing = cached_fragment(
        "organisations/_list.html",
        key=(current_user.id, *memberships),
        context=lambda: {"rows": organisations_of(current_user, memberships)},
    )
    if is_partial():
        return fragment_response(listing)
    return render_template("organisations/index.html", listing=listing)


@bp.get("/<siren>")
@login_required
def company(siren: str) -> Response:
    access = require_member(siren)
    # The company one opens is the one one works in: the Documents tab follows it.
    if session.get("dossier_siren") != access.company.siren:
        session["dossier_siren"] = access.company.siren
    query, number = request.args.get("q", "").strip()[:100], page_number()
    closed = request.args.get("fermes") == "1"
    establishments = cached_fragment(
        "organisations/_establishments.html",
        key=(*key, query, number, closed) if (key := company_key(access)) else None,
        context=lambda: {"access": access, "company": access.company, "closed": closed,
                         "page": establishments_page(
            access.company, query=query, page=number, include_closed=closed,
            per_page=current_app.config["ESTABLISHMENTS_PER_PAGE"])},
    )
    if is_partial():
        return fragment_response(establishments)
    sync = sync_state(access.company.id) if access.has_provider_links else SyncState.none()
    return render_template("organisations/company.html", access=access,
                           company=access.company, establishments=establishments, sync=sync,
                           query=query, closed=closed, members=members_section(access.company.id))
