"""Items -> spec text, printed through `cnndsl fmt`.

Each layer prints only the arguments it was given (the mapping leaves defaults
out), in the registry's order: short flags (`k3`) for literal values, long
forms (`stride=s`) for expressions, switch words (`nobias`, `ceil`) for flags.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnndsl.importer.chain import Item
from cnndsl.importer.mapping import Layer
from cnndsl.ir.layers import LAYERS


@dataclass(frozen=True)
class Expr:
    """A value written as an expression over block parameters (`c*4`, `in`)."""

    text: str


def literal(value) -> str:
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, bool):
        raise ValueError("a truth value is no argument")
    if isinstance(value, tuple):
        return "x".join(literal(v) for v in value)
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def layer_text(layer: Layer, like: str = "") -> str:
    word = LAYERS[layer.word]
    given = dict(layer.args)
    parts = [layer.word]
    for arg in word.args:
        if arg.field not in given:
            continue
        value = given.pop(arg.field)
        switch = _switch(word.switches, arg.field, value)
        if switch:
            parts.append(switch)
        elif arg.positional:
            parts.append(literal(value) if not isinstance(value, Expr) or arg.flag is None
                         else f"{arg.names[0]}={value.text}")
        elif arg.flag and not isinstance(value, Expr):
            parts.append(f"{arg.flag}{literal(value)}")
        else:
            parts.append(f"{arg.names[0]}={literal(value)}")
    for field_name, value in given.items():   # switches with no argument (nobias, ceil)
        switch = _switch(word.switches, field_name, value)
        if not switch:
            raise ValueError(f"`{layer.word}` has no way to write {field_name}={value!r}")
        parts.append(switch)
    if like:
        parts.append(f"like=@{like}")
    return " ".join(parts)


def _switch(switches: dict, field_name: str, value) -> str:
    for word, (name, val) in switches.items():
        if name == field_name and val == value and not isinstance(value, Expr):
            return word
    return ""


def chain_text(items: list[Item]) -> str:
    if not items:
        return "identity"
    return " -> ".join(item_text(item) for item in items)


def item_text(item: Item) -> str:
    text = _bare(item)
    return f"{text} as {item.label}" if item.label else text


def _bare(item: Item) -> str:
    if item.kind == "layer":
        text = layer_text(item.layer, item.like)
        # a layer whose last argument is a number would read `* N` as multiplication
        return text
    if item.kind == "use":
        if not item.args:
            return item.block
        args = ", ".join(f"{k}={literal(v)}" if k else literal(v) for k, v in item.args)
        return f"{item.block}({args})"
    if item.kind == "ref":
        return f"@{item.ref}"
    if item.kind == "merge":
        sugar = {"add": "residual", "mul": "gate"}.get(item.merge)
        if sugar and len(item.branches) == 2 and sum(not b for b in item.branches) == 1:
            other = item.branches[0] or item.branches[1]   # x + f(x), x * g(x)
            return f"{sugar}({chain_text(other)})"
        return f"{item.merge}({', '.join(chain_text(b) for b in item.branches)})"
    if item.kind == "group":
        return f"({chain_text(item.items)})"
    if item.kind == "repeat":
        inner = item.items[0]
        inner_text = _bare(inner)
        if inner.kind == "layer":
            inner_text = f"({inner_text})"
        return f"{inner_text} * {item.count}"
    if item.kind == "if":
        text = f"if {item.cond} {{ {chain_text(item.branches[0])} }}"
        if len(item.branches) > 1 and item.branches[1]:
            text += f" else {{ {chain_text(item.branches[1])} }}"
        return text
    raise ValueError(f"no text for a {item.kind} item")


def spec_text(model: str, inputs: list[tuple[str, tuple[int, ...]]], blocks: list[str],
              body: list[Item], outputs: list[str]) -> str:
    """The whole spec, before formatting."""
    from cnndsl.importer.outputs import SPEC_MARK

    lines = [SPEC_MARK, f"model {model}"]
    if len(inputs) == 1:
        lines.append(f"input {literal(inputs[0][1])}")
    else:
        lines += [f"input {name} {literal(shape)}" for name, shape in inputs]
    lines.append("")
    for block in blocks:
        lines += [block, ""]
    lines.append(chain_text(body))
    if outputs:
        lines.append("output " + ", ".join(outputs))
    return "\n".join(lines) + "\n"
