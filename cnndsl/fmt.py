"""`cnndsl fmt`: the canonical printer of `.cnn` text, comments kept.

`format_source(text)` parses the text, attaches every comment to the syntax node
it belongs to (an own-line comment *leads* the next node, a comment ending a line
*trails* the node before it), then prints the tree in one layout: four-space
indentation, `->` starting a continued line, a chain broken only past
`WIDTH` columns or where a comment ends a line, one space around `->`, none around
arithmetic (`in*t`, `k//2`, `-c`; a space separates arguments) and one around
comparisons, `and`, `or`, `not` and `if ... else` (`s == 1 and in == c`), with the
fewest parentheses that keep the tree (Python's precedence, as the grammar has it).
An `if` item stays on one line where it fits, else is broken like a block body, one
branch a block, `} else {` / `} else if C {` joining them. A line ending with
`# allow W0101` keeps the code it had: nothing of it moves to another line, and
nothing joins it (checked: the same warnings are silenced after). Trailing comments
of consecutive lines are aligned, as gofmt does. A layer's arguments take one order
(positional values, short flags, switches, options) and an option with a literal
value its short flag, where the spec checks alike after.

The printer is one small method per syntax node kind (`_item_<kind>`,
`_expr_<kind>`, `_stmt_<Class>`); an unknown node raises `FormatError`, so new
syntax is a one-method addition. The result is checked before it is returned:
it must parse to the same tree (spans aside) with the same comments, or nothing
is formatted (`FormatError`), so a printer bug can never change a spec's meaning.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field

from cnndsl import syntax as ast
from cnndsl.diagnostics import Diagnostic, error
from cnndsl.parser import parse
from cnndsl.source import Source, Span

#: A chain is broken at `->` when its line would pass this many columns.
WIDTH = 100
INDENT = "    "

# how tightly each expression binds (Python's order, as grammars/cnn.lark has it)
_COND, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = range(1, 10)
_BINARY = {"or": _OR, "and": _AND, "==": _CMP, "!=": _CMP, "<": _CMP, "<=": _CMP, ">": _CMP,
           ">=": _CMP, "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "//": _MUL, "%": _MUL}


class FormatError(Exception):
    """The formatter cannot print this tree faithfully (a bug: an unknown node or a
    result whose meaning differs); the file is left as it is."""


class SyntaxProblem(Exception):
    """The text does not parse; `diagnostics` say where and why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("the spec does not parse")
        self.diagnostics = diagnostics


def format_source(text: str, name: str = "<string>") -> str:
    """The canonical layout of `.cnn` text, comments kept; idempotent.

    >>> format_source("conv 6 k5->relu   # first\\n")
    'conv 6 k5 -> relu  # first\\n'

    Raises `SyntaxProblem` when the text does not parse.
    """
    source = Source(text.replace("\r\n", "\n"), name)
    try:
        return _format(source, name)
    except RecursionError:
        raise SyntaxProblem([error("E0005", "the spec nests too deeply to format", None,
                                   help="name inner parts as blocks")]) from None


def _format(source: Source, name: str) -> str:
    program, diagnostics = parse(source)
    if program is None:
        raise SyntaxProblem(diagnostics)
    program = _closed_ifs(program, source)
    canonical = _canonical(program)
    if canonical is not program:
        result = _Printer(source, canonical).program()
        _verify(source, canonical, result)
        if _same_meaning(source.text, result, name):   # the warnings too: `# allow` kept
            return result
    result = _Printer(source, program).program()
    _verify(source, program, result)
    _verify_allows(source, program, result, name)
    return result


def _closed_ifs(program: ast.Program, source: Source) -> ast.Program:
    """`program` with each `if` that has an `else { ... }` spanning to that branch's `}`
    (the parser ends it at the branch's last item), and each chain or `output` ending
    with one, so a comment before the `}` is the `if`'s and stays inside it."""

    def visit(node):
        node = _rebuilt(node, visit)
        if isinstance(node, ast.Chain | ast.OutputDecl):   # one ending with such an `if`
            end = max(part.span.end for part in _parts(node))
            return node if end <= node.span.end else \
                dataclasses.replace(node, span=source.span(node.span.start, end))
        if not isinstance(node, ast.If) or node.other is None:
            return node
        end = _closing(source.text, node.other.span.end) if isinstance(node.other, ast.Chain) \
            else node.other.span.end
        if end is None or end <= node.span.end:
            return node
        return dataclasses.replace(node, span=source.span(node.span.start, end))

    return visit(program)


