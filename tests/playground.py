"""The playground in a real browser: headless Chromium (Debian's `chromium`)
driven by Playwright's Python API, against `cnndsl serve` started as users start it;
the helpers and fixtures of test_serve_browser.py and test_serve_browser_editor.py
(two modules: two xdist groups, each with its browser and its server).

Skipped only when Chromium or Playwright cannot be found (`scripts/install.sh`
installs both). The page's Content-Security-Policy stays on: Playwright's
`wait_for_function` would need `eval`, so `wait` below polls `page.evaluate`.
A module takes the fixtures by assigning them (`page = playground.page`), so that
they are its own: one browser, one tab and one server per module.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

playwright = pytest.importorskip("playwright.sync_api")
pytest.importorskip("uvicorn")

LENET = (ROOT / "specs" / "lenet.cnn").read_text(encoding="utf-8")


def chromium() -> str | None:
    """Debian's Chromium (Playwright's own browser download is not used)."""
    chosen = os.environ.get("CNNDSL_CHROMIUM")
    for candidate in (chosen, shutil.which("chromium"), shutil.which("chromium-browser"),
                      "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


#: each browser test module's `pytestmark`
needs_chromium = pytest.mark.skipif(chromium() is None, reason="Chromium is not installed "
                                    "(scripts/install.sh installs Debian's chromium)")


def spawn(spec: Path) -> subprocess.Popen:
    """`cnndsl serve SPEC` on a free port, started; `address` waits for its address."""
    return subprocess.Popen([*cnndsl_cmd(), "serve", str(spec), "--port", "0", "--examples",
                             str(ROOT / "specs")], stderr=subprocess.PIPE, text=True)


def address(server: subprocess.Popen) -> str:
    seen = []
    for _ in range(20):   # the address line, after any warning printed before it
        line = server.stderr.readline()
        seen.append(line)
        found = re.search(r"(http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]+)", line)
        if found or not line:
            break
    assert found, f"cnndsl serve did not start: {''.join(seen)!r}"
    return found.group(1)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def cnndsl_cmd() -> list[str]:
    """The installed `cnndsl` console script (as conftest's `cnndsl_cmd`)."""
    script = Path(sys.executable).parent / "cnndsl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cnndsl"]


@pytest.fixture(scope="module")
def spawned(tmp_path_factory):
    """`cnndsl serve lenet.cnn`, one for the module, started: (spec, process). `page` and
    `victim` write LENET to the file before each test (the page reads it anew on each load)."""
    spec = tmp_path_factory.mktemp("served") / "lenet.cnn"
    spec.write_text(LENET, encoding="utf-8")
    server = spawn(spec)
    yield spec, server
    stop(server)


@pytest.fixture(scope="module")
def served(spawned):
    """The module's server, ready: (spec, url)."""
    spec, server = spawned
    return spec, address(server)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium())
        yield launched
        launched.close()


VIEWPORT = {"width": 1400, "height": 800}


def new_context(browser):
    return browser.new_context(viewport=VIEWPORT, accept_downloads=True)


def open_page(context, url: str, ready: bool = True):
    """A new page of `context` on `url`; returns it and the list of its script errors."""
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    if ready:
        wait(page, "window.cnndsl && window.cnndsl.checked !== null")
    return page, errors


@pytest.fixture(scope="module")
def tab(spawned, browser):   # `spawned` first: the server starts up while the browser launches
    """The module's one tab, in a context of its own (the page keeps nothing in cookies
    or storage, and every answer is `no-store`). Each test loads the page anew in it,
    a new document with its own script state: a new tab per test would start a new
    renderer process each time (0.5 s a page against 0.25 s)."""
    context = new_context(browser)
    yield context.new_page()
    context.close()


@contextlib.contextmanager
def loaded(tab):
    """`tab` as a test left it, reset: the viewport and the mouse where they start, and
    its script errors collected (asserted none) until the test ends, when the tab goes
    to a blank document (so that the next test's address, hash and all, loads anew)."""
    errors = []

    def collect(error):
        errors.append(str(error))

    tab.set_viewport_size(VIEWPORT)
    tab.mouse.move(0, 0)
    tab.on("pageerror", collect)
    try:
        yield tab
    finally:
        tab.remove_listener("pageerror", collect)
        tab.goto("about:blank")
    assert errors == []


def visit(tab, url: str, ready: bool = True):
    tab.goto(url)
    if ready:
        wait(tab, "window.cnndsl && window.cnndsl.checked !== null")
    return tab


@pytest.fixture
def page(tab, served):
    """The page on the opened lenet.cnn, ready."""
    spec, url = served
    spec.write_text(LENET, encoding="utf-8")
    with loaded(tab):
        yield visit(tab, url)


@pytest.fixture
def victim(tab, served):
    """The opened file, holding LENET, and a way to open the page on the server (with a
    hostile address, say), once a test: (spec, url, open)."""
    spec, url = served
    spec.write_text(LENET, encoding="utf-8")
    with loaded(tab):
        yield spec, url, lambda address=url, ready=True: visit(tab, address, ready)


def wait(page, expression: str, timeout: float = 20.0):
    """Poll a JavaScript expression until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        time.sleep(0.01)


def doc(page) -> str:
    return page.evaluate("window.cnndsl.view.state.doc.toString()")


def settled(page, drawn: bool = False) -> None:
    """Wait until the table (and, with `drawn`, the diagram) show the editor's text."""
    wait(page, "window.cnndsl.checked === window.cnndsl.view.state.doc.toString()")
    if drawn:
        wait(page, "document.body.dataset.drawn === document.body.dataset.checked")


def set_text(page, text: str) -> None:
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    settled(page)


def click_at(page, line: int, column: int) -> None:
    """Click the editor at a 1-based line and column, as a user would."""
    box = page.evaluate(f"""(() => {{
        const v = window.cnndsl.view;
        const r = v.coordsAtPos(v.state.doc.line({line}).from + {column} - 1);
        return [r.left, r.top, r.bottom]; }})()""")
    page.mouse.click(box[0] + 3, (box[1] + box[2]) / 2)


def cells(page, name: str) -> list[str]:
    return page.eval_on_selector(f'tr.row[data-name="{name}"]',
                                 "tr => [...tr.cells].map(td => td.textContent)")


def diagram_svg(page) -> str:
    """The SVG the page shows (it must be in the page, not just have arrived)."""
    shown = page.evaluate("document.querySelector('#diagram svg').textContent")
    assert shown and all(t in page.evaluate("window.cnndsl.svg") for t in shown.split("\n")[:5])
    return page.evaluate("window.cnndsl.svg")
