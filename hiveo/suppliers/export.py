"""The supplier list as CSV (French Excel: UTF-8 with BOM, ";") and as XLSX (openpyxl).

Both are built in memory from supplier_rows(), capped at EXPORT_ROW_CAP rows
(hiveo/relations/queries.py); a capped export says so in its last line.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask import make_response
from werkzeug.wrappers import Response

from ..core.clock import PARIS
from ..core.text import NNBSP, format_date, typo_fr
from ..models import Company
from ..relations import queries
from ..relations.compliance import compliance_label
from ..relations.queries import SupplierRow
from ..relations.services import state_label

HEADERS = ["Fournisseur", "SIREN", "Code fournisseur", "Catégorie", "État", "Conformité",
           "Prochaine échéance", "Dernière modification"]


def capped(rows: list[SupplierRow]) -> str | None:
    """The last line of an export that reached the cap, else None."""
    if len(rows) < queries.EXPORT_ROW_CAP:
        return None
    count = f"{queries.EXPORT_ROW_CAP:,}".replace(",", NNBSP)
    return typo_fr(f"Export limité aux {count} premières lignes : "
                   "filtrez la liste pour exporter le reste.")


def compliance_text(row: SupplierRow) -> str:
    return "" if row.compliant is None else compliance_label(row.compliant)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(PARIS).replace(tzinfo=None, microsecond=0)


def _filename(company: Company, today: date, extension: str) -> str:
    return f"fournisseurs-{company.siren}-{today.isoformat()}.{extension}"


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    response = make_response(body)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csv_text(rows: list[SupplierRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([row.name, row.siren, row.supplier_code or "", row.category,
                         state_label(row.state), compliance_text(row),
                         format_date(row.next_expiry),
                         _local(row.changed_at).strftime("%d/%m/%Y %H:%M")])
    if note := capped(rows):
        writer.writerow([note])
    return buffer.getvalue()


def csv_response(company: Company, rows: list[SupplierRow], today: date) -> Response:
    # The BOM tells Excel the file is UTF-8; ";" is its separator in French settings.
    body = "\ufeff" + csv_text(rows)
    return _attachment(body.encode("utf-8"), "text/csv",
                       _filename(company, today, "csv"))


def xlsx_bytes(company: Company, rows: list[SupplierRow]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Fournisseurs")
    sheet.freeze_panes = "A2"
    for index, width in enumerate((40, 12, 18, 20, 18, 14, 18, 20)):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        expiry = WriteOnlyCell(sheet, value=row.next_expiry)
        expiry.number_format = "DD/MM/YYYY"
        changed = WriteOnlyCell(sheet, value=_local(row.changed_at))
        changed.number_format = "DD/MM/YYYY HH:MM"
        sheet.append([row.name, row.siren, row.supplier_code or "", row.category,
                      state_label(row.state), compliance_text(row), expiry, changed])
    if note := capped(rows):
        sheet.append([note])
    buffer = io.BytesIO()
    workbook.properties.title = f"Fournisseurs de {company.name}"
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(company: Company, rows: list[SupplierRow], today: date) -> Response:
    return _attachment(xlsx_bytes(company, rows),
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       _filename(company, today, "xlsx"))
