"""Helpers for tests: CSRF tokens, signing in, posting forms, counting queries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from hiveo.extensions import db

PASSWORD = "correct horse battery"

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_META.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def fetch_csrf(client: FlaskClient, path: str = "/login") -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


def login(client: FlaskClient, email: str, password: str = PASSWORD):
    """Sign in from a fresh session (whoever was signed in on this client before)."""
    client.delete_cookie("hiveo_session")
    token = fetch_csrf(client)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )


def post(client: FlaskClient, path: str, data: dict | None = None, *, htmx: bool = False,
         page: str = "/organisations", **kwargs):
    """POST with the CSRF token of the signed-in session, as a form would."""
    token = fetch_csrf(client, page)
    headers = kwargs.pop("headers", {})
    if htmx:
        headers = {"HX-Request": "true", **headers}
    return client.post(path, data={"csrf_token": token, **(data or {})}, headers=headers,
                       **kwargs)


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    """Collect the SQL statements the app runs inside the block."""
    statements: list[str] = []

    def _record(_conn, _cursor, statement, _parameters, _context, _executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT",
                                                        "RELEASE")):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", _record)


def page_text(response) -> str:
    """The response body with HTML entities decoded (apostrophes are escaped in pages).

    French typography (typo_fr: no-break spaces, curly apostrophes) is folded back to
    plain spaces and straight apostrophes, so that assertions read as people type;
    tests/unit/test_typography.py and `raw_text` check the typography itself.
    """
    return plain(raw_text(response))


_PLAIN = str.maketrans({"\u2019": "'", "\u00a0": " ", "\u202f": " "})


def plain(text: str) -> str:
    """Text with French typography folded back: straight apostrophes, plain spaces."""
    return text.translate(_PLAIN)


def raw_text(response) -> str:
    """The response body with HTML entities decoded, typography untouched."""
    import html

    return html.unescape(response.get_data(as_text=True))


def upload(client: FlaskClient, siren: str, content: bytes | None, *,
           filename: str = "attestation.pdf", htmx: bool = False, **fields):
    """POST the upload form as a browser would, the multipart body built in memory.

    (Flask's test client would spool a large body to a temporary file it never closes.)
    `content=None` sends no file, as a browser does when none is chosen.
    """
    import io

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    token = fetch_csrf(client, f"/organisations/{siren}/documents/deposer")
    data = {
        "csrf_token": token,
        "doc_type": "URSSAF_VIGILANCE",
        "siret": "",
        "issue_date": "2026-10-01",
        "validity_start": "2026-10-01",
        "validity_end": "",
        **fields,
        "file": FileStorage(io.BytesIO(content or b""),
                            filename="" if content is None else filename,
                            content_type="application/octet-stream" if content is None else
                            "application/pdf"),
    }
    boundary, body = encode_multipart(data)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/organisations/{siren}/documents/deposer", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}", headers=headers)


def stored_files(app: Flask) -> list:
    """Every file under the storage directory, temporary ones included (not kept uploads)."""
    return [p for p in _storage_files(app) if not p.name.startswith("kept-")]


def kept_files(app: Flask) -> list:
    """Files kept from refused submissions, offered again to their sender."""
    return [p for p in _storage_files(app) if p.name.startswith("kept-")]


def _storage_files(app: Flask) -> list:
    from pathlib import Path

    root = Path(app.config["STORAGE_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
