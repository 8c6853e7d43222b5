"""`cnndsl lsp` end to end: pytest-lsp drives the real server over stdio.

Each test starts `python -m cnndsl lsp`, opens a document and asks what an
editor asks. Tests of the VS Code extension that need npm tools skip when
`editors/vscode/node_modules` is absent.
"""


import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytest_asyncio

pytest_lsp = pytest.importorskip("pytest_lsp", reason="pytest-lsp is not installed (the dev "
                                                      "extra)")
from lsprotocol import types as T  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SERVER = [sys.executable, "-m", "cnndsl", "lsp"]
URI = "file:///work/residual_net.cnn"


#: the tests below share one server (starting one costs ~1.25 s): `client` closes every
#: document a test opened and puts the settings back, so each test sees a fresh server
in_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def server(lsp_client: LanguageClient):
    await lsp_client.initialize_session(T.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        initialization_options={"docsUrl": "https://example.org/cnndsl/"}))
    yield
    await lsp_client.shutdown_session()


@pytest_asyncio.fixture(loop_scope="module")
async def client(server: LanguageClient):
    """The shared server as a fresh one: no document open, the settings of `initialize`
    (inlay hints per layer), and nothing received yet."""
    server.diagnostics.clear()
    server.messages.clear()
    server.opened = set()
    yield server
    for uri in sorted(server.opened):     # each close publishes the document's end
        server.diagnostics.pop(uri, None)
        server.text_document_did_close(T.DidCloseTextDocumentParams(
            text_document=T.TextDocumentIdentifier(uri=uri)))
        while uri not in server.diagnostics or list(server.diagnostics[uri]):
            await published(server)
    server.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"cnndsl": {"inlayHints": "layer"}}))
    assert server.error is None, "the server failed during the test"


async def open_doc(client: LanguageClient, text: str, uri: str = URI) -> list[T.Diagnostic]:
    client.opened.add(uri)
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=uri, language_id="cnn", version=1, text=text)))
    await published(client)
    return client.diagnostics[uri]


async def published(client: LanguageClient) -> None:
    """The next diagnostics, or a failure naming the server's own complaint."""
    try:
        await asyncio.wait_for(client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS),
                               30)
    except TimeoutError:
        pytest.fail(f"no diagnostics came; the server said {client.messages}")


def at(text: str, needle: str, extra: int = 0) -> T.Position:
    """The position of `needle` in `text` (plus `extra` characters), ASCII text."""
    i = text.index(needle) + extra
    line = text.count("\n", 0, i)
    return T.Position(line=line, character=i - (text.rfind("\n", 0, i) + 1))


def doc() -> T.TextDocumentIdentifier:
    return T.TextDocumentIdentifier(uri=URI)


RESIDUAL = (SPECS / "residual_net.cnn").read_text()


# ---- diagnostics -----------------------------------------------------------------------

@in_module_loop
async def test_diagnostics_on_open_carry_code_link_related_and_tags(client):
    text = "input 1x28x28\nconv 6 k5 -> maxpool 2 -> conv 16 k5 -> maxpool 2\n" \
           "-> conv 32 k5 as unused -> relu\n"
    found = await open_doc(client, text)
    codes = {d.code for d in found}
    assert "E0301" in codes
    error = next(d for d in found if d.code == "E0301")
    assert error.severity == T.DiagnosticSeverity.Error
    from markdown.extensions.toc import slugify

    from cnndsl.diagnostics.codes import CODES

    heading = f"E0301: {CODES['E0301'].title}"          # as docs/errors.md titles it
    assert f"## {heading}\n" in (ROOT / "docs" / "errors.md").read_text()
    assert error.code_description.href == \
        f"https://example.org/cnndsl/errors/#{slugify(heading, '-')}"
    assert error.related_information, "the secondary spans travel as related information"
    assert error.range.start.line == 2
    found = await open_doc(client, "input 8x16x16\n"     # a merge's label names no module
                           "add(identity, conv 8 k3 p1) as unused -> relu -> fc 2\n",
                           uri="file:///work/unused.cnn")
    unused = next(d for d in found if d.code == "W0107")
    assert list(unused.tags) == [T.DiagnosticTag.Unnecessary]
    assert unused.severity == T.DiagnosticSeverity.Warning


