"""Parsing: `.cnn` text -> syntax tree (`cnndsl.syntax.Program`) with spans.

Lark (LALR) parses; one non-recursive Transformer builds the typed tree, so
nothing after this module ever sees a Lark tree. Parser failures become
diagnostics in the language's own words.

The parse tables ship prebuilt in `grammars/cnn.tables.json` (plain JSON, built
by `python -m cnndsl.parser --write-tables`), so nothing is ever unpickled and no
cache file is written to a shared directory; building them from the grammar
takes ~200 ms, so they are only built when the grammar has changed (in a
development checkout whose tables are stale, which a test catches).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import replace
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from cnndsl import habits, trivia
from cnndsl import syntax as ast
from cnndsl.diagnostics import Diagnostic, Fix, error
from cnndsl.files import printable
from cnndsl.layers import COMBINATORS
from cnndsl.source import Source, Span
from cnndsl.suggest import did_you_mean, offer

#: Parentheses nest at most this deep; deeper input is refused with a located
#: error instead of exhausting the interpreter's stack in later passes.
MAX_NESTING = 64
#: A number has at most this many digits: anything larger is a typo, and Python
#: refuses to convert integers of over 4,300 digits.
MAX_DIGITS = 15

_OPENERS = {"LPAR", "CALL", "COMBINE"}
#: a line ending with one of these goes on on the next line
_GO_ON = ("ARROW", "LBRACE", "COMMA")
_OPTIONS = dict(parser="lalr", lexer="basic", maybe_placeholders=True)


class _NestingTooDeep(Exception):
    def __init__(self, token: Token) -> None:
        self.token = token


class _PostLex:
    """Makes newlines insignificant inside parentheses, next to `->`, after a
    comma, and just inside `{ }`, so chains and every comma-separated list (the
    `output` list too) may span lines."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        pending: Token | None = None   # a newline whose fate depends on what follows
        previous: Token | None = None
        for token in stream:
            if token.type == "_NL":
                if depth == 0 and previous is not None and previous.type not in _GO_ON:
                    pending = pending or token
                continue
            if pending is not None and token.type not in ("ARROW", "RBRACE", "ELSE"):
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


# ---- the parser and its prebuilt tables -----------------------------------------------

_local = threading.local()   # the comments of the parse running in this thread


def _comment(token: Token) -> Token:
    sink = getattr(_local, "comments", None)
    if sink is not None:
        sink.append(token)
    return token


def _grammar() -> str:
    return (resources.files("cnndsl.grammars") / "cnn.lark").read_text(encoding="utf-8")


def _digest(grammar: str) -> str:
    return hashlib.sha256(grammar.encode("utf-8")).hexdigest()


def build_tables(grammar: str | None = None) -> str:
    """The parse tables of the grammar as JSON text (what `cnn.tables.json` holds)."""
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    grammar = grammar or _grammar()
    data, memo = Lark(grammar, **_OPTIONS).memo_serialize([TerminalDef, Rule])
    return json.dumps({"grammar_sha256": _digest(grammar), "data": data, "memo": memo},
                      sort_keys=True, indent=0) + "\n"


def _int_keys(pairs):
    # JSON object keys are strings; Lark's memo and state tables use ints
    return {int(k) if k.isdigit() else k: v for k, v in pairs}


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = _grammar()
    callbacks = {"COMMENT": _comment}
    try:
        text = (resources.files("cnndsl.grammars") / "cnn.tables.json").read_text("utf-8")
        tables = json.loads(text, object_pairs_hook=_int_keys)
    except (OSError, ValueError):
        tables = None
    if tables is not None and tables.get("grammar_sha256") == _digest(grammar):
        return Lark._load_from_dict(tables["data"], tables["memo"], postlex=_PostLex(),
                                    lexer_callbacks=callbacks)
    return Lark(grammar, **_OPTIONS, postlex=_PostLex(), lexer_callbacks=callbacks)


