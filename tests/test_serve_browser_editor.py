"""The playground in a real browser, the editor: saving to the opened file (and never
what the user did not mean to save), the problems list and quick fixes, the layout,
folding and linked selection, the inlay hints. The helpers and the fixtures are
tests/playground.py's; the checker's view is test_serve_browser.py.
"""

from __future__ import annotations

import time

import playground
from conftest import ROOT
from playground import LENET, cells, click_at, doc, set_text, settled, wait

pytestmark = playground.needs_chromium
browser, tab, spawned, served, page, victim = (
    playground.browser, playground.tab, playground.spawned, playground.served, playground.page,
    playground.victim)


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
    assert sorted(p.name for p in spec.parent.iterdir()) == ["lenet.cnn"]


# ---- never saving what the user did not mean to save (issue 17 item 2, issue 18 part 1) ------

def link_to(url: str, text: str, file: str) -> str:
    """The page's address holding `text` (as the page's own share.js writes it)."""
    import base64
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(text.encode("utf-8")) + packer.flush()
    z = base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")
    return f"{url}#file={file}&z={z}"


HOSTILE = "model Evil\ninput 1x8x8\nfc 2\n"


def test_a_link_never_writes_its_text_into_the_opened_file(victim):
    spec, url, opened = victim
    page = opened(link_to(url, HOSTILE, "lenet.cnn"))
    assert doc(page) == HOSTILE
    assert page.inner_text("#save") == "Save as…"
    page.click(".cm-content")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#replace-file")
    assert "not lenet.cnn" in page.inner_text("#save-note")
    time.sleep(0.3)
    assert spec.read_text(encoding="utf-8") == LENET          # Ctrl+S wrote nothing
    page.click("#save")
    assert spec.read_text(encoding="utf-8") == LENET          # nor did the button
    assert page.inner_text("#replace-file") == \
        "Replace lenet.cnn with the text from the page's address"
    page.click("#replace-file")                               # the explicit, named confirmation
    wait(page, "document.querySelector('#save-note').textContent.startsWith('saved')")
    assert spec.read_text(encoding="utf-8") == HOSTILE
    assert page.inner_text("#save") == "Save lenet.cnn"


def test_a_link_with_the_files_own_text_is_the_file(victim):
    spec, url, opened = victim
    page = opened(link_to(url, LENET, "lenet.cnn"))
    assert page.inner_text("#save") == "Save lenet.cnn"


def test_an_example_never_replaces_the_opened_file(victim):
    spec, url, opened = victim
    page = opened()
    assert page.inner_text("#save") == "Save lenet.cnn"
    page.select_option("#examples", "resnet50.cnn")
    wait(page, "document.querySelectorAll('tr.row').length > 150")
    assert page.inner_text("#save") == "Save as…"
    page.click(".cm-content")
    page.keyboard.press("Control+s")
    page.wait_for_selector("#replace-file")
    assert page.inner_text("#replace-file") == "Replace lenet.cnn with the example resnet50.cnn"
    with page.expect_download() as info:
        page.click("#download-spec")
    assert info.value.suggested_filename == "resnet50.cnn"
    assert spec.read_text(encoding="utf-8") == LENET
    page.click(".cm-content")
    page.keyboard.press("Control+z")                          # back to the file's text ...
    settled(page)
    assert doc(page) == LENET and page.inner_text("#save") == "Save lenet.cnn"   # ... and Save
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
    assert page.inner_text("#save") == "Save lenet.cnn"


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
    assert page.inner_text("#save") == "Save lenet.cnn"
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
