"""The outbox against a real SMTP server: written with the change, sent once, never lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hiveo.extensions import db
from hiveo.mail.outbox import enqueue, send_pending
from hiveo.models import OutboxMessage, utcnow
from tests.conftest import running_app
from tests.mailserver import SilentServer


def _write(count: int = 1, *, to: str = "dest@example.com") -> list[int]:
    ids = []
    for number in range(count):
        message = enqueue("test", to, f"Essai {number}", "password_reset",
                          email=to, link=f"http://127.0.0.1:5000/essai/{number}")
        db.session.flush()
        ids.append(message.id)
    db.session.commit()
    return ids


def _statuses() -> dict[int, str]:
    return dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())


def test_a_message_is_sent_with_both_parts_and_the_headers_a_client_expects(
        app, mail_server):
    app.config["SMTP_URL"] = mail_server.url
    with app.app_context():
        _write()
        report = send_pending()
        assert len(report.sent) == 1
        row = db.session.scalar(select(OutboxMessage))
        assert row.status == "sent" and row.sent_at is not None and row.attempts == 1
    [received] = mail_server.received
    assert received.recipients == ["dest@example.com"]
    assert received.subject == "Essai 0"
    assert "http://127.0.0.1:5000/essai/0" in received.text
    assert 'href="http://127.0.0.1:5000/essai/0"' in received.html
    assert received.message["Date"] and received.message["Message-ID"] == row.message_id
    assert received.message["From"] == "hiveo <no-reply@hiveo.invalid>"


def test_a_rolled_back_change_leaves_no_message_and_sends_nothing(app, mail_server):
    app.config["SMTP_URL"] = mail_server.url
    with app.app_context():
        enqueue("test", "dest@example.com", "Annulé", "password_reset",
                email="dest@example.com", link="http://x/")
        db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
        assert send_pending().sent == []
    assert mail_server.received == []


def test_without_smtp_messages_stay_in_the_outbox(app):
    with app.app_context():
        _write(2)
        assert send_pending().sent == []
        assert set(_statuses().values()) == {"pending"}


def test_two_senders_at_once_send_each_message_exactly_once(app, mail_server):
    app.config["SMTP_URL"] = mail_server.url
    with app.app_context():
        ids = _write(12)
    reports = []

    def sender():
        with app.app_context():
            reports.append(send_pending())
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sent = sorted(i for report in reports for i in report.sent)
    assert sent == ids
    subjects = sorted(item.subject for item in mail_server.received)
    assert subjects == sorted(f"Essai {n}" for n in range(12))


def test_a_refusing_server_loses_nothing_and_nothing_is_sent_twice_after_it_recovers(
        app, mail_server):
    app.config["SMTP_URL"] = mail_server.url
    mail_server.refuse("554 5.7.1 Relais refusé")
    with app.app_context():
        ids = _write(3)
        report = send_pending()
        assert report.sent == [] and sorted(report.retried) == ids
        rows = list(db.session.scalars(select(OutboxMessage)))
        assert {row.status for row in rows} == {"pending"}
        assert all("554" in row.last_error and "Relais refusé" in row.last_error for row in rows)
        assert all(row.next_attempt_at > utcnow() for row in rows)
        # Not due yet: a second run right away sends nothing, even once the server accepts.
        mail_server.refuse(None)
        assert send_pending().sent == []
        later = utcnow() + timedelta(minutes=5)
        assert sorted(send_pending(now=later).sent) == ids
        assert send_pending(now=later + timedelta(hours=1)).sent == []
    assert sorted(item.subject for item in mail_server.received) == [
        "Essai 0", "Essai 1", "Essai 2"]


def test_a_server_that_times_out_loses_nothing_and_the_retry_sends_once(app, mail_server):
    silent = SilentServer()
    app.config.update(SMTP_URL=silent.url, SMTP_TIMEOUT=0.5)
    try:
        with app.app_context():
            ids = _write(2)
            report = send_pending()
            # The connection is gone: the batch stops after the first message.
            assert report.sent == [] and report.retried == ids[:1]
            row = db.session.get(OutboxMessage, ids[0])
            assert row.status == "pending" and "ne répond pas" in row.last_error
            assert db.session.get(OutboxMessage, ids[1]).attempts == 0
    finally:
        silent.stop()
    app.config["SMTP_URL"] = mail_server.url
    with app.app_context():
        later = utcnow() + timedelta(hours=1)
        assert sorted(send_pending(now=later).sent) == ids
        assert send_pending(now=later + timedelta(hours=7)).sent == []
    assert len(mail_server.received) == 2


def test_after_the_last_attempt_a_message_is_marked_failed_with_its_reason(app, mail_server):
    app.config.update(SMTP_URL=mail_server.url, MAIL_MAX_ATTEMPTS=2)
    mail_server.refuse("550 5.1.1 Boîte inconnue")
    with app.app_context():
        [message_id] = _write()
        assert send_pending().retried == [message_id]
        assert send_pending(now=utcnow() + timedelta(hours=1)).failed == [message_id]
        row = db.session.get(OutboxMessage, message_id)
        assert row.status == "failed" and row.attempts == 2 and "550" in row.last_error
        mail_server.refuse(None)
        assert send_pending(now=utcnow() + timedelta(days=1)).sent == []
    assert mail_server.received == []


def test_a_message_whose_sender_died_mid_send_is_never_sent_again(app, mail_server):
    app.config["SMTP_URL"] = mail_server.url
    with app.app_context():
        [message_id] = _write()
        row = db.session.get(OutboxMessage, message_id)
        row.claimed_by, row.claimed_at, row.attempts = "dead:1:x", utcnow(), 1
        db.session.commit()
        assert send_pending().sent == []  # still claimed by a sender that may be alive
        report = send_pending(now=utcnow() + timedelta(minutes=20))
        assert report.sent == [] and report.interrupted == 1
        row = db.session.get(OutboxMessage, message_id, populate_existing=True)
        assert row.status == "failed" and "interrompu" in row.last_error
    assert mail_server.received == []


def test_smtp_without_starttls_on_offer_sends_nothing_in_clear(app, mail_server):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{mail_server.port}"
    with app.app_context():
        [message_id] = _write()
        assert send_pending().retried == [message_id]
        assert "STARTTLS" in db.session.get(OutboxMessage, message_id).last_error
    assert mail_server.received == []


@pytest.mark.parametrize("configured", [True, False])
def test_mail_send_on_the_command_line(app, mail_server, configured):
    if configured:
        app.config["SMTP_URL"] = mail_server.url
    with app.app_context():
        _write(2)
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    if configured:
        assert "2 courriels envoyés" in result.output
        assert len(mail_server.received) == 2
    else:
        assert "restent dans la boîte d'envoi" in result.output
    mail_server.refuse("451 4.3.0 Réessayez")
    with app.app_context():
        _write(1)
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == (1 if configured else 0)


def test_the_operator_outbox_shows_failures_and_the_demo_mailbox_is_off_by_default(
        app, cast):
    from tests.helpers import login, page_text

    with app.app_context():
        _write()
        row = db.session.scalar(select(OutboxMessage))
        row.status, row.last_error, row.attempts = "failed", "Le serveur SMTP a refusé", 5
        db.session.commit()
    client = app.test_client()
    assert client.get("/demo/courriels").status_code == 404
    login(client, cast.olivia)
    text = page_text(client.get("/operateur/courriels"))
    assert "dest@example.com" in text and "échec" in text and "Le serveur SMTP a refusé" in text
    login(client, cast.alice)
    assert client.get("/operateur/courriels").status_code == 403


def test_the_demo_mailbox_shows_the_links_when_the_demo_turns_it_on(backend, tmp_path):
    from tests.helpers import page_text

    with running_app(backend, tmp_path, DEMO_MAILBOX=True) as app:
        with app.app_context():
            _write()
        client = app.test_client()
        text = page_text(client.get("/demo/courriels"))
        assert '<a href="http://127.0.0.1:5000/essai/0">' in text
        assert "Courriels envoyés" in page_text(client.get("/login"))