def _closing(text: str, at: int) -> int | None:
    """The end of the `}` after `at`, past spaces, newlines, comments and `\\`
    continuations; None where something else comes first."""
    while at < len(text):
        char = text[at]
        if char in " \t\f\r\n":
            at += 1
        elif char == "#":
            newline = text.find("\n", at)
            at = len(text) if newline < 0 else newline
        elif char == "\\":
            at += 1
        elif char == "}":
            return at + 1
        else:
            return None
    return None


# ---- arguments in their canonical order and spelling ------------------------------------

def _canonical(program: ast.Program) -> ast.Program:
    """`program` with each layer's arguments as one writes them: the positional values,
    then the short flags (in the layer's order), the switches, the `name=value` options;
    an option that has a short flag and a literal value as that flag (`kernel=3` -> `k3`).
    The same object where nothing changes."""
    from cnndsl.layers import LAYERS

    blocks = {b.name for b in program.blocks}

    def visit(node):
        if isinstance(node, ast.LayerUse) and node.name in LAYERS and node.name not in blocks:
            args = _ordered(LAYERS[node.name], node.args)
            return node if args == node.args else dataclasses.replace(node, args=args)
        return _rebuilt(node, visit)

    return visit(program)


def _rebuilt(node, visit):
    """`node` with `visit` applied to every syntax node below it (the same object when
    none changed)."""
    if not dataclasses.is_dataclass(node) or isinstance(node, Span):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            new = tuple(visit(v) for v in value)
            if any(a is not b for a, b in zip(new, value, strict=True)):
                changes[f.name] = new
        elif dataclasses.is_dataclass(value) and not isinstance(value, Span):
            new = visit(value)
            if new is not value:
                changes[f.name] = new
    return dataclasses.replace(node, **changes) if changes else node


def _ordered(word, args: tuple[ast.Arg, ...]) -> tuple[ast.Arg, ...]:
    flags = {a.flag: i for i, a in enumerate(word.args) if a.flag}
    groups: tuple[list, list, list, list] = ([], [], [], [])
    for arg in args:
        arg = _as_flag(word, arg)
        value = arg.value if isinstance(arg, ast.Positional) else None
        if isinstance(arg, ast.Option):
            groups[3].append(arg)
        elif isinstance(value, ast.Flag) and value.letter in flags:
            groups[1].append(arg)
        elif isinstance(value, ast.Name) and value.name in word.switches:
            groups[2].append(arg)
        else:
            groups[0].append(arg)
    groups[1].sort(key=lambda a: flags[a.value.letter])
    return tuple(groups[0] + groups[1] + groups[2] + groups[3])


def _as_flag(word, arg: ast.Arg) -> ast.Arg:
    """`kernel=3` as `k3`, `stride=2x1` as `s2x1`, where the layer has that flag."""
    if not isinstance(arg, ast.Option):
        return arg
    entry = next((a for a in word.args if arg.name in a.names and a.flag), None)
    value = arg.value
    if entry is None:
        return arg
    if isinstance(value, ast.Num) and value.text.isdigit():
        values, text = (int(value.text),), value.text
    elif isinstance(value, ast.SizeLit) and entry.kind == "size" \
            and len(value.values) <= entry.longest:
        values, text = value.values, "x".join(str(v) for v in value.values)
    else:
        return arg
    flag = ast.Flag(span=arg.span, name=entry.flag + text, letter=entry.flag, values=values)
    return ast.Positional(span=arg.span, value=flag)


def _same_meaning(before: str, after: str, name: str) -> bool:
    """Whether two texts check alike: no errors in either, the same diagnostics, and the
    same shapes, parameters and multiply-adds per layer."""
    from cnndsl.api import check

    def figures(text: str):
        result = check(text, name)
        if not result.ok or result.summary is None:
            return None
        return (sorted((d.severity, d.code, d.message) for d in result.diagnostics),
                [(r.path, r.kind, str(r.input), str(r.output), r.params, r.macs)
                 for r in result.summary.rows])

    first = figures(before)
    return first is not None and first == figures(after)


# ---- lines ---------------------------------------------------------------------------

@dataclass
class _Line:
    code: str
    comment: str | None = None   # a trailing comment, `#` included

    @property
    def closed(self) -> bool:
        """Whether a comment ends the line (or is all of it): nothing may follow."""
        return self.comment is not None or self.code.lstrip().startswith("#")


