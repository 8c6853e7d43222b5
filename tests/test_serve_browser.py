"""The playground in a real browser, the checker's view: typing, errors, a layer's arithmetic,
the address, downloads, the examples, the keystroke timing and the README's picture
(`pytest --update-goldens` also rewrites docs/playground.png). The helpers and the
fixtures are tests/playground.py's; the editor (saving, problems, layout, hints) is
test_serve_browser_editor.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import time
from pathlib import Path

import playground
from conftest import ROOT
from playground import (
    cells,
    click_at,
    diagram_svg,
    doc,
    new_context,
    open_page,
    set_text,
    settled,
    wait,
)

pytestmark = playground.needs_chromium
browser, tab, spawned, served, page = (playground.browser, playground.tab, playground.spawned,
                                       playground.served, playground.page)

SCREENSHOT = ROOT / "docs" / "playground.png"


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
