"""What the language server knows about one document, without the protocol.

`analyse(text)` checks the text once (the library's `cnndsl.check`) and indexes
its syntax tree: every definition (block, constant, label, named input, block
parameter) and every use of one, by character offset. The features in
`cnndsl.lsp.server` are thin over this and `cnndsl.backends.query`.

Offsets here count characters (code points), as `cnndsl.front.source.Span` does;
the server converts them to the protocol's UTF-16 positions.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass, field

from cnndsl.backends import query
from cnndsl.front.source import Span

#: A document longer than this is not analysed: one diagnostic says so.
MAX_TEXT = 2_000_000


# ---- the layer registry: the one place the server reads `cnndsl.ir.layers` -----------

@dataclass(frozen=True)
class LayerInfo:
    """One layer word as completion shows it."""

    word: str
    usage: str
    flags: tuple[tuple[str, str], ...]     # (letter, what it sets)
    options: tuple[tuple[str, str], ...]   # (long name, what it sets)
    switches: tuple[str, ...]              # bare words: `nobias`, `ceil`


def layer_catalogue() -> dict[str, LayerInfo]:
    """Every layer word (aliases too) with its usage, flags, options and switches,
    read from the registry's JSON Schema (`cnndsl schema`), the one source that the
    docs and the playground's word lists are made from too."""
    from cnndsl.ir.layers import canonical, layer_words, schema

    defs = schema()["$defs"]
    found = {}
    for word in layer_words():
        entry = defs[canonical(word)]
        fields = entry["properties"].values()
        found[word] = LayerInfo(
            word=word, usage=entry.get("x-usage") or entry["title"],
            flags=tuple((f["x-flag"], f["description"]) for f in fields if "x-flag" in f),
            options=tuple((n, f["description"]) for f in fields for n in f.get("x-names", ())),
            switches=tuple(w for f in fields for w in f.get("x-switches", {})))
    return found


def combinators() -> tuple[str, ...]:
    from cnndsl.ir.layers import COMBINATORS

    return tuple(COMBINATORS)


def train_keys() -> tuple[str, ...]:
    from cnndsl.passes.train_config import KEYS

    return tuple(KEYS)


# ---- symbols ------------------------------------------------------------------------

