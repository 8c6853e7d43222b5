"""A level's graph -> one chain of items with merges, the language's shape.

A merge's branches start at its immediate dominator (the tensor every path
to it passes through), so `x -> ... -> add(identity, f)` needs no labels;
labels are made only where a tensor is named (`upsample like=@x`) and for
modules whose attribute names keep checkpoint keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnndsl.importer.mapping import Layer
from cnndsl.importer.steps import Level, Node
from cnndsl.importer.unsupported import Unsupported


@dataclass
class Item:
    """One item of a chain: a layer, a block use, a merge, a group, a repetition,
    or `@name` (a chain's start). `path` is the module attribute path it came from."""

    kind: str                      # layer | use | merge | group | repeat | ref | if
    layer: Layer | None = None
    label: str = ""
    path: str = ""
    node: Node | None = None
    merge: str = ""
    branches: list[list[Item]] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)      # a group's, a repetition's one item
    count: int = 1
    ref: str = ""
    like: str = ""                 # an upsample's label to follow
    block: str = ""                # a use's block name
    args: tuple = ()               # a use's written arguments, (name or None, text)
    cond: str = ""                 # an `if`'s condition
    full: tuple = ()               # a use's every argument: (name, value, default)


class _Dominators:
    """Immediate dominators over a level's nodes (in execution order), from its first input."""

    def __init__(self, level: Level) -> None:
        self.idom: dict[int, int] = {}
        self.depth: dict[int, int] = {}
        first = next(n.id for n in level.nodes if n.kind == "input")
        for n in level.nodes:
            preds = list(n.inputs) + ([n.like] if n.like is not None else [])
            if n.id == first:
                self.idom[n.id], self.depth[n.id] = n.id, 0
                continue
            if not preds:       # another input: reached from the first
                preds = [first]
            d = preds[0]
            for p in preds[1:]:
                d = self.common(d, p)
            self.idom[n.id], self.depth[n.id] = d, self.depth[d] + 1

    def common(self, a: int, b: int) -> int:
        while a != b:
            if self.depth[a] >= self.depth[b]:
                a = self.idom[a]
            else:
                b = self.idom[b]
        return a