@in_module_loop
async def test_changes_are_debounced_and_stale_results_dropped(client):
    await open_doc(client, RESIDUAL)
    client.diagnostics.pop(URI, None)
    # three quick edits; only the last text is checked and published
    for version, text in ((2, RESIDUAL + "-> conv"), (3, RESIDUAL + "-> conv 8 k99"),
                          (4, RESIDUAL.replace("fc 10", "fc 10 -> relu"))):
        client.text_document_did_change(T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=URI, version=version),
            content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)]))
    await published(client)
    assert list(client.diagnostics[URI]) == []     # the last version is clean
    # and no later notification brings back an older version's errors
    time.sleep(0.5)
    hints = await client.text_document_inlay_hint_async(T.InlayHintParams(
        text_document=doc(), range=T.Range(start=T.Position(line=0, character=0),
                                           end=T.Position(line=99, character=0))))
    assert list(client.diagnostics[URI]) == []
    assert hints[-1].label == "→ 10"


# ---- inlay hints, hover ----------------------------------------------------------------

@in_module_loop
async def test_inlay_hints_show_each_layers_shape_and_a_blocks_params(client):
    await open_doc(client, RESIDUAL)
    hints = await client.text_document_inlay_hint_async(T.InlayHintParams(
        text_document=doc(), range=T.Range(start=T.Position(line=0, character=0),
                                           end=T.Position(line=99, character=0))))
    labels = [h.label for h in hints]
    assert labels[0] == "→ 16x24x24"                   # conv 16 k5 on 1x28x28
    assert "→ 16x12x12 · 4.64K params" in labels      # Residual(16)
    first = hints[0]
    assert first.position == at(RESIDUAL, "conv 16 k5", len("conv 16 k5"))


@in_module_loop
async def test_inlay_hints_follow_the_setting(client):
    await open_doc(client, RESIDUAL)
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"cnndsl": {"inlayHints": "off"}}))
    rng = T.Range(start=T.Position(line=0, character=0), end=T.Position(line=99, character=0))
    hints = await client.text_document_inlay_hint_async(T.InlayHintParams(text_document=doc(),
                                                                          range=rng))
    assert list(hints) == []
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"cnndsl": {"inlayHints": "line"}}))
    hints = await client.text_document_inlay_hint_async(T.InlayHintParams(text_document=doc(),
                                                                          range=rng))
    assert len({h.position.line for h in hints}) == len(hints) == 3   # one per line of body


@in_module_loop
async def test_hover_on_a_conv_shows_its_arithmetic(client):
    await open_doc(client, RESIDUAL)
    hover = await client.text_document_hover_async(T.HoverParams(
        text_document=doc(), position=at(RESIDUAL, "conv 16 k5", 2)))
    value = hover.contents.value
    assert "1x28x28 → **16x24x24**" in value
    assert "⌊(28 + 2·0 − 5)/1⌋ + 1 = 24" in value
    assert "(5·5·1 + 1)·16 = 416" in value
    assert "receptive field 5x5" in value


@in_module_loop
async def test_hover_on_a_block_use_a_label_and_a_code(client):
    await open_doc(client, RESIDUAL)
    hover = await client.text_document_hover_async(T.HoverParams(
        text_document=doc(), position=at(RESIDUAL, "Residual(32)", 3)))
    value = hover.contents.value
    assert "block Residual(c)" in value
    assert "32x4x4 → **32x4x4**" in value and "18,496" in value
    text = "input 8x16x16\nadd(identity, conv 8 k3 p1) as feat -> relu -> fc 2\n"
    await open_doc(client, text, uri="file:///work/label.cnn")
    hover = await client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri="file:///work/label.cnn"),
        position=at(text, "feat", 1)))
    value = hover.contents.value
    assert "defined on line 2" in value and "**8x16x16**" in value
    assert "W0107: unused label or input" in value      # the warning's explanation


