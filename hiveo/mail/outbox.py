"""The outbox: messages written with the change that causes them, sent at most once.

Claiming a message is one atomic UPDATE (FOR UPDATE SKIP LOCKED on
PostgreSQL; on SQLite the writer holds the database lock from BEGIN
IMMEDIATE), committed before the SMTP server is contacted: two senders never
hold one message. A message whose sender died between the claim and the
result may or may not have left; it is marked failed for an operator to look
at rather than sent a second time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from flask import Flask, current_app, g, has_request_context, render_template
from sqlalchemy import Table, bindparam, event, insert, text
from sqlalchemy.orm import Session

from ..extensions import begin_write, db
from ..models import OutboxMessage, OutboxStatus, UTCDateTime, utcnow
from .smtp import SmtpConnection, SmtpSettings, describe_error, is_connection_error

log = logging.getLogger("hiveo.mail")

_WRITTEN = "hiveo_outbox_written"
_COMMITTED = "hiveo_outbox_committed"
# A claim older than this belongs to a sender that died mid-send.
STALE_CLAIM = timedelta(minutes=15)
LONGEST_BACKOFF = timedelta(hours=6)


def sender_address() -> str:
    return parseaddr(current_app.config["MAIL_FROM"])[1]


def render_message(kind: str, recipient: str, subject: str, template: str, *,
                   reply_to: str | None = None, **context) -> dict[str, Any]:
    """The outbox row of one message, rendered, not yet added (see enqueue, enqueue_many).

    `template` names `templates/mail/<template>.txt` and `.html`, both
    rendered with `context` and `base_url`.
    """
    context = {"base_url": current_app.config["BASE_URL"], "subject": subject, **context}
    domain = sender_address().rpartition("@")[2] or "hiveo.invalid"
    now = utcnow()
    return {
        "kind": kind,
        "recipient": recipient,
        "subject": subject[:200],
        "text_body": render_template(f"mail/{template}.txt", **context),
        "html_body": render_template(f"mail/{template}.html", **context),
        "reply_to": reply_to,
        "message_id": make_msgid(domain=domain),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def enqueue(kind: str, recipient: str, subject: str, template: str, *,
            reply_to: str | None = None, **context) -> OutboxMessage:
    """Add a message to the current transaction; it leaves only if that commits.

    `template` names `templates/mail/<template>.txt` and `.html`, both
    rendered with `context` and `base_url`.
    """
    message = OutboxMessage(**render_message(kind, recipient, subject, template,
                                             reply_to=reply_to, **context))
    db.session.add(message)
    db.session.info[_WRITTEN] = True
    return message


def enqueue_many(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Add many rendered messages (render_message) in one statement per thousand.

    For batch jobs (the reminder run): the ORM would insert them one by one on
    SQLite. Returns each message's id by its Message-ID.
    """
    ids: dict[str, int] = {}
    table = OutboxMessage.__table__
    assert isinstance(table, Table)
    for start in range(0, len(rows), 1000):
        statement = insert(table).returning(table.c.message_id, table.c.id)
        for row in db.session.execute(statement, rows[start:start + 1000]):
            ids[str(row.message_id)] = int(row.id)
    if rows:
        db.session.info[_WRITTEN] = True
    return ids


def build_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = Address(addr_spec=message.recipient)
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message.message_id
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    interrupted: int = 0


_CLAIM_SQL = (
    "UPDATE outbox_messages SET claimed_by = :me, claimed_at = :now, attempts = attempts + 1 "
    "WHERE id = (SELECT id FROM outbox_messages WHERE status = 'pending' "
    "AND claimed_by IS NULL AND next_attempt_at <= :now "
    "ORDER BY next_attempt_at, id LIMIT 1{lock}) AND claimed_by IS NULL RETURNING id"
)
_DONE_SQL = (
    "UPDATE outbox_messages SET status = 'sent', sent_at = :now, claimed_by = NULL, "
    "claimed_at = NULL, last_error = NULL WHERE id = :id AND claimed_by = :me"
)
_RETRY_SQL = (
    "UPDATE outbox_messages SET claimed_by = NULL, claimed_at = NULL, last_error = :error, "
    "next_attempt_at = :next, "
    "status = CASE WHEN attempts >= :max THEN 'failed' ELSE 'pending' END "
    "WHERE id = :id AND claimed_by = :me RETURNING status"
)
_STALE_SQL = (
    "UPDATE outbox_messages SET status = 'failed', claimed_by = NULL, claimed_at = NULL, "
    "last_error = :error WHERE status = 'pending' AND claimed_by IS NOT NULL "
    "AND claimed_at < :cutoff"
)
_TIMES = {name: bindparam(name, type_=UTCDateTime) for name in ("now", "next", "cutoff")}


def _statement(sql: str):
    names = [name for name in _TIMES if f":{name}" in sql]
    return text(sql).bindparams(*(_TIMES[name] for name in names))


