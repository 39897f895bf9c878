"""Talking to the SMTP server named by HIVEO_SMTP_URL, with the standard library."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """smtp://user:pass@host:587 (STARTTLS), smtps://host:465, smtp://host:25?starttls=no."""
        parts = urlsplit(url)
        implicit = parts.scheme == "smtps"
        starttls = not implicit and parse_qs(parts.query).get("starttls", ["yes"])[0] == "yes"
        return cls(
            host=parts.hostname or "",
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            starttls=starttls,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )


class SmtpConnection:
    """One session with the server, opened lazily, reused for a batch of messages."""

    def __init__(self, settings: SmtpSettings, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if s.starttls:
                # Raises SMTPNotSupportedError when the server offers no STARTTLS:
                # a message is never sent in clear by accident.
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        if self._smtp is None:
            self._smtp = self._open()
        self._smtp.send_message(message, from_addr=sender, to_addrs=[recipient])

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def describe_error(error: BaseException) -> str:
    """Why a message did not leave, in French, for the operators' outbox page."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = "; ".join(f"{code} {_text(text)}" for code, text in error.recipients.values())
        return f"Le serveur SMTP a refusé le destinataire : {codes}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"Le serveur SMTP a refusé le message : {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "Le serveur SMTP ne propose pas STARTTLS : rien n'est envoyé en clair."
    # smtplib turns a read timeout into "disconnected"; the timeout is its context.
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return "Le serveur SMTP ne répond pas (délai dépassé)."
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "Le serveur SMTP a fermé la connexion."
    if isinstance(error, ssl.SSLError):
        return f"Échec de la négociation TLS avec le serveur SMTP : {error.reason}"
    if isinstance(error, OSError):
        return f"Connexion au serveur SMTP impossible : {error.strerror or error}"
    return f"Échec de l'envoi : {error.__class__.__name__}"


def is_connection_error(error: BaseException) -> bool:
    """After these the session is unusable: the batch stops, the next run retries.

    (smtplib's exceptions are OSErrors too: a refused recipient or message is
    not a broken connection, unless the server said 421, "closing".)
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(error, (smtplib.SMTPAuthenticationError, smtplib.SMTPHeloError,
                          smtplib.SMTPConnectError)):
        return True
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    return isinstance(error, OSError)
