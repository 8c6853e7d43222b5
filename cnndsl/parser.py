"""Parsing: `.cnn` text -> syntax tree (`cnndsl.ir.Program`) with spans.

Lark (LALR) parses; one non-recursive Transformer builds the typed tree, so
nothing after this module ever sees a Lark tree. Parser failures become
diagnostics in the language's own words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from cnndsl import ir
from cnndsl.diagnostics import Diagnostic, error
from cnndsl.source import Source, Span

#: Parentheses nest at most this deep; deeper input is refused with a located
#: error instead of exhausting the interpreter's stack in later passes.
MAX_NESTING = 64

_OPENERS = {"LPAR", "CALL", "CONCAT", "ADD", "RESIDUAL"}


class _NestingTooDeep(Exception):
    def __init__(self, token: Token) -> None:
        self.token = token


class _PostLex:
    """Makes newlines insignificant inside parentheses, next to `->`, and just
    inside `{ }`, so chains and branch lists may span lines."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        pending: Token | None = None   # a newline whose fate depends on what follows
        previous: Token | None = None
        for token in stream:
            if token.type == "_NL":
                if depth == 0 and previous is not None and previous.type not in ("ARROW", "LBRACE"):
                    pending = pending or token
                continue
            if pending is not None and token.type not in ("ARROW", "RBRACE"):
                yield pending
            pending = None
            if token.type in _OPENERS:
                depth += 1
                if depth > MAX_NESTING:
                    raise _NestingTooDeep(token)
            elif token.type == "RPAR":
                depth = max(0, depth - 1)
            previous = token
            yield token
        if pending is not None:
            yield pending


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = (resources.files("cnndsl.grammars") / "cnn.lark").read_text(encoding="utf-8")
    # No `propagate_positions`: it doubles the time of an LALR parse. Spans are
    # taken from the tokens instead (`_ToIR._cover`); the grammar keeps the
    # tokens that begin or end a rule.
    return Lark(grammar, parser="lalr", lexer="basic", maybe_placeholders=True,
                postlex=_PostLex(), cache=True)


# ---- tree -> IR ---------------------------------------------------------------

