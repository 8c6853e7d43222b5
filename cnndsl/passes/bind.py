"""Binding a layer word's arguments (`conv 16 k3 s2 nobias`) to its fields."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from cnndsl import ir
from cnndsl.diagnostics import Diagnostic, Label, error
from cnndsl.layers import DEFAULTS, LAYERS, Arg, LayerSpec
from cnndsl.passes.evaluate import FLAG, Env, Value, evaluate, literal, unknown_name
from cnndsl.source import Span


@dataclass
class Bound:
    """The fields of one layer as the user set them, with where they were set."""

    values: dict[str, object] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    sym: dict[str, str] = field(default_factory=dict)
    ok: bool = True


def bind(op: str, use: ir.LayerUse, env: Env, layer_words: set[str],
         diagnostics: list[Diagnostic]) -> Bound | None:
    """Bind `use`'s arguments against the catalogue entry for `op`."""
    spec = LAYERS[op]
    bound = Bound(values=dict(DEFAULTS.get(op, {})))
    positional = [a for a in spec.args if a.positional]
    for arg in use.args:
        if isinstance(arg, ir.Option):
            _bind_option(spec, use, arg, env, bound, diagnostics)
        elif not _bind_word(spec, use, arg.value, bound, env, layer_words, diagnostics):
            flag = _flag_in(arg.value, env)
            if flag is not None:
                bound.ok = False
                diagnostics.append(unknown_name(flag, env))
                continue
            if not positional:
                bound.ok = False
                diagnostics.append(_too_many(spec, use, arg.span))
                continue
            _set(spec, positional.pop(0), arg.value, env, bound, diagnostics, use)
    for arg in spec.args:
        if arg.required and arg.field not in bound.values and bound.ok:
            bound.ok = False
            diagnostics.append(error(
                "E0401", f"`{use.name}` needs its {arg.describe}", use.span,
                f"no {arg.describe} given", notes=[f"usage: `{spec.usage}`"],
                help=_example(spec)))
    return bound if bound.ok else None


def _flag_in(expr: ir.Expr, env: Env) -> ir.Ref | None:
    """A short flag used inside arithmetic (`k3 * 2`), if any."""
    if isinstance(expr, ir.Ref):
        return expr if expr.name not in env and FLAG.match(expr.name) else None
    if isinstance(expr, ir.BinOp):
        return _flag_in(expr.left, env) or _flag_in(expr.right, env)
    return None


def _bind_word(spec: LayerSpec, use: ir.LayerUse, expr: ir.Expr, bound: Bound, env: Env,
               layer_words: set[str], diagnostics: list[Diagnostic]) -> bool:
    """A bare word: a short flag (`k5`), a switch (`nobias`), or a mistake.
    Returns False when `expr` is an ordinary positional value."""
    if not isinstance(expr, ir.Ref) or expr.name in env:
        return False
    name = expr.name
    flag = FLAG.match(name)
    if flag:
        arg = next((a for a in spec.args if a.flag == flag.group(1)), None)
        if arg is not None:
            numbers = tuple(int(n) for n in flag.group(2).split("x"))
            value = numbers[0] if len(numbers) == 1 else numbers
            _store(spec, arg, literal(value), expr.span, bound, diagnostics, use)
            return True
    if name in spec.switches:
        field_name, value = spec.switches[name]
        if field_name in bound.spans and field_name != "bias":
            _duplicate(use, field_name, expr.span, bound, diagnostics)
        bound.values[field_name] = value
        bound.spans[field_name] = expr.span
        return True
    bound.ok = False
    diagnostics.append(_unknown_word(spec, use, expr, layer_words, env))
    return True


def _unknown_word(spec: LayerSpec, use: ir.LayerUse, expr: ir.Ref, layer_words: set[str],
                  env: Env) -> Diagnostic:
    name = expr.name
    if name in layer_words:
        before = use.name
        return error("E0403", f"`{name}` is a layer, not an argument of `{use.name}`",
                     expr.span, "read as an argument",
                     help=f"join layers with `->`: `{before} ... -> {name}`")
    flag = FLAG.match(name)
    if flag:
        flags = ", ".join(f"`{a.flag}`" for a in spec.args if a.flag) or "none"
        return error("E0403", f"`{use.name}` has no `{flag.group(1)}` flag", expr.span,
                     "unknown flag", notes=[f"its flags: {flags}", f"usage: `{spec.usage}`"])
    words = list(spec.switches) + list(env)
    close = difflib.get_close_matches(name, words, n=1, cutoff=0.6)
    return error("E0403", f"unknown argument `{name}` for `{use.name}`", expr.span,
                 "not a flag, a switch or a constant",
                 notes=[f"usage: `{spec.usage}`"],
                 help=f"did you mean `{close[0]}`?" if close else None)


