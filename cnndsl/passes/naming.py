"""Labels name modules: the module names of one generated class.

A label on a layer or block use is that module's attribute name (`conv 64 k7 s2
p3 nobias as conv1` -> `conv1`); a label on a group or repetition names an
`nn.Sequential` whose modules are numbered from 0 in the order they run, as
PyTorch numbers them (`layer1.0`, `layer1.1`), unless labelled themselves
(`layer1.0.conv1`). An unlabelled group, repetition or merge inside adds its
modules one by one. Unlabelled modules outside any labelled group keep the
generated names, which stepped aside for the labels when they were made.

The names are dotted paths, as in a PyTorch `state_dict()`: the emitter builds
the containers from them. A name given twice in one class is E0425; a label that
is an attribute of `nn.Module` or `nn.Sequential` (`forward`, `training`,
`append`) cannot name a module: E0426.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from cnndsl.diagnostics.diagnostic import Diagnostic, Label, error
from cnndsl.front.source import Span
from cnndsl.ir import nodes as ir

#: the public attributes of `nn.Module` and `nn.Sequential` (torch 2.x): a module
#: of one of these names would hide the attribute, or be hidden by it
#: (`tests/test_language_v3_modules.py` checks the list against torch)
TORCH_ATTRIBUTES = frozenset("""
    T_destination add_module append apply bfloat16 buffers call_super_init children
    compile cpu cuda double dump_patches eval extend extra_repr float forward get_buffer
    get_extra_state get_parameter get_submodule half insert ipu load_state_dict modules
    mtia named_buffers named_children named_modules named_parameters parameters pop
    register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook
    requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train
    training type xpu zero_grad
""".split())


@dataclass
class _Unit:
    """A run of items: one node, or a label with the units it covers."""

    node: ir.Node
    covered: list[_Unit] = field(default_factory=list)
    size: int = 1          # how many items of the flat sequence it spans


def _units(items) -> list[_Unit]:
    out: list[_Unit] = []
    for node in items:
        if isinstance(node, ir.Label) and node.names:
            taken, covered = 0, []
            while out and taken < node.covers:
                covered.insert(0, out.pop())
                taken += covered[0].size
            out.append(_Unit(node, covered, taken + 1))
        else:
            out.append(_Unit(node))
    return out


def _is_module(node) -> bool:
    return isinstance(node, ir.BlockCall) or (
        not isinstance(node, (ir.Identity, ir.Unresolved, ir.Ref, ir.Label, ir.Sequence,
                              ir.Merge)))


def _members(units: list[_Unit]):
    """What a namespace holds, in the order it runs: `(node, None, [])` for an
    unlabelled module, `(node, label, [])` for a labelled one, `(None, label,
    members)` for a labelled group."""
    for unit in units:
        node = unit.node
        if isinstance(node, ir.Label):
            if node.names == "module":
                found = [u.node for u in unit.covered if _is_module(u.node)]
                if found:
                    yield found[0], node, []
                    continue
            if node.names == "group":
                yield None, node, list(_members(unit.covered))
                continue
            yield from _members(unit.covered)
        elif isinstance(node, ir.Merge):
            for branch in node.branches:
                yield from _members(_units(branch.items))
        elif _is_module(node):
            yield node, None, []


def _has_modules(members) -> bool:
    return any(node is not None or _has_modules(inner) for node, _, inner in members)


@dataclass
class _Namer:
    diagnostics: list[Diagnostic]
    renames: dict[int, str] = field(default_factory=dict)
    given: dict[str, Span] = field(default_factory=dict)

    def report(self, diagnostic: Diagnostic) -> None:
        # a block's body is named once per use: say it once
        if not any(d.code == diagnostic.code and d.span == diagnostic.span
                   for d in self.diagnostics):
            self.diagnostics.append(diagnostic)

    def claim(self, path: str, label: ir.Label) -> bool:
        name = label.label
        if name in TORCH_ATTRIBUTES:
            self.report(error(
                "E0426", f"the label `{name}` cannot name a module", label.span,
                f"`nn.Module` has an attribute `{name}`",
                notes=["a label names the module it labels in the generated class"],
                help=f"choose another name, such as `{name}_`"))
            return False
        first = self.given.get(path)
        if first is not None:
            again = first == label.span    # a copy of a repeated item
            self.report(error(
                "E0425", f"the module name `{path}` is given twice", label.span,
                "given once per copy of the repeated item" if again else "given again here",
                secondary=[] if again else [Label(span=first, text="first given here")],
                notes=["a label names the module it labels, and one class holds both"],
                help="leave the repeated item unlabelled and label the repetition "
                     "(`(...) * 2 as layer1` numbers its modules)" if again else
                     "give each module its own name"))
            return False
        self.given[path] = label.span
        return True

    def assign(self, members, path: str | None) -> None:
        position = 0
        for node, label, inner in members:
            if label is None:
                if path is not None:
                    self.renames[id(node)] = f"{path}.{position}"
                    position += 1
                continue
            if node is None and not _has_modules(inner):
                continue     # a group with no module: a tensor label only
            full = label.label if path is None else f"{path}.{label.label}"
            if path is not None:
                position += 1
            if not self.claim(full, label):
                full = f"{full}_{len(self.renames)}"   # keep going; the error is reported
            if node is not None:
                self.renames[id(node)] = full
            else:
                self.assign(inner, full)


def name_modules(seqs: tuple[ir.Sequence, ...],
                 diagnostics: list[Diagnostic]) -> tuple[ir.Sequence, ...]:
    """One class's sequences (its body and output chains) with their modules named
    by their labels (not inside the block uses: each is its own class)."""
    namer = _Namer(diagnostics)
    for seq in seqs:
        namer.assign(list(_members(_units(seq.items))), None)
    if not namer.renames:
        return seqs
    return tuple(_renamed(seq, namer.renames) for seq in seqs)


def _renamed(seq: ir.Sequence, renames: dict[int, str]) -> ir.Sequence:
    items = []
    for node in seq.items:
        if id(node) in renames:
            node = replace(node, name=renames[id(node)])
        elif isinstance(node, ir.Merge):
            node = replace(node, branches=tuple(_renamed(b, renames) for b in node.branches))
        items.append(node)
    return replace(seq, items=tuple(items))
