"""The Fournisseurs tab: a client's suppliers, filtered, sorted, paginated, exported."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..core import clock
from ..core.tenancy import CompanyAccess, companies_of, member_required
from ..htmx import is_partial, render, render_fragment
from ..relations.queries import (
    SORTS,
    STATUS_FILTERS,
    SupplierFilters,
    SupplierRow,
    SupplierSort,
    client_categories,
    supplier_rows,
    suppliers_listing,
    suppliers_page,
)
from ..relations.services import STATE_LABELS
from ..web import page_number
from . import export

bp = Blueprint("suppliers", __name__)


def works_for_a_client() -> bool:
    """Whether the signed-in user is a member of a client company (the tab shows then)."""
    return current_user.is_authenticated and any(
        company.is_client for company in companies_of(current_user))


bp.record_once(lambda state: state.app.jinja_env.globals.update(
    works_for_a_client=works_for_a_client))


def _client_required(siren: str) -> CompanyAccess:
    """A member of a client company; 404 for others, and for a company that is no client."""
    access = member_required(siren)
    if not access.company.is_client:
        abort(404)
    return access


@bp.get("/fournisseurs")
@login_required
def index() -> ResponseReturnValue:
    """The list of the client company the user works in; a choice when there are several."""
    clients = [company for company in companies_of(current_user) if company.is_client]
    chosen = request.args.get("siren") or session.get("dossier_siren")
    if chosen in {company.siren for company in clients}:
        return redirect(url_for("suppliers.list", siren=chosen))
    if len(clients) == 1:
        return redirect(url_for("suppliers.list", siren=clients[0].siren))
    return render("suppliers/choose.html", "suppliers/choose.html", companies=clients)


@bp.get("/organisations/<siren>/fournisseurs", endpoint="list")
@login_required
def supplier_list(siren: str) -> ResponseReturnValue:
    access = _client_required(siren)
    if session.get("dossier_siren") != access.company.siren:
        session["dossier_siren"] = access.company.siren
    today = clock.today()
    filters, sort = SupplierFilters.from_args(request.args), SupplierSort.from_args(request.args)
    per_page = current_app.config["SUPPLIERS_PER_PAGE"]
    context: dict[str, Any] = {
        "access": access, "company": access.company, "filters": filters,
        "sort": sort, "sorts": SORTS, "state_labels": STATE_LABELS, "query_string": query_string,
        # Each column header's link, for the table and for the sort links above it.
        "sort_queries": {column: query_string(filters, sort.toggled(column))
                         for column in SORTS},
    }
    if is_partial():
        page = suppliers_page(access.company, today, filters, sort, page_number(), per_page)
        return render_fragment("suppliers/_list.html", page=page, **context)
    # The whole page: the rows, the counts header and the category filter's choices.
    page, counts = suppliers_listing(access.company, today, filters, sort, page_number(),
                                     per_page)
    clients = [company for company in companies_of(current_user) if company.is_client]
    return render_template(
        "suppliers/list.html", page=page, counts=counts,
        categories=client_categories(access.company), status_filters=STATUS_FILTERS,
        companies=clients if len(clients) > 1 else [], **context)


def query_string(filters: SupplierFilters, sort: SupplierSort, page: int = 1) -> str:
    """"?afficher=…&tri=…": the list's current state for a link; empty when all default."""
    args = {**filters.as_args(), **sort.as_args()}
    if page > 1:
        args["page"] = str(page)
    return "?" + urlencode(args) if args else ""


def _export_rows(siren: str) -> tuple[CompanyAccess, list[SupplierRow]]:
    access = _client_required(siren)
    filters, sort = SupplierFilters.from_args(request.args), SupplierSort.from_args(request.args)
    return access, supplier_rows(access.company, clock.today(), filters, sort)


@bp.get("/organisations/<siren>/fournisseurs.csv")
@login_required
def export_csv(siren: str) -> Response:
    access, rows = _export_rows(siren)
    return export.csv_response(access.company, rows, clock.today())


@bp.get("/organisations/<siren>/fournisseurs.xlsx")
@login_required
def export_xlsx(siren: str) -> Response:
    access, rows = _export_rows(siren)
    return export.xlsx_response(access.company, rows, clock.today())
