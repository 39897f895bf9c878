"""The PDF check in-process (inspect_pdf) and in its limited child process."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.errors import LimitReachedError
from pypdf.filters import decompress

from hiveo.config import ConfigError, load_settings
from hiveo.demo.pdfgen import make_pdf
from hiveo.dossier import pdf, pdfcheck
from hiveo.dossier.pdf import PdfInfo, PdfRejected, inspect_pdf, inspect_pdf_isolated
from tests.hostile import build

CORPUS_DIR = Path(build.__file__).parent
IN_PROCESS = [item for item in build.CORPUS if item.in_process]


def write(tmp_path: Path, data: bytes, name: str = "document.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def content_page_pdf(*streams: bytes) -> bytes:
    """One page whose content streams are the given (whole) stream objects."""
    refs = b" ".join(b"%d 0 R" % (4 + i) for i in range(len(streams)))
    return build.classic_pdf([
        build.CATALOG,
        build.PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [" + refs + b"] >>",
        *streams,
    ])


# ------------------------------------------------------------------ the corpus


def test_the_corpus_has_at_least_fifteen_files_and_the_readme_lists_them_all():
    assert len(build.CORPUS) >= 15
    readme = (CORPUS_DIR / "README.md").read_text()
    for item in build.CORPUS:
        assert f"`{item.name}`" in readme
    assert all((CORPUS_DIR / item.name).is_file() for item in build.CORPUS)


def test_the_committed_corpus_is_what_build_py_generates(capsys):
    # Compressed bytes depend on the zlib build: byte for byte only with the recorded one;
    # elsewhere the committed files are still the ones the other tests refuse.
    if zlib.ZLIB_RUNTIME_VERSION == build.BUILT_WITH_ZLIB:
        assert build.main(["--check"]) == 0, capsys.readouterr().out
    else:
        assert all((CORPUS_DIR / item.name).is_file() for item in build.CORPUS)


def test_the_bomb_streams_are_valid_zlib_and_inflate_a_thousandfold_twice():
    small = build.zeros_bomb(b"4 0\n", 64)
    assert zlib.decompress(small) == b"4 0\n" + bytes(64 * build.MIB)  # checksum included
    outer = build.double_flate(b"4 0\n", 4096)
    assert len(outer) < 12 * 1024
    start = zlib.decompressobj().decompress(zlib.decompress(outer), build.MIB)
    assert start == b"4 0\n" + bytes(build.MIB - 4)


@pytest.mark.parametrize("item", IN_PROCESS, ids=[item.name for item in IN_PROCESS])
def test_every_corpus_file_is_refused_in_process_with_its_french_message(item):
    with pytest.raises(PdfRejected) as refusal:
        inspect_pdf(CORPUS_DIR / item.name)
    assert str(refusal.value) == item.refusal


# ------------------------------------------------------------ inspect_pdf itself


def test_a_generated_pdf_is_accepted(tmp_path):
    assert inspect_pdf(write(tmp_path, make_pdf("Attestation", ["ligne"]))) == PdfInfo(pages=1)


def test_a_multi_page_pdf_written_by_pypdf_is_accepted(tmp_path):
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    assert inspect_pdf(write(tmp_path, out.getvalue())) == PdfInfo(pages=3)


def test_a_pdf_with_object_and_cross_reference_streams_is_accepted(tmp_path):
    content = build.stream(zlib.compress(b"BT /F1 12 Tf 40 800 Td (Bonjour) Tj ET"),
                           b" /Filter /FlateDecode")
    data = build.packed_pdf(
        {4: content},
        {1: build.CATALOG, 2: build.PAGES,
         3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"},
    )
    assert inspect_pdf(write(tmp_path, data)) == PdfInfo(pages=1)


def test_links_to_web_pages_are_not_active_content(tmp_path):
    data = build.classic_pdf([
        build.CATALOG,
        build.PAGES,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 20] "
        b"/A << /S /URI /URI (https://www.urssaf.fr/) >> >>",
    ])
    assert inspect_pdf(write(tmp_path, data)) == PdfInfo(pages=1)


def test_a_pdf_without_pages_is_refused(tmp_path):
    data = build.classic_pdf([build.CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"])
    with pytest.raises(PdfRejected, match="aucune page"):
        inspect_pdf(write(tmp_path, data))


def test_page_contents_are_decoded_within_a_budget_for_the_whole_document(tmp_path):
    # Three streams of 12 MiB: each within the per-stream limit, 36 MiB in all.
    streams = [build.stream(zlib.compress(bytes(12 * build.MIB), 9), b" /Filter /FlateDecode")
               for _ in range(3)]
    with pytest.raises(PdfRejected) as refusal:
        inspect_pdf(write(tmp_path, content_page_pdf(*streams)))
    assert str(refusal.value) == build.TOO_COMPLEX
    two = content_page_pdf(*streams[:2])
    assert inspect_pdf(write(tmp_path, two, "two.pdf")) == PdfInfo(pages=1)


def test_a_damaged_flate_stream_is_refused_as_damaged_at_once(tmp_path):
    data = b"\xff" * (1024 * 1024)
    with pytest.raises(PdfRejected) as refusal:
        inspect_pdf(write(tmp_path, content_page_pdf(build.stream(data, b" /Filter /FlateDecode"))))
    assert str(refusal.value) == build.UNREADABLE
    # "At once": under the check's limits pypdf's byte-by-byte recovery stops before its
    # first byte, so every byte of the stream is still "remaining".
    with pdf._pypdf_limits(), pytest.raises(LimitReachedError) as stopped:
        decompress(data)
    assert f"{len(data)} bytes remaining" in str(stopped.value)


def test_a_stream_inflating_past_the_stream_limit_is_too_complex(tmp_path):
    big = build.stream(zlib.compress(bytes(17 * build.MIB), 9), b" /Filter /FlateDecode")
    with pytest.raises(PdfRejected) as refusal:
        inspect_pdf(write(tmp_path, content_page_pdf(big)))
    assert str(refusal.value) == build.TOO_COMPLEX


# ------------------------------------------------------------- the child process


def test_the_child_accepts_a_valid_pdf_and_counts_its_pages(tmp_path):
    path = write(tmp_path, make_pdf("Attestation", ["ligne"]))
    assert inspect_pdf_isolated(path, timeout=20, memory_mb=512) == PdfInfo(pages=1)


def test_the_child_reports_the_reason_of_a_refusal(tmp_path):
    with pytest.raises(PdfRejected) as refusal:
        inspect_pdf_isolated(CORPUS_DIR / "launch-action.pdf", timeout=20, memory_mb=512)
    assert str(refusal.value) == build.ACTIVE


def test_files_that_do_not_start_as_a_pdf_are_refused_without_a_child(tmp_path, monkeypatch):
    def no_child(*args, **kwargs):
        raise AssertionError("a child was started")

    monkeypatch.setattr(subprocess, "run", no_child)
    for name, message in [("png-renamed.pdf", build.NOT_A_PDF), ("empty.pdf", build.EMPTY)]:
        with pytest.raises(PdfRejected, match=re.escape(message)):
            inspect_pdf_isolated(CORPUS_DIR / name, timeout=20, memory_mb=512)


def test_the_memory_bomb_is_stopped_by_the_childs_memory_limit(caplog):
    with caplog.at_level(logging.WARNING, logger=pdf.logger.name), \
            pytest.raises(PdfRejected) as refusal:
        inspect_pdf_isolated(CORPUS_DIR / "memory-bomb-object-streams.pdf", timeout=60,
                             memory_mb=256)
    assert str(refusal.value) == build.TOO_COMPLEX
    # Stopped inside the child (its memory limit), not by the parent's clock.
    assert not [r for r in caplog.records if "stopped after" in r.getMessage()]


def test_a_child_over_its_time_is_killed_and_the_pdf_refused(tmp_path, caplog):
    path = write(tmp_path, make_pdf("Attestation", ["ligne"]))
    with caplog.at_level(logging.WARNING, logger=pdf.logger.name), \
            pytest.raises(PdfRejected) as refusal:
        inspect_pdf_isolated(path, timeout=0.01, memory_mb=512)
    assert str(refusal.value) == build.TOO_COMPLEX
    assert [r.getMessage() for r in caplog.records] == [
        "PDF check of document.pdf stopped after 0.01 s"]


def test_one_batch_child_checks_many_files_in_turn(tmp_path):
    valid = write(tmp_path, make_pdf("Attestation", ["ligne"]))
    with pdf.PdfChecker(timeout=20, memory_mb=512) as checker:
        assert checker.check(valid) == PdfInfo(pages=1)
        child = checker._child.pid
        with pytest.raises(PdfRejected) as refusal:
            checker.check(CORPUS_DIR / "launch-action.pdf")
        assert str(refusal.value) == build.ACTIVE
        assert checker.check(valid) == PdfInfo(pages=1)
        assert checker._child.pid == child  # the same process, no start per file
    assert checker._child is None


def test_a_batch_child_past_its_limits_refuses_that_file_and_is_replaced(tmp_path):
    valid = write(tmp_path, make_pdf("Attestation", ["ligne"]))
    with pdf.PdfChecker(timeout=10, memory_mb=256) as checker:
        checker.check(valid)
        first = checker._child
        with pytest.raises(PdfRejected) as refusal:
            # Seconds of work for the child: the wall-clock limit of this file stops it.
            checker.check(CORPUS_DIR / "wide-object-graph.pdf", timeout=0.5)
        assert str(refusal.value) == build.TOO_COMPLEX
        assert first.poll() is not None  # killed, not left working
        with pytest.raises(PdfRejected) as refusal:
            checker.check(CORPUS_DIR / "memory-bomb-object-streams.pdf")
        assert str(refusal.value) == build.TOO_COMPLEX
        assert checker.check(valid) == PdfInfo(pages=1)
        assert checker._child.pid != first.pid


def test_files_that_do_not_start_as_a_pdf_are_refused_without_a_batch_child():
    with pdf.PdfChecker(timeout=20, memory_mb=512) as checker:
        for name, message in [("png-renamed.pdf", build.NOT_A_PDF), ("empty.pdf", build.EMPTY)]:
            with pytest.raises(PdfRejected, match=re.escape(message)):
                checker.check(CORPUS_DIR / name)
        assert checker._child is None


def fake_child(tmp_path: Path, monkeypatch, code: str) -> None:
    script = tmp_path / "fake_child.py"
    script.write_text(textwrap.dedent(code))
    monkeypatch.setattr(pdf, "_CHILD", script)


@pytest.mark.parametrize(
    "code",
    [
        "import sys; sys.exit(3)",
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
        "print('not json')",
        "print('[1, 2]')",
        "print('{\"ok\": false, \"message\": 42}')",
        "print('{\"ok\": true, \"pages\": \"many\"}')",
        "print('{\"ok\": true, \"pages\": 1}'); raise SystemExit(1)",
    ],
    ids=["exit status", "killed", "not json", "not an object", "message not text",
         "pages not a number", "verdict then failure"],
)
def test_a_child_without_a_clear_verdict_means_refused(tmp_path, monkeypatch, code):
    fake_child(tmp_path, monkeypatch, code)
    path = write(tmp_path, make_pdf("Attestation"))
    with pytest.raises(PdfRejected) as refusal:
        inspect_pdf_isolated(path, timeout=20, memory_mb=512)
    assert str(refusal.value) == build.TOO_COMPLEX


def test_the_child_gets_none_of_the_portals_secrets(tmp_path, monkeypatch):
    passed_on = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                 "LC_ALL": "C.UTF-8", "LC_CTYPE": "C.UTF-8",
                 "LD_LIBRARY_PATH": str(tmp_path / "lib"), "SYSTEMROOT": "C:\\Windows"}
    for name, value in passed_on.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HIVEO_SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("HIVEO_DATABASE_URL", "postgresql://u:password@db/hiveo")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "neither")
    seen = tmp_path / "environment.json"
    fake_child(tmp_path, monkeypatch, f"""
        import json, os
        with open({str(seen)!r}, "w") as out:
            json.dump(dict(os.environ), out)
        print(json.dumps({{"ok": True, "pages": 1}}))
    """)
    assert inspect_pdf_isolated(write(tmp_path, make_pdf("A")), timeout=20,
                                memory_mb=512) == PdfInfo(pages=1)
    assert json.loads(seen.read_text()) == passed_on


def run_limited(code: str, timeout: float = 20) -> subprocess.CompletedProcess:
    """Run `code` in an isolated interpreter after loading pdfcheck.py by path."""
    prelude = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('pdfcheck', {pdfcheck.__file__!r})\n"
        "pdfcheck = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(pdfcheck)\n"
    )
    return subprocess.run([sys.executable, "-I", "-c", prelude + code], capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_the_child_limits_its_own_address_space():
    result = run_limited(
        "pdfcheck.limit_resources(memory_mb=128, cpu_seconds=10)\n"
        "try:\n"
        "    block = bytearray(512 * 1024 * 1024)\n"
        "except MemoryError:\n"
        "    print('refused')\n"
    )
    assert result.stdout.strip() == "refused", result.stderr


def test_the_child_limits_its_own_cpu_time():
    # Without the limit the loop never ends and run_limited's timeout raises.
    result = run_limited("pdfcheck.limit_resources(memory_mb=512, cpu_seconds=1)\n"
                         "while True:\n    pass\n", timeout=120)
    assert result.returncode in (-signal.SIGXCPU, -signal.SIGKILL)


def test_the_child_refuses_to_run_without_its_limits():
    for argv in ([], ["--memory-mb", "512", "file.pdf"],
                 ["--memory-mb", "lots", "--cpu-seconds", "20", "file.pdf"],
                 ["--memory-mb", "0", "--cpu-seconds", "20", "file.pdf"]):
        with pytest.raises(SystemExit, match="usage"):
            pdfcheck.main(argv)


# --------------------------------------------------------------------- settings


def test_the_check_limits_have_defaults_and_can_be_set(tmp_path):
    base = {"HIVEO_INSTANCE_DIR": str(tmp_path), "HIVEO_SECRET_KEY": "k"}
    settings = load_settings(base)
    assert settings["PDF_CHECK_TIMEOUT"] == 20
    assert settings["PDF_CHECK_MEMORY_MB"] == 512
    settings = load_settings({**base, "HIVEO_PDF_CHECK_TIMEOUT": "7.5",
                              "HIVEO_PDF_CHECK_MEMORY_MB": "1024"})
    assert settings["PDF_CHECK_TIMEOUT"] == 7.5
    assert settings["PDF_CHECK_MEMORY_MB"] == 1024


@pytest.mark.parametrize(("name", "value"), [
    ("HIVEO_PDF_CHECK_TIMEOUT", "longtemps"),
    ("HIVEO_PDF_CHECK_TIMEOUT", "0"),
    ("HIVEO_PDF_CHECK_MEMORY_MB", "64"),
])
def test_bad_check_limits_name_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path), "HIVEO_SECRET_KEY": "k",
                       name: value})