# ---- tree -> syntax tree ------------------------------------------------------------------

class _ToSyntax(Transformer_NonRecursive):
    def __init__(self, source: Source) -> None:
        super().__init__(visit_tokens=False)
        self.source = source
        self.diagnostics: list[Diagnostic] = []

    def _cover(self, children) -> Span:
        """The span from the first to the last of `children` (tokens and nodes)."""
        first = next(c for c in children if c is not None)
        last = next(c for c in reversed(children) if c is not None)
        start = first.start_pos if isinstance(first, Token) else first.span.start
        end = last.end_pos if isinstance(last, Token) else last.span.end
        return self.source.span(start, end)

    def _tok(self, token: Token) -> Span:
        return self.source.span(token.start_pos, token.end_pos)

    def _integers(self, token: Token, text: str) -> tuple[int, ...]:
        """The numbers of an INT, SIZE or FLAG token, each at most MAX_DIGITS long."""
        parts = text.split("x")
        if any(len(p) > MAX_DIGITS for p in parts):
            self.diagnostics.append(error(
                "E0408", "this number is far too large", self._tok(token),
                f"more than {MAX_DIGITS} digits", help="sizes, channels and counts are at most "
                "2,147,483,647"))
            return tuple(0 for _ in parts)
        return tuple(int(p) for p in parts)

    # -- statements
    def start(self, items):
        fields: dict[str, list] = {k: [] for k in ("models", "inputs", "outputs", "lets",
                                                   "blocks", "bodies", "asserts")}
        trains: list = []
        train_spans: list = []
        kinds = {ast.ModelDecl: "models", ast.InputDecl: "inputs", ast.OutputDecl: "outputs",
                 ast.LetDef: "lets", ast.BlockDef: "blocks", ast.Chain: "bodies",
                 ast.AssertDef: "asserts", ast.Allow: "allows"}
        fields["allows"] = []
        for item in items:
            if isinstance(item, tuple):      # a train section: (span, items)
                train_spans.append(item[0])
                trains.extend(item[1])
            else:
                fields[kinds[type(item)]].append(item)
        return ast.Program(**{k: tuple(v) for k, v in fields.items()},
                           trains=tuple(trains), train_spans=tuple(train_spans))

    def model_decl(self, children):
        _, name = children
        return ast.ModelDecl(span=self._cover(children), name=str(name),
                             name_span=self._tok(name))

    def input_decl(self, children):
        _, name, size = children
        return ast.InputDecl(span=self._cover(children),
                             name=str(name) if name is not None else None,
                             name_span=self._tok(name) if name is not None else None,
                             shape=self._integers(size, str(size)), shape_span=self._tok(size))

    def output_decl(self, children):
        return ast.OutputDecl(span=self._cover(children),
                              chains=tuple(c for c in children if isinstance(c, ast.Chain)))

    def let_decl(self, children):
        _, name, value = children
        return ast.LetDef(span=self._cover(children), name=str(name), name_span=self._tok(name),
                          value=value)

    def block_decl(self, children):
        _, head, *params, body, _ = children
        name = str(head).rstrip("(").rstrip()
        name_span = self.source.span(head.start_pos, head.start_pos + len(name))
        return ast.BlockDef(span=self._cover(children), name=name, name_span=name_span,
                            params=tuple(p for p in params if p is not None), body=body)

    def allow_decl(self, children):
        _, *codes = children
        return ast.Allow(span=self._cover(children),
                         codes=tuple((str(c), self._tok(c)) for c in codes))

    def param(self, children):
        name, default = children
        return ast.Param(span=self._cover(children), name=str(name), default=default)

    def assert_decl(self, children):
        _, metric, op, value = children
        if isinstance(value, Token) and value.type == "SIZE":
            parsed: float | tuple[int, ...] = self._integers(value, str(value))
        else:
            parsed = self._finite(_quantity(str(value)), value)
        return ast.AssertDef(span=self._cover(children), metric=str(metric),
                             metric_span=self._tok(metric), op=str(op), value=parsed,
                             value_text=str(value), value_span=self._tok(value))

    def quantity(self, children):
        return children[0]

    def train_decl(self, children):
        _, *items, _ = children
        return (self._cover(children), tuple(c for c in items if c is not None))

    def train_item(self, children):
        key, *values = children
        flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
        return ast.TrainItem(span=self._cover([key, *flat]), key=str(key),
                             key_span=self._tok(key),
                             values=tuple(self._train_value(v) for v in flat))

    def slashed(self, children):
        """`data/shapes`: the name, and the rest as the path it would have been."""
        head, *_ = children
        rest = self.source.span(head.end_pos, children[-1].end_pos)
        return [self._train_value(head),
                ast.TrainValue(span=rest, text=self.source.snippet(rest),
                               value=self.source.snippet(rest))]

    def _train_value(self, value) -> ast.TrainValue:
        if isinstance(value, ast.TrainValue):
            return value
        return ast.TrainValue(span=self._tok(value), text=str(value), value=_unquote(str(value)))

    def word(self, children):
        span = self._cover(children)
        text = self.source.snippet(span)
        return ast.TrainValue(span=span, text=text, value=text)

    def train_option(self, children):
        key, value = children
        span = self._cover(children)
        text = value.value if isinstance(value, ast.TrainValue) else _unquote(str(value))
        return ast.TrainValue(span=span, text=self.source.snippet(span), key=str(key),
                              value=text)

    # -- chains
    def chain(self, children):
        items = tuple(c for c in children if not isinstance(c, Token))
        return ast.Chain(span=self._cover(children), items=items)

    def ref(self, children):
        (token,) = children
        return ast.Ref(span=self._tok(token), name=str(token)[1:])

    def group(self, children):
        _, chain, _ = children
        return ast.Chain(span=self._cover(children), items=chain.items)

    def repeat(self, children):
        item, count = children
        return ast.Repeat(span=self._cover(children), item=item, count=count)

    def if_item(self, children):
        test, then, other = children[1], children[2], children[-1]
        return ast.If(span=self._cover(children), test=test, then=then, other=other)

    def else_chain(self, children):
        chain, _ = children
        return chain

    def labelled(self, children):
        item, _, label = children
        return ast.Labelled(span=self._cover(children), item=item, label=str(label),
                            label_span=self._tok(label))

    def layer(self, children):
        name, *args = children
        return ast.LayerUse(span=self._cover(children), name=str(name),
                            name_span=self._tok(name), args=tuple(_as_arg(a) for a in args))

    def option(self, children):
        name, value = children
        return ast.Option(span=self._cover(children), name=str(name), name_span=self._tok(name),
                          value=value)

    def block_use(self, children):
        head, *args, _ = children
        name = str(head).rstrip("(").rstrip()
        return ast.BlockUse(span=self._cover(children), name=name,
                            name_span=self.source.span(head.start_pos,
                                                       head.start_pos + len(name)),
                            args=tuple(_as_arg(a) for a in args if a is not None))

    def combine(self, children):
        head, *branches, _ = children
        op = str(head).rstrip("(").rstrip()
        keyword = self.source.span(head.start_pos, head.start_pos + len(op))
        return ast.Combine(op=op, span=self._cover(children), keyword_span=keyword,
                           branches=tuple(branches))

    # -- expressions
    def _binop(self, op, children):
        left, right = children
        return ast.BinOp(span=left.span.cover(right.span), op=op, left=left, right=right)

    def plus(self, children):
        return self._binop("+", children)

    def minus(self, children):
        return self._binop("-", children)

    def times(self, children):
        return self._binop("*", children)

    def floordiv(self, children):
        return self._binop("//", children)

    def truediv(self, children):
        return self._binop("/", children)

    def modulo(self, children):
        return self._binop("%", children)

    def compare(self, children):
        left, op, right = children
        return self._binop(str(op), [left, right])

    def or_(self, children):
        left, _, right = children
        return self._binop("or", [left, right])

    def and_(self, children):
        left, _, right = children
        return self._binop("and", [left, right])

    def not_(self, children):
        keyword, operand = children
        return ast.Unary(span=self._cover(children), op="not", operand=operand)

    def negate(self, children):
        (operand,) = children
        start = self.source.text.rfind("-", 0, operand.span.start)
        return ast.Unary(span=self.source.span(start, operand.span.end), op="-",
                         operand=operand)

    def conditional(self, children):
        then, _, test, _, other = children
        return ast.Cond(span=then.span.cover(other.span), test=test, then=then, other=other)

    def call(self, children):
        head, *args, _ = children
        name = str(head).rstrip("(").rstrip()
        return ast.Call(span=self._cover(children), func=name,
                        func_span=self.source.span(head.start_pos, head.start_pos + len(name)),
                        args=tuple(a for a in args if a is not None))

    def int(self, children):
        (tok,) = children
        (value,) = self._integers(tok, str(tok))
        return ast.Num(span=self._tok(tok), value=value, text=str(tok))

    def decimal(self, children):
        (tok,) = children
        return ast.Num(span=self._tok(tok), value=self._finite(float(tok), tok), text=str(tok))

    def _finite(self, value: float, tok: Token) -> float:
        """`value`, or E0415 (and 0) when it overflowed to infinity."""
        if value in (float("inf"), float("-inf")):
            self.diagnostics.append(error(
                "E0415", "this number is too large to represent", self._tok(tok),
                "beyond the largest floating-point number (about 1.8e308)"))
            return 0.0
        return value

    def size(self, children):
        (tok,) = children
        return ast.SizeLit(span=self._tok(tok), values=self._integers(tok, str(tok)))

    def name(self, children):
        (tok,) = children
        return ast.Name(span=self._tok(tok), name=str(tok))

    def flag(self, children):
        (tok,) = children
        text = str(tok)
        return ast.Flag(span=self._tok(tok), name=text, letter=text[0],
                        values=self._integers(tok, text[1:]))

    def channels_in(self, children):
        (tok,) = children
        return ast.InChannels(span=self._tok(tok))