# ---- completion, signature help --------------------------------------------------------

@in_module_loop
async def test_completion_after_an_arrow_offers_layers_and_blocks(client):
    text = RESIDUAL.replace("-> fc 10", "-> ")
    await open_doc(client, text)
    found = await client.text_document_completion_async(T.CompletionParams(
        text_document=doc(), position=at(text, "relu -> Residual(32)\n-> ", 25)))
    items = {i.label: i for i in found.items}
    assert items["conv"].detail.startswith("conv")            # its usage
    assert items["Residual"].insert_text == "Residual(${1:c})"
    assert items["Residual"].insert_text_format == T.InsertTextFormat.Snippet
    assert "residual" in items and "fc" in items


@in_module_loop
async def test_completion_of_flags_labels_and_train_keys(client):
    text = ("input 1x28x28\nconv 8 k3 as a -> relu -> @a -> conv 4 \n"
            "train {\n  \n}\n")
    await open_doc(client, text)
    flags = await client.text_document_completion_async(T.CompletionParams(
        text_document=doc(), position=at(text, "conv 4 ", 7)))
    labels = {i.label for i in flags.items}
    assert {"k", "s", "p", "nobias", "kernel="} <= labels and "relu" not in labels
    refs = await client.text_document_completion_async(T.CompletionParams(
        text_document=doc(), position=at(text, "@a", 1)))
    assert [i.label for i in refs.items] == ["a"]
    keys = await client.text_document_completion_async(T.CompletionParams(
        text_document=doc(), position=T.Position(line=3, character=2)))
    assert "epochs" in {i.label for i in keys.items}


@in_module_loop
async def test_signature_help_inside_a_block_call(client):
    text = "input 3x8x8\nblock B(c, k=3) { conv c k=k }\nB(4, \n"
    await open_doc(client, text)
    found = await client.text_document_signature_help_async(T.SignatureHelpParams(
        text_document=doc(), position=T.Position(line=2, character=5)))
    assert found.signatures[0].label == "B(c, k=3)"
    assert found.active_parameter == 1


# ---- navigation, rename ----------------------------------------------------------------

@in_module_loop
async def test_definition_of_a_block_and_a_label(client):
    await open_doc(client, RESIDUAL)
    found = await client.text_document_definition_async(T.DefinitionParams(
        text_document=doc(), position=at(RESIDUAL, "Residual(32)", 2)))
    assert found.range.start == at(RESIDUAL, "Residual(c)")
    text = "input 1x28x28\nconv 8 k3 p1 as skip -> relu\n-> add(@skip, conv 8 k3 p1)\n"
    await open_doc(client, text, uri="file:///work/skip.cnn")
    found = await client.text_document_definition_async(T.DefinitionParams(
        text_document=T.TextDocumentIdentifier(uri="file:///work/skip.cnn"),
        position=at(text, "@skip", 2)))
    assert found.range.start == at(text, "skip")
    refs = await client.text_document_references_async(T.ReferenceParams(
        text_document=T.TextDocumentIdentifier(uri="file:///work/skip.cnn"),
        position=at(text, "skip"), context=T.ReferenceContext(include_declaration=False)))
    assert [r.range.start for r in refs] == [at(text, "@skip", 1)]


@in_module_loop
async def test_rename_a_block_parameter_and_a_block(client):
    await open_doc(client, RESIDUAL)
    edit = await client.text_document_rename_async(T.RenameParams(
        text_document=doc(), position=at(RESIDUAL, "(c)", 1), new_name="width"))
    changed = apply(RESIDUAL, edit.changes[URI])
    assert "block Residual(width)" in changed and "conv width k3 p1 -> relu -> conv width" \
        in changed
    edit = await client.text_document_rename_async(T.RenameParams(
        text_document=doc(), position=at(RESIDUAL, "Residual(16)"), new_name="Skip"))
    changed = apply(RESIDUAL, edit.changes[URI])
    assert changed.count("Skip") == 3 and "Residual(" not in changed
    import cnndsl

    assert cnndsl.check(changed).ok
    with pytest.raises(Exception, match="word of the language"):
        await client.text_document_rename_async(T.RenameParams(
            text_document=doc(), position=at(RESIDUAL, "(c)", 1), new_name="conv"))