def _backoff(attempts: int) -> timedelta:
    base = timedelta(seconds=current_app.config["MAIL_RETRY_SECONDS"])
    return min(base * (2 ** max(0, attempts - 1)), LONGEST_BACKOFF)


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: str
    attempts: int
    email: EmailMessage


def _claim(me: str, now: datetime) -> _Claimed | None:
    """Claim the next due message and read it, in one short write transaction.

    (Reading it in a later transaction would leave SQLite a reader that must
    become a writer to record the result: that fails at once under contention.)
    """
    begin_write()
    lock = " FOR UPDATE SKIP LOCKED" if db.engine.dialect.name == "postgresql" else ""
    claimed_id = db.session.execute(_statement(_CLAIM_SQL.format(lock=lock)),
                                    {"me": me, "now": now}).scalar()
    claimed = None
    if claimed_id is not None:
        message = db.session.get(OutboxMessage, claimed_id, populate_existing=True)
        assert message is not None  # claimed by this very transaction
        claimed = _Claimed(message.id, message.recipient, message.attempts,
                           build_email(message))
    db.session.commit()
    return claimed


def _release_stale(now: datetime) -> int:
    begin_write()
    result = db.session.execute(_statement(_STALE_SQL), {
        "cutoff": now - STALE_CLAIM,
        "error": "Envoi interrompu (le processus d'envoi s'est arrêté) : le message est "
                 "peut-être parti. Vérifiez auprès du destinataire avant de le renvoyer.",
    })
    db.session.commit()
    return getattr(result, "rowcount", 0) or 0


def send_pending(*, now: datetime | None = None, limit: int = 100) -> SendReport:
    """Send what is due, oldest first; each message is claimed before it is sent."""
    report = SendReport()
    url = current_app.config["SMTP_URL"]
    if not url:
        return report
    now = now or utcnow()
    me = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    report.interrupted = _release_stale(now)
    connection = SmtpConnection(SmtpSettings.from_url(url), current_app.config["SMTP_TIMEOUT"])
    try:
        for _ in range(limit):
            message = _claim(me, now)
            if message is None:
                break
            message_id = message.id
            try:
                connection.send(message.email, sender_address(), message.recipient)
            except Exception as error:  # every failure is recorded; nothing is lost
                status = _record_failure(message, me, now, describe_error(error))
                (report.failed if status == OutboxStatus.FAILED else report.retried).append(
                    message_id)
                log.warning("mail %s to %s not sent: %s", message_id, message.recipient, error)
                if is_connection_error(error):
                    connection.close()
                    break
                continue
            begin_write()
            db.session.execute(_statement(_DONE_SQL), {"id": message_id, "me": me, "now": now})
            db.session.commit()
            report.sent.append(message_id)
    finally:
        connection.close()
    return report


def _record_failure(message: _Claimed, me: str, now: datetime, reason: str) -> str:
    attempts = message.attempts
    begin_write()
    status = db.session.execute(_statement(_RETRY_SQL), {
        "id": message.id, "me": me, "error": reason[:2000],
        "next": now + _backoff(attempts), "max": current_app.config["MAIL_MAX_ATTEMPTS"],
    }).scalar()
    db.session.commit()
    return str(status)


def _after_commit(session: Session) -> None:
    if session.info.pop(_WRITTEN, False) and has_request_context():
        setattr(g, _COMMITTED, True)


def _after_rollback(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


_THREADS = "hiveo_mail_threads"


def _send_after_request(response):
    """The request committed new messages: send them now, beside the response.

    In a thread, so that the answer does not wait for the SMTP server and
    takes as long whether or not a message was written (the password reset
    page must not tell which addresses have an account). The cron sends what
    a process stopped before sending.
    """
    if g.pop(_COMMITTED, False) and current_app.config["SMTP_URL"]:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        thread = threading.Thread(target=_send_in_background, args=(app,), daemon=True,
                                  name="hiveo-mail")
        app.extensions[_THREADS].add(thread)
        thread.start()
    return response


def _send_in_background(app: Flask) -> None:
    try:
        with app.app_context():
            try:
                send_pending(limit=20)
            except Exception:
                log.exception("sending after commit failed; `flask mail send` will retry")
            finally:
                db.session.remove()
    finally:
        app.extensions[_THREADS].discard(threading.current_thread())


def wait_for_sends(app: Flask, timeout: float = 30.0) -> None:
    """Wait for the sends started after commit (tests, and before a process exits)."""
    for thread in list(app.extensions.get(_THREADS, ())):
        thread.join(timeout)


def portal_links(body: str) -> list[str]:
    """The portal's own links in a message body (the demo mailbox makes them clickable)."""
    base = current_app.config["BASE_URL"]
    return [word for word in body.split() if word.startswith(base + "/")]


def init_mail(app: Flask) -> None:
    app.jinja_env.filters["portal_links"] = portal_links
    app.extensions[_THREADS] = set()
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
    app.after_request(_send_after_request)
