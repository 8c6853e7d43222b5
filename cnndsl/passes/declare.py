"""Declarations: the file-level statements (`model`, `input`, `let`, `block`
definitions, the body chain), each checked once, and the names a spec may give.

Pure functions of the syntax tree; each appends its findings to `diagnostics`.
"""

from __future__ import annotations

import builtins
import keyword

from cnndsl import ir
from cnndsl.diagnostics import Diagnostic, Label, error
from cnndsl.layers import RESERVED
from cnndsl.passes.evaluate import FLAG, Env, evaluate, literal
from cnndsl.source import Span

MAX_NAME = 80

#: Names the generated Python file uses itself; a spec may not take them.
PYTHON_TAKEN = frozenset({"torch", "nn", "F", "self", "x", "in_channels", "identity",
                          "main", "cnndsl"}) | frozenset(dir(builtins))


def model_name(program: ir.Program, default: str, diagnostics: list[Diagnostic]) -> str:
    for extra in program.models[1:]:
        diagnostics.append(_twice("model", extra.span, program.models[0].span))
    if not program.models:
        return default
    decl = program.models[0]
    problem = unsafe_name(decl.name)
    if problem:
        diagnostics.append(error("E0205", f"`{decl.name}` cannot name the model class",
                                 decl.name_span, problem,
                                 help="choose another name, e.g. `" + decl.name.title()
                                 .replace("_", "") + "Net`"))
        return default
    return decl.name


def input_shape(program: ir.Program,
           diagnostics: list[Diagnostic]) -> tuple[tuple[int, ...] | None, Span | None]:
    for extra in program.inputs[1:]:
        diagnostics.append(_twice("input", extra.span, program.inputs[0].span))
    if not program.inputs:
        diagnostics.append(error("E0101", "the file has no `input`", None,
                                 help="declare one sample's shape first, e.g. `input 3x32x32`"))
        return None, None
    decl = program.inputs[0]
    if len(decl.shape) > 4:
        diagnostics.append(error("E0310", "an input has at most 3 spatial dimensions",
                                 decl.shape_span, f"{len(decl.shape) - 1} spatial dimensions",
                                 help="write one sample's shape without the batch: "
                                      "`CxL`, `CxHxW` or `CxDxHxW`"))
        return None, decl.span
    if any(n < 1 for n in decl.shape):
        diagnostics.append(error("E0404", "every dimension of the input must be at least 1",
                                 decl.shape_span, "a dimension is 0"))
        return None, decl.span
    return decl.shape, decl.shape_span


def _twice(what: str, span: Span, first: Span) -> Diagnostic:
    return error("E0102", f"`{what}` is declared twice", span, "declared again here",
                 secondary=[Label(span=first, text="first declared here")],
                 help="a file describes one network: keep one")


def constants(program: ir.Program, diagnostics: list[Diagnostic]) -> Env:
    env: Env = {}
    spans: dict[str, Span] = {}
    for let in program.lets:
        if not check_binding_name(let.name, let.name_span, "constant", diagnostics):
            continue
        if let.name in spans:
            diagnostics.append(error("E0106", f"`{let.name}` is defined twice", let.name_span,
                                     "defined again here",
                                     secondary=[Label(span=spans[let.name],
                                                      text="first defined here")]))
            continue
        value = evaluate(let.value, env, diagnostics)
        if value is not None:
            env[let.name] = literal(value.value)
            spans[let.name] = let.name_span
    return env


def block_defs(program: ir.Program, diagnostics: list[Diagnostic]) -> dict[str, ir.BlockDef]:
    blocks: dict[str, ir.BlockDef] = {}
    models = {m.name for m in program.models}
    for block in program.blocks:
        if block.name in RESERVED:
            diagnostics.append(error("E0204", f"the block name `{block.name}` is a layer word",
                                     block.name_span, "reserved",
                                     help=f"call it `{block.name.capitalize()}Block`"))
            continue
        problem = unsafe_name(block.name) or ("the model class already has this name"
                                               if block.name in models else "")
        if problem:
            diagnostics.append(error("E0205", f"`{block.name}` cannot name a block",
                                     block.name_span, problem,
                                     help=f"call it `{block.name.capitalize()}Block`"))
            continue
        if block.name in blocks:
            diagnostics.append(error("E0106", f"the block `{block.name}` is defined twice",
                                     block.name_span, "defined again here",
                                     secondary=[Label(span=blocks[block.name].name_span,
                                                      text="first defined here")]))
            continue
        seen: set[str] = set()
        for param in block.params:
            check_binding_name(param.name, param.span, "parameter", diagnostics)
            if param.name in seen:
                diagnostics.append(error("E0106", f"the parameter `{param.name}` is listed "
                                         "twice", param.span, "listed again here"))
            seen.add(param.name)
        blocks[block.name] = block
    return blocks


def unsafe_name(name: str) -> str:
    """Why `name` cannot become a Python class name in generated code, or ''."""
    if len(name) > MAX_NAME:
        return f"names are at most {MAX_NAME} characters"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "a Python keyword"
    if name.startswith("_"):
        return "names starting with `_` are reserved"
    if name in PYTHON_TAKEN:
        return "the generated Python code uses this name itself"
    return ""


def check_binding_name(name: str, span: Span, what: str,
                        diagnostics: list[Diagnostic]) -> bool:
    problem = ""
    if name in RESERVED:
        problem = "a layer word or keyword of the language"
    elif FLAG.match(name):
        problem = f"it reads as the short flag `{name}`"
    else:
        problem = unsafe_name(name)
    if problem:
        diagnostics.append(error("E0205", f"`{name}` cannot name a {what}", span, problem,
                                 help="choose another name"))
    return not problem


def body_chain(program: ir.Program, diagnostics: list[Diagnostic]) -> ir.Chain | None:
    if not program.bodies:
        diagnostics.append(error("E0103", "the file has no network body", None,
                                 help="write the network as one chain, e.g. "
                                      "`conv 6 k5 -> relu -> fc 10`"))
        return None
    for extra in program.bodies[1:]:
        diagnostics.append(error("E0104", "a file holds exactly one body chain", extra.span,
                                 "a second chain", secondary=[
                                     Label(span=program.bodies[0].span, text="the body")],
                                 help="join the chains with `->`, or start this line with "
                                      "`->` to continue the one above"))
    return program.bodies[0]
