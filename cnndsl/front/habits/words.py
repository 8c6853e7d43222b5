"""Other libraries' words and habits inside a layer use: a bare foreign word
(`dense 10`), a bare number where cnndsl writes a flag (`conv 8 3`), an option's
name and value written apart (`maxpool 2 stride 2`)."""

from __future__ import annotations

from cnndsl.diagnostics.diagnostic import Diagnostic, Fix, error
from cnndsl.front import syntax as ast
from cnndsl.front.source import Span


def bare_word(name: str, span: Span) -> Diagnostic | None:
    """E0201 for another library's word used as a layer word (`dense 10`)."""
    from cnndsl.front.habits.foreign import BARE_WORDS, FOREIGN  # only for an unknown word

    word = BARE_WORDS.get(name.lower()) if "." not in name else None
    if word is None:
        return None
    entries = [e for (_, key), e in FOREIGN.items() if key.lower() == name.lower()]
    origin = " and ".join(f"{e.library}'s `{e.qualified}`" for e in entries)
    kind = "block" if name[:1].isupper() else "layer"
    return error("E0201", f"unknown {kind} `{name}`", span, "not a cnndsl word",
                 help=(f"{origin}: " if origin else "") + f"cnndsl writes `{word}`",
                 fixes=[Fix(span=span, replacement=word)])


# ---- numbers and words where cnndsl writes flags ----------------------------------------

def bare_number(word, use: ast.LayerUse, arg: ast.Positional, given: set[str],
                claimed: set[str]) -> Diagnostic | None:
    """E0409 for a bare number past a layer's positional arguments (`conv 8 3`): the
    flag it stands for in PyTorch's order (kernel, stride, padding, dilation, groups),
    skipping the fields `given` and the flags `claimed` by earlier bare numbers. Fixed
    only when it is the missing required flag (the kernel), else suggested."""
    if not (isinstance(arg.value, ast.Num) and isinstance(arg.value.value, int)
            or isinstance(arg.value, ast.SizeLit)):
        return None
    flag = next((a for a in word.args if a.flag and not a.positional and a.field not in given
                 and a.flag not in claimed), None)
    if flag is None:
        return None
    claimed.add(flag.flag)
    written = f"{flag.flag}{_simple_text(arg.value)}"
    exact = flag.required and len(claimed) == 1
    return error("E0409", f"too many arguments for `{use.name}`", arg.span,
                 f"a bare number: cnndsl names its {flag.describe}",
                 notes=[f"usage: `{word.usage}`"],
                 help=f"write the {flag.describe} as a flag: `{written}`",
                 fixes=[Fix(span=arg.span, replacement=written)] if exact else ())


def option_apart(word, use: ast.LayerUse, arg, rest: list, env) -> Diagnostic | None:
    """E0413 for an option's name and value written apart (`maxpool 2 stride 2`), as
    one error spanning both, fixed to the short flag (`s2`) or the long form
    (`stride=s`); None when `arg` is no such name (a constant named `stride` is one)."""
    value = rest[0] if rest and isinstance(rest[0], ast.Positional) else None
    if not isinstance(arg, ast.Positional) or not isinstance(arg.value, ast.Name) or \
            arg.value.name in env or value is None:
        return None
    option = next((a for a in word.args if arg.value.name in a.names), None)
    if option is None:
        return None
    literal = isinstance(value.value, ast.SizeLit) or (
        isinstance(value.value, ast.Num) and isinstance(value.value.value, int))
    shown = _simple_text(value.value)
    short = f"{option.flag}{shown}" if option.flag and literal else None
    long = f"{arg.value.name}={shown if shown is not None else '...'}"
    fix = short or (long if shown is not None else None)
    return error(
        "E0413", f"`{arg.value.name}` is an option of `{use.name}`, written with `=`",
        arg.span.cover(value.span), "a word and a value apart", notes=[f"usage: `{word.usage}`"],
        help=f"write `{short}` or `{long}`" if short else f"write `{long}`",
        fixes=[Fix(span=arg.span.cover(value.span), replacement=fix)] if fix else ())


def _simple_text(expr) -> str | None:
    """A name, number or size as written; None for anything longer."""
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Num):
        return expr.text
    if isinstance(expr, ast.SizeLit):
        return "x".join(str(v) for v in expr.values)
    return None
