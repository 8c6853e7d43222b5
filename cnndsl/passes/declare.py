"""Declarations: the file-level statements (`model`, `input`, `let`, `block`
definitions, the body chain, `output`), each checked once, and the names a
spec may give.

Pure functions of the syntax tree; each appends its findings to `diagnostics`.
"""

from __future__ import annotations

import builtins
import keyword
from dataclasses import replace
from fractions import Fraction

from cnndsl.diagnostics.diagnostic import Diagnostic, Label, error, warning
from cnndsl.diagnostics.suggest import did_you_mean
from cnndsl.files import printable
from cnndsl.front import syntax as ast
from cnndsl.front.source import Span
from cnndsl.ir import nodes as ir
from cnndsl.ir.layers import COMBINATORS, FLAG_LETTERS, KEYWORDS, MAX_INT, RESERVED
from cnndsl.ir.overrides import show
from cnndsl.passes.constants import UNKNOWN, Env, evaluate, literal

MAX_NAME = 80

#: Names the generated Python file uses itself; a spec may not take them.
PYTHON_TAKEN = frozenset({"torch", "nn", "F", "self", "in_channels", "identity",
                          "main", "cnndsl", "SPEC", "SPEC_PATH",
                          # the generated file's helper classes (cnndsl.backends.pytorch.helpers)
                          "ChannelLayerNorm", "ChannelMax", "ChannelMean", "ChannelShuffle",
                          "DropPath", "Scale", "UpsampleLike"}) \
    | frozenset(dir(builtins))


def model_name(program: ast.Program, default: str, blocks: dict[str, ast.BlockDef],
               diagnostics: list[Diagnostic]) -> str:
    """The model class's name: `model Name`, else the file name's (made distinct
    from every block's, since both become classes of one module)."""
    for extra in program.models[1:]:
        diagnostics.append(_twice("model", extra.span, program.models[0].span))
    if not program.models:
        name = default
        while name in blocks:
            name += "Model"
        return name
    decl = program.models[0]
    problem = unsafe_name(decl.name)
    if problem:
        diagnostics.append(error("E0205", f"`{decl.name}` cannot name the model class",
                                 decl.name_span, problem,
                                 help="choose another name, e.g. `" + decl.name.title()
                                 .replace("_", "") + "Net`"))
        return default
    return decl.name


def inputs(program: ast.Program, diagnostics: list[Diagnostic]) -> tuple[ir.NetInput, ...]:
    """The network's inputs: one, unnamed (`x`), or several, each named."""
    if not program.inputs:
        diagnostics.append(error("E0101", "the file has no `input`", None,
                                 help="declare one sample's shape first, e.g. `input 3x32x32`"))
        return ()
    found: list[ir.NetInput] = []
    spans: dict[str, Span] = {}
    unnamed = [d for d in program.inputs if d.name is None]
    if len(program.inputs) > 1 and unnamed:
        culprit = next((d for d in unnamed if d is not program.inputs[0]), unnamed[0])
        others = [Label(span=d.span, text="unnamed too") for d in unnamed if d is not culprit]
        diagnostics.append(error(
            "E0107", "several inputs must each have a name", culprit.span,
            "an input without a name", secondary=others[:3],
            help="name every input: `input image 3x64x64`, then reach the others with "
                 "`@name`"))
        return ()
    for decl in program.inputs:
        name = decl.name or "x"
        if decl.name is not None:
            if not check_binding_name(decl.name, decl.name_span, "input", diagnostics):
                continue
            if decl.name in spans:
                diagnostics.append(error("E0212", f"the input `{decl.name}` is declared twice",
                                         decl.name_span, "declared again here",
                                         secondary=[Label(span=spans[decl.name],
                                                          text="first declared here")]))
                continue
            spans[decl.name] = decl.name_span
        shape = _input_shape(decl, diagnostics)
        if shape is not None:
            found.append(ir.NetInput(name=name, shape=shape, span=decl.shape_span,
                                     named=decl.name is not None))
    return tuple(found) if len(found) == len(program.inputs) else ()


def _input_shape(decl: ast.InputDecl, diagnostics: list[Diagnostic]) -> tuple[int, ...] | None:
    if len(decl.shape) > 4:
        diagnostics.append(error("E0310", "an input has at most 3 spatial dimensions",
                                 decl.shape_span, f"{len(decl.shape) - 1} spatial dimensions",
                                 help="write one sample's shape without the batch: "
                                      "`CxL`, `CxHxW` or `CxDxHxW`"))
        return None
    if any(n < 1 for n in decl.shape):
        diagnostics.append(error("E0404", "every dimension of the input must be at least 1",
                                 decl.shape_span, "a dimension is 0"))
        return None
    if any(n > MAX_INT for n in decl.shape):
        diagnostics.append(error("E0404", f"every dimension of the input must be at most "
                                 f"{MAX_INT:,}", decl.shape_span, "a dimension is larger"))
        return None
    _channels_last(decl, diagnostics)
    return decl.shape


