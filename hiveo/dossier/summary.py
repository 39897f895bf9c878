"""The head of the Documents tab: how complete the dossier is and what expires next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..models import Company, Document, Establishment
from .catalogue import CATALOGUE, COMPANY_TYPES
from .queries import Required, Slot, required_condition
from .states import State, in_force_condition, sql_dates


@dataclass(frozen=True)
class NextExpiry:
    day: date
    label: str
    establishment: str | None


@dataclass(frozen=True)
class Summary:
    """Required documents that are valid now, out of the required ones; the next end date."""

    required: int
    valid: int
    next_expiry: NextExpiry | None

    @property
    def percent(self) -> int:
        return round(100 * self.valid / self.required) if self.required else 100

    @property
    def complete(self) -> bool:
        return self.valid >= self.required


def dossier_summary(company: Company, today: date, company_slots: list[Slot],
                    required: Required | None = None) -> Summary:
    """Three queries at most: establishments and their required slots in force (when
    some type is required of establishments), the earliest end of a required document
    in force. Complementary types count for nothing here."""
    required = required or Required.every_type()
    valid_company = sum(1 for slot in company_slots
                        if slot.doc_type.code in {t.code for t in COMPANY_TYPES}
                        and required.at_company(slot.doc_type.code)
                        and slot.state in (State.VALID, State.EXPIRING))
    params = {**sql_dates(today), **required.params()}
    establishment_slots, valid_establishment = 0, 0
    if required.everywhere or required.some:
        establishments = db.session.scalar(
            select(func.count(Establishment.id)).where(Establishment.company_id == company.id)
        ) or 0
        establishment_slots = (len(required.everywhere) * establishments
                               + sum(len(ids) for code, ids in required.some.items()
                                     if code not in required.everywhere))
        in_force = (
            select(Document.establishment_id, Document.doc_type).distinct()
            .where(Document.company_id == company.id, Document.establishment_id.is_not(None),
                   required_condition(), in_force_condition())
            .subquery()
        )
        valid_establishment = db.session.scalar(
            select(func.count()).select_from(in_force), params) or 0
    row = db.session.execute(
        select(Document.effective_end, Document.doc_type, Establishment.name)
        .outerjoin(Establishment, Establishment.id == Document.establishment_id)
        .where(Document.company_id == company.id, required_condition(), in_force_condition())
        .order_by(Document.effective_end, Document.id)
        .limit(1), params
    ).first()
    expiry = None
    if row is not None:
        spec = CATALOGUE.get(row.doc_type)
        expiry = NextExpiry(row.effective_end, spec.label if spec else row.doc_type, row.name)
    return Summary(
        required=len(required.company) + establishment_slots,
        valid=valid_company + valid_establishment,
        next_expiry=expiry,
    )
