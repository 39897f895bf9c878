"""Hostile uploads through the form: refused in French, leaving no row and no file.

The corpus is tests/hostile (see its README). Downloads of what was accepted
are always attachments under a sandboxing CSP; only operators get the inline
preview, itself sandboxed.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hiveo.extensions import db
from hiveo.factories import make_document
from hiveo.models import AuditEvent, Company, Document
from hiveo.pdfgen import make_pdf
from tests.helpers import login, page_text, stored_files, upload
from tests.hostile import build

CORPUS_DIR = Path(build.__file__).parent
CHECK_TIMEOUT = 5.0
# Start-up of the child, the request around it, a loaded test machine.
MARGIN = 3.0


@pytest.fixture
def app_overrides() -> dict:
    """Small limits, so that a bomb that gets past the parser's own limits is cut short."""
    return {"PDF_CHECK_TIMEOUT": CHECK_TIMEOUT, "PDF_CHECK_MEMORY_MB": 256}


def document_rows(app) -> tuple[int, int]:
    """Documents, and audit events about documents."""
    with app.app_context():
        return (db.session.scalar(select(func.count(Document.id))),
                db.session.scalar(select(func.count(AuditEvent.id))
                                  .where(AuditEvent.action.like("document.%"))))


def assert_refused(app, response, message: str) -> None:
    html = page_text(response)
    assert response.status_code == 422, html[:500]
    assert message in html
    assert document_rows(app) == (0, 0)
    assert stored_files(app) == []


@pytest.mark.parametrize("item", build.CORPUS, ids=[item.name for item in build.CORPUS])
def test_every_hostile_file_is_refused_in_french_leaving_nothing(app, client, cast, item):
    login(client, cast.bob)
    content = (CORPUS_DIR / item.name).read_bytes()
    started = time.perf_counter()
    response = upload(client, cast.acme, content, filename=item.name)
    elapsed = time.perf_counter() - started
    assert_refused(app, response, item.refusal)
    if item.bomb:
        assert elapsed < CHECK_TIMEOUT + MARGIN


LONG_NAME = "attestation-" + "a" * 284 + ".pdf"
NAME_REFUSAL = "Le nom du fichier n'est pas accepté : "
PATH = NAME_REFUSAL + "il contient un chemin (« / », « \\ » ou « .. »)."
CONTROL = NAME_REFUSAL + "il contient des caractères de contrôle."
LOOK_ALIKE = NAME_REFUSAL + "il contient des caractères qui imitent d'autres caractères."
HOSTILE_NAMES = [
    ("traversal", "../../etc/passwd.pdf", PATH),
    ("absolute path", "/etc/passwd.pdf", PATH),
    ("windows traversal", "..\\..\\boot.ini.pdf", PATH),
    ("NUL", "a\x00.pdf", CONTROL),
    ("300 characters", LONG_NAME, NAME_REFUSAL + "il dépasse 200 caractères."),
    ("one-dot leader", "facture\u2024pdf", LOOK_ALIKE),
    ("fullwidth", "\uff46\uff41\uff43\uff54\uff55\uff52\uff45.pdf", LOOK_ALIKE),
    ("right-to-left override", "fdp.exe\u202e.pdf", CONTROL),
    ("zero-width space", "facture\u200b.pdf", CONTROL),
]


@pytest.mark.parametrize(("name", "message"), [(n, m) for _, n, m in HOSTILE_NAMES],
                         ids=[label for label, _, _ in HOSTILE_NAMES])
def test_hostile_file_names_are_refused_in_french_leaving_nothing(app, client, cast, name,
                                                                  message):
    assert len(LONG_NAME) == 300
    login(client, cast.bob)
    response = upload(client, cast.acme, make_pdf("Attestation", ["ligne"]), filename=name)
    assert_refused(app, response, message)


def pdf_of_size(size: int) -> bytes:
    """A valid one-page PDF of exactly `size` bytes (its content stream is padding)."""
    def build_with(padding: int) -> bytes:
        return build.classic_pdf([
            build.CATALOG,
            build.PAGES,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            build.stream(b" " * padding),
        ])

    padding = size - len(build_with(0))
    while len(data := build_with(padding)) != size:
        padding -= len(data) - size
    return data


def test_one_byte_over_the_limit_is_refused_and_exactly_the_limit_is_accepted(app, client,
                                                                              cast):
    app.config["MAX_UPLOAD_MB"] = 1
    login(client, cast.bob)
    over = pdf_of_size(1024 * 1024 + 1)
    assert len(over) == 1024 * 1024 + 1
    assert_refused(app, upload(client, cast.acme, over, filename="attestation.pdf"),
                   "Le fichier est trop volumineux : 1 Mo au plus.")

    exact = pdf_of_size(1024 * 1024)
    response = upload(client, cast.acme, exact, filename="attestation.pdf")
    assert response.status_code == 303, page_text(response)[:500]
    with app.app_context():
        document = db.session.scalar(select(Document))
        assert document.size == 1024 * 1024
    assert [path.name for path in stored_files(app)] == [document.sha256]


# -------------------------------------------------------- serving what was stored


def stored_document(app, cast, content: bytes) -> int:
    """A pending document with these bytes, as if they had got past the check."""
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == cast.acme))
        document = make_document(acme, "KBIS", issue_date=date(2026, 11, 1), validated=False,
                                 content=content)
        db.session.commit()
        return document.id


def fetch(client, path: str):
    response = client.get(path)
    response.get_data()
    response.close()
    return response


CONTENTS = {"pdf": make_pdf("Kbis", ["ligne"]),
            "html": (CORPUS_DIR / "html-script.pdf").read_bytes(),
            "svg": (CORPUS_DIR / "svg-script.pdf").read_bytes()}


@pytest.mark.parametrize("who", ["alice", "bob"])
@pytest.mark.parametrize("kind", list(CONTENTS))
def test_members_always_download_an_attachment_under_a_sandbox(app, client, cast, who, kind):
    document_id = stored_document(app, cast, CONTENTS[kind])
    login(client, getattr(cast, who))
    response = fetch(client, f"/organisations/{cast.acme}/documents/{document_id}/fichier")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


def test_only_operators_get_the_inline_preview_and_it_is_sandboxed(app, client, cast):
    document_id = stored_document(app, cast, CONTENTS["html"])
    preview = f"/operateur/documents/{document_id}/apercu"

    login(client, cast.olivia)
    response = fetch(client, preview)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy

    for who in ("alice", "bob", "charlie"):
        login(client, getattr(cast, who))
        response = fetch(client, preview)
        assert response.status_code == 403, who
        assert "inline" not in response.headers.get("Content-Disposition", "")


def test_outsiders_cannot_download_at_all(app, client, cast):
    document_id = stored_document(app, cast, CONTENTS["pdf"])
    login(client, cast.charlie)
    for siren in (cast.acme, cast.globex):
        response = fetch(client, f"/organisations/{siren}/documents/{document_id}/fichier")
        assert response.status_code == 404
        assert "Content-Disposition" not in response.headers
    login(client, cast.olivia)
    response = fetch(client, f"/organisations/{cast.acme}/documents/{document_id}/fichier")
    assert response.status_code == 404