@dataclass
class _Text:
    """A node's rendering: its first line continues whatever is before it; the others
    carry their own indentation."""

    lines: list[_Line] = field(default_factory=list)

    @property
    def flat(self) -> bool:
        return len(self.lines) == 1 and not self.lines[0].closed

    def width(self) -> int:
        return len(self.lines[0].code) if len(self.lines) == 1 else WIDTH + 1


def _one(code: str) -> _Text:
    return _Text([_Line(code)])


# ---- comments to nodes ---------------------------------------------------------------

def comments(source: Source) -> list[ast.Comment]:
    """Every comment of the text: a `#` outside a quoted string, to the end of its line
    (the parser keeps only those that end a line of code)."""
    found, text, start = [], source.text, 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        at = text.find("#", start, end)
        while at >= 0 and text.count('"', start, at) % 2:   # inside a string: look on
            at = text.find("#", at + 1, end)
        if at >= 0:
            found.append(ast.Comment(span=source.span(at, end), text=text[at + 1:end]))
        start = end + 1
    return found


class _Notes:
    """Which comments lead (own lines before) and trail (end of line after) which node."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.leading: dict[int, list[str]] = {}
        self.trailing: dict[int, list[str]] = {}
        self.tail: dict[int, list[str]] = {}   # own lines before a container's closer
        self.opener: dict[int, list[str]] = {}   # ending the line that opens a container
        self.top: dict[int, list[ast.Comment]] = {}   # own-line comments before a statement

    def text(self, comment: ast.Comment) -> str:
        raw = self.source.text[comment.span.start:comment.span.end]
        return raw.rstrip(" \t\f\r")

    def same_line(self, start: int, end: int) -> bool:
        return self.source.position(start)[0] == self.source.position(end)[0]

    def spread(self, owner, elements, comments) -> None:
        """Attach `comments` (all inside `owner`) to `owner`'s `elements` (in source order,
        not overlapping); each comment is placed by bisection, so this is O(n log n)."""
        inside: dict[int, list[ast.Comment]] = {}
        starts = [e.span.start for e in elements]
        for comment in comments:
            at = comment.span.start
            index = bisect.bisect_right(starts, at) - 1   # the last element starting at or before
            if index >= 0 and at < elements[index].span.end:
                holder = elements[index]
                if _parts(holder) is None:   # kept in source order with those after it
                    self.trailing.setdefault(id(holder), []).append(self.text(comment))
                else:
                    inside.setdefault(id(holder), []).append(comment)
                continue
            before = elements[index] if index >= 0 else None
            after = elements[index + 1] if index + 1 < len(elements) else None
            text = self.text(comment)
            if before is not None and self.same_line(before.span.end, at):
                self.trailing.setdefault(id(before), []).append(text)
            elif before is None and owner is not None and self.same_line(owner.span.start, at):
                self.opener.setdefault(id(owner), []).append(text)
            elif after is not None:
                self.leading.setdefault(id(after), []).append(text)
                if owner is None:
                    self.top.setdefault(id(after), []).append(comment)
            else:
                self.tail.setdefault(id(owner), []).append(text)
                if owner is None:
                    self.top.setdefault(id(None), []).append(comment)
        for element in elements:
            if id(element) in inside:
                self.attach(element, inside[id(element)])

    def attach(self, node, comments) -> None:
        """Comments inside `node`: into its parts where it has any, else trailing it."""
        parts = _parts(node)
        if parts is None:
            self.trailing.setdefault(id(node), []).extend(self.text(c) for c in comments)
            return
        if isinstance(node, ast.If) and node.other is not None:
            # those before the `}` closing the first branch end that branch (its `tail`)
            then = node.then
            close = _closing(self.source.text, then.span.end) or then.span.end
            inner = [c for c in comments if then.span.start <= c.span.start < close]
            # and those ending the line `} else {`, the line opening the second
            opening = [c for c in comments if c.span.start >= close
                       and isinstance(node.other, ast.Chain)
                       and c.span.start < node.other.span.start
                       and self.same_line(close - 1, c.span.start)]
            for comment in opening:
                self.opener.setdefault(id(node.other), []).append(self.text(comment))
            if inner:
                self.spread(then, (then,), inner)
            comments = [c for c in comments if c not in inner and c not in opening]
        self.spread(node, parts, comments)


def _parts(node):
    """The children comments can sit between; None for a node printed on one line."""
    if isinstance(node, ast.Chain):
        return node.items
    if isinstance(node, ast.Combine):
        return node.branches
    if isinstance(node, ast.Labelled | ast.Repeat):
        return (node.item,)
    if isinstance(node, ast.If):
        return (node.then,) if node.other is None else (node.then, node.other)
    if isinstance(node, ast.BlockDef):
        return (node.body,)
    if isinstance(node, ast.OutputDecl):
        return node.chains
    if isinstance(node, _TrainSection):
        return node.items
    return None


# ---- the printer ---------------------------------------------------------------------------

class _Printer:
    def __init__(self, source: Source, program: ast.Program) -> None:
        self.source = source
        self.program_node = program
        self.notes = _Notes(source)
        from cnndsl.passes.allow import line_allows

        #: the lines ending with `# allow W0101`: what is on one stays on one
        self.allow_lines = {a.line for a in line_allows(program, source)}

    # -- the file
    def program(self) -> str:
        statements = self._statements()
        self.notes.spread(None, statements, comments(self.source))
        lines: list[_Line] = []
        previous_end: int | None = None
        for statement in statements:
            for comment in self.notes.top.get(id(statement), []):
                lines += self._gap(previous_end, comment.span.start, lines)
                lines.append(_Line(self.notes.text(comment)))
                previous_end = comment.span.end
            lines += self._gap(previous_end, statement.span.start, lines)
            lines += self._statement(statement).lines
            previous_end = statement.span.end
        for comment in self.notes.top.get(id(None), []):
            lines += self._gap(previous_end, comment.span.start, lines)
            lines.append(_Line(self.notes.text(comment)))
            previous_end = comment.span.end
        return _render(lines)

    def _statements(self) -> list:
        p = self.program_node
        sections: list[list[ast.TrainItem]] = [[] for _ in p.train_spans]
        starts = [span.start for span in p.train_spans]
        for item in p.trains:   # each in the section starting last before it
            sections[bisect.bisect_right(starts, item.span.start) - 1].append(item)
        trains = [_TrainSection(span, tuple(items))
                  for span, items in zip(p.train_spans, sections, strict=True)]
        # every other tuple of the program is a kind of statement: one added to the
        # language later is found here, and refused below until it has a `_stmt_` method
        found = [*trains]
        for f in dataclasses.fields(p):
            if f.name not in ("trains", "train_spans", "comments"):
                found += getattr(p, f.name)
        return sorted(found, key=lambda s: s.span.start)

    def _gap(self, previous_end: int | None, start: int, lines) -> list[_Line]:
        """One blank line where the source had at least one between two things (the
        text between them holds only whitespace and `\\` continuations)."""
        if previous_end is None or not lines:
            return []
        between = self.source.text[previous_end:max(previous_end, start)]
        blank = any(not line.strip() for line in between.split("\n")[1:-1])
        return [_Line("")] if blank else []

    # -- statements
    def _statement(self, node) -> _Text:
        method = getattr(self, f"_stmt_{type(node).__name__}", None)
        if method is None:
            raise FormatError(f"no layout for the statement {type(node).__name__}")
        return self._trail(node, method(node))

    def _stmt_ModelDecl(self, node: ast.ModelDecl) -> _Text:
        return _one(f"model {node.name}")

    def _stmt_InputDecl(self, node: ast.InputDecl) -> _Text:
        shape = self.source.text[node.shape_span.start:node.shape_span.end]
        return _one(f"input {node.name} {shape}" if node.name else f"input {shape}")

    def _stmt_LetDef(self, node: ast.LetDef) -> _Text:
        return _one(f"let {node.name} = {self.expr(node.value)}")

    def _stmt_AssertDef(self, node: ast.AssertDef) -> _Text:
        return _one(f"assert {node.metric} {node.op} {node.value_text}")

    def _stmt_OutputDecl(self, node: ast.OutputDecl) -> _Text:
        chains = [self._trail(c, self.chain(c, 1)) for c in node.chains]
        if all(c.flat for c in chains) and not self._any_leading(node.chains):
            flat = "output " + ", ".join(c.lines[0].code for c in chains)
            if len(flat) <= WIDTH:
                return _one(flat)
        # `output a,` then one chain a line; no `,` after the last, where a newline
        # would not end the statement
        out = _Text([])
        for position, (chain_node, chain) in enumerate(zip(node.chains, chains, strict=True)):
            chain = _comma(chain) if position < len(chains) - 1 else chain
            if position == 0:
                opener = self._open(node, "output")
                first = chain.lines[0]
                out.lines += [_Line(f"output {first.code}", first.comment or
                                    opener.lines[0].comment), *opener.lines[1:], *chain.lines[1:]]
                if first.comment and opener.lines[0].comment:
                    raise FormatError("two comments end the first line of `output`")
                continue
            out.lines += self._leading_lines(chain_node, 1)
            out.lines += _indented(chain, 1)
        return out

    def _stmt_BlockDef(self, node: ast.BlockDef) -> _Text:
        params = ", ".join(p.name if p.default is None else f"{p.name}={self.expr(p.default)}"
                           for p in node.params)
        head = f"block {node.name}({params}) {{" if node.params else f"block {node.name} {{"
        body = self._trail(node.body, self.chain(node.body, 1))
        tail = self.notes.tail.get(id(node), [])
        if body.flat and not tail and not self._leading(node.body) \
                and id(node) not in self.notes.opener:
            flat = f"{head} {body.lines[0].code} }}"   # a short block stays on one line
            if len(flat) <= WIDTH:
                return _one(flat)
        out = self._open(node, head)
        out.lines += self._leading_lines(node.body, 1)
        out.lines += _indented(body, 1)
        out.lines += [_Line(INDENT + t) for t in tail]
        out.lines.append(_Line("}"))
        return out

    def _stmt_Allow(self, node: ast.Allow) -> _Text:
        return _one("allow " + ", ".join(code for code, _ in node.codes))

    def _stmt_Chain(self, node: ast.Chain) -> _Text:
        return self.chain(node, 0)

    def _stmt__TrainSection(self, node: _TrainSection) -> _Text:
        out = self._open(node, "train {")
        for item in node.items:
            out.lines += self._leading_lines(item, 1)
            line = self._trail(item, _one(" ".join([item.key, *map(_train_value, item.values)])))
            out.lines += _indented(line, 1)
        out.lines += [_Line(INDENT + t) for t in self.notes.tail.get(id(node), [])]
        out.lines.append(_Line("}"))
        return out

    # -- comments
    def _trail(self, node, text: _Text) -> _Text:
        """`text` with `node`'s trailing comments at the end of its last line."""
        extra = self.notes.trailing.get(id(node), [])
        if not extra:
            return text
        lines = list(text.lines)
        last = lines[-1]
        if not last.closed:
            lines[-1] = _Line(last.code, extra[0])
            extra = extra[1:]
        indent = _indent_of(lines[-1].code) if len(lines) > 1 else ""
        lines += [_Line(indent + t) for t in extra]
        return _Text(lines)

    def _open(self, node, code: str, depth: int = 0) -> _Text:
        """The line opening `node` (`block B {`, `concat(`), with the comments ending it."""
        found = self.notes.opener.get(id(node), [])
        lines = [_Line(code, found[0] if found else None)]
        return _Text(lines + [_Line(INDENT * (depth + 1) + t) for t in found[1:]])

    def _leading_lines(self, node, depth: int) -> list[_Line]:
        return [_Line(INDENT * depth + t) for t in self._leading(node)]

    def _leading(self, node) -> list[str]:
        """The own-line comments before `node`, with those of its first part."""
        found = list(self.notes.leading.get(id(node), []))
        # a combinator's or an `if`'s first part is inside its brackets, printed there
        parts = _parts(node) if not isinstance(node, ast.Combine | ast.If) else None
        if parts:
            found += self._leading(parts[0])
        return found

    def _any_leading(self, nodes) -> bool:
        return any(self._leading(n) for n in nodes)

    # -- chains
    def chain(self, node: ast.Chain, depth: int) -> _Text:
        """Items joined by ` -> `, broken before `->` past WIDTH or after a comment."""
        out: _Text | None = None
        indent = INDENT * depth
        for position, item in enumerate(node.items):
            leading = self._leading(item) if position else []
            text = self._trail(item, self.item(item, depth))
            text = _Text([text.lines[0], *(_Line(indent + line.code) if _comment_only(line)
                                            and not line.code.startswith(" ") else line
                                            for line in text.lines[1:])])
            if out is None:
                out = _Text(list(text.lines))
                continue
            last = out.lines[-1]
            # the first line starts at the chain's indentation too, once placed
            at = len(last.code) + (len(indent) if len(out.lines) == 1 else 0)
            joined = at + 4 + text.width()
            first = text.lines[0]
            # `# allow` covers its own line: what was on that line stays together, and
            # nothing joins it from another line
            before = node.items[position - 1].span
            pinned = {before.end_line, item.span.line} & self.allow_lines
            same = before.end_line == item.span.line
            if not last.closed and not leading and (same if pinned else (
                    joined <= WIDTH if len(text.lines) == 1
                    else at + 4 + len(first.code) <= WIDTH)):
                out.lines[-1] = _Line(f"{last.code} -> {first.code}", first.comment)
                out.lines += text.lines[1:]
                continue
            out.lines += [_Line(indent + t) for t in leading]
            out.lines.append(_Line(f"{indent}-> {first.code}", first.comment))
            out.lines += text.lines[1:]
        return out or _one("")

    # -- chain items: one method per kind
    def item(self, node, depth: int) -> _Text:
        method = getattr(self, f"_item_{getattr(node, 'kind', None)}", None)
        if method is None:
            raise FormatError(f"no layout for the chain item {type(node).__name__}")
        return method(node, depth)

    def _item_layer(self, node: ast.LayerUse, depth: int) -> _Text:
        return _one(" ".join([node.name, *self.args(node.args)]))

    def _item_use(self, node: ast.BlockUse, depth: int) -> _Text:
        return _one(f"{node.name}({', '.join(self.arg(a) for a in node.args)})")

    def _item_ref(self, node: ast.Ref, depth: int) -> _Text:
        return _one(f"@{node.name}")

    def _item_labelled(self, node: ast.Labelled, depth: int) -> _Text:
        return _suffix(self._trail(node.item, self.item(node.item, depth)), f" as {node.label}",
                       depth)

    def _item_repeat(self, node: ast.Repeat, depth: int) -> _Text:
        return _suffix(self._trail(node.item, self.item(node.item, depth)),
                       f" * {self.expr(node.count, _ATOM)}", depth)

    def _item_chain(self, node: ast.Chain, depth: int) -> _Text:
        """A parenthesised group."""
        inner = self.chain(node, depth + 1)
        tail = self.notes.tail.get(id(node), [])
        if inner.flat and not tail and id(node) not in self.notes.opener \
                and len(inner.lines[0].code) + 2 <= WIDTH:
            return _one(f"({inner.lines[0].code})")
        out = self._open(node, "(", depth)
        out.lines += _indented(inner, depth + 1)
        out.lines += [_Line(INDENT * (depth + 1) + t) for t in tail]
        out.lines.append(_Line(INDENT * depth + ")"))
        return out

    def _item_combine(self, node: ast.Combine, depth: int) -> _Text:
        branches = [self._trail(b, self.chain(b, depth + 1)) for b in node.branches]
        tail = self.notes.tail.get(id(node), [])
        if all(b.flat for b in branches) and not tail and not self._any_leading(node.branches) \
                and id(node) not in self.notes.opener:
            flat = f"{node.op}({', '.join(b.lines[0].code for b in branches)})"
            if len(flat) + len(INDENT) * depth <= WIDTH:
                return _one(flat)
        out = self._open(node, f"{node.op}(", depth)
        for branch_node, branch in zip(node.branches, branches, strict=True):
            out.lines += self._leading_lines(branch_node, depth + 1)
            out.lines += _indented(_comma(branch), depth + 1)
        out.lines += [_Line(INDENT * (depth + 1) + t) for t in tail]
        out.lines.append(_Line(INDENT * depth + ")"))
        return out

    def _item_if(self, node: ast.If, depth: int) -> _Text:
        """`if C { a } else if D { b } else { c }` on one line where it fits; else
        broken like a block body, one branch a block, `} else {` joining them."""
        arms: list[tuple[ast.If | None, str, ast.Chain]] = []   # (the `if`, head, branch)
        current: ast.If | ast.Chain | None = node
        head = f"if {self.expr(node.test)} {{"
        while current is not None:
            if isinstance(current, ast.If):
                arms.append((current, head, current.then))
                head = f"}} else if {self.expr(current.other.test)} {{" \
                    if isinstance(current.other, ast.If) else "} else {"
                current = current.other
            else:
                arms.append((None, head, current))
                current = None
        owners = [owner for owner, _, _ in arms if owner is not None]
        bodies = [self._trail(branch, self.chain(branch, depth + 1)) for _, _, branch in arms]
        tail = [t for owner in owners for t in self.notes.tail.get(id(owner), [])]
        ends = [self.notes.tail.get(id(branch), []) for _, _, branch in arms]
        if all(b.flat for b in bodies) and not tail and not any(ends) \
                and not any(id(o) in self.notes.opener for o in (*owners, arms[-1][2])) \
                and not any(self._leading(o) for o in owners[1:]) \
                and not self._any_leading([branch for _, _, branch in arms]):
            flat = " ".join(f"{h} {b.lines[0].code}" for (_, h, _), b in zip(arms, bodies,
                                                                              strict=True))
            if len(flat) + 2 + len(INDENT) * depth <= WIDTH:
                return _one(flat + " }")
        out = _Text([])
        for position, ((owner, head, branch), body) in enumerate(zip(arms, bodies,
                                                                     strict=True)):
            code = head if position == 0 else INDENT * depth + head
            out.lines += self._open(branch if owner is None else owner, code, depth).lines
            if owner is not None and position:   # comments before `} else if`, moved after it
                out.lines += self._leading_lines(owner, depth + 1)
            out.lines += self._leading_lines(branch, depth + 1)
            out.lines += _indented(body, depth + 1)
            out.lines += [_Line(INDENT * (depth + 1) + t) for t in ends[position]]
        out.lines += [_Line(INDENT * (depth + 1) + t) for t in tail]
        out.lines.append(_Line(INDENT * depth + "}"))
        return out

    # -- arguments and expressions: one method per kind
    def arg(self, node, first: bool = True) -> str:
        if isinstance(node, ast.Option):
            return f"{node.name}={self.expr(node.value)}"
        if isinstance(node, ast.Positional):
            text = self.expr(node.value)
            # after another argument a leading `-` would subtract: `conv 6 (-1)`
            return f"({text})" if not first and text.startswith("-") else text
        raise FormatError(f"no layout for the argument {type(node).__name__}")

    def args(self, nodes) -> list[str]:
        return [self.arg(a, position == 0) for position, a in enumerate(nodes)]

    def expr(self, node, lowest: int = _COND) -> str:
        """`node` as text, in parentheses where it binds less tightly than `lowest`
        (Python's precedence, as the grammar has it)."""
        method = getattr(self, f"_expr_{getattr(node, 'kind', None)}", None)
        if method is None:
            raise FormatError(f"no layout for the expression {type(node).__name__}")
        text = method(node)
        return f"({text})" if _precedence(node) < lowest else text

    def _expr_num(self, node: ast.Num) -> str:
        return node.text

    def _expr_ref(self, node: ast.Ref) -> str:
        return f"@{node.name}"      # `upsample like=@f`

    def _expr_size(self, node: ast.SizeLit) -> str:
        return self.source.text[node.span.start:node.span.end]

    def _expr_name(self, node: ast.Name) -> str:
        return node.name

    def _expr_flag(self, node: ast.Flag) -> str:
        return node.name

    def _expr_in(self, node: ast.InChannels) -> str:
        return "in"

    def _expr_binop(self, node: ast.BinOp) -> str:
        rank = _BINARY.get(node.op)
        if rank is None:
            raise FormatError(f"no layout for the operator `{node.op}`")
        if rank == _CMP:   # `sum COMPARE sum`: comparisons do not chain
            return f"{self.expr(node.left, _CMP + 1)} {node.op} {self.expr(node.right, _CMP + 1)}"
        # left-associative; the tree is kept as written: `a-(b-c)`, `a+(b+c)`
        left, right = self.expr(node.left, rank), self.expr(node.right, rank + 1)
        if rank < _CMP:
            return f"{left} {node.op} {right}"
        if node.op == "/" and left.endswith("."):
            return f"{left} / {right}"   # `1./2` would start the path `./2`
        return f"{left}{node.op}{right}"

    def _expr_unary(self, node: ast.Unary) -> str:
        if node.op == "not":
            return f"not {self.expr(node.operand, _NOT)}"
        if node.op == "-":
            return f"-{self.expr(node.operand, _NEG)}"
        raise FormatError(f"no layout for the operator `{node.op}`")

    def _expr_cond(self, node: ast.Cond) -> str:
        return (f"{self.expr(node.then, _OR)} if {self.expr(node.test, _OR)} "
                f"else {self.expr(node.other, _COND)}")

    def _expr_call(self, node: ast.Call) -> str:
        return f"{node.func}({', '.join(self.expr(a) for a in node.args)})"