def _bind_option(spec: LayerSpec, use: ir.LayerUse, option: ir.Option, env: Env,
                 bound: Bound, diagnostics: list[Diagnostic]) -> None:
    arg = next((a for a in spec.args if option.name in a.names), None)
    if arg is None:
        bound.ok = False
        diagnostics.append(_unknown_option(spec, use, option))
        return
    if isinstance(option.value, ir.Ref) and option.value.name not in env:
        word = option.value.name
        if word in arg.words:
            if arg.field in bound.spans:
                _duplicate(use, arg.field, option.span, bound, diagnostics)
                return
            bound.spans[arg.field] = option.span
            bound.values[arg.field] = word
            return
        if arg.kind == "word":
            bound.ok = False
            choices = ", ".join(f"`{w}`" for w in arg.words)
            diagnostics.append(error("E0404", f"unknown {arg.describe} `{word}`",
                                     option.value.span, f"expected one of {choices}"))
            return
    _set(spec, arg, option.value, env, bound, diagnostics, use, span=option.span)


def _unknown_option(spec: LayerSpec, use: ir.LayerUse, option: ir.Option) -> Diagnostic:
    flag = next((a for a in spec.args if a.flag == option.name), None)
    if flag is not None:
        value = option.value
        shown = value.text if isinstance(value, ir.Num) else "N"
        return error("E0403", f"`{option.name}=` is not an option of `{use.name}`",
                     option.name_span, "short flags have no `=`",
                     help=f"write `{option.name}{shown}` or `{flag.names[0]}={shown}`")
    names = [n for a in spec.args for n in a.names]
    close = difflib.get_close_matches(option.name, names, n=1, cutoff=0.5)
    listed = ", ".join(f"`{n}=`" for n in names) or "none"
    return error("E0403", f"unknown option `{option.name}` for `{use.name}`",
                 option.name_span, "unknown option", notes=[f"its options: {listed}"],
                 help=f"did you mean `{close[0]}=`?" if close else None)


def _set(spec: LayerSpec, arg: Arg, expr: ir.Expr, env: Env, bound: Bound,
         diagnostics: list[Diagnostic], use: ir.LayerUse, span: Span | None = None) -> None:
    value = evaluate(expr, env, diagnostics)
    if value is None:
        bound.ok = False
        return
    _store(spec, arg, value, span or expr.span, bound, diagnostics, use, expr_span=expr.span)


def _store(spec: LayerSpec, arg: Arg, value: Value, span: Span, bound: Bound,
           diagnostics: list[Diagnostic], use: ir.LayerUse,
           expr_span: Span | None = None) -> None:
    if arg.field in bound.spans:
        _duplicate(use, arg.field, span, bound, diagnostics)
        return
    bound.spans[arg.field] = span
    problem = _check_value(arg, value.value)
    if problem:
        bound.ok = False
        diagnostics.append(error("E0404" if problem[0] == "range" else "E0402", problem[1],
                                 expr_span or span, problem[2], help=problem[3]))
        return
    bound.values[arg.field] = value.value
    if value.symbolic:
        bound.sym[arg.field] = value.text


def _duplicate(use: ir.LayerUse, field_name: str, span: Span, bound: Bound,
               diagnostics: list[Diagnostic]) -> None:
    bound.ok = False
    first = bound.spans[field_name]
    diagnostics.append(error("E0405", f"`{field_name}` is given twice", span, "given again here",
                             secondary=[Label(span=first, text="first given here")],
                             help="keep one of them"))


def _check_value(arg: Arg, value) -> tuple[str, str, str, str | None] | None:
    """(kind, message, label, help) when `value` does not suit `arg`."""
    numbers = value if isinstance(value, tuple) else (value,)
    if isinstance(value, tuple) and arg.kind != "size":
        return ("type", f"the {arg.describe} is one number, not a size", f"got {_show(value)}",
                None)
    if isinstance(value, tuple) and not 1 <= len(value) <= 3:
        return ("type", f"a {arg.describe} has one to three numbers", f"got {_show(value)}",
                None)
    if arg.kind in ("int", "size") and any(isinstance(n, float) for n in numbers):
        return ("type", f"the {arg.describe} must be a whole number", f"got {_show(value)}",
                None)
    if arg.minimum is not None and any(n < arg.minimum for n in numbers):
        low = "at least 1" if arg.minimum == 1 else f"at least {arg.minimum:g}"
        return ("range", f"the {arg.describe} must be {low}", f"got {_show(value)}", None)
    if arg.below is not None and any(n >= arg.below for n in numbers):
        return ("range", f"the {arg.describe} must be below {arg.below:g}",
                f"got {_show(value)}",
                f"{arg.describe} is a fraction in [0, 1): `0.5` drops half")
    return None


def _show(value) -> str:
    return "x".join(str(v) for v in value) if isinstance(value, tuple) else f"{value:g}" \
        if isinstance(value, float) else str(value)


def _too_many(spec: LayerSpec, use: ir.LayerUse, span: Span) -> Diagnostic:
    return error("E0401", f"too many arguments for `{use.name}`", span, "not expected here",
                 notes=[f"usage: `{spec.usage}`"],
                 help="to repeat a layer whose last argument is a number, group it: "
                      f"`({use.name} ...) * N`" if spec.args else None)


def _example(spec: LayerSpec) -> str | None:
    examples = {"conv": "`conv 16 k3`", "maxpool": "`maxpool 2`", "avgpool": "`avgpool 2`",
                "fc": "`fc 10`", "adaptiveavgpool": "`adaptiveavgpool 7`",
                "adaptivemaxpool": "`adaptivemaxpool 7`"}
    return f"for example {examples[spec.op]}" if spec.op in examples else None
