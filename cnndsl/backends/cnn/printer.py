"""The printer: one small method per syntax node kind (`_stmt_<Class>`,
`_item_<kind>`, `_expr_<kind>`); an unknown node raises `FormatError`."""

from __future__ import annotations

import bisect
import dataclasses

from cnndsl.backends.cnn.lines import (
    INDENT,
    WIDTH,
    _comma,
    _comment_only,
    _indent_of,
    _indented,
    _Line,
    _one,
    _render,
    _suffix,
    _Text,
)
from cnndsl.backends.cnn.notes import _Notes, _parts, _TrainSection, comments
from cnndsl.backends.cnn.problems import FormatError
from cnndsl.front import syntax as ast
from cnndsl.front.source import Source

# how tightly each expression binds (Python's order, as grammars/cnn.lark has it)
_COND, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = range(1, 10)
_BINARY = {"or": _OR, "and": _AND, "==": _CMP, "!=": _CMP, "<": _CMP, "<=": _CMP, ">": _CMP,
           ">=": _CMP, "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "//": _MUL, "%": _MUL}


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


def _train_value(value: ast.TrainValue) -> str:
    if value.key is None:
        return value.text
    return f"{value.key}={value.text.split('=', 1)[1].strip()}"