def _precedence(node) -> int:
    if isinstance(node, ast.BinOp):
        return _BINARY.get(node.op, _COND)
    if isinstance(node, ast.Unary):
        return _NOT if node.op == "not" else _NEG
    if isinstance(node, ast.Cond):
        return _COND
    return _ATOM


@dataclass(frozen=True)
class _TrainSection:
    span: Span
    items: tuple[ast.TrainItem, ...]


def _train_value(value: ast.TrainValue) -> str:
    if value.key is None:
        return value.text
    return f"{value.key}={value.text.split('=', 1)[1].strip()}"


def _indent_of(code: str) -> str:
    return code[:len(code) - len(code.lstrip(" "))]


def _indented(text: _Text, depth: int) -> list[_Line]:
    """`text` as lines of their own: the first gets the indentation of `depth`."""
    first = text.lines[0]
    return [_Line(INDENT * depth + first.code, first.comment), *text.lines[1:]]


def _comma(text: _Text) -> _Text:
    """`text` with `,` after its code (before any comment ending its last line)."""
    last = text.lines[-1]
    return _Text([*text.lines[:-1], _Line(last.code + ",", last.comment)])


def _suffix(text: _Text, suffix: str, depth: int) -> _Text:
    """`text` then `suffix` (` as x`, ` * 3`) on its last line of code, before the comment
    ending that line: a newline before `*` or `as` would end the statement."""
    lines = list(text.lines)
    at = max(i for i, line in enumerate(lines) if i == 0 or not _comment_only(line))
    lines[at] = _Line(lines[at].code + suffix, lines[at].comment)
    return _Text(lines)


