"""TARGET -> nn.Module: `path/to/file.py:make_net` or `package.module:make_net`, called
with no arguments."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path

from torch import nn

from cnndsl.files import printable


class TargetError(Exception):
    """The user's target could not give a module: one line naming it."""


def split_target(target: str) -> tuple[str, str]:
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", attr):
        raise TargetError(f"`{printable(target)}` is not FILE.py:CALLABLE or "
                          "package.module:CALLABLE")
    return where, attr


def load(target: str) -> nn.Module:
    """Import the target's module, call the callable, check that it gave an nn.Module."""
    where, attr = split_target(target)
    shown = printable(target)
    try:
        namespace = _module(where)
        made = namespace
        for part in attr.split("."):
            made = getattr(made, part)
    except TargetError:
        raise
    except (Exception, SystemExit) as exc:   # the user's code failed to import: one line
        raise TargetError(f"cannot load `{shown}`: {type(exc).__name__}: "
                          f"{printable(str(exc).splitlines()[0] if str(exc) else '')}") from None
    if not callable(made):
        raise TargetError(f"`{shown}` is not callable")
    try:
        module = made()
    except (Exception, SystemExit) as exc:
        raise TargetError(f"calling `{shown}` raised {type(exc).__name__}: "
                          f"{printable(str(exc).splitlines()[0] if str(exc) else '')}") from None
    if isinstance(module, type) and issubclass(module, nn.Module):
        raise TargetError(f"`{shown}` gave a class, not a module; name a function that "
                          "builds one, or the class with no required arguments")
    if not isinstance(module, nn.Module):
        raise TargetError(f"`{shown}` returned {printable(type(module).__name__)}, "
                          "not an nn.Module")
    return module


def _module(where: str):
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_file():
            raise TargetError(f"`{printable(where)}` is not a file")
        name = "cnndsl_import_" + re.sub(r"\W", "_", path.stem)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise TargetError(f"`{printable(where)}` cannot be imported as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        folder = str(path.resolve().parent)
        sys.path.insert(0, folder)
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        finally:
            if sys.path and sys.path[0] == folder:
                sys.path.pop(0)
        return module
    return importlib.import_module(where)
