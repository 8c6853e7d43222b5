"""Pasted foreign layer calls (`nn.Conv2d(1, 8, 3, padding=1)`): found in a file,
read, and reported as E0010 with their exact translation as help and fix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cnndsl.diagnostics.diagnostic import Diagnostic, Fix, error
from cnndsl.front.habits.foreign import KERAS, Foreign, candidates
from cnndsl.front.habits.reading import Unreadable, Word, read_arguments
from cnndsl.front.habits.translations import _HARMLESS
from cnndsl.front.habits.values import NoTranslation, _bind, _count, _string
from cnndsl.front.source import Source
from cnndsl.ir.layers import LAYERS, canonical

#: a pasted call is read only this far (characters); anything longer is not translated
MAX_CALL = 400
#: a file's pasted calls are reported up to this many
MAX_CALLS = 20
#: and at most this many foreign names are looked at
MAX_TRIES = 4 * MAX_CALLS


@dataclass(frozen=True)
class Translation:
    """The exact cnndsl text of a pasted call, or why there is none."""

    text: str | None
    reason: str = ""
    notes: tuple[str, ...] = ()


_FROM_SHAPE = {"in_channels", "in_features", "num_features", "num_channels"}
_LAYOUTS = ("channels_last", "channels_first", "None")


def translate(entry: Foreign, arguments: str) -> Translation:
    """`conv 8 k3 p1` for `nn.Conv2d` called with `1, 8, 3, padding=1`."""
    try:
        positional, keywords = read_arguments(arguments)
        call = _bind(entry.signature, positional, keywords)
        text = entry.translate(call)
        _known(text)
        extra = sorted(set(call.values) - call.used - _HARMLESS)
        if extra:
            raise NoTranslation(f"cnndsl has no `{extra[0]}`")
        if _string(call.values.get("data_format", Word("None"))) not in _LAYOUTS:
            raise NoTranslation
        notes = []
        given = set(entry.signature) & _FROM_SHAPE & set(call.values)
        if given:
            what = "features" if given == {"in_features"} else "channels"
            notes.append(f"the input's {what} are never written: cnndsl takes them from "
                         "the shape flowing in")
        if "input_shape" in call.values:
            notes.append(_input_note(entry, call.values["input_shape"]))
    except Unreadable:
        return Translation(None)
    except NoTranslation as exc:
        return Translation(None, exc.reason)
    return Translation(text, notes=tuple(notes))


_FLAG = re.compile(r"([a-z])[0-9]+(x[0-9]+)*")


def _known(text: str) -> None:
    """NoTranslation unless every word, flag, switch and option of `text` is in
    the layer registry (`gmp`, `pad` or `exclude_pad` may not be)."""
    for segment in text.split("->"):
        word, *rest = segment.split()
        layer = LAYERS.get(canonical(word) or "")
        if layer is None:
            raise NoTranslation(f"this cnndsl has no `{word}`")
        flags = {a.flag for a in layer.args if a.flag}
        names = {n for a in layer.args for n in a.names}
        for part in rest:
            flag = _FLAG.fullmatch(part)
            known = (part.split("=")[0] in names if "=" in part
                     else flag.group(1) in flags if flag
                     else part in layer.switches or _NUMBER.fullmatch(part))
            if not known:
                raise NoTranslation(f"this cnndsl's `{word}` has no `{part.split('=')[0]}`")


_NUMBER = re.compile(r"[0-9.eE+-]+(x[0-9]+)*")


def _input_note(entry: Foreign, shape) -> str:
    """Keras's `input_shape=(28, 28, 1)` as the spec's `input 1x28x28`."""
    numbers = shape if isinstance(shape, tuple) else (shape,)
    try:
        sizes = [_count(n) for n in numbers]
    except NoTranslation:
        return "the input's shape is declared once, with `input`"
    if entry.library == KERAS and len(sizes) > 1:
        sizes = sizes[-1:] + sizes[:-1]     # Keras puts channels last
    shown = "x".join(map(str, sizes))
    return f"the input's shape is declared once, channels first: `input {shown}`"


_CALL = re.compile(r"(?<![A-Za-z0-9_.@])((?:[A-Za-z_][A-Za-z0-9_]*\.){0,3}[A-Za-z_][A-Za-z0-9_]*)"
                   r"(?:[ \t]*(\())?")


def call_at(text: str, start: int) -> tuple[str, int, int] | None:
    """(name, start of the arguments, end of the call) for a call starting at `start`,
    read at most MAX_CALL characters; None when it does not close in time."""
    match = _CALL.match(text, start)
    if match is None:
        return None
    if match.group(2) is None:     # `nn.ReLU`, without its call: the dotted name alone
        return (match.group(1), match.end(), match.end()) if "." in match.group(1) else None
    depth, at = 1, match.end()
    limit = min(len(text), match.end() + MAX_CALL)
    while at < limit:
        char = text[at]
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth == 0:
                return match.group(1), match.end(), at + 1
        elif char in "\n#{}":
            return None
        at += 1
    return None


def pasted_call(source: Source, start: int) -> Diagnostic | None:
    """E0010 for a foreign layer call starting at `start`, with its exact
    translation as help and fix where there is one; None if it is no such call."""
    found = call_at(source.text, start)
    if found is None:
        return None
    name, args_start, end = found
    entries = candidates(name)
    if not entries:
        return None
    arguments = source.text[args_start:end - 1] if args_start < end else ""
    results = [(e, translate(e, arguments)) for e in entries]
    texts = {t.text for _, t in results}
    entry, result = results[0]
    span = source.span(start, end)
    origin = " and ".join(f"{e.library}'s `{e.qualified}`" for e, _ in results)
    libraries = " or ".join(dict.fromkeys(e.library for e, _ in results))
    called = f"{name}(...)" if args_start < end else name
    message = f"`{called}` is a {libraries} layer, not cnndsl"
    notes = list(result.notes)
    if len(texts) == 1 and result.text is not None:
        return error("E0010", message, span, origin, notes=notes,
                     help=f"in cnndsl: `{result.text}`",
                     fixes=[Fix(span=span, replacement=_in_place(result.text, source, end))])
    if len(texts) > 1 and None not in texts:
        shown = "; ".join(f"{e.library}'s is `{t.text}`" for e, t in results)
        return error("E0010", message, span, origin, notes=[*notes, f"in cnndsl, {shown}"],
                     help="write the one you mean")
    reason = next((t.reason for _, t in results if t.reason), "")
    if reason:
        notes.append(f"no exact translation: {reason}")
    return error("E0010", message, span, origin, notes=notes, help=entry.named())


_REPEATED = re.compile(r"[ \t]*(\*|as(?![A-Za-z0-9_]))")


def _in_place(text: str, source: Source, end: int) -> str:
    """The translation as it may stand where the call stood: grouped before `* N`
    (`fc 10 * 2` would be `fc 20`) and, when it is a chain, before `as`."""
    after = _REPEATED.match(source.text, end)
    if after is not None and (after.group(1) == "*" or "->" in text):
        return f"({text})"
    return text


def pasted_calls(source: Source) -> list[Diagnostic]:
    """Every foreign layer call in the file (up to MAX_CALLS), in order. Only names
    of foreign layers are read further, at most MAX_TRIES of them, each at most
    MAX_CALL characters: the work is bounded whatever the file holds."""
    found: list[Diagnostic] = []
    text = source.text
    at, tries = 0, 0
    while len(found) < MAX_CALLS and tries < MAX_TRIES:
        match = _CALL.search(text, at)
        if match is None:
            break
        at = match.end()
        if not candidates(match.group(1)):
            continue
        tries += 1
        line_start = text.rfind("\n", 0, match.start()) + 1
        if text.find("#", line_start, match.start()) >= 0:
            continue     # in a comment
        diagnostic = pasted_call(source, match.start())
        if diagnostic is not None:
            found.append(diagnostic)
            at = diagnostic.span.end
    return found