def _as_arg(value) -> ast.Positional | ast.Option:
    if isinstance(value, ast.Option):
        return value
    return ast.Positional(span=value.span, value=value)


_SUFFIX = {"k": 1e3, "M": 1e6, "G": 1e9}


def _quantity(text: str) -> float:
    if text[-1] in _SUFFIX:
        return float(text[:-1]) * _SUFFIX[text[-1]]
    return float(text)


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


# ---- entry point ----------------------------------------------------------------

def parse(source: Source) -> tuple[ast.Program | None, list[Diagnostic]]:
    """Parse a source file into its syntax tree, or explain why it is not one."""
    _local.comments = comments = []
    try:
        tree = _lark().parse(source.text)
    except _NestingTooDeep as exc:
        span = source.span(exc.token.start_pos, exc.token.end_pos)
        return None, [error("E0005", "parentheses nest too deeply", span,
                            f"more than {MAX_NESTING} levels deep",
                            help="name the inner part as a `block` and use it")]
    except UnexpectedInput as exc:
        return None, _pasted_or(source, _syntax_error(source, exc))
    finally:
        _local.comments = None
    transformer = _ToSyntax(source)
    program = transformer.transform(tree)
    if transformer.diagnostics:
        return None, transformer.diagnostics
    notes = tuple(ast.Comment(span=source.span(c.start_pos, c.end_pos), text=str(c)[1:].strip())
                  for c in comments)
    return trivia.attach(replace(program, comments=notes), source), []