class _ToIR(Transformer_NonRecursive):
    def __init__(self, source: Source) -> None:
        super().__init__(visit_tokens=False)
        self.source = source

    def _cover(self, children) -> Span:
        """The span from the first to the last of `children` (tokens and nodes)."""
        first = next(c for c in children if c is not None)
        last = next(c for c in reversed(children) if c is not None)
        start = first.start_pos if isinstance(first, Token) else first.span.start
        end = last.end_pos if isinstance(last, Token) else last.span.end
        return self.source.span(start, end)

    def _tok(self, token: Token) -> Span:
        return self.source.span(token.start_pos, token.end_pos)

    # -- statements
    def start(self, items):
        fields: dict[str, list] = {k: [] for k in
                                   ("models", "inputs", "lets", "blocks", "bodies", "asserts")}
        trains: list = []
        train_spans: list = []
        kinds = {ir.ModelDecl: "models", ir.InputDecl: "inputs", ir.LetDef: "lets",
                 ir.BlockDef: "blocks", ir.Chain: "bodies", ir.AssertDef: "asserts"}
        for item in items:
            if isinstance(item, tuple):      # a train section: (span, items)
                train_spans.append(item[0])
                trains.extend(item[1])
            else:
                fields[kinds[type(item)]].append(item)
        return ir.Program(**{k: tuple(v) for k, v in fields.items()},
                          trains=tuple(trains), train_spans=tuple(train_spans))

    def model_decl(self, children):
        _, name = children
        return ir.ModelDecl(span=self._cover(children), name=str(name),
                            name_span=self._tok(name))

    def input_decl(self, children):
        _, size = children
        shape = tuple(int(v) for v in str(size).split("x"))
        return ir.InputDecl(span=self._cover(children), shape=shape, shape_span=self._tok(size))

    def let_decl(self, children):
        _, name, value = children
        return ir.LetDef(span=self._cover(children), name=str(name), name_span=self._tok(name),
                         value=value)

    def block_decl(self, children):
        _, head, *params, body, _ = children
        name = str(head).rstrip("(").rstrip()
        name_span = self.source.span(head.start_pos, head.start_pos + len(name))
        return ir.BlockDef(span=self._cover(children), name=name, name_span=name_span,
                           params=tuple(p for p in params if p is not None), body=body)

    def param(self, children):
        name, default = children
        return ir.Param(span=self._cover(children), name=str(name), default=default)

    def assert_decl(self, children):
        _, metric, op, value = children
        if isinstance(value, Token) and value.type == "SIZE":
            parsed: float | tuple[int, ...] = tuple(int(v) for v in str(value).split("x"))
        else:
            parsed = _quantity(str(value))
        return ir.AssertDef(span=self._cover(children), metric=str(metric),
                            metric_span=self._tok(metric), op=str(op), value=parsed,
                            value_text=str(value), value_span=self._tok(value))

    def quantity(self, children):
        return children[0]

    def train_decl(self, children):
        _, *items, _ = children
        return (self._cover(children), tuple(c for c in items if c is not None))

    def train_item(self, children):
        key, *values = children
        return ir.TrainItem(span=self._cover(children), key=str(key), key_span=self._tok(key),
                            values=tuple(self._train_value(v) for v in values))

    def _train_value(self, value) -> ir.TrainValue:
        if isinstance(value, ir.TrainValue):
            return value
        return ir.TrainValue(span=self._tok(value), text=str(value), value=_unquote(str(value)))

    def word(self, children):
        span = self._cover(children)
        text = self.source.snippet(span)
        return ir.TrainValue(span=span, text=text, value=text)

    def train_option(self, children):
        key, value = children
        span = self._cover(children)
        text = value.value if isinstance(value, ir.TrainValue) else _unquote(str(value))
        return ir.TrainValue(span=span, text=self.source.snippet(span), key=str(key),
                             value=text)

    # -- chains
    def chain(self, children):
        items = tuple(c for c in children if not isinstance(c, Token))
        return ir.Chain(span=self._cover(children), items=items)

    def group(self, children):
        _, chain, _ = children
        return ir.Chain(span=self._cover(children), items=chain.items)

    def repeat(self, children):
        item, count = children
        return ir.Repeat(span=self._cover(children), item=item, count=count)

    def layer(self, children):
        name, *args = children
        return ir.LayerUse(span=self._cover(children), name=str(name),
                           name_span=self._tok(name), args=tuple(_as_arg(a) for a in args))

    def option(self, children):
        name, value = children
        return ir.Option(span=self._cover(children), name=str(name), name_span=self._tok(name),
                         value=value)

    def block_use(self, children):
        head, *args, _ = children
        name = str(head).rstrip("(").rstrip()
        return ir.BlockUse(span=self._cover(children), name=name,
                           name_span=self.source.span(head.start_pos, head.start_pos + len(name)),
                           args=tuple(_as_arg(a) for a in args if a is not None))

    def _combine(self, kind, children):
        head, *branches, _ = children
        keyword = self.source.span(head.start_pos, head.start_pos + len(kind))
        return ir.Combine(kind=kind, span=self._cover(children), keyword_span=keyword,
                          branches=tuple(branches))

    def concat(self, children):
        return self._combine("concat", children)

    def add(self, children):
        return self._combine("add", children)

    def residual(self, children):
        return self._combine("residual", children)

    # -- expressions
    def _binop(self, op, children):
        left, right = children
        return ir.BinOp(span=left.span.cover(right.span), op=op, left=left, right=right)

    def plus(self, children):
        return self._binop("+", children)

    def minus(self, children):
        return self._binop("-", children)

    def times(self, children):
        return self._binop("*", children)

    def floordiv(self, children):
        return self._binop("//", children)

    def int(self, children):
        (tok,) = children
        return ir.Num(span=self._tok(tok), value=int(tok), text=str(tok))

    def decimal(self, children):
        (tok,) = children
        return ir.Num(span=self._tok(tok), value=float(tok), text=str(tok))

    def size(self, children):
        (tok,) = children
        return ir.SizeLit(span=self._tok(tok), values=tuple(int(v) for v in str(tok).split("x")))

    def name(self, children):
        (tok,) = children
        return ir.Ref(span=self._tok(tok), name=str(tok))


def _as_arg(value) -> ir.Positional | ir.Option:
    if isinstance(value, ir.Option):
        return value
    return ir.Positional(span=value.span, value=value)


_SUFFIX = {"k": 1e3, "M": 1e6, "G": 1e9}


def _quantity(text: str) -> float:
    if text[-1] in _SUFFIX:
        return float(text[:-1]) * _SUFFIX[text[-1]]
    return float(text)


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


# ---- entry point ----------------------------------------------------------------

def parse(source: Source) -> tuple[ir.Program | None, list[Diagnostic]]:
    """Parse a source file into its syntax tree, or explain why it is not one."""
    try:
        tree = _lark().parse(source.text)
    except _NestingTooDeep as exc:
        span = source.span(exc.token.start_pos, exc.token.end_pos)
        return None, [error("E0005", "parentheses nest too deeply", span,
                            f"more than {MAX_NESTING} levels deep",
                            help="name the inner part as a `block` and use it")]
    except UnexpectedInput as exc:
        return None, [_syntax_error(source, exc)]
    return _ToIR(source).transform(tree), []


# ---- syntax errors in the language's own words ------------------------------------

_WORDS = {
    "ARROW": "`->`", "_NL": "a newline", "NAME": "a name", "INT": "a number",
    "DECIMAL": "a number", "SIZE": "a size such as `3x32x32`", "SUFFIXED": "a number",
    "CALL": "a block use", "CONCAT": "`concat(`", "ADD": "`add(`", "RESIDUAL": "`residual(`",
    "COMPARE": "a comparison (`<`, `<=`, `==`, ...)", "STRING": "a quoted string",
    "PATH": "a path", "$END": "the end of the file",
    "_ITEM": "a layer, a block or `(`",
}


