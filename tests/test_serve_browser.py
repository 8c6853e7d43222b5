"""The playground in a real browser: headless Chromium (Debian's `chromium`)
driven by Playwright's Python API, against `cnndsl serve` started as users start it.

Skipped only when Chromium or Playwright cannot be found (`scripts/install.sh`
installs both). The page's Content-Security-Policy stays on: Playwright's
`wait_for_function` would need `eval`, so `wait` below polls `page.evaluate`.
`pytest --update-goldens` also rewrites docs/playground.png, the README's picture.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ROOT

playwright = pytest.importorskip("playwright.sync_api")
pytest.importorskip("uvicorn")

LENET = (ROOT / "specs" / "lenet.cnn").read_text(encoding="utf-8")
SCREENSHOT = ROOT / "docs" / "playground.png"


def chromium() -> str | None:
    """Debian's Chromium (Playwright's own browser download is not used)."""
    chosen = os.environ.get("CNNDSL_CHROMIUM")
    for candidate in (chosen, shutil.which("chromium"), shutil.which("chromium-browser"),
                      "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


pytestmark = pytest.mark.skipif(chromium() is None, reason="Chromium is not installed "
                                "(scripts/install.sh installs Debian's chromium)")


def start(cnndsl_cmd, spec: Path) -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen([*cnndsl_cmd, "serve", str(spec), "--port", "0", "--examples",
                               str(ROOT / "specs")], stderr=subprocess.PIPE, text=True)
    seen = []
    for _ in range(20):   # the address line, after any warning printed before it
        line = server.stderr.readline()
        seen.append(line)
        found = re.search(r"(http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]+)", line)
        if found or not line:
            break
    assert found, f"cnndsl serve did not start: {''.join(seen)!r}"
    return server, found.group(1)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory, cnndsl_cmd_module):
    spec = tmp_path_factory.mktemp("served") / "lenet.cnn"
    spec.write_text(LENET, encoding="utf-8")
    server, url = start(cnndsl_cmd_module, spec)
    yield url, spec
    stop(server)


@pytest.fixture(scope="module")
def cnndsl_cmd_module():
    import sys

    script = Path(sys.executable).parent / "cnndsl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cnndsl"]


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
def tab(browser):
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
    with loaded(tab):
        yield visit(tab, served[0])


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


# ---- the tests -------------------------------------------------------------------------------

def test_typing_a_spec_updates_the_table_and_the_diagram(page):
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type("model Tiny\ninput 1x28x28\nconv 6 k5 -> relu -> maxpool 2\n-> fc 10",
                       delay=15)
    settled(page, drawn=True)
    assert cells(page, "conv1") == ["conv 6 k5", "conv1", "6x24x24", "156", "89,856", "5x5"]
    assert cells(page, "pool1")[2] == "6x12x12" and cells(page, "fc1")[3] == "8,650"
    assert "Tiny: 8,806 parameters" in page.inner_text("#status")
    svg = diagram_svg(page)
    assert "Tiny" in svg and "conv 6 k5" in svg and "6x12x12" in svg
    page.keyboard.press("Backspace")          # `fc 1`: the table and the diagram follow
    settled(page, drawn=True)
    assert cells(page, "fc1")[2] == "1" and "fc 1\n" not in diagram_svg(page)
    assert "865" in cells(page, "fc1")[3]


def test_an_error_is_a_squiggle_at_its_span_with_its_message(page):
    set_text(page, "input 1x28x28\nconv 6 k5 -> maxpool 2 -> conv 16 k5 -> maxpool 2\n"
                   "-> conv 32 k5 -> relu\n")
    wait(page, "document.querySelector('.cm-lintRange-error')")
    where = page.evaluate("""(() => {
        const el = document.querySelector('.cm-lintRange-error');
        const v = window.cnndsl.view, pos = v.posAtDOM(el), line = v.state.doc.lineAt(pos);
        return [line.number, pos - line.from + 1, el.textContent]; })()""")
    assert where == [3, 12, "k5"]
    page.hover(".cm-lintRange-error")
    tooltip = page.wait_for_selector(".cm-tooltip-lint")
    text = tooltip.inner_text()
    assert "error[E0301]: kernel does not fit its input" in text
    assert "note: ⌊(4 + 2·0 − 5) / 1⌋ + 1 = 0, below 1" in text
    assert "help: use `k3`, or add `p1`, to keep the output at least 1x1" in text
    assert "stale" not in page.get_attribute("#table-pane", "class")   # partial, not frozen
    assert "1 error" in page.inner_text("#status")


def test_clicking_a_layer_shows_its_arithmetic_and_its_window(page):
    click_at(page, 5, 3)   # `conv 6 k5 s1 p0` of LeNet
    wait(page, "document.querySelector('#explain h2')")
    explained = page.inner_text("#explain")
    assert "conv 6 k5 s1 p0" in explained
    for formula in ("⌊(32 + 2·0 − 5)/1⌋ + 1 = 28", "(5·5·3 + 1)·6 = 456",
                    "456·28·28 = 357,504", "1 + (5 − 1)·1 = 5"):
        assert formula in explained
    canvas = page.wait_for_selector("#explain canvas.window")
    assert (canvas.get_attribute("data-kernel"), canvas.get_attribute("data-stride"),
            canvas.get_attribute("data-padding")) == ("5x5", "1x1", "0x0")
    first = canvas.get_attribute("data-frame")
    wait(page, f"document.querySelector('canvas.window').dataset.frame !== '{first}'")
    assert "picked" in page.get_attribute('tr.row[data-name="conv1"]', "class")
    page.click('tr.row[data-name="pool2"]')
    wait(page, "document.querySelector('#explain h2').textContent.includes('pool2')")
    assert "⌊(10 + 2·0 − 2)/2⌋ + 1 = 5" in page.inner_text("#explain")
    assert page.get_attribute("#explain canvas.window", "data-stride") == "2x2"
    assert page.evaluate("document.querySelector('.cm-picked').textContent") == "maxpool 2"


def test_the_address_reproduces_the_spec(page, browser):
    text = "model Shared\ninput 3x16x16\nconv 8 k3 p1 -> relu -> gap -> fc 4\n"
    set_text(page, text)
    settled(page)
    # the address is written after the table, once compressed: wait for it to hold `text`
    url = wait(page, "window.cnndsl.linked === window.cnndsl.view.state.doc.toString()"
                     " && location.href")
    context = new_context(browser)          # a new visitor: nothing shared with `page`
    again, errors = open_page(context, url)
    try:
        assert doc(again) == text
        wait(again, "document.querySelector('tr.row[data-name=\"fc1\"]')")
        assert "Shared: " in again.inner_text("#status")
        # a new document, not a jump within the old one: a hash-only goto is a same-document
        # navigation, and the page may rewrite its hash before a reload would read it
        again.goto("about:blank")
        again.goto(url.replace("#file=lenet.cnn", "#file=..%2F..%2Fevil.cnn"))
        wait(again, "window.cnndsl && window.cnndsl.checked !== null")
        # the page loaded the hostile address (it may rewrite its own hash afterwards)
        assert "evil" in again.evaluate("performance.getEntriesByType('navigation')[0].name")
        assert page.evaluate("window.cnndsl.file") == "lenet.cnn"   # a link names no path
        assert again.evaluate("window.cnndsl.file") == "lenet.cnn" and doc(again) == text
    finally:
        context.close()
    assert errors == []


def test_downloads_the_compiled_module_and_it_imports(page, tmp_path):
    import torch

    with page.expect_download() as info:
        page.click("#get-py")
    download = info.value
    assert download.suggested_filename == "lenet.py"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    spec = importlib.util.spec_from_file_location("downloaded_lenet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.LeNet()(torch.randn(2, 3, 32, 32)).shape == (2, 10)

    with page.expect_download() as info:
        page.click("#get-json")
    report = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert info.value.suggested_filename == "lenet.json"
    assert report["files"][0]["summary"]["params"] == 62006

    settled(page, drawn=True)
    with page.expect_download() as info:
        page.click("#get-svg")
    assert info.value.suggested_filename == "lenet.svg"
    assert Path(info.value.path()).read_text(encoding="utf-8").startswith("<?xml")


def test_saving_writes_back_only_on_an_explicit_save(victim):
    spec, url, opened = victim
    page = opened()
    assert doc(page) == LENET
    # after the last `fc 10` (a click: with its shapes inline the line wraps, and End
    # goes to the wrap, as CodeMirror's End does on any wrapped line)
    click_at(page, 7, len(LENET.splitlines()[6]) + 1)
    page.keyboard.type("0")
    settled(page)
    assert spec.read_text(encoding="utf-8") == LENET       # typing saves nothing
    assert page.inner_text("#save").endswith("•")
    page.keyboard.press("Control+s")
    wait(page, "document.querySelector('#save-note').textContent.startsWith('saved')")
    assert spec.read_text(encoding="utf-8") == doc(page) and "fc 100" in doc(page)
    spec.write_text(LENET + "# changed by someone else\n", encoding="utf-8")
    page.keyboard.type("0")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#overwrite")
    assert "changed on disk" in page.inner_text("#save-note")
    assert spec.read_text(encoding="utf-8").endswith("# changed by someone else\n")
    page.click("#overwrite")
    wait(page, "document.querySelector('#save-note').textContent.startsWith('saved')")
    assert spec.read_text(encoding="utf-8") == doc(page)
    assert sorted(p.name for p in spec.parent.iterdir()) == ["victim.cnn"]


def test_the_examples_menu_lists_specs_and_loading_one_can_be_undone(page):
    options = page.eval_on_selector_all("#examples option", "os => os.map(o => o.value)")
    assert sorted(p.name for p in (ROOT / "specs").glob("*.cnn")) == [o for o in options if o]
    before = doc(page)
    page.select_option("#examples", "resnet50.cnn")
    wait(page, "document.querySelectorAll('tr.row').length > 150")
    assert doc(page) == (ROOT / "specs" / "resnet50.cnn").read_text(encoding="utf-8")
    assert "25,557,032 parameters" in page.inner_text("#status")
    page.click(".cm-content")
    page.keyboard.press("Control+z")
    settled(page)
    assert doc(page) == before


def test_nothing_in_a_spec_becomes_markup(page):
    hostile = ('# <img src=x onerror="window.pwned=1">\nmodel Net\ninput 1x8x8\n'
               'fc 2 -> <b>bold</b>\n')
    set_text(page, hostile)
    wait(page, "document.querySelector('.cm-lintRange-error')")
    page.hover(".cm-lintRange-error")
    page.wait_for_selector(".cm-tooltip-lint")
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"], .cm-content b, "
                         ".cm-tooltip b:not(.note b, .help b)').length") == 0
    assert "error[E0001]: unexpected `<`" in page.inner_text(".cm-tooltip-lint")


def test_keystroke_to_screen_on_resnet50(page, capsys):
    """Measured, not asserted: each keystroke's time until the table (and then the
    diagram) is on screen, for a ResNet-50 spec; printed for the README and reports."""
    resnet = (ROOT / "specs" / "resnet50.cnn").read_text(encoding="utf-8")
    set_text(page, "\n".join(ln for ln in resnet.splitlines() if not ln.startswith("assert")))
    settled(page, drawn=True)
    line = doc(page).splitlines().index("-> gap -> fc 1000") + 1
    tables, servers, arrived, diagrams = [], [], [], []
    for digit in "123456789":
        click_at(page, line, len("-> gap -> fc 1000") + 1)
        page.keyboard.press("Shift+ArrowLeft")
        seq = page.evaluate("window.cnndsl.seq")
        page.keyboard.type(digit)             # `fc 1001`, `fc 1002`, ...: a new check each time
        wait(page, f"window.cnndsl.timings.at(-1).seq > {seq} && "
                   "window.cnndsl.timings.at(-1).diagram !== null")
        timing = page.evaluate("window.cnndsl.timings.at(-1)")
        tables.append(timing["table"])
        servers.append(timing["server"])
        arrived.append(timing["drawn"])
        diagrams.append(timing["diagram"])
        assert cells(page, "fc1")[2] == f"100{digit}"
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    with capsys.disabled():
        print(f"\nResNet-50 keystroke to screen over {len(tables)} edits (load {load:.1f} per "
              f"core): table median {statistics.median(tables):.0f} ms (max {max(tables):.0f}; "
              f"of which the server's answer {statistics.median(servers):.0f} ms); diagram's SVG "
              f"received: median {statistics.median(arrived):.0f} ms, on screen: median "
              f"{statistics.median(diagrams):.0f} ms (max {max(diagrams):.0f})")


def test_screenshot_for_the_readme(page, request, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 720})
    click_at(page, 5, 3)
    page.wait_for_selector("#explain canvas.window")
    settled(page, drawn=True)
    update = request.config.getoption("--update-goldens")
    if update:
        time.sleep(1.0)   # let the window slide a few steps for the README's picture
    path = SCREENSHOT if update else tmp_path / "playground.png"
    page.screenshot(path=str(path))
    from PIL import Image

    with Image.open(path) as picture:
        assert picture.size == (1280, 720)
    assert SCREENSHOT.exists(), "docs/playground.png is missing: run pytest --update-goldens"


# ---- never saving what the user did not mean to save (issue 17 item 2, issue 18 part 1) ------

def link_to(url: str, text: str, file: str) -> str:
    """The page's address holding `text` (as the page's own share.js writes it)."""
    import base64
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(text.encode("utf-8")) + packer.flush()
    z = base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")
    return f"{url}#file={file}&z={z}"


@pytest.fixture(scope="module")
def victim_server(tmp_path_factory, cnndsl_cmd_module):
    """`cnndsl serve victim.cnn`, one for the module: `victim` resets the file per test."""
    spec = tmp_path_factory.mktemp("victim") / "victim.cnn"
    spec.write_text(LENET, encoding="utf-8")
    server, url = start(cnndsl_cmd_module, spec)
    yield spec, url
    stop(server)


@pytest.fixture
def victim(tab, victim_server):
    """victim.cnn holding LENET (the page reads the file anew on each load), and a way
    to open the page on the server, once a test: (spec, url, open)."""
    spec, url = victim_server
    spec.write_text(LENET, encoding="utf-8")
    with loaded(tab):
        yield spec, url, lambda address=url, ready=True: visit(tab, address, ready)


HOSTILE = "model Evil\ninput 1x8x8\nfc 2\n"


def test_a_link_never_writes_its_text_into_the_opened_file(victim):
    spec, url, opened = victim
    page = opened(link_to(url, HOSTILE, "victim.cnn"))
    assert doc(page) == HOSTILE
    assert page.inner_text("#save") == "Save as…"
    page.click(".cm-content")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#replace-file")
    assert "not victim.cnn" in page.inner_text("#save-note")
    time.sleep(0.3)
    assert spec.read_text(encoding="utf-8") == LENET          # Ctrl+S wrote nothing
    page.click("#save")
    assert spec.read_text(encoding="utf-8") == LENET          # nor did the button
    assert page.inner_text("#replace-file") == \
        "Replace victim.cnn with the text from the page's address"
    page.click("#replace-file")                               # the explicit, named confirmation
    wait(page, "document.querySelector('#save-note').textContent.startsWith('saved')")
    assert spec.read_text(encoding="utf-8") == HOSTILE
    assert page.inner_text("#save") == "Save victim.cnn"


def test_a_link_with_the_files_own_text_is_the_file(victim):
    spec, url, opened = victim
    page = opened(link_to(url, LENET, "victim.cnn"))
    assert page.inner_text("#save") == "Save victim.cnn"


def test_an_example_never_replaces_the_opened_file(victim):
    spec, url, opened = victim
    page = opened()
    assert page.inner_text("#save") == "Save victim.cnn"
    page.select_option("#examples", "resnet50.cnn")
    wait(page, "document.querySelectorAll('tr.row').length > 150")
    assert page.inner_text("#save") == "Save as…"
    page.click(".cm-content")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#replace-file")
    assert page.inner_text("#replace-file") == "Replace victim.cnn with the example resnet50.cnn"
    with page.expect_download() as info:
        page.click("#download-spec")
    assert info.value.suggested_filename == "resnet50.cnn"
    assert spec.read_text(encoding="utf-8") == LENET
    page.click(".cm-content")
    page.keyboard.press("Control+z")                          # back to the file's text ...
    settled(page)
    assert doc(page) == LENET and page.inner_text("#save") == "Save victim.cnn"   # ... and Save
    page.keyboard.press("Control+Shift+z")                    # redo: the example again
    settled(page)
    assert page.inner_text("#save") == "Save as…"
    assert spec.read_text(encoding="utf-8") == LENET


def test_a_reload_shows_an_edit_made_on_disk(victim):
    spec, url, opened = victim
    page = opened()
    settled(page)
    spec.write_text(LENET + "# edited in another editor\n", encoding="utf-8")
    page.reload()
    wait(page, "window.cnndsl && window.cnndsl.checked !== null")
    assert doc(page).endswith("# edited in another editor\n")
    assert page.inner_text("#save") == "Save victim.cnn"


def test_a_save_over_a_disk_edit_offers_reload_or_overwrite(victim):
    spec, url, opened = victim
    page = opened()
    spec.write_text(LENET + "# edited in another editor\n", encoding="utf-8")
    click_at(page, 1, 1)
    page.keyboard.type("# mine\n")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#reload")
    assert "changed on disk" in page.inner_text("#save-note")
    assert spec.read_text(encoding="utf-8").endswith("# edited in another editor\n")
    page.click("#reload")
    wait(page, "window.cnndsl.view.state.doc.toString().endsWith('another editor\\n')")
    assert page.inner_text("#save") == "Save victim.cnn"
    click_at(page, 1, 1)
    page.keyboard.type("# mine\n")
    page.keyboard.press("Control+s")
    wait(page, "document.querySelector('#save-note').textContent.startsWith('saved')")
    assert spec.read_text(encoding="utf-8") == "# mine\n" + LENET + "# edited in another editor\n"


def test_without_the_token_the_page_gets_nothing(victim):
    spec, url, opened = victim
    page = opened(url.split("?")[0], ready=False)
    wait(page, "document.querySelector('#status').textContent.includes('token')")
    assert LENET.splitlines()[0] not in page.content()


# ---- v2: problems in view, quick fixes (issue 18 part 2) -------------------------------------

def test_the_problems_list_shows_every_diagnostic_jumps_and_explains(page):
    set_text(page, "input 1x8x8\nfc 2 -> sigmoud\n-> tanhh\n")
    wait(page, "document.querySelectorAll('#problems li').length === 2")
    rows = page.eval_on_selector_all("#problems li", "ls => ls.map(l => l.textContent)")
    assert rows[0].startswith("E0201 line 2 unknown layer `sigmoud`")
    assert rows[1].startswith("E0201 line 3 unknown layer `tanhh`")
    page.click("#problems li:nth-child(2) .jump")
    where = page.evaluate("""(() => { const v = window.cnndsl.view, s = v.state.selection.main;
        return [v.state.doc.lineAt(s.from).number, v.state.sliceDoc(s.from, s.to)]; })()""")
    assert where == [3, "tanhh"]
    page.click("#problems li:first-child .code")
    wait(page, "document.querySelector('#explain h2').textContent.startsWith('E0201')")
    assert "neither a layer word" in page.inner_text("#explain")


def test_the_hover_shows_the_whole_diagnostic(page):
    set_text(page, "input 1x28x28\nconv 6 k5 -> maxpool 2 -> conv 16 k5 -> maxpool 2\n"
                   "-> conv 32 k5 -> relu\n")
    wait(page, "document.querySelector('.cm-lintRange-error')")
    page.hover(".cm-lintRange-error")
    text = page.wait_for_selector(".cm-tooltip-lint").inner_text()
    assert "3:12 ^ a 5x5 kernel needs at least 5x5 input, got 4x4" in text
    assert "2:41 - output is 16x4x4" in text


def test_a_quick_fix_is_one_click(page):
    """An exact fix (a word in the wrong case) and a suggestion (a spelling guess,
    which `check --fix` never applies) are each one click."""
    set_text(page, "input 1x8x8\nfc 2 -> Sigmoid\n")
    wait(page, "document.querySelector('#problems .fix')")
    assert page.inner_text("#problems .fix") == "Fix: write `sigmoid`"
    page.click("#problems .fix")
    settled(page)
    assert doc(page) == "input 1x8x8\nfc 2 -> sigmoid\n"
    set_text(page, "input 1x8x8\nfc 2 -> sigmoud\n")
    wait(page, "document.querySelector('#problems .fix.suggestion')")
    assert page.inner_text("#problems .fix") == "Did you mean `sigmoid`?"
    page.click("#problems .fix")
    settled(page)
    assert doc(page) == "input 1x8x8\nfc 2 -> sigmoid\n"
    wait(page, "document.querySelector('#problems').textContent === 'No problems.'")
    set_text(page, "input 1x8x8\nfc 2 -> sigmoud\n")      # the same button in the hover
    wait(page, "document.querySelector('.cm-lintRange-error')")
    page.hover(".cm-lintRange-error")
    page.wait_for_selector(".cm-tooltip-lint .fix").click()
    settled(page)
    assert doc(page) == "input 1x8x8\nfc 2 -> sigmoid\n"


def test_an_empty_editor_shows_an_empty_state(page):
    settled(page, drawn=True)
    assert page.query_selector("tr.row") and page.query_selector("#diagram svg")
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    settled(page)
    assert page.query_selector("tr.row") is None and page.query_selector("#diagram svg") is None
    assert "The editor is empty" in page.inner_text("#table")
    assert page.inner_text("#status") == "empty spec"


def test_an_error_keeps_the_layers_before_it(page):
    set_text(page, "input 1x28x28\nconv 6 k5 -> maxpool 2 -> conv 16 k5 -> maxpool 2\n"
                   "-> conv 32 k5 -> relu -> fc 10\n")
    wait(page, "document.querySelector('table.summary.partial')")
    names = page.eval_on_selector_all("tr.row", "rs => rs.map(r => r.dataset.name)")
    assert names == ["conv1", "pool1", "conv2", "pool2"]
    assert cells(page, "pool2")[2] == "16x4x4" and cells(page, "conv2")[3] == "2,416"
    assert "stale" not in page.get_attribute("#table-pane", "class")
    assert "Checked up to the first error" in page.inner_text("#table")
    page.click('tr.row[data-name="conv2"]')                  # and their arithmetic
    wait(page, "document.querySelector('#explain h2') && "
               "document.querySelector('#explain h2').textContent.includes('conv2')")
    set_text(page, "input 1x8x8\nfc 2\nassert params == 5\n")   # an assert alone: all valid
    wait(page, "!document.querySelector('table.summary.partial')")
    assert cells(page, "fc1")[3] == "130"
    assert "stale" not in page.get_attribute("#table-pane", "class")


# ---- v2: layout, folding, linked selection -----------------------------------------------------

def load_resnet(page) -> None:
    page.select_option("#examples", "resnet50.cnn")
    wait(page, "document.querySelectorAll('tr.row').length > 150")
    settled(page, drawn=True)


def test_output_and_params_are_on_screen_at_1280x720(page):
    page.set_viewport_size({"width": 1280, "height": 720})
    load_resnet(page)
    edges = page.evaluate("""(() => {
        const pane = document.querySelector('#table-pane').getBoundingClientRect();
        const th = [...document.querySelectorAll('table.summary th')];
        const at = (t) => th.find(h => h.textContent === t).getBoundingClientRect();
        return [pane.right, at('Output').right, at('Params').right, innerWidth]; })()""")
    assert edges[1] <= edges[0] and edges[2] <= edges[0] <= edges[3], edges
    page.set_viewport_size({"width": 800, "height": 720})       # narrow: the panes stack
    lefts = page.evaluate("['#editor-pane', '#table-pane', '#diagram-pane'].map(s => "
                          "Math.round(document.querySelector(s).getBoundingClientRect().left))")
    assert len(set(lefts)) == 1, lefts


def test_a_block_use_is_one_row_that_opens(page):
    load_resnet(page)
    assert page.is_visible('tr.row[data-name="bottleneck1"]')
    assert page.is_hidden('tr.row[data-name="bottleneck1.conv2"]')
    page.click('tr.row[data-name="bottleneck1"]')
    assert page.is_visible('tr.row[data-name="bottleneck1.conv2"]')
    page.click('tr.row[data-name="bottleneck1"]')
    assert page.is_hidden('tr.row[data-name="bottleneck1.conv2"]')
    line = doc(page).splitlines().index("        -> conv c k3 p1 nobias -> bn -> relu") + 1
    click_at(page, line, 12)          # a layer inside a folded block opens it in the table
    wait(page, "document.querySelector('tr.picked')")
    assert page.is_visible("tr.picked")


def test_selecting_a_layer_anywhere_shows_it_in_the_other_two(page):
    settled(page, drawn=True)
    page.click('tr.row[data-name="conv2"]')                     # table -> diagram, editor
    wait(page, "document.querySelector('#diagram g.node.picked title')")
    assert page.evaluate("document.querySelector('#diagram g.node.picked title')"
                         ".textContent") == "conv2"
    assert page.evaluate("document.querySelector('.cm-picked').textContent") == "conv 16 k5"
    page.click("#diagram g.node:has(title:text-is('fc1'))")     # diagram -> table, editor
    wait(page, "document.querySelector('tr.picked') && "
               "document.querySelector('tr.picked').dataset.name === 'fc1'")
    assert page.evaluate("document.querySelector('.cm-picked').textContent") == "fc 120"
    width = page.evaluate("document.querySelector('#diagram svg').getBoundingClientRect().width")
    page.click("#zoom-in")
    wider = page.evaluate("document.querySelector('#diagram svg').getBoundingClientRect().width")
    assert wider > width * 1.2
    page.click("#zoom-fit")
    assert page.evaluate("document.querySelector('#diagram svg').getBoundingClientRect()"
                         ".width") == width


def test_the_cheat_sheet_is_one_click_away(page):
    assert not page.is_visible("#cheatsheet")
    page.click("#help")
    assert page.is_visible("#cheatsheet")
    sheet = page.inner_text("#cheatsheet")
    for words in ("conv OUT kK", "residual(x)", "assert params",
                  "⌊(n + 2p − d·(k−1) − 1) / s⌋ + 1"):
        assert words in sheet
    page.keyboard.press("Escape")
    assert not page.is_visible("#cheatsheet")


def test_the_diagram_folds_its_blocks(page):
    load_resnet(page)
    nodes = page.evaluate("document.querySelectorAll('#diagram g.node').length")
    page.click("#fold-diagram")
    wait(page, f"document.querySelectorAll('#diagram g.node').length < {nodes} / 3")
    assert page.inner_text("#fold-diagram") == "Unfold blocks"
    page.click("#fold-diagram")
    wait(page, f"document.querySelectorAll('#diagram g.node').length === {nodes}")


# ---- the language server's inlay hints in the editor (issue 23) ------------------------------

HINTS_SHOT = ROOT / "docs" / "editor-hints.png"


def hints(page) -> list[list]:
    """Each inlay hint shown: [line, column it stands before, its text]."""
    return page.evaluate("""(() => {
        const v = window.cnndsl.view;
        return [...document.querySelectorAll('.cm-inlay-hint')].map((el) => {
            const pos = v.posAtDOM(el), line = v.state.doc.lineAt(pos);
            return [line.number, pos - line.from + 1, el.textContent]; }); })()""")


def test_each_layer_shows_its_output_shape_inline(page):
    settled(page)
    wait(page, "document.querySelectorAll('.cm-inlay-hint').length === 11")
    shown = hints(page)
    assert shown[:3] == [[5, 16, "→ 6x28x28"], [5, 24, "→ 6x28x28"], [5, 37, "→ 6x14x14"]]
    assert shown[-1] == [7, 44, "→ 10"] and [6, 35, "→ 16x5x5"] in shown
    line = page.inner_text(".cm-line >> nth=4")   # the widget stands right after the layer
    assert line.startswith("conv 6 k5 s1 p0→ 6x28x28 -> relu→ 6x28x28")
    style = page.eval_on_selector(".cm-inlay-hint", "el => getComputedStyle(el).color")
    assert style != page.eval_on_selector(".cm-line", "el => getComputedStyle(el).color")


def test_a_block_use_shows_its_params_inline(page):
    set_text(page, (ROOT / "specs" / "residual_net.cnn").read_text(encoding="utf-8"))
    wait(page, "document.querySelectorAll('.cm-inlay-hint').length === 9")
    shown = hints(page)
    assert [9, 48, "→ 16x12x12 · 4.64K params"] in shown
    assert [10, 51, "→ 32x4x4 · 18.50K params"] in shown
    assert not [h for h in shown if h[0] < 9]    # nothing inside the block's definition


def test_the_shapes_inline_toggle_hides_and_shows_the_hints(page):
    wait(page, "document.querySelectorAll('.cm-inlay-hint').length === 11")
    assert page.is_checked("#shapes-inline")
    page.click("#shapes-inline")
    wait(page, "document.querySelectorAll('.cm-inlay-hint').length === 0")
    set_text(page, LENET.replace("fc 10", "fc 7"))   # a check while hidden shows nothing
    assert hints(page) == []
    page.click("#shapes-inline")
    wait(page, "document.querySelectorAll('.cm-inlay-hint').length === 11")
    assert hints(page)[-1] == [7, 43, "→ 7"]


def test_an_edit_updates_the_hints_and_an_older_check_is_dropped(page):
    wait(page, "document.querySelectorAll('.cm-inlay-hint').length === 11")
    click_at(page, 5, 3)                 # `conv 6` -> `conv 8`
    page.keyboard.press("Home")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Delete")
    page.keyboard.type("8")
    settled(page)
    assert doc(page).splitlines()[4].startswith("conv 8 k5"), doc(page)
    wait(page, "document.querySelector('.cm-inlay-hint').textContent === '→ 8x28x28'")
    assert hints(page)[:3] == [[5, 16, "→ 8x28x28"], [5, 24, "→ 8x28x28"],
                               [5, 37, "→ 8x14x14"]]
    page.keyboard.press("Backspace")     # `conv ` alone: an error, the hints stop before it
    settled(page)
    wait(page, "document.querySelectorAll('.cm-inlay-hint').length === 0")
    # a check of a text the editor no longer holds places nothing
    page.evaluate("""window.cnndsl.view.dispatch({ effects: window.cnndsl.hintsFor(
        'input 1x8x8\\nfc 2\\n', [{ line: 1, column: 1, label: '→ stale' }]) })""")
    assert hints(page) == []
    page.evaluate("""(() => { const v = window.cnndsl.view; v.dispatch({ effects:
        window.cnndsl.hintsFor(v.state.doc.toString(), [{ line: 1, column: 3, label: '→ now' }])
        }); })()""")
    assert hints(page) == [[1, 3, "→ now"]]


def test_screenshot_of_the_inlay_hints_for_the_docs(page, request, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 720})
    set_text(page, (ROOT / "specs" / "residual_net.cnn").read_text(encoding="utf-8"))
    wait(page, "document.querySelectorAll('.cm-inlay-hint').length === 9")
    settled(page, drawn=True)
    page.evaluate("window.cnndsl.view.contentDOM.blur()")
    update = request.config.getoption("--update-goldens")
    path = HINTS_SHOT if update else tmp_path / "editor-hints.png"
    page.screenshot(path=str(path))
    from PIL import Image

    with Image.open(path) as picture:
        assert picture.size == (1280, 720)
    assert HINTS_SHOT.exists(), "docs/editor-hints.png is missing: run pytest --update-goldens"
