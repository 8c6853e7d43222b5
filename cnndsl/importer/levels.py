"""The module hierarchy -> items: one level at a time, user-defined submodules
traced in their turn. Labels mirror attribute names, so keys survive."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from torch import nn

from cnndsl.importer.chain import Chains, Item
from cnndsl.importer.leaves import Inline, holds_state, is_container
from cnndsl.importer.lists import ListCall
from cnndsl.importer.steps import Level
from cnndsl.importer.trace import BATCH, trace
from cnndsl.importer.unsupported import Unsupported

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,59}\Z")
MAX_DEPTH = 64


@lru_cache(maxsize=4096)
def valid_label(name: str) -> bool:
    """Whether `name` can be written `as name` (the checker decides, once per name)."""
    if not NAME.match(name):
        return False
    from cnndsl.api import check

    return check(f"input 1x4x4\nconv 1 k1 as {name} -> relu\n").ok


@dataclass
class Instance:
    """One use of a user-defined module: its class, its own items, its input channels."""

    module: nn.Module
    items: list[Item]
    in_channels: int
    path: str
    uses: list[Item] = field(default_factory=list)


class Hierarchy:
    """Traces a module and every user-defined submodule it calls."""

    def __init__(self) -> None:
        self.instances: list[Instance] = []

    def level(self, module: nn.Module, shapes: list[tuple[int, ...]], names: tuple[str, ...],
              path: str, depth: int = 0) -> tuple[Level, list[Item], Chains]:
        if depth > MAX_DEPTH:
            raise Unsupported("modules nest too deeply", module_path=path)
        inline: set[str] = {"inner"} if isinstance(module, ListCall) else set()
        while True:
            try:
                return self._level(module, shapes, names, path, depth, frozenset(inline))
            except Inline as exc:
                if exc.owner is not module or exc.path in inline or len(inline) > 256:
                    raise
                inline.add(exc.path)

    def _level(self, module, shapes, names, path, depth, inline):
        mark = len(self.instances)
        try:
            return self._traced(module, shapes, names, path, depth, inline)
        except Inline:
            del self.instances[mark:]
            raise

    def _traced(self, module, shapes, names, path, depth, inline):
        level = trace(module, shapes, names, path, inline)
        chains = Chains(level, self._labels(level, path))
        items = chains.body()
        items = grouped(items, module, taken=frozenset(level.input_names))
        outputs = chains.outputs(items)
        unique_labels(items + [i for chain in outputs for i in chain])
        for item in walk(items + [i for chain in outputs for i in chain]):
            if item.kind == "use":
                self._use(item, path, depth, module)
        return level, items, outputs

    def _use(self, item: Item, path: str, depth: int, owner: nn.Module) -> None:
        node = item.node
        full = f"{path}.{node.path}" if path else node.path
        if len(node.in_shape) < 2:
            raise Unsupported("a module whose input is not a tensor", module_path=full)
        traced = ListCall(node.module) if node.listed else node.module
        level, items, _ = self.level(traced, [node.in_shape], ("x",), full, depth + 1)
        if holds_state(node.module) and not _reads_its_own(node.module, level):
            raise Unsupported(f"`{type(node.module).__name__}` holds parameters or buffers "
                              "itself, besides its layers'", module_path=full,
                              hint="keep weights in layer modules (a learnt per-channel "
                                   "factor is `scale`)")
        if len(level.outputs) != 1:
            raise Inline(owner, node.path)
        self.instances.append(Instance(node.module, items, node.in_shape[1], full, [item]))
        item.node.module = node.module

    @staticmethod
    def _labels(level: Level, path: str = "") -> dict[int, str]:
        calls = Counter(n.path for n in level.nodes if n.path)
        for n in level.nodes:
            if n.path and calls[n.path] > 1 and n.module is not None and \
                    any(True for _ in n.module.parameters()):
                raise Unsupported(f"`{n.path}` is called {calls[n.path]} times, sharing its "
                                  "weights between the calls",
                                  module_path=f"{path}.{n.path}" if path else n.path,
                                  filename=level.filename, line=level.line,
                                  hint="give each call its own module: a spec's layers never "
                                       "share weights")
        labels: dict[int, str] = {}
        taken: set[str] = set(level.input_names)   # a label may not take an input's name
        for n in level.nodes:
            if not n.path or calls[n.path] != 1:
                continue
            last = n.path.rsplit(".", 1)[-1]
            keeps = n.kind == "use" or holds_state(n.module)
            if keeps and valid_label(last) and last not in level.input_names and \
                    (n.path.count(".") or last not in taken):
                if "." not in n.path:
                    taken.add(last)
                labels[n.id] = last
        return labels


def _reads_its_own(module: nn.Module, level: Level) -> bool:
    """Whether a module's own weights are all read as one layer's in its forward
    (torchvision's `CNBlock`: `self.layer_scale * x` is `scale`), and it holds no buffer
    itself: its weights are paired where they are first read, so as one layer."""
    own = {name for name, _ in module.named_parameters(recurse=False)}
    return not any(True for _ in module.buffers(recurse=False)) and own == level.params \
        and level.param_layers == 1


def unique_labels(items: list[Item]) -> None:
    """In place: a label given twice in one body (`denselayer1` in every dense block) is
    dropped wherever nothing refers to it: those keys cannot all be kept, and unlabelled
    the repeated structure folds (`concat(identity, DenseLayer) * 6`)."""
    used = {i.ref for i in walk(items) if i.kind == "ref"} | {i.like for i in walk(items)}
    counts = Counter(i.label for i in walk(items) if i.label)
    # their numbered siblings go too (denselayer17 after denselayer1..16 went)
    bases = {label.rstrip("0123456789") for label, n in counts.items()
             if n > 1 and label[-1:].isdigit()}
    seen: set[str] = set()
    for item in walk(items):
        if not item.label or (item.label in used and item.label not in seen):
            seen.add(item.label)
            continue
        if counts[item.label] > 1 or (item.label[-1:].isdigit()
                                      and item.label.rstrip("0123456789") in bases):
            item.label = ""
        seen.add(item.label)


def walk(items: list[Item]):
    """Every item, depth first, branches and groups included."""
    for item in items:
        yield item
        for branch in item.branches:
            yield from walk(branch)
        yield from walk(item.items)


def grouped(items: list[Item], module: nn.Module, prefix: str = "",
            taken: frozenset[str] = frozenset()) -> list[Item]:
    """Runs of items from one container attribute (`layer1.0`, `layer1.1`) -> a labelled
    group; a merge belongs to the container every module inside it belongs to. A group
    never takes a name in `taken` (the inputs': `input depth` and `self.depth`)."""
    heads = [_container(item, module, prefix) for item in items]
    out: list[Item] = []
    i = 0
    while i < len(items):
        head = heads[i]
        if head is None:
            item = items[i]
            for n, branch in enumerate(item.branches):
                item.branches[n] = grouped(branch, module, prefix, taken)
            out.append(item)
            i += 1
            continue
        j = max(k for k in range(i, len(items)) if heads[k] == head)
        run = items[i:j + 1]
        if any(h not in (head, None) for h in heads[i:j + 1]):
            for item in run:
                for n, branch in enumerate(item.branches):
                    item.branches[n] = grouped(branch, module, prefix, taken)
            out.extend(run)
        else:
            inner = grouped(run, module, f"{prefix}{head}.")
            label = head if valid_label(head) and head not in taken else ""
            out.append(Item("group", items=inner, label=label, path=prefix + head))
        i = j + 1
    return out


def _container(item: Item, module: nn.Module, prefix: str) -> str | None:
    """The container attribute (below `prefix`) an item's module lives in, if any; for a
    merge, the one all the modules in its branches live in."""
    if item.kind == "merge":
        inside = [it for it in walk(item.branches and [b for br in item.branches for b in br])
                  if it.path]
        heads = {_container(it, module, prefix) for it in inside}
        return heads.pop() if len(heads) == 1 and inside else None
    if not item.path.startswith(prefix):
        return None
    rest = item.path[len(prefix):]
    if "." not in rest:
        return None
    head = rest.split(".", 1)[0]
    try:
        owner = module.get_submodule(prefix + head)
    except AttributeError:
        return None
    return head if is_container(owner) else None


def input_shapes(inputs) -> list[tuple[str, tuple[int, ...]]]:
    """The contract's `inputs` (a sequence of sizes, or a mapping of names to sizes)."""
    if isinstance(inputs, dict):
        pairs = [(str(k), tuple(int(v) for v in s)) for k, s in inputs.items()]
    else:
        sizes = list(inputs)
        if sizes and all(isinstance(v, int) for v in sizes):
            sizes = [tuple(sizes)]
        pairs = [("input" if i == 0 else f"input{i + 1}", tuple(int(v) for v in s))
                 for i, s in enumerate(sizes)]
    if not pairs:
        raise ValueError("give the input size, e.g. [(3, 224, 224)]")
    for name, shape in pairs:
        if not 2 <= len(shape) <= 4 or any(v < 1 or v > 2**20 for v in shape):
            raise ValueError(f"input {name!r}: a size is 2 to 4 positive numbers (CxL, CxHxW, "
                             f"CxDxHxW), got {shape}")
        if len(pairs) > 1 and not valid_label(name):
            raise ValueError(f"input name {name!r} is not a name the language accepts")
    return pairs


__all__ = ["BATCH", "Hierarchy", "Instance", "grouped", "input_shapes", "valid_label", "walk"]
