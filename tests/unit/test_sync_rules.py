"""DOMAIN.md 3.5, decided without a database."""

from datetime import UTC, date, datetime

import pytest

from hiveo.providers.records import RemoteDocument
from hiveo.sync.rules import Action, Held, decide
from hiveo.sync.wording import count_sentence


def remote(*, external_id="al-1", revision=1, state="valid", start=date(2026, 10, 1),
           issue=date(2026, 10, 1), provider="attestation_legale"):
    return RemoteDocument(
        provider=provider, external_id=external_id, revision=revision, provider_code="KBIS",
        doc_type="KBIS", siret=None, state=state, rejection_reason=None, issue_date=issue,
        validity_start=start, validity_end=None, sha256="0" * 64, size=10, filename="k.pdf",
        modified_at=datetime(2026, 10, 1, tzinfo=UTC), cursor_value="",
    )


def held(*, source="manual", external_id=None, revision=None, start=date(2026, 10, 1),
         issue=date(2026, 10, 1)):
    return Held(1, source, external_id, revision, issue, start)


def test_an_empty_slot_takes_the_provider_document():
    assert decide(remote(), multi=False, current=[]).action is Action.IMPORT


def test_an_expired_provider_document_still_fills_an_empty_slot():
    assert decide(remote(state="expired"), multi=False, current=[]).action is Action.IMPORT


@pytest.mark.parametrize(("state", "action"), [("awaiting", Action.AWAITING),
                                                ("refused", Action.REFUSED)])
def test_pending_and_refused_provider_documents_are_not_applied(state, action):
    decision = decide(remote(state=state), multi=False, current=[])
    assert decision.action is action
    assert not decision.needs_file


@pytest.mark.parametrize(("revision", "action"), [(3, Action.REPLACE), (2, Action.UNCHANGED),
                                                   (1, Action.LOWER)])
def test_same_external_id_compares_revisions(revision, action):
    current = [held(source="attestation_legale", external_id="al-1", revision=2)]
    decision = decide(remote(revision=revision), multi=False, current=current)
    assert decision.action is action
    # A new revision replaces its own earlier one, which is what gets archived.
    assert decision.replaces == (current[0] if action is Action.REPLACE else None)


def test_a_held_document_without_a_recorded_revision_counts_as_revision_zero():
    current = [held(source="attestation_legale", external_id="al-1", revision=None)]
    decision = decide(remote(revision=1), multi=False, current=current)
    assert decision.action is Action.REPLACE and decision.replaces == current[0]
    assert decide(remote(revision=0), multi=False,
                  current=current).action is Action.UNCHANGED


def test_a_newer_provider_document_replaces_another_source():
    current = [held(start=date(2026, 9, 1))]
    decision = decide(remote(start=date(2026, 10, 1)), multi=False, current=current)
    assert decision.action is Action.REPLACE and decision.replaces == current[0]


def test_issue_date_breaks_a_tie_on_validity_start():
    current = [held(issue=date(2026, 9, 1))]
    assert decide(remote(issue=date(2026, 9, 2)), multi=False,
                  current=current).action is Action.REPLACE
    assert decide(remote(issue=date(2026, 9, 1)), multi=False,
                  current=current).action is Action.KEEP


def test_an_older_provider_document_keeps_the_portal_version():
    current = [held(start=date(2026, 11, 1))]
    decision = decide(remote(start=date(2026, 10, 1)), multi=False, current=current)
    assert decision.action is Action.KEEP and not decision.needs_file


def test_multi_types_only_match_their_own_external_id():
    current = [held(start=date(2020, 1, 1))]
    assert decide(remote(), multi=True, current=current).action is Action.IMPORT
    mine = [held(source="attestation_legale", external_id="al-1", revision=1)]
    assert decide(remote(revision=2), multi=True, current=mine).action is Action.REPLACE


def test_another_provider_with_the_same_external_id_is_another_document():
    current = [held(source="actradis", external_id="al-1", revision=5,
                    start=date(2026, 9, 1))]
    assert decide(remote(), multi=False, current=current).action is Action.REPLACE


def test_the_report_sentence_names_only_what_happened():
    counts = {"imported": 12, "replaced": 2, "kept": 1, "awaiting": 1, "refused": 0,
              "skipped": 0}
    assert count_sentence(counts, "Attestation Légale") == (
        "12 documents importés, 2 remplacés par une version plus récente, 1 conservé (votre "
        "version est plus récente), 1 en attente de validation chez Attestation Légale")
    assert count_sentence(dict.fromkeys(counts, 0), "Actradis") == (
        "Aucun changement : le dossier est à jour avec Actradis.")


def test_every_outcome_is_worded_once_recorded_or_not():
    from hiveo.sync import wording
    from hiveo.sync.outcomes import Outcome

    zero = dict.fromkeys(["imported", "replaced", "kept", "awaiting", "refused", "skipped"], 0)
    for outcome in Outcome:
        if outcome.recorded:
            assert wording.outcome_label(outcome) in {"réussie", "échec", "annulée"}
        else:
            with pytest.raises(KeyError):
                wording.outcome_label(outcome)
        assert "Actradis" in wording.summary(outcome, "Actradis", zero, None)
    assert wording.outcome_label("cancelled") == "annulée"
    assert wording.cli_status("cancelled") == "annulé"
