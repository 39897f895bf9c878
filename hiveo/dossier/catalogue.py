"""The document catalogue (DOMAIN.md section 2), in one place."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta


class Level(enum.StrEnum):
    COMPANY = "company"
    ESTABLISHMENT = "establishment"


@dataclass(frozen=True)
class DocumentType:
    code: str
    label: str
    level: Level
    # Months of validity when the document prints no end date, counted from
    # `validity_from` ("issue_date" or "validity_start"); None: the printed
    # end date is required.
    default_months: int | None
    validity_from: str | None
    multi: bool

    @property
    def end_required(self) -> bool:
        return self.default_months is None

    @property
    def default_validity_text(self) -> str:
        if self.default_months is None:
            return "date de fin imprimée obligatoire"
        origin = "la date de délivrance" if self.validity_from == "issue_date" else (
            "le début de validité"
        )
        return f"{self.default_months} mois à partir de {origin}"


CATALOGUE: dict[str, DocumentType] = {
    item.code: item
    for item in (
        DocumentType("KBIS", "Extrait Kbis (justificatif d'immatriculation)", Level.COMPANY,
                     3, "issue_date", False),
        DocumentType("URSSAF_VIGILANCE", "Attestation de vigilance URSSAF", Level.COMPANY,
                     6, "validity_start", False),
        DocumentType("LNTE", "Liste nominative des travailleurs étrangers", Level.COMPANY,
                     6, "issue_date", False),
        DocumentType("FISCAL_REGULARITY", "Attestation de régularité fiscale", Level.COMPANY,
                     None, None, False),
        DocumentType("INSURANCE_RC_PRO",
                     "Attestation d'assurance responsabilité civile professionnelle",
                     Level.COMPANY, None, None, True),
        DocumentType("INSURANCE_DECENNALE", "Attestation d'assurance décennale", Level.COMPANY,
                     None, None, True),
        DocumentType("BTP_PAID_LEAVE", "Certificat caisse de congés payés BTP",
                     Level.ESTABLISHMENT, None, None, False),
    )
}

COMPANY_TYPES = [t for t in CATALOGUE.values() if t.level is Level.COMPANY]
ESTABLISHMENT_TYPES = [t for t in CATALOGUE.values() if t.level is Level.ESTABLISHMENT]


def document_type(code: str) -> DocumentType:
    try:
        return CATALOGUE[code]
    except KeyError:
        raise ValueError(f"Type de document inconnu : {code}") from None


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the end of shorter months."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def effective_end(
    doc_type: DocumentType, issue_date: date, validity_start: date, validity_end: date | None
) -> date:
    """The last day the document is valid: printed, or the catalogue's default.

    "6 months from 1 October" ends on 31 March: the period includes its first day.
    """
    if validity_end is not None:
        return validity_end
    if doc_type.default_months is None:
        raise ValueError(f"{doc_type.code} requires a printed end of validity")
    origin = issue_date if doc_type.validity_from == "issue_date" else validity_start
    return add_months(origin, doc_type.default_months) - timedelta(days=1)