def apply(text: str, edits: list[T.TextEdit]) -> str:
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    spans = [(starts[e.range.start.line] + e.range.start.character,
              starts[e.range.end.line] + e.range.end.character, e.new_text) for e in edits]
    for a, b, new in sorted(spans, reverse=True):
        text = text[:a] + new + text[b:]
    return text


@in_module_loop
async def test_outline_folding_and_semantic_tokens(client):
    await open_doc(client, RESIDUAL)
    symbols = await client.text_document_document_symbol_async(T.DocumentSymbolParams(
        text_document=doc()))
    assert [s.name for s in symbols] == ["Residual"]
    assert [c.name for c in symbols[0].children] == ["c"]
    folds = await client.text_document_folding_range_async(T.FoldingRangeParams(
        text_document=doc()))
    assert any(f.start_line == 4 for f in folds)
    found = await client.text_document_semantic_tokens_full_async(T.SemanticTokensParams(
        text_document=doc()))
    assert found.data and len(found.data) % 5 == 0


# ---- fixes, formatting -----------------------------------------------------------------

@in_module_loop
async def test_a_quick_fix_applied_makes_the_spec_check(client):
    text = "input 3x32x32\nconv 8 k3 g2\n"
    found = await open_doc(client, text)
    assert [d.code for d in found] == ["E0304"]
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=doc(), range=found[0].range,
        context=T.CodeActionContext(diagnostics=found)))
    assert [a.title for a in actions] == ["E0304: replace `g2` with `g1`"]
    assert actions[0].kind == T.CodeActionKind.QuickFix and actions[0].is_preferred
    fixed = apply(text, actions[0].edit.changes[URI])
    assert fixed == "input 3x32x32\nconv 8 k3 g1\n"
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=URI, version=2),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text=fixed)]))
    await published(client)
    assert list(client.diagnostics[URI]) == []


@in_module_loop
async def test_formatting_is_cnndsl_fmt(client):
    """Formatting gives `cnndsl fmt`'s layout as one edit; text that does not parse
    is left alone, with a message saying why."""
    from cnndsl.backends.cnn import format_source

    messy = "input 1x28x28\nconv 6 k5->relu   # first\n->  fc 10\n"
    await open_doc(client, messy)
    options = T.FormattingOptions(tab_size=4, insert_spaces=True)
    edits = list(await client.text_document_formatting_async(T.DocumentFormattingParams(
        text_document=doc(), options=options)))
    assert len(edits) == 1 and edits[0].new_text == format_source(messy)
    assert edits[0].range.start == T.Position(line=0, character=0)
    uri = "file:///work/broken.cnn"
    await open_doc(client, "conv 6 k5 ->", uri)
    edits = await client.text_document_formatting_async(T.DocumentFormattingParams(
        text_document=T.TextDocumentIdentifier(uri=uri), options=options))
    assert list(edits) == []
    assert any("does not parse" in m.message for m in client.messages)


# ---- malformed and huge documents ------------------------------------------------------

@in_module_loop
async def test_malformed_documents_get_diagnostics_and_no_crash(client):
    for n, text in enumerate(["conv 6 k5 ->", "block X( {", "((((((((", "\x00\x01 @@ ->",
                              "input 1x28x28\nconv 6 k5 -> 𝕏 -> relu", ")" * 5000]):
        uri = f"file:///work/bad{n}.cnn"
        found = await open_doc(client, text, uri)
        assert found, text
        ident = T.TextDocumentIdentifier(uri=uri)
        end = T.Position(line=0, character=len(text))
        await client.text_document_hover_async(T.HoverParams(text_document=ident, position=end))
        await client.text_document_completion_async(T.CompletionParams(text_document=ident,
                                                                       position=end))
        await client.text_document_semantic_tokens_full_async(T.SemanticTokensParams(
            text_document=ident))
        await client.text_document_folding_range_async(T.FoldingRangeParams(
            text_document=ident))


