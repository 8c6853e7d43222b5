"""Repeated structure -> blocks and `* N`.

The instances of one class whose bodies read the same become one block; a run
of identical uses in a group becomes `Name * N`."""

from __future__ import annotations

import re
from functools import lru_cache

from cnndsl.importer.chain import Item
from cnndsl.importer.levels import Instance, walk
from cnndsl.importer.write import chain_text, item_text


@lru_cache(maxsize=1024)
def valid_block(name: str) -> bool:
    if not re.fullmatch(r"[A-Z][A-Za-z0-9_]{0,59}", name):
        return False
    from cnndsl.api import check

    return check(f"input 1x4x4\nblock {name} {{ relu }}\n{name}\n").ok


def block_name(cls_name: str, taken: set[str]) -> str:
    """A block name from a class name: letters, digits and `_`, CamelCase, unused."""
    base = re.sub(r"[^A-Za-z0-9_]", "", cls_name).lstrip("_0123456789")[:50] or "Block"
    base = base[:1].upper() + base[1:]
    if not valid_block(base):
        base = "Block" + base
        if not valid_block(base):
            base = "Block"
    name, n = base, 1
    while name in taken or not valid_block(name):
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


class Blocks:
    """Names the blocks of a set of instances (children before parents) and fills in
    each use's block name; `texts` are the block definitions, in order."""

    def __init__(self, model_name: str) -> None:
        self.taken = {model_name}
        self.texts: list[str] = []
        self.by_body: dict[tuple[type, str], str] = {}

    def fold(self, instances: list[Instance]) -> None:
        for inst in instances:
            repeats(inst.items)
            body = chain_text(inst.items)
            key = (type(inst.module), body)
            if key not in self.by_body:
                name = block_name(type(inst.module).__name__, self.taken)
                self.by_body[key] = name
                self.texts.append(f"block {name} {{\n{body}\n}}")
            for use in inst.uses:
                use.block = self.by_body[key]


def repeats(items: list[Item]) -> None:
    """In place: inside groups, a run of identical unlabelled uses becomes `Name * N`;
    a group that is only that run becomes the labelled repetition itself."""
    for item in items:
        for branch in item.branches:
            repeats(branch)
        if item.kind == "group":
            repeats(item.items)
            item.items[:] = _runs(item.items)
            if len(item.items) == 1 and item.items[0].kind == "repeat":
                rep = item.items[0]
                item.kind, item.items, item.count = "repeat", rep.items, rep.count


def _runs(items: list[Item]) -> list[Item]:
    out: list[Item] = []
    for item in items:
        last = out[-1] if out else None
        if item.kind == "use" and not item.label and last is not None:
            prev = last.items[0] if last.kind == "repeat" else last
            if prev.kind == "use" and not prev.label and item_text(prev) == item_text(item):
                if last.kind == "repeat":
                    last.count += 1
                else:
                    out[-1] = Item("repeat", items=[last], count=2)
                continue
        out.append(item)
    return out


__all__ = ["Blocks", "block_name", "repeats", "walk"]
