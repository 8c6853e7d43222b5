"""Which modules a level's trace stops at: built-in layers, helper classes of a
compiled spec and user-defined blocks are leaves; plain containers are looked through."""

from __future__ import annotations

from torch import fx, nn

from cnndsl.importer.autograd import custom_functions_refused


def holds_state(m: nn.Module) -> bool:
    return any(True for _ in m.parameters(recurse=False)) or \
        any(True for _ in m.buffers(recurse=False))


def is_container(m: nn.Module) -> bool:
    """Modules looked through: plain sequences and lists, whose members are called in turn."""
    if isinstance(m, (nn.ModuleList, nn.ModuleDict)):
        return True
    return type(m) is nn.Sequential   # a subclass is a class of one's own: a block


HELPERS = ("ChannelShuffle", "ChannelLayerNorm", "Scale", "UpsampleLike", "ChannelMean",
           "ChannelMax", "DropPath", "StochasticDepth")


def is_builtin(m: nn.Module) -> bool:
    """A module from `torch.nn` itself, or a helper class a compiled spec defines."""
    module_name = type(m).__module__ or ""
    return module_name.startswith("torch.nn.") or _helper(m) is not None


def _helper(m: nn.Module) -> str | None:
    name = type(m).__name__
    if name not in HELPERS or not hasattr(type(m), "forward"):
        return None
    needs = {"ChannelShuffle": "groups", "Scale": "weight", "DropPath": "p",
             "ChannelLayerNorm": "eps", "UpsampleLike": "mode"}.get(name)
    if name == "StochasticDepth":   # torchvision's, by row: the language's droppath
        row = isinstance(getattr(m, "p", None), (int, float)) and \
            getattr(m, "mode", "row") == "row" and not any(True for _ in m.parameters())
        return name if row else None
    return name if needs is None or hasattr(m, needs) else None


class Inline(Exception):
    """A user-defined submodule that is no block (several inputs or outputs): its
    forward is traced as part of its caller's instead."""

    def __init__(self, owner: nn.Module, path: str) -> None:
        super().__init__(path)
        self.owner, self.path = owner, path


class _Tracer(fx.Tracer):
    def __init__(self, root: nn.Module, inline: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.root_module = root
        self.inline = inline

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return m is not self.root_module and not is_container(m) and qualname not in self.inline

    def trace(self, root, concrete_args=None):
        with custom_functions_refused():
            return super().trace(root, concrete_args)
