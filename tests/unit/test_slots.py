"""Slot rules of the Documents tab, on documents that never touch a database."""

import itertools
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from hiveo.dossier.catalogue import CATALOGUE, COMPANY_TYPES
from hiveo.dossier.queries import Required, build_slots, summarise
from hiveo.dossier.states import State, document_state
from hiveo.models import Document, Establishment

TODAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 10, tzinfo=UTC)


def doc(doc_type="KBIS", *, end=date(2027, 6, 1), review="validated", current=True,
        archived=False, establishment_id=None, reason=None):
    return Document(
        company_id=1, establishment_id=establishment_id, doc_type=doc_type, source="manual",
        issue_date=date(2026, 10, 1), validity_start=date(2026, 10, 1), validity_end=end,
        effective_end=end, sha256="0" * 64, size=1, review_state=review, is_current=current,
        archived_at=NOW if archived else None, uploaded_at=NOW, refusal_reason=reason,
    )


def slot(slots, code):
    return next(s for s in slots if s.doc_type.code == code)


def test_empty_company_slots_are_all_missing():
    slots = build_slots(COMPANY_TYPES, None, [], TODAY)
    assert [s.doc_type.code for s in slots] == [t.code for t in COMPANY_TYPES]
    assert {s.state for s in slots} == {State.MISSING}


def test_current_pending_refused_and_history_go_to_their_places():
    documents = [
        doc(end=date(2026, 11, 28)),
        doc(review="pending", current=False),
        doc(review="refused", current=False, reason="Illisible"),
        doc(current=False, archived=True),
    ]
    kbis = slot(build_slots(COMPANY_TYPES, None, documents, TODAY), "KBIS")
    assert len(kbis.current) == len(kbis.pending) == len(kbis.refused) == len(kbis.history) == 1
    assert kbis.state is State.EXPIRED
    assert kbis.needs_action


def test_a_slot_with_only_a_pending_upload_is_pending_not_missing():
    kbis = slot(build_slots(COMPANY_TYPES, None, [doc(review="pending", current=False)], TODAY),
                "KBIS")
    assert kbis.state is State.PENDING
    assert not kbis.needs_action


def test_a_slot_with_only_a_refusal_is_refused():
    kbis = slot(build_slots(COMPANY_TYPES, None, [doc(review="refused", current=False)], TODAY),
                "KBIS")
    assert kbis.state is State.REFUSED


def test_multi_slot_shows_its_worst_current_document():
    documents = [doc("INSURANCE_RC_PRO"), doc("INSURANCE_RC_PRO", end=date(2026, 12, 10))]
    rc = slot(build_slots(COMPANY_TYPES, None, documents, TODAY), "INSURANCE_RC_PRO")
    assert len(rc.current) == 2
    assert rc.state is State.EXPIRING


def company_slots(documents):
    return {s.doc_type.code: s for s in build_slots(COMPANY_TYPES, None, documents, TODAY)}


def test_establishment_inherits_company_slots_for_company_level_types():
    establishment = Establishment(id=7, company_id=1, siret="73282932000074", name="Siège")
    slots = build_slots(CATALOGUE.values(), establishment, [], TODAY,
                        company_slots=company_slots([doc()]))
    assert slot(slots, "KBIS").state is State.VALID
    assert slot(slots, "KBIS").inherited_from is not None
    # A company-level gap is the company's to fix: counted there, not per establishment.
    assert slot(slots, "URSSAF_VIGILANCE").state is State.MISSING
    assert not slot(slots, "URSSAF_VIGILANCE").needs_action
    assert slot(slots, "BTP_PAID_LEAVE").state is State.MISSING
    assert slot(slots, "BTP_PAID_LEAVE").needs_action


def test_an_establishment_document_overrides_the_company_one():
    establishment = Establishment(id=7, company_id=1, siret="73282932000074", name="Siège")
    own = doc(end=date(2026, 12, 1), establishment_id=7)
    slots = build_slots(CATALOGUE.values(), establishment, [own], TODAY,
                        company_slots=company_slots([doc()]))
    assert slot(slots, "KBIS").state is State.EXPIRING
    assert slot(slots, "KBIS").inherited_from is None
    assert slot(slots, "KBIS").needs_action


def test_slots_can_be_marked_as_managed_by_a_provider():
    slots = build_slots(COMPANY_TYPES, None, [], TODAY,
                        managed_by=lambda code: "actradis" if code == "KBIS" else None)
    assert slot(slots, "KBIS").managed_by == "actradis"
    assert slot(slots, "LNTE").managed_by is None


def _kinds():
    """Live documents of every kind a slot can hold, around the boundary dates."""
    return [
        {"end": date(2026, 11, 28)}, {"end": date(2026, 12, 10)}, {"end": date(2027, 6, 1)},
        {"review": "pending", "current": False}, {"review": "refused", "current": False},
    ]


@pytest.mark.parametrize("required", [None, "clients"])
def test_an_establishment_summary_counts_what_its_slots_count(required):
    rules = None if required is None else Required(
        company=frozenset({"KBIS", "INSURANCE_RC_PRO"}), everywhere=frozenset(),
        some={"BTP_PAID_LEAVE": frozenset({7}), "INSURANCE_RC_PRO": frozenset({7})},
        clients={}, by_default=False)
    establishment = Establishment(id=7, company_id=1, siret="73282932000074", name="Siège")
    inherited = {s.doc_type.code: s for s in build_slots(
        COMPANY_TYPES, None, [doc(end=date(2026, 11, 28))], TODAY, required=rules)}
    combinations = 0
    for kbis, btp, rc in itertools.product([None, *_kinds()], [None, *_kinds()],
                                           [None, *_kinds()]):
        documents = [doc(code, establishment_id=7, **kind)
                     for code, kind in (("KBIS", kbis), ("BTP_PAID_LEAVE", btp),
                                        ("INSURANCE_RC_PRO", rc), ("INSURANCE_RC_PRO", kbis))
                     if kind is not None]
        slots = build_slots(CATALOGUE.values(), establishment, documents, TODAY,
                            company_slots=inherited, required=rules)
        rows = [SimpleNamespace(doc_type=d.doc_type, is_current=d.is_current,
                                review_state=d.review_state,
                                state=document_state(d, TODAY).value) for d in documents]
        summary = summarise(rows, rules.of_establishment(7) if rules else None)
        assert summary.to_do == sum(1 for s in slots if s.needs_action), documents
        assert summary.pending == sum(len(s.pending) for s in slots)
        combinations += 1
    assert combinations == 216
