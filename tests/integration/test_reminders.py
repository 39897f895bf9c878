"""The reminder run (`flask reminders send`): its schedule, grouping and idempotence.

"Today" is injected: each test runs the engine on the days it names and
reads what was recorded (Reminder rows) and what was written to the outbox.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from hiveo.demo.factories import make_company, make_document, make_relation, make_user
from hiveo.dossier.services import refuse_document
from hiveo.extensions import db
from hiveo.models import (
    Company,
    OutboxMessage,
    Relation,
    RelationEvent,
    Reminder,
    User,
)
from hiveo.relations import services as relations
from hiveo.relations.requirements import supplier_requirements, suppliers_requirements
from hiveo.reminders.engine import send_reminders
from tests.conftest import TODAY
from tests.helpers import count_queries, login, page_text, plain, post

LONG_AGO = date(2026, 9, 1)
FAR = date(2027, 12, 31)
INTERNAL = ("daily", "digest-run", "digest-nc")


@dataclass(frozen=True)
class World:
    acme_id: int
    initech_id: int
    relation_id: int


def _documents(company: Company, *, urssaf_end: date | None = FAR, kbis: bool = True) -> None:
    if kbis:
        make_document(company, "KBIS", issue_date=LONG_AGO, validity_end=FAR)
    make_document(company, "LNTE", issue_date=LONG_AGO, validity_end=FAR)
    if urssaf_end is not None:
        make_document(company, "URSSAF_VIGILANCE", issue_date=LONG_AGO,
                      validity_start=LONG_AGO, validity_end=urssaf_end)


def _world(app: Flask, cast, *, urssaf_end: date | None = FAR, kbis: bool = True,
           state: str = "active") -> World:
    """Initech (dan admin, erin member) follows Acme (alice admin, bob member)."""
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        assert acme is not None
        initech = make_company("Initech Services")
        make_user("dan@example.com", name="Dan Client", profile="fast",
                  memberships=((initech, "admin"),))
        make_user("erin@example.com", name="Erin Cliente", profile="fast",
                  memberships=((initech, "member"),))
        relation = make_relation(initech, acme, state=state)
        _documents(acme, urssaf_end=urssaf_end, kbis=kbis)
        db.session.commit()
        return World(acme.id, initech.id, relation.id)


def run(app: Flask, day: date, **options):
    with app.app_context():
        report = send_reminders(day, **options)
        db.session.remove()
        return report


def sent(app: Flask, recipient: str | None = None, *kinds: str) -> list[tuple[str, str, date]]:
    """(kind, step, day) of the reminders recorded, oldest first."""
    with app.app_context():
        query = select(Reminder.kind, Reminder.step, Reminder.sent_on).where(
            Reminder.kind.not_in(INTERNAL)).order_by(Reminder.id)
        if recipient:
            query = query.where(Reminder.recipient == recipient)
        if kinds:
            query = query.where(Reminder.kind.in_(kinds))
        return [tuple(row) for row in db.session.execute(query)]  # type: ignore[misc]


def mails(app: Flask, recipient: str) -> list[OutboxMessage]:
    with app.app_context():
        messages = list(db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == recipient,
                                        OutboxMessage.kind == "reminder")
            .order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return messages


def days(start: date, *offsets: int) -> list[date]:
    return [start + timedelta(days=offset) for offset in offsets]


# ---- Suppliers: the legal schedule ----


def test_a_required_document_is_reminded_30_and_7_days_before_on_its_expiry_day_then_weekly(
        app, cast):
    end = TODAY + timedelta(days=40)
    _world(app, cast, urssaf_end=end)
    for day in days(end, -31, -30, -29, -8, -7, -6, -1, 0, 1, 6, 7, 8, 13, 14, 20, 21):
        run(app, day)
    steps = [(step, day) for kind, step, day in sent(app, "alice@example.com")]
    assert steps == [("d-30", end - timedelta(days=30)), ("d-7", end - timedelta(days=7)),
                     ("d0", end), ("expired-w1", end + timedelta(days=7)),
                     ("expired-w2", end + timedelta(days=14)),
                     ("expired-w3", end + timedelta(days=21))]
    bodies = [plain(m.text_body) for m in mails(app, "alice@example.com")]
    assert len(bodies) == 6
    assert "Attestation de vigilance URSSAF expire le 08/01/2027, dans 30 jours" in bodies[0]
    assert "Exigé par Initech Services." in bodies[0]
    assert "expire aujourd'hui (08/01/2027)" in bodies[2]
    assert "a expiré le 08/01/2027" in bodies[3]
    # Members are not reminded: the company's admins are.
    assert mails(app, "bob@example.com") == []


def test_a_missing_required_document_is_reminded_every_week(app, cast):
    _world(app, cast, urssaf_end=None)
    for day in days(TODAY, 0, 1, 6, 7, 8, 13, 14):
        run(app, day)
    assert [(kind, day) for kind, _step, day in sent(app, "alice@example.com")] == [
        ("missing", TODAY), ("missing", TODAY + timedelta(days=7)),
        ("missing", TODAY + timedelta(days=14))]
    body = plain(mails(app, "alice@example.com")[0].text_body)
    assert "Attestation de vigilance URSSAF : aucun document en vigueur, à déposer." in body
    assert "Acme Nettoyage (SIREN 732 829 320)" in body
    assert "/organisations/732829320/documents" in body


def test_a_refusal_is_reminded_at_the_next_run_with_its_reason(app, cast):
    _world(app, cast, urssaf_end=None)
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        document = make_document(acme, "URSSAF_VIGILANCE", issue_date=TODAY,
                                 validity_start=TODAY, validated=False)
        db.session.commit()
        document_id = document.id
    run(app, TODAY)  # awaiting review: nothing to ask of the supplier
    assert sent(app, "alice@example.com") == []
    with app.app_context():
        olivia = db.session.scalar(select(User).where(User.email == cast.olivia))
        refuse_document(document_id, olivia, "Attestation illisible")
        db.session.commit()
    run(app, TODAY + timedelta(days=1))
    run(app, TODAY + timedelta(days=2))
    assert sorted(kind for kind, _s, _d in sent(app, "alice@example.com")) == [
        "missing", "refused"]
    messages = mails(app, "alice@example.com")
    assert len(messages) == 1
    body = plain(messages[0].text_body)
    assert "refusé le" in body and "Motif : Attestation illisible" in body
    # Said once: the refusal stands for "nothing in force" about the same slot.
    assert "aucun document en vigueur" not in body


def test_a_complementary_type_is_never_reminded(app, cast):
    _world(app, cast)
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        make_document(acme, "INSURANCE_RC_PRO", issue_date=LONG_AGO,
                      validity_end=TODAY + timedelta(days=7))
        make_document(acme, "FISCAL_REGULARITY", issue_date=LONG_AGO,
                      validity_end=TODAY - timedelta(days=10))
        db.session.commit()
    for day in days(TODAY, 0, 7, 14):
        run(app, day)
    assert sent(app, "alice@example.com") == []


@pytest.mark.parametrize("state", ["suspended", "closed"])
def test_a_supplier_whose_relation_is_suspended_or_closed_is_not_reminded(app, cast, state):
    _world(app, cast, urssaf_end=None, state=state)
    run(app, TODAY)
    assert sent(app) == []
    with app.app_context():
        # (The client's change itself was mailed to the supplier: no reminder was.)
        assert db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.kind == "reminder")) is None


def test_each_place_names_only_the_clients_that_require_it_there(app, cast):
    """Initech asks for the company's URSSAF attestation, Umbrella for one of the first
    establishment only: two lines in all (the company's and the first establishment's
    attestation, each naming its client; the two other establishments none)."""
    from hiveo.models import Establishment
    from hiveo.relations.requirements import Rule, set_requirements

    _world(app, cast, urssaf_end=None)
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        first, *_others = db.session.scalars(select(Establishment).where(
            Establishment.company_id == cast.acme_id).order_by(Establishment.siret))
        umbrella = make_company("Umbrella Logistique")
        set_requirements(umbrella, "", [Rule("URSSAF_VIGILANCE", "establishment")])
        relation = make_relation(umbrella, acme)
        relations.set_scope(relation, None, [first])
        db.session.commit()
        first_siret = first.siret
    run(app, TODAY)
    body = plain(mails(app, "alice@example.com")[0].text_body)
    lines = [line for line in body.splitlines() if "URSSAF" in line]
    assert len(lines) == 2, body
    company_line, establishment_line = sorted(lines, key=lambda line: "SIRET" in line)
    assert company_line.endswith("Exigé par Initech Services."), company_line
    assert first_siret[-5:] in establishment_line.replace(" ", "")
    assert establishment_line.endswith("Exigé par Umbrella Logistique."), establishment_line


def test_a_supplier_with_no_active_client_is_not_reminded(app, cast):
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        _documents(acme, urssaf_end=TODAY + timedelta(days=7))
        db.session.commit()
    run(app, TODAY)
    assert sent(app) == []


def test_a_suspended_account_is_not_reminded(app, cast):
    _world(app, cast, urssaf_end=None)
    with app.app_context():
        from hiveo.models import utcnow

        alice = db.session.scalar(select(User).where(User.email == cast.alice))
        alice.suspended_at = utcnow()
        db.session.commit()
    run(app, TODAY)
    assert sent(app, cast.alice) == []


# ---- Pending invitations ----


def _invite(app: Flask, cast, invited_at: datetime) -> int:
    with app.app_context():
        initech = make_company("Initech Services")
        make_user("dan@example.com", profile="fast", memberships=((initech, "admin"),))
        make_user("erin@example.com", profile="fast", memberships=((initech, "member"),))
        newcomer = make_company("Nouveau Fournisseur")
        relation = make_relation(initech, newcomer, state="invited",
                                 contact_email="Contact@Fournisseur.example")
        relation.invited_at = invited_at
        db.session.commit()
        return relation.id


def test_a_pending_invitation_is_reminded_after_3_and_7_days_then_weekly_then_the_client(
        app, cast):
    start = TODAY
    _invite(app, cast, datetime(2026, 11, 29, 9, 0, tzinfo=UTC))
    for day in days(start, 1, 2, 3, 4, 6, 7, 8, 13, 14, 20, 21, 27, 28, 34, 35, 41, 42, 43, 49,
                    56):
        run(app, day)
    contact = [(step, (day - start).days) for _k, step, day in
               sent(app, "contact@fournisseur.example")]
    assert contact == [("d3", 3), ("d7", 7), ("w2", 14), ("w3", 21), ("w4", 28), ("w5", 35)]
    assert [(kind, (day - start).days) for kind, _s, day in sent(app, "dan@example.com")] == [
        ("unanswered", 42)]
    assert sent(app, "erin@example.com") == []
    body = plain(mails(app, "contact@fournisseur.example")[0].text_body)
    assert "Initech Services vous a invité le 29/11/2026" in body
    assert "acceptez ou déclinez l'invitation" in body
    told = plain(mails(app, "dan@example.com")[0].text_body)
    assert "Nouveau Fournisseur" in told
    assert "n'a pas répondu à votre invitation du 29/11/2026" in told


def test_an_accepted_invitation_is_no_longer_reminded(app, cast):
    relation_id = _invite(app, cast, datetime(2026, 11, 29, 9, 0, tzinfo=UTC))
    run(app, TODAY + timedelta(days=3))
    with app.app_context():
        relations.accept(db.session.get(Relation, relation_id), None)
        db.session.commit()
    run(app, TODAY + timedelta(days=7))
    assert [step for _k, step, _d in sent(app, "contact@fournisseur.example")] == ["d3"]


# ---- Clients: the weekly digest ----


def test_the_weekly_digest_lists_suppliers_that_became_non_compliant_once(app, cast):
    # Sunday 29/11 (week 48); Globex's URSSAF ends on Wednesday 02/12, Acme's on 10/12.
    world = _world(app, cast, urssaf_end=date(2026, 12, 10))
    with app.app_context():
        initech = db.session.get(Company, world.initech_id)
        globex = db.session.get(Company, cast.globex_id)
        make_relation(initech, globex)
        _documents(globex, urssaf_end=date(2026, 12, 2))
        db.session.commit()
    for day in (TODAY, date(2026, 11, 30), date(2026, 12, 3)):
        run(app, day)
    assert sent(app, "dan@example.com") == []  # Globex was compliant when week 49 began
    run(app, date(2026, 12, 7))  # Monday, week 50
    run(app, date(2026, 12, 8))
    assert sent(app, "dan@example.com") == [("digest", "week-2026-50", date(2026, 12, 7))]
    first = plain(mails(app, "dan@example.com")[0].text_body)
    assert "Globex Bâtiment" in first and "non conforme" in first
    assert "Acme Nettoyage" not in first
    assert "ouvrez votre compte" in first
    run(app, date(2026, 12, 14))  # week 51: Acme became non-compliant, Globex still is
    digests = mails(app, "dan@example.com")
    assert len(digests) == 2
    second = plain(digests[1].text_body)
    assert "Acme Nettoyage" in second and "Globex Bâtiment" not in second
    # The client's members receive it too.
    assert [kind for kind, _s, _d in sent(app, "erin@example.com")] == ["digest", "digest"]


def test_a_user_who_opted_out_receives_no_digest_but_still_the_legal_reminders(
        app, cast, client):
    world = _world(app, cast, urssaf_end=TODAY - timedelta(days=1))
    with app.app_context():
        # Alice is an admin of the supplier and a member of the client.
        initech = db.session.get(Company, world.initech_id)
        alice = db.session.scalar(select(User).where(User.email == cast.alice))
        from hiveo.organisations.services import add_member

        add_member(alice, initech, "member")
        db.session.commit()
    login(client, "erin@example.com")
    page = client.get("/compte")
    assert "Récapitulatif des fournisseurs" in page_text(page)
    response = post(client, "/compte/recapitulatif", {}, page="/compte")
    assert response.status_code == 303
    assert "Vous ne recevrez plus" in page_text(client.get("/compte"))
    login(client, cast.alice)
    post(client, "/compte/recapitulatif", {}, page="/compte")
    run(app, TODAY)
    assert [kind for kind, _s, _d in sent(app, "dan@example.com")] == ["digest"]
    assert sent(app, "erin@example.com") == []
    assert [kind for kind, _s, _d in sent(app, cast.alice)] == ["expired"]
    # Turned on again.
    login(client, "erin@example.com")
    post(client, "/compte/recapitulatif", {"receive": "y"}, page="/compte")
    with app.app_context():
        assert db.session.scalar(
            select(User.digest_opt_out).where(User.email == "erin@example.com")) is False


def test_a_supplier_only_user_sees_no_digest_setting(app, cast, client):
    login(client, cast.charlie)
    assert "Récapitulatif des fournisseurs" not in page_text(client.get("/compte"))


# ---- Grouping, idempotence, races ----


def test_one_message_per_person_per_day_lists_every_company_and_client(app, cast):
    world = _world(app, cast, urssaf_end=None)
    with app.app_context():
        # Alice is also an admin of Globex, which Initech and Hooli follow.
        alice = db.session.scalar(select(User).where(User.email == cast.alice))
        globex = db.session.get(Company, cast.globex_id)
        initech = db.session.get(Company, world.initech_id)
        from hiveo.organisations.services import add_member

        add_member(alice, globex, "admin")
        hooli = make_company("Hooli Achats")
        make_relation(initech, globex)
        make_relation(hooli, globex)
        _documents(globex, urssaf_end=TODAY + timedelta(days=7), kbis=False)
        db.session.commit()
    report = run(app, TODAY, batch_size=1)  # the two suppliers in different batches
    messages = mails(app, cast.alice)
    assert len(messages) == 1
    body = plain(messages[0].text_body)
    assert "Acme Nettoyage (SIREN 732 829 320)" in body and "Globex Bâtiment (SIREN" in body
    assert "Exigé par Hooli Achats, Initech Services." in body
    assert "points demandent votre attention" in plain(messages[0].subject)
    kinds = sorted(kind for kind, _s, _d in sent(app, cast.alice))
    assert kinds == ["expiring", "missing", "missing"]
    # Alice; charlie (Globex's other admin); dan and erin, Initech's digest.
    assert report.messages == 4


def test_running_twice_the_same_day_sends_nothing_new(app, cast):
    _world(app, cast, urssaf_end=TODAY + timedelta(days=7))
    first = run(app, TODAY)
    second = run(app, TODAY)
    assert first.messages == 1 and first.reminders == 1
    assert (second.messages, second.reminders) == (0, 0)
    assert len(mails(app, cast.alice)) == 1


def test_a_second_run_the_same_day_keeps_new_reminders_for_the_next_day(app, cast):
    _world(app, cast, urssaf_end=TODAY + timedelta(days=7), kbis=False)
    with app.app_context():
        db.session.execute(Reminder.__table__.delete())
        db.session.commit()
    # First run: only the expiring URSSAF is due (the Kbis reminder was marked sent).
    with app.app_context():
        db.session.add(Reminder(recipient=cast.alice, kind="missing",
                                subject=f"slot:{cast.acme_id}:KBIS:-", step="x",
                                sent_on=TODAY))
        db.session.commit()
    run(app, TODAY)
    with app.app_context():
        db.session.execute(Reminder.__table__.delete().where(Reminder.step == "x"))
        db.session.commit()
    later = run(app, TODAY)  # the Kbis is now due, but alice had her message today
    assert len(mails(app, cast.alice)) == 1
    assert later.summary().endswith("1 destinataire déjà relancé aujourd'hui, la suite demain")
    run(app, TODAY + timedelta(days=1))
    assert len(mails(app, cast.alice)) == 2
    assert "Extrait Kbis" in plain(mails(app, cast.alice)[1].text_body)


def test_concurrent_runs_send_each_reminder_once(app, cast):
    _world(app, cast, urssaf_end=None)
    with app.app_context():
        for number in range(6):
            supplier = make_company(f"Fournisseur {number}")
            make_user(f"admin{number}@example.com", profile="fast",
                      memberships=((supplier, "admin"),))
            make_relation(db.session.get(Company, cast.globex_id), supplier)
        db.session.commit()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                send_reminders(TODAY, batch_size=2)
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with app.app_context():
        recipients = list(db.session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.kind == "reminder")))
        keys = db.session.execute(select(Reminder.recipient, Reminder.kind, Reminder.subject,
                                         Reminder.step)).all()
    # Each supplier's admin, and the digest of both clients' users (Globex follows the six).
    assert sorted(recipients) == sorted(
        [cast.alice, cast.charlie, "dan@example.com", "erin@example.com"]
        + [f"admin{number}@example.com" for number in range(6)])
    assert len(keys) == len(set(keys))


# ---- History, statements, the real send, the command ----


def test_each_reminder_is_a_line_in_the_relation_history(app, cast):
    world = _world(app, cast, urssaf_end=None)
    with app.app_context():
        changed = db.session.get(Relation, world.relation_id).changed_at
    run(app, TODAY)
    with app.app_context():
        events = list(db.session.scalars(select(RelationEvent).where(
            RelationEvent.relation_id == world.relation_id, RelationEvent.action == "reminder")))
        assert len(events) == 1
        assert events[0].details["kinds"] == ["missing"]
        assert relations.EVENT_LABELS[events[0].action] == "Relance envoyée"
        # A reminder is not a change either side made.
        assert db.session.get(Relation, world.relation_id).changed_at == changed


def _suppliers(app: Flask, client_id: int, start: int, count: int) -> None:
    with app.app_context():
        client = db.session.get(Company, client_id)
        for number in range(start, start + count):
            supplier = make_company(f"Fournisseur {number}", establishments=2)
            make_user(f"admin{number}@example.com", profile="fast",
                      memberships=((supplier, "admin"),))
            make_relation(client, supplier)
            make_document(supplier, "KBIS", issue_date=LONG_AGO,
                          validity_end=TODAY + timedelta(days=7))
        db.session.commit()


def test_the_statements_per_batch_do_not_grow_with_the_suppliers(app, cast):
    with app.app_context():
        client = make_company("Grand Donneur")
        make_user("achats@example.com", profile="fast", memberships=((client, "admin"),))
        db.session.commit()
        client_id = client.id
    counts = []
    for start, added in ((0, 5), (5, 5), (10, 10)):  # 5, 10 and 20 suppliers
        _suppliers(app, client_id, start, added)
        with app.app_context():
            for table in (Reminder, RelationEvent, OutboxMessage):
                db.session.execute(table.__table__.delete())
            db.session.commit()
        with count_queries(app) as statements:
            report = run(app, TODAY, batch_size=5)
        assert report.messages == start + added + 1  # each admin, and the client's digest
        counts.append(len(statements))
    # One batch of suppliers (and one of recipients) more: always the same statements.
    per_batch = counts[1] - counts[0]
    assert counts[2] - counts[1] == 2 * per_batch, counts
    assert per_batch <= 16, counts


def test_a_reminder_is_sent_by_smtp_with_the_outbox(app, cast, mail_server):
    _world(app, cast, urssaf_end=TODAY + timedelta(days=30))
    run(app, TODAY)
    from hiveo.mail.outbox import send_pending

    app.config["SMTP_URL"] = mail_server.url
    with app.app_context():
        report = send_pending()
    assert len(report.sent) == 1
    [received] = mail_server.to(cast.alice)
    assert "point demande votre attention" in plain(received.subject)
    assert "Attestation de vigilance URSSAF" in plain(received.text)
    assert "Attestation de vigilance URSSAF" in plain(received.html)


def test_the_command_takes_the_day_and_prints_a_summary(app, cast):
    _world(app, cast, urssaf_end=None)
    result = app.test_cli_runner().invoke(args=["reminders", "send", "--today", "2026-12-01",
                                                "--batch-size", "10"])
    assert result.exit_code == 0, result.output
    assert plain(result.output).strip().endswith("3 courriels, 3 relances, 1 fournisseur.")
    assert "lot 1" in plain(result.output)
    assert sent(app, cast.alice) == [("missing", "2026-12-01", date(2026, 12, 1))]
    bad = app.test_cli_runner().invoke(args=["reminders", "send", "--today", "demain"])
    assert bad.exit_code != 0 and "Date invalide" in plain(bad.output)


def test_the_requirements_of_many_suppliers_match_one_by_one(app, cast):
    world = _world(app, cast)
    with app.app_context():
        hooli = make_company("Hooli Achats")
        make_relation(hooli, db.session.get(Company, cast.acme_id))
        make_relation(hooli, db.session.get(Company, cast.globex_id), category="BTP")
        db.session.commit()
        ids = [world.acme_id, cast.globex_id, world.initech_id]
        many = suppliers_requirements(ids)
        for supplier_id in ids:
            one = supplier_requirements(supplier_id)
            assert many[supplier_id] == one