def _describe(name: str) -> str:
    if name in _WORDS:
        return _WORDS[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"`{pattern.value}`" if pattern.type == "str" else name.lower()


def _expected(names) -> str:
    names = set(names)
    if {"CONCAT", "CALL", "NAME"} <= names:   # the start of a chain item
        names -= {"CONCAT", "ADD", "RESIDUAL", "CALL", "NAME", "LPAR"}
        names.add("_ITEM")
    words = sorted({_describe(n) for n in names}, key=_order)
    if len(words) > 6:  # a long list helps nobody: keep the most useful
        words = words[:6]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _order(word: str) -> tuple[int, str]:
    rank = ["`->`", "a newline", "`)`", "`,`", "a name", "a number"]
    return (rank.index(word) if word in rank else len(rank), word)


def _found(token: Token) -> str:
    """What was found instead, as `unexpected ...` continues: `end of line`, `` `->` ``."""
    if token.type == "_NL":
        return "end of line"
    if token.type == "$END":
        return "end of file"
    return f"`{token}`"


def _context(source: Source, offset: int) -> str:
    """The construct just before `offset`: back to the last `->`, `(`, `,` or
    line start, e.g. `conv 16 k3` in `... -> conv 16 k3 )`."""
    text = source.text[:offset]
    line_start = text.rfind("\n") + 1
    arrow = text.rfind("->")
    cut = max(arrow + 2 if arrow >= 0 else -1, text.rfind("("), text.rfind(","),
              text.rfind("{"), line_start)
    if text[cut:cut + 1] in "(,{" and cut >= line_start:
        cut += 1
    fragment = re.sub(r"#.*", "", text[max(cut, line_start):]).strip()
    return fragment


def _syntax_error(source: Source, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(source, exc)
    token = exc.token if isinstance(exc, UnexpectedToken) else None
    if isinstance(exc, UnexpectedEOF) or (token is not None and token.type == "$END"):
        offset = len(source.text.rstrip())
        span = source.span(max(0, offset - 1), offset) if offset else source.span(0, 0)
        expected = exc.expected
        after = _context(source, offset)
        return error("E0003", "unexpected end of file", span,
                     f"expected {_expected(expected)}" + (f" after `{after}`" if after else ""),
                     help=_eof_help(source))
    start = token.start_pos if token.start_pos is not None else 0
    if token.type == "_NL":
        start = source.text.rfind("\n", 0, start + 1)
        start = start if start >= 0 else token.start_pos
    end = max(start + 1, token.end_pos if token.type != "_NL" else start + 1)
    span = source.span(start, end)
    after = _context(source, start)
    message = f"unexpected {_found(token)}"
    if after:
        message += f" after `{after}`"
    return error("E0001", message, span, f"expected {_expected(exc.expected)}",
                 help=_token_help(token, exc.expected, after))


def _token_help(token: Token, expected, after: str) -> str | None:
    names = set(expected)
    if token.type == "ARROW" and "NAME" in names:
        return "a layer, a block or a group must stand between two `->`"
    if token.type == "_NL" and "RPAR" in names:
        return "close the parenthesis, or end the line with `->` or `,` to go on"
    if token.type == "NAME" and "ARROW" in names:
        return f"join layers with `->`: `{after} -> {token}`" if after else None
    if token.type in ("CALL", "LPAR", "CONCAT", "ADD", "RESIDUAL") and "ARROW" in names:
        return "join layers with `->`"
    if token.type == "INT" and "SIZE" in names:
        return "write a size without spaces: `3x32x32`"
    return None


def _eof_help(source: Source) -> str | None:
    depth = sum(source.text.count(c) for c in "(") - source.text.count(")")
    if depth > 0:
        return "a `(` is never closed"
    if source.text.count("{") > source.text.count("}"):
        return "a `{` is never closed"
    if source.text.rstrip().endswith("->"):
        return "a chain cannot end with `->`"
    return None


def _bad_character(source: Source, exc: UnexpectedCharacters) -> Diagnostic:
    pos = exc.pos_in_stream
    char = source.text[pos] if pos < len(source.text) else ""
    span = source.span(pos, pos + 1)
    shown = char if char.isprintable() else repr(char)[1:-1]
    helps = {
        "[": "sizes are written with `x`: `3x32x32`",
        ";": "end a statement with a newline, or chain layers with `->`",
        ":": "options are written `name=value`",
        "'": "quote strings with `\"`",
        ">": "chain layers with `->`",
    }
    after = _context(source, pos)
    message = f"unexpected character `{shown}`" + (f" after `{after}`" if after else "")
    return error("E0002", message, span, "not part of the language",
                 help=helps.get(char))
