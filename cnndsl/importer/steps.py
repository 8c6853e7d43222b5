"""What one traced level is made of: its nodes, and the values and small readings
the tracer passes between them (sizes read off tensors, channel parts, a shuffle
on its way)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import fx, nn

from cnndsl.importer.mapping import Layer


@dataclass
class Node:
    """A tensor-producing step of one level: `input`, `layer`, `use` (a user-defined
    submodule), `merge` (concat/add/mul), `part` (one of `of` equal channel parts)."""

    id: int
    kind: str
    inputs: tuple[int, ...] = ()
    layer: Layer | None = None
    merge: str = ""
    path: str = ""                    # the module's attribute path at this level
    module: nn.Module | None = None
    like: int | None = None           # the node whose spatial size an upsample follows
    name: str = ""                    # an input's name
    index: int = 0                    # a part's index
    of: int = 0                       # ... among this many
    shape: tuple[int, ...] = ()       # output shape, batch included
    in_shape: tuple[int, ...] = ()    # first input's shape
    listed: bool = False              # a use called with a list it concatenates first


@dataclass
class Level:
    """A traced module: its nodes in execution order and its output node ids."""

    module: nn.Module
    nodes: list[Node]
    outputs: tuple[int, ...]
    input_names: tuple[str, ...]
    filename: str | None = None
    line: int | None = None
    users: dict[int, list[int]] = field(default_factory=dict)
    params: frozenset[str] = frozenset()   # the module's own parameters read as weights
    param_layers: int = 0                  # ... by this many layers


@dataclass(frozen=True)
class _Meta:
    """A non-tensor value derived from a tensor (its shape, a slice of it)."""

    source: int
    what: str   # shape | spatial | dim | other


@dataclass(frozen=True)
class _Parts:
    source: int
    count: int


@dataclass(frozen=True)
class _Grouped:
    """A tensor viewed as (B, g, C/g, ...), on the way through a channel shuffle."""

    source: int
    groups: int
    shape: tuple[int, ...]
    transposed: bool = False


def _submodule(module: nn.Module, target: str) -> nn.Module:
    for part in target.split("."):
        module = module._modules[part]
    return module


def _returns_tensor(fx_node: fx.Node) -> bool:
    return "shape" in fx_node.meta


def _shape(fx_node) -> tuple[int, ...]:
    return getattr(fx_node, "meta", {}).get("shape", ())


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in shape[1:]) or "a scalar"


def _describe(fx_node: fx.Node) -> str:
    if fx_node.op == "call_module":
        return f"self.{fx_node.target}(...)"
    if fx_node.op == "call_method":
        return f"x.{fx_node.target}(...)"
    target = fx_node.target
    owner = getattr(target, "__module__", "") or ""
    name = getattr(target, "__name__", str(target))
    prefix = {"torch.nn.functional": "F.", "torch": "torch.", "_operator": "operator."}.get(
        owner, "torch." if owner.startswith("torch") else "")
    return f"{prefix}{name}"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no message"
