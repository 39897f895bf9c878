"""A real SMTP server in the test process (aiosmtpd), and what it received.

`MailServer.refuse` makes it answer DATA with a 5xx; `SilentServer` accepts
connections and never speaks, as a server that hangs does.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()

    def links(self) -> list[str]:
        return re.findall(r"https?://\S+", self.text)


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refuse: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    # aiosmtpd's controller connects to its own port to check that it started: it needs a number.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    def __init__(self) -> None:
        self.handler = _Handler()
        self.port = _free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=no"

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def refuse(self, reply: str | None) -> None:
        """Answer DATA with `reply` (e.g. "554 5.7.1 Refusé"), or accept again with None."""
        self.handler.refuse = reply

    def to(self, address: str) -> list[Received]:
        return [item for item in self.received if address in item.recipients]


class SilentServer:
    """Accepts TCP connections and never answers: the client's timeout must fire."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port = self._socket.getsockname()[1]
        self.url = f"smtp://127.0.0.1:{self.port}?starttls=no"
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._held.append(connection)

    def stop(self) -> None:
        self._socket.close()
        for connection in self._held:
            connection.close()