@dataclass
class Symbol:
    """A defined name: its kind, where its name is written, and every use."""

    kind: str                 # "block" | "constant" | "label" | "input" | "parameter"
    name: str
    start: int                # the name's own characters, [start, end)
    end: int
    decl: Span                # the whole declaration (outline, hover)
    scope: tuple[int, int] | None = None   # a parameter's block body
    detail: str = ""
    uses: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Analysis:
    text: str
    result: object            # cnndsl.CheckResult, or None for a document too large
    symbols: list[Symbol]
    line_starts: list[int]

    def symbol_at(self, offset: int) -> Symbol | None:
        """The symbol whose name or a use of it is under `offset` (end inclusive)."""
        for sym in self.symbols:
            if sym.start <= offset <= sym.end or any(a <= offset <= b for a, b in sym.uses):
                return sym
        return None

    def position(self, offset: int) -> tuple[int, int]:
        """(0-based line, 0-based character column) of an offset."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line, offset - self.line_starts[line]

    def offset(self, line: int, column: int) -> int:
        """The offset of a 0-based line and character column, clamped to the text."""
        line = min(max(line, 0), len(self.line_starts) - 1)
        start = self.line_starts[line]
        end = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) \
            else len(self.text)
        return min(start + max(column, 0), end)


def line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in re.finditer("\n", text))]


def analyse(text: str, name: str = "<editor>") -> Analysis:
    """Check `text` and index its names."""
    import cnndsl

    if len(text) > MAX_TEXT:
        return Analysis(text, None, [], line_starts(text))
    result = cnndsl.check(text, filename=name)
    symbols = _index(result.program, text) if result.program is not None else _scan(text)
    return Analysis(text, result, symbols, line_starts(text))


_SCAN = re.compile(r"^[ \t]*block[ \t]+([A-Z][A-Za-z0-9_]*)[ \t]*\(([^()\n]*)\)"
                   r"|^[ \t]*let[ \t]+([A-Za-z_][A-Za-z0-9_]*)[^\n]*"
                   r"|\bas[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)


def _scan(text: str) -> list[Symbol]:
    """The names of a document that does not parse, found line by line (no uses):
    completion and signature help still offer what the user has defined."""
    found = []
    for m in _SCAN.finditer(text[:MAX_TEXT]):
        kind, group = (("block", 1) if m.group(1) else ("constant", 3) if m.group(3)
                       else ("label", 4))
        start, end = m.span(group)
        span = Span(start=m.start(), end=m.end(), line=text.count("\n", 0, m.start()) + 1,
                    column=1, end_line=1, end_column=1)
        detail = f"{m.group(1)}({m.group(2).strip()})" if kind == "block" else m.group().strip()
        found.append(Symbol(kind, m.group(group), start, end, span, detail=detail))
    return found


def _children(node):
    for each in dataclasses.fields(node):
        value = getattr(node, each.name)
        if dataclasses.is_dataclass(value):
            yield value
        elif isinstance(value, tuple):
            yield from (v for v in value if dataclasses.is_dataclass(v))


def _walk(node):
    yield node
    for child in _children(node):
        if not isinstance(child, Span):
            yield from _walk(child)


def _index(program, text: str) -> list[Symbol]:
    symbols: list[Symbol] = []
    by_name: dict[str, Symbol] = {}
    _declarations(program, text, symbols, by_name)
    roots = [*program.bodies, *(b.body for b in program.blocks),
             *(c for o in program.outputs for c in o.chains), *program.lets]
    _labels(roots, symbols, by_name)
    params_of = _parameters(program, symbols)
    for root in roots:
        _link_uses(root, params_of.get(id(root), {}), by_name)
    return symbols


def _declarations(program, text: str, symbols: list[Symbol], by_name: dict[str, Symbol]):
    """Blocks, constants and named inputs, in that order (`@name` keys an input)."""
    for block in program.blocks:
        params = ", ".join(text[p.span.start:p.span.end] for p in block.params)
        sym = Symbol("block", block.name, block.name_span.start, block.name_span.end,
                     block.span, detail=f"{block.name}({params})")
        symbols.append(sym)
        by_name[block.name] = sym
    for let in program.lets:
        sym = Symbol("constant", let.name, let.name_span.start, let.name_span.end, let.span,
                     detail=text[let.span.start:let.span.end])
        symbols.append(sym)
        by_name.setdefault(let.name, sym)
    for decl in program.inputs:
        if decl.name and decl.name_span is not None:
            sym = Symbol("input", decl.name, decl.name_span.start, decl.name_span.end,
                         decl.span, detail=text[decl.span.start:decl.span.end])
            symbols.append(sym)
            by_name.setdefault("@" + decl.name, sym)


def _labels(roots, symbols: list[Symbol], by_name: dict[str, Symbol]) -> None:
    from cnndsl.front import syntax as ast

    for root in roots:
        for node in _walk(root):
            if isinstance(node, ast.Labelled):
                sym = Symbol("label", node.label, node.label_span.start, node.label_span.end,
                             node.span, detail=f"as {node.label}")
                symbols.append(sym)
                by_name.setdefault("@" + node.label, sym)


def _parameters(program, symbols: list[Symbol]) -> dict[int, dict[str, Symbol]]:
    """Block parameters, scoped to their block's body: by the body's id."""
    params_of = {}
    for block in program.blocks:
        own = {}
        for p in block.params:
            sym = Symbol("parameter", p.name, p.span.start, p.span.start + len(p.name), p.span,
                         scope=(block.body.span.start, block.body.span.end),
                         detail=f"parameter of {block.name}")
            symbols.append(sym)
            own[p.name] = sym
        params_of[id(block.body)] = own
    return params_of


def _link_uses(root, own: dict[str, Symbol], by_name: dict[str, Symbol]) -> None:
    """Each use under `root` of a block, label, constant or parameter (`own`: the
    parameters in scope), added to its symbol's uses."""
    from cnndsl.front import syntax as ast

    for node in _walk(root):
        target, start, end = None, 0, 0
        if isinstance(node, ast.BlockUse | ast.LayerUse) and node.name in by_name \
                and by_name[node.name].kind == "block":
            target, start, end = by_name[node.name], node.name_span.start, \
                node.name_span.end
        elif isinstance(node, ast.Ref):
            target = by_name.get("@" + node.name)
            start, end = node.span.start + 1, node.span.end
        elif isinstance(node, ast.Name):
            target = own.get(node.name) or by_name.get(node.name)
            if target is not None and target.kind not in ("constant", "parameter"):
                target = None
            start, end = node.span.start, node.span.end
        if target is not None and (start, end) != (target.start, target.end):
            target.uses.append((start, end))


# ---- figures -------------------------------------------------------------------------

def shape(dims) -> str:
    return "x".join(str(d) for d in dims)


def top_rows(analysis: Analysis) -> list:
    """The rows of the body (depth 0): one per layer, block use or merge as written
    at the top level, in order. A spec with errors gets the rows the checker could
    annotate."""
    result = analysis.result
    if result is None:
        return []
    try:
        rows = query._rows(result)   # query's adapter: the one reader of rows
    except (AttributeError, TypeError, ValueError):
        return []
    good = []
    for row in rows:
        try:
            row.output, row.params   # not annotated past the first error
        except (AttributeError, TypeError, ValueError):
            break
        if row.depth == 0:
            good.append(row)
    return good


def fmt_count(n: int) -> str:
    from cnndsl.backends.table.report import human

    return human(n)


def inlay_labels(analysis: Analysis, mode: str = "layer") -> list[tuple[int, str]]:
    """The inlay hints of a spec as (offset, label), in order: `→ SHAPE` after each
    layer, block use or merge of the body (`· N params` added after a block use);
    `mode` "line" puts one hint, the line's last, at each line's end. One function for
    the language server and the playground, so both show the same text."""
    hints: dict[int, tuple[int, str]] = {}   # key -> (offset, label)
    for row in top_rows(analysis):
        label = f"→ {shape(row.output)}"
        if row.kind == "block":
            label += f" · {fmt_count(row.params)} params"
        end = row.span.end
        key = analysis.position(end)[0] if mode == "line" else end
        if mode == "line":
            end = analysis.offset(key, 10**9)
        hints[key] = (end, label)
    return list(hints.values())


def label_shape(analysis: Analysis, sym: Symbol) -> str | None:
    """The output shape a label names: the last annotated row inside its item."""
    if analysis.result is None:
        return None
    try:
        rows = query._rows(analysis.result)
    except (AttributeError, TypeError, ValueError):
        return None
    inside = []
    for row in rows:
        try:
            if sym.decl.start <= row.span.start and row.span.end <= sym.decl.end:
                inside.append(shape(row.output))
        except (AttributeError, TypeError, ValueError):
            break
    return inside[-1] if inside else None