@in_module_loop
async def test_a_huge_document_is_refused_in_bounded_time(client):
    text = "input 1x28x28\n" + "-> relu " * 300_000
    start = time.monotonic()
    found = await open_doc(client, text, "file:///work/huge.cnn")
    assert "too large" in found[0].message
    ident = T.TextDocumentIdentifier(uri="file:///work/huge.cnn")
    tokens = await client.text_document_semantic_tokens_full_async(T.SemanticTokensParams(
        text_document=ident))
    assert list(tokens.data) == []
    assert time.monotonic() - start < 60      # a hang guard, not a speed target


@in_module_loop
async def test_positions_are_utf16(client):
    text = "# 𝕏𝕏 a comment\ninput 1x28x28\nconv 6 k5 -> relu -> 𝕏\n"
    found = await open_doc(client, text)
    bad = next(d for d in found if d.range.start.line == 2)
    # `𝕏` is one character but two UTF-16 code units, at character 21
    assert bad.range.start.character == 21 and bad.range.end.character == 23


def test_hover_markdown_cannot_be_broken_out_of_by_user_text():
    from cnndsl.lsp import analysis, server

    text = "let w = 1 # ```\n[x](command:workbench.action.quit) ```\nconv w k3 ->\n"
    an = analysis.analyse(text)
    value = server.hover_at(an, text.index("w")).contents.value
    assert value.count("```") == 2          # the hover's own fence, opened and closed


# ---- a client that goes away -----------------------------------------------------------

def _message(body: dict) -> bytes:
    raw = json.dumps(body).encode()
    return b"Content-Length: %d\r\n\r\n" % len(raw) + raw


