"""Repeated structure -> parameterised blocks and `* N`.

The instances of one class are compared through templates: each instance's items
with every number replaced by a slot that remembers the value per instance.
Instances whose templates read the same share one; templates that differ only in
one merge branch (ResNet's `downsample`) become one with an `if`, when a condition
on the parameters and `in` tells them apart. Each slot then becomes a constant,
`in` (or `in*k`, `in//k`), an existing parameter (or a multiple), or a new
parameter: the fewest parameters that reproduce every instance."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache

from cnndsl.importer.chain import Item
from cnndsl.importer.levels import Instance, walk
from cnndsl.importer.mapping import Layer
from cnndsl.importer.write import Expr, chain_text, item_text, literal


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


# ---- templates ------------------------------------------------------------------------

@dataclass(eq=False)
class Slot:
    """A number in a template: its value in each instance that has it."""

    field: str
    values: dict[int, object] = field(default_factory=dict)
    default: object = None        # left out when the block writes this constant
    choice: object = None         # what is written: a constant or an Expr


#: Defaults filled in before comparing, so `conv 8 k3` and `conv 8 k3 s2` share a template.
_FILLED = {"conv": {"stride": 1, "padding": 0, "dilation": 1, "groups": 1},
           "convt": {"stride": 1, "padding": 0, "dilation": 1, "groups": 1,
                     "output_padding": 0},
           "maxpool": {"padding": 0, "dilation": 1}, "avgpool": {"padding": 0},
           "dropout": {"p": 0.5}, "batchnorm": {"eps": 1e-5, "momentum": 0.1},
           "layernorm": {"eps": 1e-5}, "groupnorm": {"eps": 1e-5}}
_ORDER = {"conv": ("out", "kernel", "stride", "padding", "dilation", "groups")}


def _numeric(value) -> bool:
    return isinstance(value, (int, float, tuple)) and not isinstance(value, bool)


def template(items: list[Item], inst: int) -> list[Item]:
    """A copy of `items` whose numbers are slots holding this instance's values."""
    return [_templated(item, inst) for item in items]


def _templated(item: Item, inst: int) -> Item:
    new = replace(item, branches=[template(b, inst) for b in item.branches],
                  items=template(item.items, inst))
    if item.kind == "layer":
        new.layer = _layer_template(item.layer, inst)
    elif item.kind == "use":
        new.args = tuple((k if n else None, Slot(k, {inst: v}, d) if _numeric(v) else v)
                         for n, (k, v, d) in enumerate(item.full))
    return new


def _layer_template(layer: Layer, inst: int) -> Layer:
    given = dict(layer.args)
    filled = dict(_FILLED.get(layer.word, {}))
    if layer.word in ("maxpool", "avgpool"):
        filled["stride"] = given.get("kernel")
    args = []
    from cnndsl.ir.layers import LAYERS

    for arg in LAYERS[layer.word].args:
        name = arg.field
        if name in given and _numeric(given[name]):
            args.append((name, Slot(name, {inst: given[name]}, filled.get(name))))
        elif name in given:
            args.append((name, given[name]))
        elif name in filled and filled[name] is not None:
            args.append((name, Slot(name, {inst: filled[name]}, filled[name])))
    args += [(k, v) for k, v in layer.args if k not in {a for a, _ in args}]
    return Layer(layer.word, tuple(args))


def skeleton(items: list[Item]) -> str:
    """The template's text with every slot as `$`: equal skeletons, same shape."""
    return chain_text(_shown(items, lambda slot: Expr("$")))


def _shown(items: list[Item], show) -> list[Item]:
    out = []
    for item in items:
        new = replace(item, branches=[_shown(b, show) for b in item.branches],
                      items=_shown(item.items, show))
        if item.kind == "layer":
            new.layer = Layer(item.layer.word, tuple(
                (k, show(v) if isinstance(v, Slot) else v) for k, v in item.layer.args
                if not (isinstance(v, Slot) and show(v) is None)))
        elif item.kind == "use":
            new.args = tuple((k, show(v) if isinstance(v, Slot) else v) for k, v in item.args
                             if not (isinstance(v, Slot) and show(v) is None))
        out.append(new)
    return out


