"""End-to-end tests: Playwright drives Debian's Chromium against a live server.

When Chromium is missing these tests are skipped with a loud message, unless
HIVEO_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from hiveo.extensions import db
from tests.conftest import running_app

CHROMIUM = os.environ.get("HIVEO_CHROMIUM", "/usr/bin/chromium")


def _chromium_path() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    e2e = [item for item in items if "tests/e2e/" in str(item.fspath)]
    for item in e2e:
        item.add_marker(pytest.mark.e2e)
    if e2e and _chromium_path() is None and not _browser_required():
        message = _missing_message(len(e2e))
        print("\n" + "!" * 78 + "\n" + message + "\n" + "!" * 78)
        skip = pytest.mark.skip(reason=message + " (chromium missing)")
        for item in e2e:
            item.add_marker(skip)


def _browser_required() -> bool:
    return os.environ.get("HIVEO_REQUIRE_BROWSER") == "1"


def _missing_message(count: int) -> str:
    return (
        f"chromium not found ({CHROMIUM}): {count} end-to-end tests cannot run. "
        "Install Debian's chromium package (apt-get install chromium)."
    )


@pytest.fixture(autouse=True)
def _browser_present():
    if _chromium_path() is None and _browser_required():
        pytest.fail(_missing_message(1) + " HIVEO_REQUIRE_BROWSER=1 makes this a failure.")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": _chromium_path(),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def _closing(app):
    """The app with every response body read and closed before the server writes it.

    Werkzeug's development server skips a response's close() when the browser
    drops the connection while it drains the request (serving.py reads the
    socket again before closing): a static file's handle is then left to the
    garbage collector, and its ResourceWarning fails whichever test is running.
    Bodies here are small pages and files, so reading them whole costs nothing.
    """

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return wsgi


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, _closing(app), threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def live_overrides() -> dict:
    """Override in a test module to configure the live app (e.g. provider URLs)."""
    return {}


@pytest.fixture
def live_app(tmp_path, live_overrides):
    with running_app("sqlite", tmp_path, **live_overrides) as app:
        yield app


@pytest.fixture
def live_server(live_app) -> Iterator[LiveServer]:
    server = LiveServer(live_app).start()
    yield server
    server.stop()
    with live_app.app_context():
        db.session.remove()


AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page, *, include: str | None = None) -> list[str]:
    """Serious or critical axe-core violations on the page as it is now.

    The script goes in through the DevTools protocol (page.evaluate), which a
    strict Content-Security-Policy does not block, unlike an injected <script>.
    """
    if not AXE.exists():
        message = f"axe-core missing ({AXE}): run `make test` (npm ci in tests/e2e)"
        if _browser_required():
            pytest.fail(message)
        pytest.skip(message + " (chromium accessibility check)")
    page.evaluate(AXE.read_text() + "\n;0")
    context = include or "document"
    results = page.evaluate(
        "async (selector) => await axe.run(selector === 'document' ? document : selector, "
        "{resultTypes: ['violations']})",
        context,
    )
    return [
        f"{v['impact']}: {v['id']} — {v['help']} ({len(v['nodes'])} nodes: "
        f"{[n['target'] for n in v['nodes']][:3]})"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


class ConsoleWatch:
    """Every console error, uncaught exception and CSP violation of a page."""

    def __init__(self):
        self.problems: list[str] = []

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))

    # Chromium logs every 4xx answer; a 422 is how a form says "fix this" and is expected.
    EXPECTED = ("the server responded with a status of 422",)

    def _on_console(self, message) -> None:
        if any(text in message.text for text in self.EXPECTED):
            return
        if message.type in ("error", "warning") or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")


# The pages below ask for the live server first, so that it starts before their browser
# context and stops after it: a request still in flight (Chromium fetches the favicon
# after the page has loaded) must not meet a server already gone and log a console error.
@pytest.fixture
def watched_page(live_server, page):
    """A page that fails the test on any console error or CSP violation."""
    watch = ConsoleWatch()
    watch.attach(page)
    yield page
    assert watch.problems == [], "\n".join(watch.problems)


@pytest.fixture
def no_js_page(live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    watch = ConsoleWatch()
    watch.attach(page)
    yield page
    context.close()
    assert watch.problems == [], "\n".join(watch.problems)