def _channels_last(decl: ast.InputDecl, diagnostics: list[Diagnostic]) -> None:
    """W0110 for an image written as Keras and NumPy write it: `28x28x1` (28 channels
    of 28x1 to PyTorch), or without its channel: `28x28` (a 1-D signal). Even where
    the network still checks (`32x32x3`), it is not the network meant."""
    shape = decl.shape
    square = len(shape) in (2, 3) and shape[0] == shape[1] >= 8
    if not square or (len(shape) == 3 and shape[2] not in (1, 3)):
        return
    if len(shape) == 3:
        size, channels = shape[:2], shape[2]
        read = f"{shape[0]} channels of {shape[1]}x{shape[2]}"
    else:
        size, channels = shape, 1
        read = f"{shape[0]} channels of a 1-D signal of {shape[1]}"
    meant = "x".join(str(n) for n in (channels, *size))
    written = "x".join(str(n) for n in shape)
    diagnostics.append(warning(
        "W0110", f"the input `{written}` looks channels-last", decl.shape_span,
        f"read as {read}", notes=["PyTorch, and so cnndsl, puts the channels first: "
                                  "channels, height, width"],
        help=f"for a {'grey' if channels == 1 else 'colour'} image of {size[0]}x{size[1]}, "
             f"write `input {decl.name + ' ' if decl.name else ''}{meant}`"))


def _twice(what: str, span: Span, first: Span) -> Diagnostic:
    return error("E0102", f"`{what}` is declared twice", span, "declared again here",
                 secondary=[Label(span=first, text="first declared here")],
                 help="a file describes one network: keep one")


def constants(program: ast.Program, diagnostics: list[Diagnostic]) -> Env:
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
        value = evaluate(let.value, env, diagnostics, truth=None)   # `let deep = depth > 50`
        # a constant whose value is in error is still defined, as unknown: its uses
        # are not reported again
        env[let.name] = literal(value.value) if value is not None and value.known else UNKNOWN
        spans[let.name] = let.name_span
    return env


def block_defs(program: ast.Program, diagnostics: list[Diagnostic]) -> dict[str, ast.BlockDef]:
    blocks: dict[str, ast.BlockDef] = {}
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
        blocks[block.name] = block
    names = {b.name for b in program.blocks}
    for block in blocks.values():
        _params(block, names, diagnostics)
    return blocks


def _params(block: ast.BlockDef, block_names: set[str], diagnostics: list[Diagnostic]) -> None:
    seen: set[str] = set()
    for param in block.params:
        if param.name in block_names:
            diagnostics.append(error(
                "E0205", f"`{param.name}` cannot name a parameter", param.span,
                "a block has this name", help="choose another name: inside the block, "
                f"`{param.name}` would no longer mean the block"))
        else:
            check_binding_name(param.name, param.span, "parameter", diagnostics)
        if param.name in seen:
            diagnostics.append(error("E0106", f"the parameter `{param.name}` is listed "
                                     "twice", param.span, "listed again here"))
        seen.add(param.name)


def unsafe_name(name: str) -> str:
    """Why `name` cannot become a Python class or variable name in generated
    code, or ''."""
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
    """A constant, parameter, label or input name: not a word of the language,
    safe in generated Python, and, for a constant or a parameter (which stand
    among a layer's arguments), not a short flag of any layer: `let p1 = 3` would
    be read as padding 1 in `conv 8 k3 p1`. Labels and inputs are only ever
    written after `as` and `@`, so `p3` may name one, and so may a layer word
    (`fc 1000 as fc`: a label names its module, as a checkpoint spells it)."""
    problem = ""
    if name in KEYWORDS or name in COMBINATORS or (name in RESERVED and what != "label"):
        problem = "a layer word or keyword of the language"
    elif what in ("constant", "parameter") and len(name) > 1 and name[0] in FLAG_LETTERS \
            and name[1:].replace("x", "").isdigit():
        layers = ", ".join(f"`{op}`" for op in FLAG_LETTERS[name[0]][:3])
        problem = f"it reads as the short flag `{name}` of {layers}"
    else:
        problem = unsafe_name(name)
    if problem:
        diagnostics.append(error("E0205", f"`{name}` cannot name a {what}", span, problem,
                                 help="choose another name"))
    return not problem


def body_chain(program: ast.Program, diagnostics: list[Diagnostic]) -> ast.Chain | None:
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


def output_chains(program: ast.Program, diagnostics: list[Diagnostic]) -> tuple[ast.Chain, ...]:
    for extra in program.outputs[1:]:
        diagnostics.append(_twice("output", extra.span, program.outputs[0].span))
    if not program.outputs:
        return ()
    body = program.bodies[0].span.end if program.bodies else 0
    decl = program.outputs[0]
    if decl.span.start < body:
        diagnostics.append(error("E0105", "`output` comes after the body", decl.span,
                                 "before the body", help="move `output` below the body: it "
                                 "reads the body's labels"))
    return decl.chains