def _slots(items: list[Item]):
    for item in walk(items):
        if item.kind == "layer":
            yield from (v for _, v in item.layer.args if isinstance(v, Slot))
        elif item.kind == "use":
            yield from (v for _, v in item.args if isinstance(v, Slot))


def merged(a: list[Item], b: list[Item]) -> None:
    """Pour `b`'s slot values into `a`'s (same skeleton)."""
    for x, y in zip(list(_slots(a)), list(_slots(b)), strict=True):
        x.values.update(y.values)


# ---- an `if` where two templates differ in one merge branch ---------------------------------

def unified(a: list[Item], b: list[Item]) -> tuple[list[Item], Item] | None:
    """`a` and `b` differing in exactly one merge branch -> the template with an `if` item
    there (branches: `a`'s, `b`'s), and that item; else None. `b`'s values join `a`'s."""
    spots: list[tuple[Item, int, list[Item]]] = []
    if not _align(a, b, spots, apply=False) or len(spots) != 1:
        return None
    spots.clear()
    _align(a, b, spots, apply=True)
    merge, index, theirs = spots[0]
    choice = Item("if", branches=[merge.branches[index], theirs])
    merge.branches[index] = [choice]
    return a, choice


def _align(a: list[Item], b: list[Item], spots, *, apply: bool) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.kind != y.kind or x.label != y.label or x.merge != y.merge or \
                skeleton([_bare(x)]) != skeleton([_bare(y)]):
            return False
        if x.kind == "merge":
            if len(x.branches) != len(y.branches):
                return False
            for i, (bx, by) in enumerate(zip(x.branches, y.branches)):
                if skeleton(bx) == skeleton(by):
                    if apply:
                        merged(bx, by)
                elif not _align(bx, by, [], apply=False):
                    spots.append((x, i, by))
                elif not _align(bx, by, spots, apply=apply):
                    return False
        elif x.kind in ("group", "repeat"):
            if not _align(x.items, y.items, spots, apply=apply):
                return False
        if apply:
            merged([_bare(x)], [_bare(y)])
    return True


def _bare(item: Item) -> Item:
    return replace(item, branches=[], items=[])


# ---- slots -> parameters ----------------------------------------------------------------

_NAMES = {"out": "c", "stride": "s", "kernel": "k", "padding": "p", "groups": "g",
          "dilation": "d", "size": "n", "factor": "r", "p": "rate", "eps": "eps",
          "momentum": "momentum", "output_padding": "op", "param": "a", "init": "init",
          "shape": "shape", "before": "before", "after": "after", "value": "value"}


#: a window's geometry: written in terms of other geometry only, never of channels
#: (`stride=c//16` reproduces strides 1, 2 at 16, 32 channels, and means nothing)
_GEOMETRY = {"kernel", "stride", "padding", "dilation", "output_padding"}
_GEOMETRY |= {_NAMES[f] for f in _GEOMETRY}


@dataclass
class Param:
    name: str
    values: dict[int, object]
    default: object = None
    field: str = ""