def test_a_client_that_disconnects_mid_request_ends_the_server_cleanly():
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"processId": None, "rootUri": None, "capabilities": {}}}
    opened = {"jsonrpc": "2.0", "method": "textDocument/didOpen",
              "params": {"textDocument": {"uri": URI, "languageId": "cnn", "version": 1,
                                          "text": RESIDUAL}}}
    hover = _message({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover",
                      "params": {"textDocument": {"uri": URI},
                                 "position": {"line": 8, "character": 2}}})
    proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    proc.stdin.write(_message(init) + _message({"jsonrpc": "2.0", "method": "initialized",
                                                "params": {}}) + _message(opened))
    proc.stdin.write(hover[: len(hover) // 2])     # half a request, then the client is gone
    proc.stdin.close()
    try:
        rc = proc.wait(timeout=60)
    finally:
        proc.kill()
    err = proc.stderr.read().decode()
    assert "Traceback" not in err, err
    assert rc == 0, err
    out = proc.stdout.read().decode()
    assert '"id": 1' in out.replace('"id":1', '"id": 1')      # it answered `initialize`


def test_lsp_without_the_extra_says_how_to_install(tmp_path):
    blocker = tmp_path / "pygls.py"
    blocker.write_text("raise ImportError('blocked for the test')\n")
    run = subprocess.run(SERVER, capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert run.returncode == 2
    assert "pip install 'cnndsl[lsp]'" in run.stderr and "Traceback" not in run.stderr


# ---- the TextMate grammar and the Pygments lexer agree ---------------------------------

GRAMMAR = ROOT / "editors" / "vscode" / "syntaxes" / "cnn.tmLanguage.json"


def test_grammar_and_lexer_agree_on_the_words():
    """Every layer word, alias, combinator and keyword the lexer highlights is
    in the TextMate grammar, and the grammar names no word the language lacks."""
    from cnndsl.ir.layers import COMBINATORS, KEYWORDS, layer_words

    grammar = json.loads(GRAMMAR.read_text())
    words = {}
    for name, rule in grammar["repository"].items():
        match = re.search(r"\(\?:([A-Za-z0-9_|]+)\)", rule.get("match", ""))
        if match:
            words[name] = set(match.group(1).split("|"))
    assert words["layer"] == set(layer_words())
    assert words["combinator"] == set(COMBINATORS)
    assert set(KEYWORDS) <= words["keyword"]


def test_grammar_scopes_match_the_lexer_tokens_on_every_spec():
    """The grammar's regular expressions (Python-compatible by construction) give
    each word of every spec the same class as the Pygments lexer."""
    from pygments.token import Keyword, Name, Number

    from cnndsl.front.highlight import CnnLexer

    grammar = json.loads(GRAMMAR.read_text())
    classes = {"layer": Name.Builtin, "keyword": Keyword, "number": Number,
               "label": Name.Label, "block": Name.Class, "function": Name.Function}
    rules = {k: re.compile(grammar["repository"][k]["match"]) for k in classes}
    checked = 0
    for spec in sorted(SPECS.glob("*.cnn")):
        text = spec.read_text()
        for start, token, value in CnnLexer().get_tokens_unprocessed(text):
            for name, cls in classes.items():
                if token in cls and token is not Keyword.Constant:
                    m = rules[name].match(text, start)   # in place: lookaheads see the rest
                    assert m and m.end() == start + len(value), (spec.name, value, name)
                    checked += 1
    assert checked > 1000


NODE_MODULES = ROOT / "editors" / "vscode" / "node_modules"
needs_npm = pytest.mark.skipif(not NODE_MODULES.is_dir(),
                               reason="editors/vscode/node_modules is absent: run `npm ci` in "
                                      "editors/vscode for the grammar and packaging tests")


@needs_npm
def test_grammar_passes_vscode_tmgrammar_test():
    tool = NODE_MODULES / ".bin" / "vscode-tmgrammar-test"
    run = subprocess.run([str(tool), "tests/*.test.cnn"], cwd=GRAMMAR.parent.parent,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


@needs_npm
def test_extension_packages_to_a_vsix(tmp_path):
    tool = NODE_MODULES / ".bin" / "vsce"
    out = tmp_path / "cnndsl.vsix"
    run = subprocess.run([str(tool), "package", "--out", str(out)], cwd=GRAMMAR.parent.parent,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert out.stat().st_size > 1000


# ---- the playground's hints are the language server's (issue 23) ---------------------------

@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.cnn")), ids=lambda p: p.stem)
def test_the_playgrounds_hints_are_the_language_servers(spec):
    """`/api/check`'s `hints` (the playground's editor) and `inlay` (the language
    server's `textDocument/inlayHint`) give the same labels at the same places."""
    from types import SimpleNamespace

    import cnndsl
    from cnndsl.lsp import analysis as A
    from cnndsl.lsp.server import inlay
    from cnndsl.serve import payload

    text = spec.read_text(encoding="utf-8")
    whole = T.Range(start=T.Position(line=0, character=0),
                    end=T.Position(line=10**6, character=0))
    served = inlay(SimpleNamespace(hints="layer"), A.analyse(text, spec.name), whole)
    shown = payload.hints(cnndsl.check(text, filename=spec.name))
    lines = text.split("\n")

    def utf16(line: int, column: int) -> int:   # the page's code points as LSP's units
        before = lines[line - 1][:column - 1]
        return len(before.encode("utf-16-le")) // 2

    assert [(h["line"] - 1, utf16(h["line"], h["column"]), h["label"]) for h in shown] == \
        [(h.position.line, h.position.character, h.label) for h in served]
    assert shown and all(h["label"].startswith("→ ") for h in shown)


def test_the_playgrounds_hints_follow_a_blocks_params_and_stop_at_an_error():
    import cnndsl
    from cnndsl.serve import payload

    text = (SPECS / "residual_net.cnn").read_text(encoding="utf-8")
    shown = payload.hints(cnndsl.check(text, filename="r.cnn"))
    assert {"line": 9, "column": 48, "label": "→ 16x12x12 · 4.64K params"} in shown
    broken = "input 1x8x8\nconv 4 k3 -> relu\n-> conv 4 k9\n-> fc 2\n"
    shown = payload.hints(cnndsl.check(broken, filename="b.cnn"))
    assert [h["label"] for h in shown] == ["→ 4x6x6", "→ 4x6x6"]
