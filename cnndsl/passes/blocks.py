"""Blocks: a use of a block (`Bottleneck(64, stride=2)`) checked and its
arguments bound (positional, by name, defaults, `in`), the environment its body
is read in, and the `BlockCall` node made from the body once walked; a message
found in the body names the use that caused it."""

from __future__ import annotations

import re
from dataclasses import replace

from cnndsl.diagnostics.diagnostic import Diagnostic, Label, error
from cnndsl.diagnostics.suggest import did_you_mean, offer
from cnndsl.front import syntax as ast
from cnndsl.ir import expr as E
from cnndsl.ir import nodes as ir
from cnndsl.ir.layers import COMBINATORS, LAYERS, canonical
from cnndsl.ir.shapes import fmt
from cnndsl.passes import infer
from cnndsl.passes.bind import show
from cnndsl.passes.constants import IN, UNKNOWN, Env, Value, evaluate, literal, plain
from cnndsl.passes.construct import unknown_layer
from cnndsl.passes.context import Context
from cnndsl.passes.flow import State
from cnndsl.passes.scopes import Scope
from cnndsl.passes.uses import names_in


def bind_use(use, args: tuple, env: Env, state: State | None, stack: tuple[str, ...],
             ctx: Context) -> tuple[ast.BlockDef, dict[str, Value], Env] | None:
    """The block `use` names, its arguments bound, and the environment its body is
    read in (a number stays its parameter's name in the block class; a size is
    written out); None (with a diagnostic) where it cannot be used here."""
    problem = _refused(use, stack, ctx)
    if problem is not None:
        ctx.diagnostics.append(problem)
        return None
    block = ctx.blocks[use.name]
    ctx.used_blocks.add(use.name)
    ctx.used_names.update(name for arg in args for name in names_in(arg))
    bound = bind_args(block, use, args, env, ctx)
    if bound is None:
        return None
    inner = {**ctx.constants,
             **{k: Value(v.value, None if isinstance(v.value, (tuple, bool)) else E.Name(k))
                for k, v in bound.items()},
             IN: Value(state.channels, E.In()) if state is not None else UNKNOWN}
    return block, bound, inner


def _refused(use, stack: tuple[str, ...], ctx: Context) -> Diagnostic | None:
    """Why `use` cannot be a use of a block: a layer word, unknown, or recursive."""
    if canonical(use.name) is not None:
        return error("E0206", f"`{use.name}` is a layer, not a block", use.name_span,
                     "written as a block use", help=f"write its arguments after it with "
                                                    f"spaces: `{use.name} ...`")
    if use.name not in ctx.blocks:
        return unknown_layer(use, ctx)
    if use.name in stack:
        cycle = " -> ".join(stack[stack.index(use.name):] + (use.name,))
        return error("E0203", f"the block `{use.name}` uses itself", use.name_span,
                     "recursive use", notes=[f"cycle: {cycle}"],
                     help="a block cannot contain itself; repeat it with `* N` instead")
    return None


def call(use, text: str, block: ast.BlockDef, bound: dict[str, Value], body: ir.Sequence,
         out: State | None, state: State | None, scope: Scope) -> tuple[ir.Node, State | None]:
    """The `BlockCall` node of a use whose body was walked into `body`, and the state
    after it (None where the body could not run)."""
    sym = tuple((k, v.expr) for k, v in bound.items() if v.symbolic)
    node = ir.BlockCall(span=use.span, text=text, name=scope.name(snake(block.name)),
                        block=block.name, args=tuple((k, plain(v.value)) for k, v in bound.items()),
                        body=body, sym=sym)
    if state is None or out is None or body.info is None:
        return node, None
    after = State(out.shape, out.rf, out.jump, infer.step(state, snake(block.name), out.shape),
                  use.span)
    summed = infer.Cost(body.info.params, body.info.buffers, body.info.macs)
    return replace(node, info=infer.info(state, after, summed)), after


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return show(value)


#: shapes and values depend on the use; names, labels and recursion do not
_USE_DEPENDENT = ("E03", "E04")


def name_the_use(diagnostics: list[Diagnostic], since: int, use, bound: dict[str, Value],
                 state: State | None) -> None:
    """Label the block use that caused what was found in the block's body
    (`used here with c = 32, on 16x14x14`): the body alone does not say which
    of its uses went wrong."""
    given = ", ".join(f"{name} = {_shown(value.value)}" for name, value in bound.items())
    text = "used here" + (f" with {given}" if given else "")
    if state is not None:
        text += f"{',' if given else ''} on {fmt(state.shape)}"
    for index in range(since, len(diagnostics)):
        found = diagnostics[index]
        if (found.span is None or use.span.start <= found.span.start < use.span.end
                or not found.code.startswith(_USE_DEPENDENT)):
            continue
        label = Label(span=use.span, text=text)
        diagnostics[index] = replace(found, secondary=found.secondary + (label,))


def bind_args(block: ast.BlockDef, use, args: tuple, env: Env,
              ctx: Context) -> dict[str, Value] | None:
    params = {p.name: p for p in block.params}
    bound: dict[str, Value] = {}
    ok = True
    signature = f"{block.name}(" + ", ".join(p.name for p in block.params) + ")"
    positional = [p.name for p in block.params]
    for arg in args:
        if isinstance(arg, ast.Option):
            if arg.name not in params:
                close = did_you_mean(arg.name, list(params))
                ctx.diagnostics.append(error(
                    "E0208", f"the block `{block.name}` has no parameter `{arg.name}`",
                    arg.name_span, "unknown parameter", notes=[f"signature: `{signature}`"],
                    **offer(close, arg.name_span)))
                ok = False
                continue
            name = arg.name
        else:
            if not positional:
                ctx.diagnostics.append(error(
                    "E0209", f"too many arguments for block `{block.name}`", arg.span,
                    "not expected", notes=[f"signature: `{signature}`"]))
                ok = False
                continue
            name = positional[0]
        if name in bound:
            ctx.diagnostics.append(error("E0405", f"the parameter `{name}` is given twice",
                                         arg.span, "given again here", help="keep one of them"))
            ok = False
            continue
        if name in positional:
            positional.remove(name)
        value = evaluate(arg.value, env, ctx.diagnostics, truth=None)
        if value is None:
            ok = False
            continue
        bound[name] = value   # a number, a size (`k=1x7`) or a truth value (`first=i == 0`)
    ok = _defaults(block, use, bound, ok, signature, ctx) and ok
    if not ok or any(not v.known for v in bound.values()):
        return None
    return {p.name: bound[p.name] for p in block.params}


def _defaults(block: ast.BlockDef, use, bound: dict[str, Value], ok: bool, signature: str,
              ctx: Context) -> bool:
    for param in block.params:
        if param.name in bound:
            continue
        if param.default is None:
            if ok:
                missing = ", ".join(f"{p.name}=..." for p in block.params if p.name not in bound)
                ctx.diagnostics.append(error(
                    "E0210", f"the block `{block.name}` needs its parameter `{param.name}`",
                    use.span, "missing argument", notes=[f"signature: `{signature}`"],
                    help=f"write `{block.name}({missing})`"))
            ok = False
            continue
        ctx.used_names.update(names_in(param.default))
        value = evaluate(param.default, ctx.constants, ctx.diagnostics, truth=None)
        if value is None:
            ok = False
            continue
        bound[param.name] = literal(value.value)
    return ok


_ROLES = {word.role for word in LAYERS.values()} | {"output", "branch", "identity"}


def snake(name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return snake + "_block" if snake in _ROLES or snake in COMBINATORS else snake

