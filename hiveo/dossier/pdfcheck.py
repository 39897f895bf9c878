"""The child process that checks one uploaded PDF, under its own resource limits.

    python -I pdfcheck.py --memory-mb 512 --cpu-seconds 20 FILE
    python -I pdfcheck.py --memory-mb 512 --cpu-seconds 20 --batch

It limits its own address space and CPU time before opening FILE (the parent,
a threaded web server, must not run code between fork and exec), runs
`inspect_pdf` and prints one JSON line: {"ok": true, "pages": N} or
{"ok": false, "message": "…"}. Going over a limit kills it or ends it without
a verdict, which the parent reads as a refusal.

With --batch it reads one path per line on stdin and answers one verdict line
each (`PdfChecker`, for a sync run that checks hundreds of files): the
address-space limit holds for the whole process, the CPU limit is granted
afresh for each file, and a file that exhausts either ends the process, which
the parent restarts for the next file.

`pdf.py` is loaded by path when this file is run as a script, so the child
imports pypdf but not the hiveo package (Flask and the rest): it starts in a
tenth of a second and works whether or not hiveo is installed.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path
from types import ModuleType

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX: only the parent's timeout applies
    resource = None  # type: ignore[assignment]

USAGE = "usage: pdfcheck.py --memory-mb MIB --cpu-seconds SECONDS (FILE | --batch)"


def load_pdf_module() -> ModuleType:
    if __package__:
        from . import pdf

        return pdf
    name = "hiveo_pdfcheck_pdf"
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("pdf.py"))
    if spec is None or spec.loader is None:  # pragma: no cover - pdf.py sits beside us
        raise ImportError(f"cannot load {name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def limit_resources(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process: address space, CPU time, and no core dump of hostile bytes."""
    if resource is None:  # pragma: no cover
        return

    def cap(kind: int, soft: int, hard: int | None = None) -> None:
        """Lower a limit, never raise one the service manager already set."""
        hard = soft if hard is None else hard
        current_soft, current_hard = resource.getrlimit(kind)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
        if current_soft != resource.RLIM_INFINITY:
            soft = min(soft, current_soft)
        resource.setrlimit(kind, (min(soft, hard), hard))

    cap(resource.RLIMIT_AS, memory_mb * 1024 * 1024)
    # SIGXCPU at the soft limit, SIGKILL a second later.
    cap(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
    cap(resource.RLIMIT_CORE, 0)


def _parse(argv: list[str]) -> tuple[int, int, str]:
    if len(argv) != 5 or argv[0] != "--memory-mb" or argv[2] != "--cpu-seconds":
        raise SystemExit(USAGE)
    try:
        memory_mb, cpu_seconds = int(argv[1]), int(argv[3])
    except ValueError:
        raise SystemExit(USAGE) from None
    if memory_mb < 1 or cpu_seconds < 1:
        raise SystemExit(USAGE)
    return memory_mb, cpu_seconds, argv[4]


def _verdict(pdf: ModuleType, path: str) -> str:
    try:
        info = pdf.inspect_pdf(path)
    except pdf.PdfRejected as error:
        verdict = {"ok": False, "message": str(error)}
    else:
        verdict = {"ok": True, "pages": info.pages}
    return json.dumps(verdict) + "\n"


def _grant_cpu(cpu_seconds: int) -> None:
    """Allow `cpu_seconds` more of CPU time from now (batch mode: one grant per file)."""
    if resource is None:  # pragma: no cover
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + 1 + cpu_seconds
    _current, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def serve(pdf: ModuleType, memory_mb: int, cpu_seconds: int) -> int:
    """Batch mode: a verdict line for each path line read on stdin, until EOF."""
    if resource is not None:
        _soft, current_hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = memory_mb * 1024 * 1024
        if current_hard != resource.RLIM_INFINITY:
            cap = min(cap, current_hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, current_hard))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            break
        _grant_cpu(cpu_seconds)
        sys.stdout.write(_verdict(pdf, path))
        sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    memory_mb, cpu_seconds, path = _parse(sys.argv[1:] if argv is None else argv)
    # pypdf logs what it finds odd; stderr is kept for a crash's traceback.
    logging.disable(logging.CRITICAL)
    pdf = load_pdf_module()
    if path == "--batch":
        return serve(pdf, memory_mb, cpu_seconds)
    limit_resources(memory_mb, cpu_seconds)
    sys.stdout.write(_verdict(pdf, path))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
