"""PDFs and not-PDFs for the tests, built on the fly."""

from __future__ import annotations

import io
import struct
import zlib

from pypdf import PdfWriter

from hiveo.demo.pdfgen import make_pdf
from tests.hostile.build import PAGE, classic_pdf


def valid_pdf(title: str = "Attestation de test", *lines: str) -> bytes:
    return make_pdf(title, list(lines) or ["Document généré pour les tests."])


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def javascript_pdf() -> bytes:
    return classic_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        PAGE,
        b"<< /S /JavaScript /JS (app.alert\\(1\\);) >>",
    ])


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(
        b"IEND", b"")


def html_bytes() -> bytes:
    return b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def truncated_pdf() -> bytes:
    data = valid_pdf()
    return data[: len(data) // 2]