# ---- overrides (`--set`, `--input`, `cnndsl.build(..., input=, **lets)`) ------------------

def overridden(program: ast.Program, overrides, diagnostics: list[Diagnostic]) -> ast.Program:
    """The program with `overrides` (`cnndsl.ir.overrides.Overrides`) put in place of its
    `let` values and input sizes, each new value spanning the user's own text, so a
    diagnostic about it still points there. An unknown name is E0230/E0231, a size of
    another rank than the input's E0232; the rest of the overrides still apply."""
    lets = tuple(_let_overridden(let, overrides) for let in program.lets)
    known = {let.name for let in program.lets}
    for name in overrides.lets:
        if name not in known:
            diagnostics.append(_unknown_override("E0230", "constant", name, sorted(known),
                                                 overrides.how(name), "let"))
    inputs = tuple(_input_overridden(decl, program, overrides, diagnostics)
                   for decl in program.inputs)
    names = [d.name for d in program.inputs if d.name is not None]
    for name in overrides.inputs:
        if name is None and len(program.inputs) > 1:
            diagnostics.append(error(
                "E0231", f"{overrides.how('input')} does not say which input", None,
                notes=[f"this spec has {len(program.inputs)} inputs: "
                       + ", ".join(f"`{n}`" for n in names)],
                help=f"name it: `--input {names[0] if names else 'NAME'}=SIZE`"))
        elif name is not None and name not in names:
            found = _unknown_override("E0231", "input", name, names,
                                      overrides.how(f"input {name}"), "input")
            if not names and program.inputs:
                found = replace(found, notes=("the spec's one input has no name",),
                                help="give the size alone: `--input SIZE`")
            diagnostics.append(found)
    return replace(program, lets=lets, inputs=inputs)


def _let_overridden(let: ast.LetDef, overrides) -> ast.LetDef:
    if let.name not in overrides.lets:
        return let
    return replace(let, value=_literal_expr(overrides.lets[let.name], let.value.span))


def _literal_expr(value, span: Span) -> ast.Expr:
    """A value as a syntax tree, every node spanning `span` (the user's `let` value)."""
    def num(n: int) -> ast.Expr:
        return ast.Num(span=span, value=n, text=str(n))

    if isinstance(value, bool):
        return ast.BinOp(span=span, op="==", left=num(1), right=num(int(value)))
    if isinstance(value, tuple):
        return ast.SizeLit(span=span, values=value)
    if value < 0:
        return ast.Unary(span=span, op="-", operand=_literal_expr(-value, span))
    if isinstance(value, Fraction) and value.denominator != 1:
        return ast.BinOp(span=span, op="/", left=num(value.numerator),
                         right=num(value.denominator))
    return num(int(value))


def _input_overridden(decl: ast.InputDecl, program: ast.Program, overrides,
                      diagnostics: list[Diagnostic]) -> ast.InputDecl:
    key = decl.name if decl.name in overrides.inputs else \
        None if len(program.inputs) == 1 and None in overrides.inputs else ""
    if key == "":
        return decl
    size = overrides.inputs[key]
    how = overrides.how("input" if key is None else f"input {key}")
    if len(size) != len(decl.shape):   # a whole shape, channels first: never guessed
        written = "x".join(map(str, decl.shape))
        diagnostics.append(error(
            "E0232", f"{how} does not fit this input", decl.shape_span,
            f"{written} has {len(decl.shape)} dimensions, channels first",
            help=f"give {len(decl.shape)} numbers, as `input` writes them: "
                 f"`{written}`"))
        return decl
    return replace(decl, shape=tuple(size))


def _unknown_override(code: str, what: str, name: str, known: list[str], how: str,
                      word: str) -> Diagnostic:
    close = did_you_mean(name, known, cutoff=0.5)
    listed = ", ".join(f"`{n}`" for n in known[:20]) or "none"
    return error(code, f"{printable(how)}: the spec has no {what} `{printable(name)}`", None,
                 notes=[f"the spec's {what}s (`{word}`): {listed}"],
                 help=f"did you mean `{close.word}`?" if close is not None else None)


def override_notes(before: ast.Program, after: ast.Program, overrides) -> tuple[str, ...]:
    """One note per override in effect (`after` is `overridden(before, ...)`):
    "`w` is 0.5 here, set by `--set w=0.5`"."""
    def shown(value) -> str:
        return str(value).lower() if isinstance(value, bool) else show(value)

    notes = [f"`{new.name}` is {shown(overrides.lets[new.name])} here, set by "
             f"{overrides.how(new.name)}"
             for old, new in zip(before.lets, after.lets, strict=True) if new is not old]
    for old, new in zip(before.inputs, after.inputs, strict=True):
        if new is not old:
            what = "the input" if new.name is None else f"the input `{new.name}`"
            key = new.name if new.name in overrides.inputs else None
            notes.append(f"{what} is {'x'.join(map(str, new.shape))} here, set by "
                         f"{overrides.how('input' if key is None else f'input {key}')}")
    return tuple(notes)
