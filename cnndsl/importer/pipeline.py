"""The importer's entry points: trace, fold, write, check, then key the weights."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnndsl.importer.fold import Blocks, block_name, repeats
from cnndsl.importer.levels import BATCH, Hierarchy, input_shapes
from cnndsl.importer.unsupported import Unsupported
from cnndsl.importer.write import chain_text, spec_text


@dataclass
class Imported:
    """An imported module: the spec `text`, the `state_dict` keyed for the compiled spec,
    and `keys_kept` (True when those keys are exactly the original's)."""

    text: str
    state_dict: dict[str, torch.Tensor]
    keys_kept: bool
    params: int = 0


#: how deep submodules may nest, and how many a module may hold, before anything runs:
#: the importer and torch's own `eval()` follow the tree by recursion
MAX_DEPTH = 64
MAX_MODULES = 20_000


class ImportBug(RuntimeError):
    """The importer produced something wrong: a bug in cnndsl, not the user's module."""


def import_module(module: nn.Module, inputs, name: str | None = None) -> Imported:
    """Import `module`, run on inputs of these per-sample sizes (no batch): a spec and weights."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(module).__name__}")
    pairs = input_shapes(inputs)
    _bounded(module)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            text = _spec(module, pairs, name)
            from cnndsl.importer.transfer import keyed

            state, kept, params = keyed(module, text, pairs)
    except RecursionError:   # a chain too long for the tracer's walk over it
        raise Unsupported("the module is too long to import (its chains are followed by "
                          "recursion)", hint="import its parts one by one") from None
    finally:
        module.train(was_training)
    return Imported(text, state, kept, params)


def _bounded(module: nn.Module) -> None:
    """Refuse, before running anything, a tree of submodules nested over `MAX_DEPTH`
    deep, holding over `MAX_MODULES`, or containing itself (walked without recursion,
    reading `_modules` as torch's own walks do)."""
    stack: list[tuple[nn.Module, str, int, frozenset[int]]] = [(module, "", 0, frozenset())]
    count = 0
    while stack:
        node, path, depth, above = stack.pop()
        if id(node) in above:
            raise Unsupported("a submodule contains itself (a loop of submodules)",
                              module_path=path)
        if depth > MAX_DEPTH:
            raise Unsupported(f"the module nests submodules over {MAX_DEPTH} deep",
                              module_path=path)
        count += 1
        if count > MAX_MODULES:
            raise Unsupported(f"the module holds over {MAX_MODULES:,} submodules")
        children = getattr(node, "_modules", None)
        if not isinstance(children, dict):
            continue
        inner = above | {id(node)}
        for name, child in children.items():
            if isinstance(child, nn.Module):
                stack.append((child, f"{path}.{name}" if path else str(name), depth + 1,
                              inner))


def _spec(module: nn.Module, pairs, name: str | None) -> str:
    from cnndsl.api import check
    from cnndsl.backends.cnn import format_source

    model = block_name(name or type(module).__name__, set())
    hierarchy = Hierarchy()
    shapes = [(BATCH, *shape) for _, shape in pairs]
    names = tuple(n for n, _ in pairs)
    _, items, outputs = hierarchy.level(module, shapes, names, "")
    blocks = Blocks(model)
    blocks.fold(hierarchy.instances)
    repeats(items)
    for chain in outputs:
        repeats(chain)
    text = spec_text(model, pairs, blocks.texts, items, [chain_text(c) for c in outputs])
    result = check(text, "<import>")
    if not result.ok:   # a value outside the language's bounds (dropout 1), or our bug
        messages = "; ".join(d.message for d in result.errors[:3])
        raise Unsupported(f"the module has values the language does not accept ({messages})",
                          hint="use values the layers accept (`cnndsl schema` gives their bounds)")
    return format_source(text, "<import>")


def import_target(target: str, inputs, name: str | None = None) -> Imported:
    """Import what `"file.py:make_net"` or `"package.module:make_net"` returns when called."""
    from cnndsl.importer.load import load

    return import_module(load(target), inputs, name)
