"""Inlay hints (each layer's output shape) and hover: a symbol's declaration, a
layer's arithmetic (`cnndsl.backends.query`, what the playground shows), a code's explanation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as T

from cnndsl.lsp import analysis as A
from cnndsl.lsp.positions import position

if TYPE_CHECKING:
    from cnndsl.lsp.server import CnnServer


def inlay(ls: CnnServer, an: A.Analysis, rng: T.Range) -> list[T.InlayHint]:
    first, last = rng.start.line, rng.end.line
    found = []
    for end, label in A.inlay_labels(an, ls.hints):
        pos = position(an, end)
        if first <= pos.line <= last:
            found.append(T.InlayHint(position=pos, label=label, kind=T.InlayHintKind.Type,
                                     padding_left=True))
    return found


# ---- hover ------------------------------------------------------------------------------

def hover_at(an: A.Analysis, at: int) -> T.Hover | None:
    from cnndsl.backends import query

    parts = []
    sym = an.symbol_at(at)
    if sym is not None:
        parts.append(_symbol_hover(an, sym, at))
    elif an.result is not None:
        line, col = an.position(at)
        try:
            found = query.layer_at(an.result, line + 1, col + 1)
        except (AttributeError, TypeError, ValueError, KeyError):
            found = None
        if found is not None:
            parts.append(layer_markdown(found))
    if an.result is not None:
        for d in an.result.diagnostics:
            if d.span is not None and d.span.start <= at <= d.span.end:
                parts.append(_code_markdown(d.code))
    if not parts:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown,
                                            value="\n\n---\n\n".join(parts)))


def _code_markdown(code: str) -> str:
    from cnndsl.diagnostics.codes import CODES

    entry = CODES.get(code)
    if entry is None:
        return f"**{code}**"
    return f"**{entry.code}: {entry.title}** ({entry.severity})\n\n{entry.explanation}"


def _plain(text: str) -> str:
    """User text inside a Markdown code span: no backquote can close it."""
    return text.replace("`", "'")


def layer_markdown(found: dict) -> str:
    lines = [f"**{found['name']}** `{_plain(found['text'])}`", "",
             f"{A.shape(found['input'])} → **{A.shape(found['output'])}**  ",
             f"params {found['params']:,} · MACs {found['macs']:,}"
             + (f" · receptive field {A.shape(found['rf'])}" if found.get("rf") else "")]
    if found["steps"]:
        lines.append("")
        for step in found["steps"]:
            label = f" ({step['label']})" if step.get("label") else ""
            note = f" — {step['note']}" if step.get("note") else ""
            lines.append(f"- {step['topic']}{label}: `{step['text']}`{note}")
    if len(found.get("uses") or ()) > 1:
        lines += ["", "uses: " + ", ".join(found["uses"])]
    return "\n".join(lines)


def _symbol_hover(an: A.Analysis, sym: A.Symbol, at: int) -> str:
    line = sym.decl.line
    detail = _plain(sym.detail)     # the user's line: no backquote closes the fence
    text = f"**{sym.kind}** `{_plain(sym.name)}` — defined on line {line}"
    if sym.kind == "block":
        text += f"\n\n```cnn\nblock {detail}\n```"
        use = _block_use_row(an, at)
        if use is not None:
            text += (f"\n\nthis use, `{use.name}`: {A.shape(use.input)} → "
                     f"**{A.shape(use.output)}**, params {use.params:,}, MACs {use.macs:,}")
        text += f"\n\nused {len(sym.uses)} time(s)"
    elif sym.kind == "label":
        shape = A.label_shape(an, sym)
        text += f"\n\n`@{sym.name}`" + (f": **{shape}**" if shape else "")
    elif sym.kind in ("constant", "input"):
        text += f"\n\n```cnn\n{detail}\n```"
    else:
        text += f" ({detail})"
    return text


def _block_use_row(an: A.Analysis, at: int):
    from cnndsl.backends import query

    if an.result is None:
        return None
    line, col = an.position(at)
    try:
        rows = query.rows_at(an.result, line + 1, col + 1)
        blocks = [r for r in rows if r.kind == "block"]
        return blocks[0] if blocks and blocks[0].output is not None else None
    except (AttributeError, TypeError, ValueError):
        return None
