"""A tiny PDF writer for the documents the project generates itself.

The demo data and the provider simulator need real, readable PDFs (pypdf in
strict mode must accept them) without shipping third-party documents or
pulling a PDF library in. One A4 page, Helvetica, WinAnsi text (French
accents included) is all they need.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

_PAGE_WIDTH = 595
_PAGE_HEIGHT = 842


def _pdf_string(text: str) -> bytes:
    """Encode text as a PDF literal string in WinAnsi (cp1252)."""
    raw = text.encode("cp1252", errors="replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def make_pdf(title: str, lines: Sequence[str] = (), *, footer: str = "") -> bytes:
    """Return the bytes of a one-page PDF showing a title and lines of text."""
    content = io.BytesIO()
    # A coloured band at the top, so the generated documents look like documents.
    content.write(b"0.16 0.32 0.55 rg 0 782 595 60 re f\n")
    content.write(b"BT /F2 18 Tf 1 1 1 rg 40 805 Td " + _pdf_string(title) + b" Tj ET\n")
    y = 740
    for line in lines:
        if y < 60:
            break
        content.write(b"BT /F1 11 Tf 0 0 0 rg 40 %d Td " % y + _pdf_string(line) + b" Tj ET\n")
        y -= 18
    if footer:
        content.write(b"BT /F1 8 Tf 0.4 0.4 0.4 rg 40 30 Td " + _pdf_string(footer) + b" Tj ET\n")
    stream = content.getvalue()

    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        % (_PAGE_WIDTH, _PAGE_HEIGHT),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Producer (hiveo) /Title " + _pdf_string(title) + b" >>",
    ]

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref_at = out.tell()
    out.write(b"xref\n0 %d\n" % (len(objects) + 1))
    out.write(b"0000000000 65535 f \n")
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, len(objects), xref_at)
    )
    return out.getvalue()
