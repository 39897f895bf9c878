"""The live server the browser tests use closes every response, even when the
browser resets the connection (the CI failure of stop 19: a static file left
open by werkzeug's development server failed an unrelated test)."""

from __future__ import annotations

import socket
import struct
import threading

from tests.e2e.conftest import LiveServer


class _Body:
    """A response body that records whether the server closed it."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def __iter__(self):
        yield b"bonjour"

    def close(self) -> None:
        self.closed.set()


def test_a_reset_connection_still_closes_the_response():
    body = _Body()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "7")])
        return body

    server = LiveServer(app).start()
    try:
        with socket.create_connection(("127.0.0.1", server._server.server_port)) as conn:
            # Bytes after the request keep the server reading the socket once the
            # response is written, as a browser's cancelled upload does.
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nextra")
            received = b""
            while not received.endswith(b"bonjour"):
                chunk = conn.recv(4096)
                assert chunk, received
                received += chunk
            # Close with a reset (linger 0), as Chromium does with unread data.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert body.closed.wait(5), "the response body was never closed"
    finally:
        server.stop()