def _comment_only(line: _Line) -> bool:
    return line.comment is None and line.code.lstrip().startswith("#")


def _render(lines: list[_Line]) -> str:
    """The lines as text, trailing comments of consecutive lines aligned (gofmt's way):
    two spaces after the longest code of the run, unless that passes WIDTH."""
    out: list[str] = []
    run: list[_Line] = []

    def flush() -> None:
        if not run:
            return
        column = max(len(line.code) for line in run) + 2
        for line in run:
            pad = column if column <= WIDTH else len(line.code) + 2
            code = line.code.rstrip()
            out.append(f"{code}{' ' * (pad - len(code))}{line.comment}" if code
                       else line.comment)
        run.clear()

    for line in lines:
        if line.comment is not None and line.code.strip():
            run.append(line)
            continue
        flush()
        out.append((line.code + ("  " + line.comment if line.comment else "")).rstrip())
    flush()
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n" if out else ""


# ---- the check that nothing but layout changed ------------------------------------------------

def _shape(node):
    """`node` with every span, and every spelling a layout may change, left out."""
    if isinstance(node, tuple | list):
        return tuple(_shape(n) for n in node)
    if isinstance(node, Span):
        return None   # as in `allow`'s codes
    if dataclasses.is_dataclass(node):
        skip = {"span", "name_span", "shape_span", "metric_span", "value_span", "label_span",
                "keyword_span", "key_span", "train_spans", "comments", "comment"}
        if isinstance(node, ast.TrainValue):
            skip.add("text")   # `momentum = 0.9` is `momentum=0.9`; its value is compared
        return (type(node).__name__, tuple((f.name, _shape(getattr(node, f.name)))
                                           for f in dataclasses.fields(node)
                                           if f.name not in skip))
    return node


def _verify_allows(source: Source, program: ast.Program, result: str, name: str) -> None:
    """Where a line ends with `# allow ...`, the same warnings must be silenced after."""
    from cnndsl.api import check
    from cnndsl.passes.allow import line_allows

    if not line_allows(program, source):
        return

    def verdict(text: str):
        return sorted((d.severity, d.code, d.message) for d in check(text, name).diagnostics)

    if verdict(source.text) != verdict(result):
        raise FormatError("the formatted text would move code onto or off a line that "
                          "ends with `# allow`; put that code on a line of its own")


def _verify(source: Source, program: ast.Program, result: str) -> None:
    again, diagnostics = parse(Source(result, "<formatted>"))
    if again is None:
        raise FormatError("the formatted text does not parse: "
                          + "; ".join(d.message for d in diagnostics))
    if _shape(again) != _shape(program):
        raise FormatError("the formatted text would mean something else")
    before = [c.text.rstrip() for c in comments(source)]
    after = [c.text.rstrip() for c in comments(Source(result))]
    if before != after:
        raise FormatError("the formatted text would lose or change a comment")