# ---- syntax errors in the language's own words ------------------------------------

def _pasted_or(source: Source, found: Diagnostic) -> list[Diagnostic]:
    """A syntax error inside a pasted PyTorch or Keras call (`nn.Conv2d(1, 8, 3)`,
    `Conv2D(8, (3, 3), padding='same')`) is reported as what it is, with every other
    such call in the file, each with its translation."""
    at = found.span.start if found.span is not None else -1
    pasted = habits.pasted_calls(source)
    if any(d.span.start <= at < d.span.end for d in pasted):
        return pasted
    return [found]


_WORDS = {
    "ARROW": "`->`", "_NL": "a newline", "NAME": "a name", "INT": "a number",
    "DECIMAL": "a number", "SIZE": "a size such as `3x32x32`", "SUFFIXED": "a number",
    "CALL": "a block use", "COMBINE": "`concat(`, `add(`, ...", "FLAG": "a flag such as `k3`",
    "AT": "a label such as `@e1`", "AS": "`as`", "IN": "`in`", "COMPARE":
    "a comparison (`<`, `<=`, `==`, ...)", "STRING": "a quoted string", "PATH": "a path",
    "$END": "the end of the file", "_ITEM": "a layer, a block or `(`",
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
    if {"COMBINE", "CALL", "NAME"} <= names:   # the start of a chain item
        names -= {"COMBINE", "CALL", "NAME", "LPAR", "AT", "IF"}
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
    return f"`{printable(str(token))}`"


def _context(source: Source, offset: int) -> str:
    """The construct just before `offset`: back to the last `->`, `(`, `,` or
    line start, e.g. `conv 16 k3` in `... -> conv 16 k3 )`."""
    line_start = source.text.rfind("\n", 0, offset) + 1
    text = source.text[max(line_start, offset - 200):offset]   # bounded: one line's tail
    arrow = text.rfind("->")
    cut = max(arrow + 2 if arrow >= 0 else -1, text.rfind("("), text.rfind(","),
              text.rfind("{"), 0)
    if text[cut:cut + 1] in "(,{" and text[cut:cut + 1]:
        cut += 1
    fragment = re.sub(r"#.*", "", text[cut:]).strip()
    return printable(fragment if len(fragment) <= 60 else "…" + fragment[-59:])


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
    combinator = _unknown_combinator(source, start)
    if combinator is not None:
        return combinator
    if token.type == "_NL":
        start = source.text.rfind("\n", 0, start + 1)
        start = start if start >= 0 else token.start_pos
    end = max(start + 1, token.end_pos if token.type != "_NL" else start + 1)
    span = source.span(start, end)
    after = _context(source, start)
    message = f"unexpected {_found(token)}"
    if after:
        message += f" after `{after}`"
    expected = set(exc.expected)
    comma = _comma_line(source, start)
    if comma is not None:   # the list went on past its last line
        expected.discard("_NL")
        help, fix = (f"a line ending with `,` goes on on the next; remove the `,` at the end "
                     f"of line {comma} to end the list there"), None
    else:
        help, fix = _token_help(source, token, exc.expected, after)
    return error("E0001", message, span, f"expected {_expected(expected)}", help=help,
                 fixes=[fix] if fix else ())


def _comma_line(source: Source, offset: int) -> int | None:
    """The line of a `,` ending the line before `offset`'s, if one does (a list that
    goes on), else None. Comments and blank lines between are skipped; bounded."""
    before = source.text[max(0, offset - 2000):offset]
    lines = before.split("\n")
    if len(lines) < 2 or lines[-1].strip():
        return None
    for back, line in enumerate(reversed(lines[:-1]), start=1):
        code = re.sub(r"#.*", "", line).rstrip()
        if code:
            return source.position(offset)[0] - back if code.endswith(",") else None
    return None


_CALL_BEFORE = re.compile(r"([a-z_][A-Za-z0-9_]*)[ \t]*\($")


def _unknown_combinator(source: Source, offset: int) -> Diagnostic | None:
    """`cat(conv 4 k1, ...)`: a lowercase word used like `concat(` fails to parse
    as a block use; name the word instead of the token it stumbled on."""
    depth, pos = 0, offset - 1
    floor = max(0, offset - 2000)
    while pos >= floor:
        char = source.text[pos]
        if char == ")":
            depth += 1
        elif char == "(":
            if depth == 0:
                break
            depth -= 1
        pos -= 1
    else:
        return None
    match = _CALL_BEFORE.search(source.text[max(0, pos - 80):pos + 1])
    if match is None or match.group(1) in COMBINATORS:
        return None
    close = did_you_mean(match.group(1), COMBINATORS)
    if close is None:
        return None
    start = pos - (len(match.group(0)) - 1)
    span = source.span(start, start + len(match.group(1)))
    return error("E0201", f"unknown combinator `{match.group(1)}(`", span,
                 "not a combinator",
                 notes=["combinators: " + ", ".join(f"`{c}(`" for c in COMBINATORS)],
                 **offer(close, span, "{}("))


def _token_help(source: Source, token: Token, expected,
                after: str) -> tuple[str | None, Fix | None]:
    names = set(expected)
    if token.type == "ARROW" and "NAME" in names:
        return "a layer, a block or a group must stand between two `->`", None
    if token.type == "_NL" and "RPAR" in names:
        return "close the parenthesis, or end the line with `->` or `,` to go on", None
    if token.type == "NAME" and str(token).startswith("x") and _after_number(source, token):
        return "write a size without spaces: `3x32x32`", None
    if token.type == "PATH" and str(token).startswith("/") and "SLASH" in names:
        return ("after a space, `/name` reads as a path; to divide, write `a / name` "
                "or `a/name`"), None
    if token.type in ("NAME", "CALL", "LPAR", "COMBINE") and "ARROW" in names:
        insert = Fix(span=source.span(token.start_pos, token.start_pos), replacement="-> ")
        shown = printable(str(token))
        return (f"join layers with `->`: `{after} -> {shown}`" if after and token.type == "NAME"
                else "join layers with `->`"), insert
    return None, None


def _after_number(source: Source, token: Token) -> bool:
    before = source.text[max(0, token.start_pos - 30):token.start_pos].rstrip(" \t")
    return bool(before) and before[-1].isdigit()


def _eof_help(source: Source) -> str | None:
    depth = source.text.count("(") - source.text.count(")")
    if depth > 0:
        return "a `(` is never closed"
    if source.text.count("{") > source.text.count("}"):
        return "a `{` is never closed"
    if source.text.rstrip().endswith("->"):
        return "a chain cannot end with `->`"
    return None


_CHARACTER_HELP = {
    "[": "sizes are written with `x`: `3x32x32`",
    ";": "end a statement with a newline, or chain layers with `->`",
    ":": "options are written `name=value`",
    "'": "quote strings with `\"`",
    ">": "chain layers with `->`",
    "@": "a label is `@` and a name: `@e1`",
}


def _bad_character(source: Source, exc: UnexpectedCharacters) -> Diagnostic:
    pos = exc.pos_in_stream
    char = source.text[pos] if pos < len(source.text) else ""
    span = source.span(pos, pos + 1)
    after = _context(source, pos)
    message = f"unexpected character `{printable(char)}`" + (f" after `{after}`" if after else "")
    return error("E0002", message, span, "not part of the language",
                 help=_CHARACTER_HELP.get(char))


# ---- the prebuilt tables ---------------------------------------------------------

def _write_tables() -> None:
    path = resources.files("cnndsl.grammars") / "cnn.tables.json"
    with open(str(path), "w", encoding="utf-8") as handle:
        handle.write(build_tables())
    print(f"wrote {path}")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write-tables"]:
        raise SystemExit("usage: python -m cnndsl.parser --write-tables")
    _write_tables()
