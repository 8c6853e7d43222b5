"""Binding a layer word's arguments (`conv 16 k3 s2 nobias`) to its fields,
as the table in `cnndsl.ir.layers` describes them, then validating them through the
word's pydantic-core schema (`cnndsl.ir.layers.validator`), whose errors become located
diagnostics: E0401 a missing argument, E0402 a value of the wrong form, E0404
one out of its bounds, E0414 an unknown word."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import chain

from cnndsl.diagnostics.diagnostic import Diagnostic, Fix, Label, error
from cnndsl.diagnostics.suggest import did_you_mean, offer
from cnndsl.front import habits
from cnndsl.front import syntax as ast
from cnndsl.front.source import Span
from cnndsl.ir.expr import Expr
from cnndsl.ir.layers import FLAG_LETTERS, LAYERS, Arg, LayerWord, accepts, validator
from cnndsl.passes.constants import Env, Value, evaluate, literal, parts, plain, unknown_name


@dataclass
class Bound:
    """The fields of one layer as the user set them, with where they were set.
    `unknown` when a value depends on an input shape that could not be inferred."""

    values: dict[str, object] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    at: dict[str, Span] = field(default_factory=dict)    # where a bad value is pointed at
    sym: dict[str, Expr] = field(default_factory=dict)   # field -> its tree, if symbolic
    ok: bool = True
    unknown: bool = False
    stop: bool = False    # the rest of the arguments belong to a layer written here


def bind(op: str, use: ast.LayerUse, env: Env, layer_words: set[str],
         diagnostics: list[Diagnostic]) -> Bound | None:
    """Bind `use`'s arguments against the table entry for `op`; None on errors
    (reported) or when a value is unknown (nothing to report)."""
    word = LAYERS[op]
    bound = Bound(values=dict(word.defaults))
    positional = [a for a in word.args if a.positional]
    claimed: set[str] = set()     # flags a bare number was taken for, in PyTorch's order
    args = list(use.args)
    while args:
        arg = args.pop(0)
        if bound.stop:
            break
        if isinstance(arg, ast.Option):
            _bind_option(word, use, arg, env, bound, diagnostics)
        elif (apart := habits.option_apart(word, use, arg, args, env)) is not None:
            bound.ok = False          # `stride 2`: the value goes with its word
            diagnostics.append(apart)
            args.pop(0)
        elif not _bind_word(word, use, arg.value, bound, env, layer_words, diagnostics):
            flag = _flag_in(arg.value, env)
            if flag is not None:
                bound.ok = False
                diagnostics.append(unknown_name(flag, env))
                continue
            if not positional:
                bound.ok = False
                diagnostics.append(_too_many(word, use, arg, bound, claimed))
                continue
            _set(word, positional.pop(0), arg.value, env, bound, diagnostics, use)
    _validate(word, use, bound, diagnostics, missing_too=bound.ok and not bound.unknown)
    return bound if bound.ok and not bound.unknown else None


def _flag_in(expr: ast.Expr, env: Env) -> ast.Flag | None:
    """A short flag used inside arithmetic (`k3 * 2`), if any."""
    if isinstance(expr, ast.Flag):
        return expr if expr.name not in env and expr.letter in FLAG_LETTERS else None
    return next((f for part in parts(expr) if (f := _flag_in(part, env)) is not None), None)


def _bind_word(word: LayerWord, use: ast.LayerUse, expr: ast.Expr, bound: Bound, env: Env,
               layer_words: set[str], diagnostics: list[Diagnostic]) -> bool:
    """A bare word: a short flag (`k5`), a switch (`nobias`), or a mistake.
    Returns False when `expr` is an ordinary positional value."""
    if isinstance(expr, ast.Flag):
        arg = next((a for a in word.args if a.flag == expr.letter), None)
        if arg is not None:
            values = expr.values
            _store(word, arg, literal(values[0] if len(values) == 1 else values), expr.span,
                   bound, diagnostics, use)
            return True
        if expr.name in env:
            return False   # an ordinary name that looks like a flag (`c1`)
        bound.ok = False
        flags = ", ".join(f"`{a.flag}`" for a in word.args if a.flag) or "none"
        diagnostics.append(error(
            "E0411", f"`{use.name}` has no `{expr.letter}` flag", expr.span, "unknown flag",
            notes=[f"its flags: {flags}", f"usage: `{word.usage}`"],
            help=None if expr.letter in FLAG_LETTERS else
            f"if `{expr.name}` is meant as a constant, define it: `let {expr.name} = ...`"))
        return True
    if not isinstance(expr, ast.Name) or expr.name in env:
        return False
    if expr.name in word.switches:
        field_name, value = word.switches[expr.name]
        if field_name in bound.spans:
            _duplicate(use, field_name, expr.span, bound, diagnostics)
            return True
        bound.values[field_name] = value
        bound.spans[field_name] = expr.span
        return True
    bound.ok = False
    bound.stop = expr.name in layer_words
    diagnostics.append(_unknown_word(word, use, expr, layer_words, env))
    return True


def _unknown_word(word: LayerWord, use: ast.LayerUse, expr: ast.Name, layer_words: set[str],
                  env: Env) -> Diagnostic:
    name = expr.name
    if name in layer_words:
        return error("E0412", f"`{name}` is a layer, not an argument of `{use.name}`",
                     expr.span, "read as an argument",
                     help=f"join layers with `->`: `{use.name} ... -> {name}`",
                     fixes=[Fix(span=Span(start=expr.span.start, end=expr.span.start,
                                          line=expr.span.line, column=expr.span.column,
                                          end_line=expr.span.line,
                                          end_column=expr.span.column),
                                replacement="-> ")])
    close = did_you_mean(name, chain(word.switches, env))
    return error("E0413", f"unknown argument `{name}` for `{use.name}`", expr.span,
                 "not a flag, a switch or a constant", notes=[f"usage: `{word.usage}`"],
                 **offer(close, expr.span))


def _bind_option(word: LayerWord, use: ast.LayerUse, option: ast.Option, env: Env,
                 bound: Bound, diagnostics: list[Diagnostic]) -> None:
    arg = next((a for a in word.args if option.name in a.names), None)
    if arg is None:
        bound.ok = False
        diagnostics.append(_unknown_option(word, use, option))
        return
    value = option.value
    if arg.kind == "label" or isinstance(value, ast.Ref):
        if arg.kind == "label" and isinstance(value, ast.Ref):
            _store_word(use, arg, value.name, value.span, bound, diagnostics)
            return
        bound.ok = False
        diagnostics.append(error(
            "E0427", f"`{option.name}=` takes a label: `{option.name}=@NAME`", value.span,
            "not a label", help="write `@` and the label (or named input) whose size to take")
            if arg.kind == "label" else error(
            "E0427", "a label is a value only in `upsample like=@NAME`", value.span,
            f"`{option.name}=@{value.name}` on `{use.name}`",
            help="write a number or a size here; `upsample like=@NAME` resizes to a "
                 "label's size"))
        return
    if isinstance(value, (ast.Name, ast.Flag)) and value.name not in env:
        if value.name in arg.words:
            _store_word(use, arg, value.name, option.span, bound, diagnostics)
            return
        if arg.kind == "word":
            bound.ok = False
            choices = ", ".join(f"`{w}`" for w in arg.words)
            close = did_you_mean(value.name, arg.words)
            diagnostics.append(error("E0414", f"unknown {arg.describe} `{value.name}`",
                                     value.span, f"expected one of {choices}",
                                     **offer(close, value.span)))
            return
    _set(word, arg, value, env, bound, diagnostics, use, span=option.span)


def _store_word(use: ast.LayerUse, arg: Arg, text: str, span: Span, bound: Bound,
                diagnostics: list[Diagnostic]) -> None:
    if arg.field in bound.spans:
        _duplicate(use, arg.field, span, bound, diagnostics)
        return
    bound.spans[arg.field] = span
    bound.values[arg.field] = text


def _unknown_option(word: LayerWord, use: ast.LayerUse, option: ast.Option) -> Diagnostic:
    flag = next((a for a in word.args if a.flag == option.name), None)
    if flag is not None:
        value = option.value
        shown = value.text if isinstance(value, ast.Num) else "N"
        return error("E0403", f"`{option.name}=` is not an option of `{use.name}`",
                     option.name_span, "short flags have no `=`",
                     help=f"write `{option.name}{shown}` or `{flag.names[0]}={shown}`")
    names = [n for a in word.args for n in a.names]
    close = did_you_mean(option.name, names, cutoff=0.5)
    listed = ", ".join(f"`{n}=`" for n in names) or "none"
    return error("E0403", f"unknown option `{option.name}` for `{use.name}`",
                 option.name_span, "unknown option", notes=[f"its options: {listed}"],
                 **offer(close, option.name_span, "{}="))


def _set(word: LayerWord, arg: Arg, expr: ast.Expr, env: Env, bound: Bound,
         diagnostics: list[Diagnostic], use: ast.LayerUse, span: Span | None = None) -> None:
    value = evaluate(expr, env, diagnostics)
    if value is None:
        bound.ok = False
        return
    if not value.known:
        bound.unknown = True
        return
    _store(word, arg, value, span or expr.span, bound, diagnostics, use, expr_span=expr.span)


def _store(word: LayerWord, arg: Arg, value: Value, span: Span, bound: Bound,
           diagnostics: list[Diagnostic], use: ast.LayerUse,
           expr_span: Span | None = None) -> None:
    if arg.field in bound.spans:
        _duplicate(use, arg.field, span, bound, diagnostics)
        return
    bound.spans[arg.field] = span
    bound.at[arg.field] = expr_span or span
    bound.values[arg.field] = plain(value.value)
    if value.symbolic:
        bound.sym[arg.field] = value.expr


def _duplicate(use: ast.LayerUse, field_name: str, span: Span, bound: Bound,
               diagnostics: list[Diagnostic]) -> None:
    bound.ok = False
    first = bound.spans[field_name]
    diagnostics.append(error("E0405", f"`{field_name}` is given twice", span, "given again here",
                             secondary=[Label(span=first, text="first given here")],
                             help="keep one of them"))


def _validate(word: LayerWord, use: ast.LayerUse, bound: Bound,
              diagnostics: list[Diagnostic], missing_too: bool) -> None:
    """Validate the bound values through the word's model; its errors, in the
    language's words, at the value each is about. A missing argument is told (at
    the layer) only when nothing else is wrong and no value was unknown."""
    if accepts(word.op, bound.values):
        return
    from pydantic_core import ValidationError

    try:
        validator(word.op).validate_python(bound.values)
        return
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    bound.ok = False
    args = {a.field: a for a in word.args}
    wrong = {}
    for e in errors:
        if e["type"] != "missing":
            wrong.setdefault(e["loc"][0], []).append(e)
    for name, found in wrong.items():
        code, message, label, help = problem(args[name], bound.values[name], found)
        diagnostics.append(error(code, message, bound.at[name], label, help=help))
    missing = [a for a in word.args if any(e["loc"] == (a.field,) and e["type"] == "missing"
                                           for e in errors)]
    if missing and not wrong and missing_too:
        arg = missing[0]
        diagnostics.append(error(
            "E0401", f"`{use.name}` needs its {arg.describe}", use.span,
            f"no {arg.describe} given", notes=[f"usage: `{word.usage}`"],
            help=f"for example {word.example}" if word.example else None))


#: pydantic's error types, most telling first: a value breaking several rules is told the first
_RANK = ("size", "too_long", "too_short", "whole", "literal_error", "finite_number",
         "greater_than_equal", "greater_than", "less_than", "less_than_equal")


def problem(arg: Arg, value, errors: list[dict]) -> tuple[str, str, str, str | None]:
    """(code, message, label, help) for `value`, which `arg`'s type refused with
    pydantic's `errors`, in the language's words."""
    def rank(e: dict) -> int:
        kind = e["type"]
        if kind in ("int_type", "float_type", "int_from_float"):
            kind = "size" if isinstance(e["input"], tuple) else "whole"
        return _RANK.index(kind) if kind in _RANK else len(_RANK)

    # pydantic-core counts only the valid items against `min_length`: (0, 0) is "too short"
    errors = [e for e in errors if e["type"] != "too_short"
              or len(e["input"]) < e["ctx"]["min_length"]] or errors
    first = min(errors, key=rank)
    where = _RANK[rank(first)] if rank(first) < len(_RANK) else first["type"]
    shown = f"got {show(value)}"
    ctx = first.get("ctx", {})
    what = arg.describe
    if where == "size":
        return "E0402", f"the {what} is one number, not a size", shown, None
    if where in ("too_long", "too_short"):
        words = {3: "three", 4: "four"}[arg.longest]
        return "E0402", f"a {what} has one to {words} numbers", shown, None
    if where == "whole":
        numbers = value if isinstance(value, tuple) else (value,)
        below = next((math.floor(n) for n in numbers if isinstance(n, float)), None)
        help = (f"round it down with `// 1` (giving {below}), or write a whole number"
                if below is not None else None)
        return "E0402", f"the {what} must be a whole number", shown, help
    if where == "literal_error":
        choices = ", ".join(f"`{w}`" for w in arg.words)
        return "E0414", f"unknown {what} `{show(value)}`", f"expected one of {choices}", None
    if where == "finite_number":
        return "E0404", f"the {what} must be a finite number", shown, None
    if where == "greater_than_equal":
        return "E0404", f"the {what} must be at least {ctx['ge']:g}", shown, None
    if where == "greater_than":
        return "E0404", f"the {what} must be above {ctx['gt']:g}", shown, None
    if where == "less_than":
        return ("E0404", f"the {what} must be below {ctx['lt']:g}", shown,
                f"{what} is a fraction in [0, 1): `0.5` drops half")
    if where == "less_than_equal":
        return "E0404", f"the {what} must be at most {ctx['le']:,}", shown, None
    return "E0402", f"the {what} is not {first['msg'].lower()}", shown, None


def show(value) -> str:
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _too_many(word: LayerWord, use: ast.LayerUse, arg: ast.Positional, bound: Bound,
              claimed: set[str]) -> Diagnostic:
    habit = habits.bare_number(word, use, arg, set(bound.spans), claimed)   # `conv 8 3`
    if habit is not None:
        return habit
    return error("E0409", f"too many arguments for `{use.name}`", arg.span, "not expected here",
                 notes=[f"usage: `{word.usage}`"],
                 help="to repeat a layer whose last argument is a number, group it: "
                      f"`({use.name} ...) * N`" if word.args else None)