class Parameters:
    """Chooses each slot's written form for the instances `ins` (their `in` channels)."""

    def __init__(self, ins: dict[int, int]) -> None:
        self.ins = ins
        self.params: list[Param] = []

    def choose(self, slot: Slot) -> None:
        values = slot.values
        distinct = set(map(_key, values.values()))
        if len(distinct) == 1:
            value = next(iter(values.values()))
            slot.choice = None if value == slot.default else value
            return
        ints = all(isinstance(v, int) for v in values.values())
        if ints:
            found = self._relation(values, slot.field in _GEOMETRY)
            if found:
                slot.choice = Expr(found)
                return
        param = self._param(slot.field, values)
        slot.choice = Expr(param.name)

    def _relation(self, values: dict[int, int], geometry: bool = False) -> str:
        """`in`, `in*k`, `in//k`, a parameter or a multiple of one, reproducing every value
        (for a window's geometry, only another geometry parameter)."""
        candidates = [] if geometry else [("in", self.ins)]
        candidates += [(p.name, p.values) for p in self.params
                       if all(isinstance(v, int) for v in p.values.values())
                       and (p.field in _GEOMETRY) == geometry]
        for name, base in candidates:
            if not all(i in base for i in values):
                continue
            for k in (2, 3, 4):
                if all(isinstance(base[i], int) and values[i] == base[i] // k for i in values) \
                        and any(base[i] % k for i in values):
                    return f"{name}//{k}"
            ratios = {Fraction(values[i], base[i]) if base[i] else None for i in values}
            if len(ratios) != 1 or None in ratios:
                continue
            (ratio,) = ratios
            if ratio == 1:
                return name
            if ratio.denominator == 1:
                return f"{name}*{ratio.numerator}"
            if ratio.numerator == 1 and all(base[i] % ratio.denominator == 0 for i in values):
                return f"{name}//{ratio.denominator}"
        return ""

    def _param(self, field_name: str, values: dict[int, object]) -> Param:
        base = _NAMES.get(field_name, field_name if re.fullmatch(r"[a-z][a-z_]*", field_name)
                          else "v")
        taken = {p.name for p in self.params}
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        param = Param(name, dict(values), field=field_name)
        self.params.append(param)
        return param


def _key(value):
    return (type(value).__name__, value)


# ---- conditions -------------------------------------------------------------------------------

def condition(params: list[Param], exprs: list[str], ins: dict[int, int],
              wanted: set[int], among: set[int]) -> str:
    """A condition over the parameters and `in` that is true exactly for `wanted` among
    `among`, or ''."""
    atoms = []
    for p in params:
        if all(isinstance(v, int) for v in p.values.values()):
            atoms.append((f"{p.name} > 1", lambda env, n=p.name: env[n] > 1))
    for text in exprs:
        atoms.append((f"in != {text}", lambda env, t=text: env["in"] != _eval(t, env)))
    envs = {}
    for i in among:
        env = {"in": ins[i]}
        for p in params:
            env[p.name] = p.values.get(i, p.default)
        envs[i] = env

    def holds(test) -> set[int]:
        try:
            return {i for i in among if test(envs[i])}
        except (TypeError, KeyError):
            return set()
    for text, test in atoms:
        if holds(test) == wanted:
            return text
    for n, (ta, a) in enumerate(atoms):
        for tb, b in atoms[n + 1:]:
            if holds(a) | holds(b) == wanted:
                return f"{ta} or {tb}"
    return ""


def _eval(text: str, env: dict) -> int:
    if "*" in text:
        name, k = text.split("*")
        return env[name] * int(k)
    if "//" in text:
        name, k = text.split("//")
        return env[name] // int(k)
    return env[text]


# ---- blocks ------------------------------------------------------------------------------------

class Blocks:
    """Names the blocks of a set of instances (children before parents) and fills in
    each use's block name and arguments; `texts` are the block definitions, in order."""

    def __init__(self, model_name: str) -> None:
        self.taken = {model_name}
        self.texts: list[str] = []

    def fold(self, instances: list[Instance]) -> None:
        by_class: dict[type, list[Instance]] = {}
        for inst in instances:
            by_class.setdefault(type(inst.module), []).append(inst)
        needs = {cls: {type(u.node.module) for inst in insts for u in walk(inst.items)
                       if u.kind == "use"} - {cls} for cls, insts in by_class.items()}
        done: set[type] = set()
        while len(done) < len(by_class):
            ready = [c for c in by_class if c not in done and needs[c] <= done] or \
                [next(c for c in by_class if c not in done)]
            for cls in ready:
                for member in by_class[cls]:
                    repeats(member.items)
                self._fold_class(cls.__name__, by_class[cls])
                done.add(cls)

    def _fold_class(self, cls_name: str, members: list[Instance]) -> None:
        groups: dict[str, tuple[list[Item], list[int]]] = {}
        for i, inst in enumerate(members):
            items = template(inst.items, i)
            key = skeleton(items)
            if key in groups:
                merged(groups[key][0], items)
                groups[key][1].append(i)
            else:
                groups[key] = (items, [i])
        ins = {i: inst.in_channels for i, inst in enumerate(members)}
        remaining = list(groups.values())
        while remaining:
            items, who = remaining.pop(0)
            choices: list[tuple[Item, set[int]]] = []
            rest = []
            for other, them in remaining:
                joined = unified(items, other)
                if joined is None:
                    rest.append((other, them))
                    continue
                items, choice = joined
                choices.append((choice, set(them)))
                who = who + them
            self._emit(cls_name, [members[i] for i in who], who, items, ins, choices, rest)
            remaining = rest

    def _emit(self, cls_name, members, who, items, ins, choices, rest) -> None:
        params = Parameters({i: ins[i] for i in who})
        for slot in _slots(items):
            params.choose(slot)
        self._defaults(params.params)
        exprs = sorted({s.choice.text for s in _slots(items)
                        if isinstance(s.choice, Expr) and s.field == "out"})
        for choice, them in choices:
            if not self._decide(choice, them, params, exprs, ins, set(who)):
                self._separately(cls_name, members)   # no condition tells them apart
                return
        name = block_name(cls_name, self.taken)
        body = chain_text(_shown(items, lambda s: s.choice))
        heads = ", ".join(p.name if p.default is None else f"{p.name}={literal(p.default)}"
                          for p in params.params)
        self.texts.append(f"block {name}({heads}) {{\n{body}\n}}" if heads
                          else f"block {name} {{\n{body}\n}}")
        for i, inst in zip(who, members):
            args, full = [], []
            for p in params.params:
                value = p.values.get(i, p.default)
                full.append((p.name, value, p.default))
                if p.default is None:
                    args.append((None, value))
                elif _key(value) != _key(p.default) and i in p.values:
                    args.append((p.name, value))
            for use in inst.uses:
                use.block, use.args, use.full = name, tuple(args), tuple(full)

    @staticmethod
    def _decide(choice: Item, them: set[int], params, exprs, ins, among: set[int]) -> bool:
        """`if COND { branch }` for the instances that have the branch (else the other)."""
        ours, theirs = choice.branches
        sides = [(them, theirs, ours), (among - them, ours, theirs)]
        if not theirs:
            sides.reverse()
        for wanted, body, other in sides:
            cond = condition(params.params, exprs, ins, wanted, among)
            if cond:
                choice.cond, choice.branches = cond, ([body, other] if other else [body])
                return True
        return False

    def _separately(self, cls_name: str, members: list[Instance]) -> None:
        groups: dict[str, list[Instance]] = {}
        for inst in members:
            groups.setdefault(skeleton(template(inst.items, 0)), []).append(inst)
        for group in groups.values():
            self._fold_class_plain(cls_name, group)

    def _fold_class_plain(self, cls_name: str, members: list[Instance]) -> None:
        items = template(members[0].items, 0)
        for i, inst in enumerate(members[1:], 1):
            merged(items, template(inst.items, i))
        ins = {i: inst.in_channels for i, inst in enumerate(members)}
        self._emit(cls_name, members, list(range(len(members))), items, ins, [], [])

    @staticmethod
    def _defaults(params: list[Param]) -> None:
        """The first parameter is given by position; later ones default to their most
        common value, so most uses leave them out."""
        for n, p in enumerate(params):
            if n == 0:
                continue
            counts = Counter(_key(v) for v in p.values.values())
            top = counts.most_common(1)[0][0]
            p.default = next(v for v in p.values.values() if _key(v) == top)


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
        if item.kind in ("use", "merge") and not item.label and last is not None and \
                (item.block or item.kind == "merge"):
            prev = last.items[0] if last.kind == "repeat" else last
            if prev.kind == item.kind and not prev.label and item_text(prev) == item_text(item):
                if last.kind == "repeat":
                    last.count += 1
                else:
                    out[-1] = Item("repeat", items=[last], count=2)
                continue
        out.append(item)
    return out


__all__ = ["Blocks", "block_name", "repeats", "walk"]
