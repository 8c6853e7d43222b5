"""The Lark tree -> the typed syntax tree (`cnndsl.front.syntax`), with spans: one
non-recursive Transformer, so nothing after the parser ever sees a Lark tree."""

from __future__ import annotations

from lark import Token, Transformer_NonRecursive

from cnndsl.diagnostics.diagnostic import Diagnostic, error
from cnndsl.front import syntax as ast
from cnndsl.front.source import Source, Span

#: A number has at most this many digits: anything larger is a typo, and Python
#: refuses to convert integers of over 4,300 digits.
MAX_DIGITS = 15


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