class Chains:
    """Builds the items of one level; `labels` maps node ids to the labels they need."""

    def __init__(self, level: Level, labels: dict[int, str]) -> None:
        self.level = level
        self.nodes = level.nodes
        self.dom = _Dominators(level)
        self.labels = labels
        self.emitted: set[int] = set()
        self.first = next(n.id for n in level.nodes if n.kind == "input")
        self.pinned: set[int] = set()     # tensors an `output` reads: kept on the main chain
        for out in level.outputs[1:]:
            while out not in self.pinned and out != self.first:
                self.pinned.add(out)
                out = self.dom.idom[out]
        self.fresh = 0
        self.scope: list[tuple[int, int]] = []       # the merge branches being written
        self.made: dict[int, tuple[Item, tuple]] = {}  # node -> its item and scope

    def body(self) -> list[Item]:
        return unflattened(self.to(self.level.outputs[0], self.first))

    def outputs(self, items: list[Item]) -> list[list[Item]]:
        """`output` chains for a module returning several tensors (the first is the
        body's end): each starts from a label on the body's own chain."""
        if len(self.level.outputs) == 1:
            return []
        top = {item.node.id: item for item in _top(items) if item.node is not None}
        out = []
        for x in self.level.outputs:
            d = x
            while d not in top and self.dom.idom[d] != d:
                d = self.dom.idom[d]
            if d not in top:
                raise Unsupported("an output that does not come from the body",
                                  hint="return tensors computed from the first input")
            rest = self.to(x, d) if x != d else []
            if not (rest and rest[0].kind == "ref"):
                rest = [Item("ref", ref=self._name(d, top[d]))] + rest
            out.append(rest)
        return out

    def to(self, x: int, base: int) -> list[Item]:
        """The items that compute tensor `x` from tensor `base`."""
        if x == base:
            return []
        n = self.nodes[x]
        if n.kind == "input":
            return [Item("ref", ref=n.name)]
        if x in self.emitted:
            item, scope = self.made.get(x, (None, None))
            if item is not None and tuple(self.scope[:len(scope)]) == scope:
                return [Item("ref", ref=self._name(x, item))]
            raise Unsupported("a tensor is used in two places that one chain with merges "
                              "cannot name", hint="compute it once in a branch every user sees")
        if n.kind == "merge":
            d = self.dom.idom[x]
            main = self._main(n, d)
            if main is not None:
                return self._spine(n, x, d, main, base)
            head = self.to(d, base)
            branches = []
            for i, operand in enumerate(n.inputs):
                self.scope.append((x, i))
                branches.append(self.to(operand, d))
                self.scope.pop()
            item = self._merge(n, branches)
        else:
            head = self.to(n.inputs[0], base)
            item = self._single(n)
        return head + [self._made(x, item)]

    def _made(self, x: int, item: Item) -> Item:
        self.emitted.add(x)
        self.made[x] = (item, tuple(self.scope))
        item.label = self.labels.get(x, item.label)
        return item

    def _name(self, x: int, item: Item) -> str:
        """The label of an emitted tensor, made now if it has none."""
        if not item.label:
            taken = set(self.labels.values())
            while True:
                self.fresh += 1
                if f"x{self.fresh}" not in taken:
                    break
            item.label = self.labels[x] = f"x{self.fresh}"
        return item.label

    def _main(self, n: Node, d: int) -> int | None:
        """The operand whose branch holds a tensor an `output` reads, when the merge's
        start can be labelled: that branch then stays on the chain."""
        if not self.pinned or self.nodes[d].kind == "input":
            return None
        for i, operand in enumerate(n.inputs):
            if self._reaches(operand, d) & self.pinned:
                return i
        return None

    def _reaches(self, x: int, d: int) -> set[int]:
        seen, todo = set(), [x]
        while todo:
            y = todo.pop()
            if y == d or y in seen:
                continue
            seen.add(y)
            todo.extend(self.nodes[y].inputs)
        return seen

    def _spine(self, n: Node, x: int, d: int, main: int, base: int) -> list[Item]:
        """`... -> main operand -> merge(@d -> other, identity)`: the long branch stays on
        the chain, the others start from a label on `d`."""
        if d not in self.labels:
            self.fresh += 1
            self.labels[d] = f"x{self.fresh}"
            while self.labels[d] in set(self.labels.values()) - {self.labels[d]}:
                self.fresh += 1
                self.labels[d] = f"x{self.fresh}"
        head = self.to(n.inputs[main], base)
        branches = []
        for i, operand in enumerate(n.inputs):
            self.scope.append((x, i))
            rest = self.to(operand, d) if i != main else []
            if i != main and not (rest and rest[0].kind == "ref"):
                rest = [Item("ref", ref=self.labels[d])] + rest
            branches.append(rest)
            self.scope.pop()
        item = self._merge(n, branches)
        return head + [self._made(x, item)]

    def _single(self, n: Node) -> Item:
        if n.kind == "use":
            return Item("use", path=n.path, node=n)
        if n.kind == "part":
            return Item("part", node=n, count=n.of, ref=str(n.index))
        like = self._like(n.like) if n.like is not None else ""
        return Item("layer", layer=n.layer, path=n.path, node=n, like=like)

    def _like(self, target: int) -> str:
        """A label for the tensor whose size an upsample follows: that tensor, or an
        earlier visible one of the same spatial size it was computed from."""
        u = target
        while u not in self.emitted:
            node = self.nodes[u]
            if node.kind == "input" or not node.inputs or \
                    self.nodes[node.inputs[0]].shape[2:] != node.shape[2:]:
                break
            u = node.inputs[0]
        if u in self.made:
            item, scope = self.made[u]
            if tuple(self.scope[:len(scope)]) == scope:
                return self._name(u, item)
        if target not in self.labels:
            taken = set(self.labels.values())
            while True:
                self.fresh += 1
                if f"t{self.fresh}" not in taken:
                    break
            self.labels[target] = f"t{self.fresh}"
        return self.labels[target]

    def _merge(self, n: Node, branches: list[list[Item]]) -> Item:
        parts = [b[0] if b and b[0].kind == "part" else None for b in branches]
        if any(parts):
            if n.merge != "concat" or not all(parts) or \
                    [int(p.ref) for p in parts] != list(range(len(parts))) or \
                    any(p.count != len(parts) for p in parts):
                raise Unsupported("a channel split whose parts are not concatenated back in "
                                  "order", hint="concatenate every part, in order: "
                                  "`torch.cat((a, f(b)), 1)`")
            return Item("merge", merge="split", branches=[b[1:] for b in branches], node=n)
        branches = [unflattened(b) for b in branches]
        if n.merge in ("add", "mul"):
            branches = self._order(branches)
        return Item("merge", merge=n.merge, branches=branches, node=n)

    @staticmethod
    def _order(branches: list[list[Item]]) -> list[list[Item]]:
        """Commutative merges: a branch defining a label another follows goes first."""
        defined = [set(_found(b, "label")) for b in branches]
        used = [set(_found(b, "like")) for b in branches]
        order = sorted(range(len(branches)),
                       key=lambda i: -sum(1 for j in range(len(branches))
                                          if j != i and defined[i] & used[j]))
        return [branches[i] for i in order]


def _top(items: list[Item]):
    """The items of the body's own chain, looking into groups (not branches)."""
    for item in items:
        yield item
        if item.kind == "group":
            yield from _top(item.items)


def _found(items: list[Item], field: str):
    """Each item's `field` (a label it defines, or one its `like=` reads), inside its
    branches and groups too."""
    for item in items:
        if getattr(item, field):
            yield getattr(item, field)
        for branch in item.branches:
            yield from _found(branch, field)
        yield from _found(item.items, field)


def unflattened(items: list[Item]) -> list[Item]:
    """A functional flatten right before `fc` goes: `fc` flattens its input itself."""
    return [item for i, item in enumerate(items)
            if not (item.kind == "layer" and item.layer.word == "flatten" and not item.path
                    and i + 1 < len(items) and items[i + 1].kind == "layer"
                    and items[i + 1].layer.word == "fc")]
