"""Per-position analysis of a checked spec: which layer is at a line and column,
and that layer's arithmetic with its own numbers.

The playground (`cnndsl serve`) asks it where the user clicks; a language server
can ask it on hover. Every answer is JSON-ready (dicts, lists, strings, numbers):

>>> import cnndsl
>>> result = cnndsl.check("input 1x28x28\\nconv 6 k5 -> relu -> fc 10")
>>> answer = layer_at(result, 2, 1)
>>> answer["name"], [s["text"] for s in answer["steps"] if s["topic"] in ("output", "params")]
('conv1', ['⌊(28 + 2·0 − 5)/1⌋ + 1 = 24', '(5·5·1 + 1)·6 = 156'])

Lines and columns are 1-based and count characters (code points), as
`check --format json` does.

The first section is the adapter: the only code here that reads a result's
`.summary` and `.network`; each summary row carries its annotated IR node.
"""

from __future__ import annotations

import math
import re

from cnndsl.ir import arithmetic as arith
from cnndsl.ir import windows
from cnndsl.ir.windows import per_axis, same_padding

# ---- the adapter: everything that reads `.summary` and `.network` ----------------

_HYPERPARAMETERS = ("out", "kernel", "stride", "padding", "dilation", "groups", "bias",
                    "ceil", "size", "padding_mode", "output_padding", "scale", "mode", "align",
                    "factor", "shape", "p", "eps", "momentum", "affine", "init", "param",
                    "before", "after", "like")


def _rows(result) -> tuple:
    """The summary rows of a checked spec, in table order; with errors, the rows
    the checker could annotate before the first error (see `table`)."""
    if result.summary is not None:
        return result.summary.rows
    summary = assert_only_summary(result)
    return summary.rows if summary is not None else tuple(row for row, _ in _annotated(result))


def _node_of(result, row):
    """The IR node a summary row describes (the annotated network element)."""
    return row.node


def hyperparameters(result, row) -> dict:
    """A layer's own settings (kernel, stride, padding, dilation, groups, bias,
    out channels, ceil, adaptive size), as written in the spec after evaluation."""
    node = _node_of(result, row)
    found = {f: getattr(node, f) for f in _HYPERPARAMETERS if hasattr(node, f)}
    if node is not None and node.op in ("concat", "add", "mul", "split"):
        found["branch_ends"] = [b.items[-1].name if b.items else None for b in node.branches]
        found["residual"] = node.form == "residual"
        found["form"] = node.form
    return found


def totals(result) -> dict | None:
    """The whole network's figures (the lines under `check`'s table)."""
    return _totals(result.summary) if result.summary is not None else None


def _totals(summary) -> dict:
    return {"model": summary.model, "input": list(summary.input),
            "output": list(summary.output), "params": summary.params,
            "trainable": summary.trainable, "macs": summary.macs}


# ---- positions ----------------------------------------------------------------------

def offset_of(text: str, line: int, column: int) -> int:
    """The character offset of a 1-based line and column (clamped to the text)."""
    starts = [0, *(m.end() for m in re.finditer("\n", text))]
    line = min(max(line, 1), len(starts))
    start = starts[line - 1]
    end = starts[line] - 1 if line < len(starts) else len(text)
    return min(start + max(column, 1) - 1, end)


def rows_at(result, line: int, column: int) -> list:
    """The rows whose span holds the position, innermost first (ties in table
    order). A cursor just after a layer's last character still counts as on it."""
    offset = offset_of(result.source.text, line, column)
    hits = [r for r in _rows(result) if r.span.start <= offset <= r.span.end]
    inside = [r for r in hits if offset < r.span.end] or hits
    return sorted(inside, key=lambda r: r.span.end - r.span.start)   # stable: table order


def layer_at(result, line: int, column: int) -> dict | None:
    """What the layer at a position computes, or None where there is none.

    In a block's body one layer stands for one row per use of the block: the
    answer explains the first and lists every use in `uses`.
    """
    hits = rows_at(result, line, column)
    if not hits:
        return None
    first = hits[0]
    uses = [r.name for r in hits if r.span == first.span]
    return _explain(result, first, uses)


def explain(result, name: str) -> dict | None:
    """What the layer with module path `name` (`conv1`, `down1.branch1_conv2`) computes."""
    row = next((r for r in _rows(result) if r.name == name), None)
    if row is None:
        return None
    uses = [r.name for r in _rows(result) if r.span == row.span]
    return _explain(result, row, uses)


def span_json(span) -> dict:
    """A span as `check --format json` writes one (1-based, end inclusive)."""
    return {"line": span.line, "column": span.column, "end_line": span.end_line,
            "end_column": span.end_column}


def table(result) -> dict | None:
    """`check`'s table as data: every row with its columns and span, and the totals.
    A spec with errors gets the rows the checker could still annotate, in order up
    to the first it could not, with `partial` true (the totals then add up the rows
    shown); a spec whose only errors are failed `assert`s gets its whole table."""
    if result.summary is not None:
        rows = [_row_json(r) for r in _rows(result)]
        return {"totals": totals(result), "rows": rows, "partial": False}
    summary = assert_only_summary(result)
    if summary is not None:
        return {"totals": _totals(summary), "rows": [_row_json(r) for r in summary.rows],
                "partial": False}
    return _partial_table(result)


def _row_json(r) -> dict:
    return {"name": r.name, "op": r.op, "kind": r.kind, "text": r.text, "depth": r.depth,
            "output": list(r.output), "params": r.params, "macs": r.macs,
            "rf": list(r.rf) if r.rf else None, "span": span_json(r.span)}


#: failed `assert`s: the network itself is sound, its figures are what was asserted on
ASSERT_CODES = frozenset({"E0501"})


def assert_only_summary(result):
    """The whole summary of a spec whose only errors are failed `assert`s, else None."""
    from cnndsl.passes.summary import summarize

    errors = [d for d in result.diagnostics if d.severity == "error"]
    if result.network is None or not errors or any(d.code not in ASSERT_CODES for d in errors):
        return None
    try:
        return summarize(result.network)
    except (AttributeError, TypeError, ValueError):
        return None


def _annotated(result) -> list[tuple]:
    """(row, its JSON) for the rows before the first the checker could not annotate."""
    from cnndsl.passes.summary import summarize

    if result.network is None:
        return []
    try:
        summary = summarize(result.network)
    except (AttributeError, TypeError, ValueError):
        return []
    rows = []
    for row in summary.rows:
        try:
            rows.append((row, _row_json(row)))
        except (AttributeError, TypeError, ValueError):   # not annotated: after the error
            break
    return rows


def _partial_table(result) -> dict | None:
    """The rows before the first one the checker could not annotate."""
    rows = [shown for _, shown in _annotated(result)]
    if not rows:
        return None
    layers = [r for r in rows if r["kind"] == "layer"]
    shown = {"model": result.network.model, "input": list(result.network.input),
             "output": rows[-1]["output"], "params": sum(r["params"] for r in layers),
             "trainable": None, "macs": sum(r["macs"] for r in layers)}
    return {"totals": shown, "rows": rows, "partial": True}


# ---- explanations ----------------------------------------------------------------------

def _explain(result, row, uses: list[str]) -> dict:
    answer = {"name": row.name, "op": row.op, "kind": row.kind, "text": row.text,
              "span": span_json(row.span), "input": list(row.input),
              "output": list(row.output), "params": row.params, "macs": row.macs,
              "rf": list(row.rf) if row.rf else None,
              "jump": list(row.jump) if row.jump else None, "uses": uses,
              "steps": [], "window": None}
    hyper = hyperparameters(result, row)
    if row.kind == "block":
        answer["steps"] = _block_steps(result, row)
    elif row.kind == "merge":
        answer["steps"] = _merge_steps(result, row, hyper)
    else:
        explainer = _EXPLAINERS.get(row.op, _keeps_shape)
        answer["steps"], answer["window"] = explainer(row, hyper)
    return answer


def _dims(rank: int) -> tuple[str, ...]:
    return {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}[rank]


def _per_dim(topic: str, formulas: list[arith.Formula], note: str = "") -> list[dict]:
    """One step per spatial dim, or one for all when every dim reads the same."""
    labels = _dims(len(formulas))
    if len(formulas) > 1 and len(set(formulas)) == 1:
        return [arith.step(topic, "each spatial dim", formulas[0], note)]
    return [arith.step(topic, label, f, note) for label, f in zip(labels, formulas)]


def _window(row, hyper: dict) -> dict:
    """The geometry the window animation needs, per spatial dim (padding split
    before and after, as PyTorch splits `same`)."""
    rank = len(row.input) - 1
    kernel, dilation = per_axis(hyper["kernel"], rank), per_axis(hyper.get("dilation", 1), rank)
    if hyper.get("padding") == "same":
        before, after = zip(*same_padding(kernel, dilation))
    else:
        before = after = per_axis(hyper.get("padding", 0), rank)
    return {"op": row.op, "channels": row.input[0], "input": list(row.input[1:]),
            "output": list(row.output[1:]), "kernel": list(kernel),
            "stride": list(per_axis(hyper["stride"], rank)), "dilation": list(dilation),
            "padding": list(before), "padding_after": list(after),
            "same": hyper.get("padding") == "same", "ceil": bool(hyper.get("ceil", False))}


def _window_steps(row, window: dict) -> list[dict]:
    """The output size of a sliding window, per dim."""
    geometry = list(zip(window["input"], window["kernel"], window["stride"],
                        window["padding"], window["dilation"]))
    if window["same"]:
        sizes = [windows.same_size(n, k, d) for n, k, s, p, d in geometry]
        note = "`same`: PyTorch pads d·(k − 1) in all, the extra one after"
    else:
        sizes = [windows.formula(n, k, s, p, d, window["ceil"]) for n, k, s, p, d in geometry]
        dropped = window["ceil"] and any(windows.last_window_dropped(n, k, s, p, d)
                                         for n, k, s, p, d in geometry)
        note = "the last window would start in the padding; PyTorch drops it" if dropped else ""
    return _per_dim("output", sizes, note)


def _field_steps(row, window: dict) -> list[dict]:
    """Receptive field and jump, from the layer's own output back to its input's."""
    if not row.rf or not _whole(row.jump, window["stride"]):
        return []   # a jump divided by upsampling has no formula in whole numbers
    rf_steps, jump_steps = [], []
    for axis, (k, s, d) in enumerate(zip(window["kernel"], window["stride"],
                                          window["dilation"])):
        j_in = row.jump[axis] // s
        rf_in = row.rf[axis] - d * (k - 1) * j_in
        rf_steps.append(arith.receptive_field(rf_in, k, d, j_in))
        jump_steps.append(arith.jump(j_in, s))
    return _per_dim("rf", rf_steps) + _per_dim("jump", jump_steps)


def _whole(jumps, strides) -> bool:
    return all(isinstance(j, int) and j % s == 0 for j, s in zip(jumps, strides))


def _conv(row, hyper: dict) -> tuple[list[dict], dict]:
    window = _window(row, hyper)
    steps = _window_steps(row, window)
    params = arith.conv_params(tuple(window["kernel"]), row.input[0], hyper["groups"],
                               hyper["out"], hyper["bias"])
    note = "" if hyper["groups"] == 1 else (f"{hyper['groups']} groups: each output channel "
                                            f"sees {row.input[0] // hyper['groups']} of the "
                                            f"{row.input[0]} input channels")
    steps.append(arith.step("params", "", params, note))
    steps.append(arith.step("macs", "", arith.applied_macs(params[1], tuple(row.output[1:])),
                            "weights and bias applied at every output position"
                            if hyper["bias"] else "weights applied at every output position"))
    return steps + _field_steps(row, window), window


def _pool(row, hyper: dict) -> tuple[list[dict], dict]:
    window = _window(row, hyper)
    steps = _window_steps(row, window)
    steps.append(arith.step("params", "", ("0", 0), "pooling learns nothing"))
    return steps + _field_steps(row, window), window


def _adaptive(row, hyper: dict) -> tuple[list[dict], None]:
    rank = len(row.input) - 1
    size = per_axis(hyper["size"], rank)
    steps = _per_dim("output", [(str(o), o) for o in size],
                     "an adaptive pool's output size is fixed; its windows adapt")
    if row.rf and all(isinstance(j, int) for j in row.jump):
        fields, jumps = [], []
        for axis, (n, o) in enumerate(zip(row.input[1:], size)):
            j_in = row.jump[axis] // max(1, n // o)
            rf_in = row.rf[axis] - (math.ceil(n / o) - 1) * j_in
            fields.append(arith.adaptive_field(rf_in, n, o, j_in))
            jumps.append(arith.adaptive_jump(j_in, n, o))
        steps += _per_dim("rf", fields) + _per_dim("jump", jumps)
    return steps, None


def _linear(row, hyper: dict) -> tuple[list[dict], None]:
    steps = []
    features = math.prod(row.input)
    if len(row.input) > 1:
        steps.append(arith.step("features", "", arith.product(row.input),
                                "the input is flattened first"))
    params = arith.linear_params(features, hyper["out"], hyper["bias"])
    steps.append(arith.step("params", "", params))
    steps.append(arith.step("macs", "", params, "each weight and bias is used once"
                            if hyper["bias"] else "each weight is used once"))
    return steps, None


def _flatten(row, hyper: dict) -> tuple[list[dict], None]:
    return [arith.step("output", "", arith.product(row.input))], None


def _batchnorm(row, hyper: dict) -> tuple[list[dict], None]:
    note = "a scale and a shift per channel; the running mean and variance are buffers"
    return [_keeps(row), arith.step("params", "", arith.norm_params(row.input[0]), note)], None


def _pad(row, hyper: dict) -> tuple[list[dict], None]:
    rank = len(row.input) - 1
    if hyper.get("size") is not None:
        before = after = per_axis(hyper["size"], rank)
    else:
        before = per_axis(hyper.get("before") or 0, rank)
        after = per_axis(hyper.get("after") or 0, rank)
    formulas = [(f"{n} + {b} + {a}", n + b + a)
                for n, b, a in zip(row.input[1:], before, after)]
    return _per_dim("output", formulas, "padding before and after; the receptive field and "
                                        "jump are unchanged"), None


def _channel_reduce(row, hyper: dict) -> tuple[list[dict], None]:
    shape = "x".join(str(n) for n in row.output)
    what = "mean" if row.op == "channelmean" else "largest value"
    return [{"topic": "output", "label": "", "value": None, "note": "",
             "text": f"the {what} over the {row.input[0]} channels at each position: {shape}"}], \
        None


def _keeps_shape(row, hyper: dict) -> tuple[list[dict], None]:
    return [_keeps(row)], None


def _keeps(row) -> dict:
    shape = "x".join(str(n) for n in row.output)
    return {"topic": "output", "label": "", "text": f"keeps its input's shape, {shape}",
            "value": None, "note": ""}


def _convt(row, hyper: dict) -> tuple[list[dict], None]:
    rank = len(row.input) - 1
    geometry = zip(row.input[1:], per_axis(hyper["kernel"], rank), per_axis(hyper["stride"], rank),
                   per_axis(hyper["padding"], rank), per_axis(hyper["dilation"], rank),
                   per_axis(hyper["output_padding"], rank))
    sizes = [(f"({n} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {o} + 1",
              (n - 1) * s - 2 * p + d * (k - 1) + o + 1) for n, k, s, p, d, o in geometry]
    steps = _per_dim("output", sizes, "a transposed convolution spreads each input position "
                                      "over a window of the output")
    c_in, out, groups = row.input[0], hyper["out"], hyper["groups"]
    kernel = per_axis(hyper["kernel"], rank)
    per_group = out // groups
    weights = math.prod(kernel) * c_in * per_group
    shown = "·".join(str(k) for k in kernel) + f"·{c_in}·{per_group}"
    bias = out if hyper["bias"] else 0
    steps.append(arith.step("params", "", (f"{shown} + {out}" if bias else shown,
                                           weights + bias)))
    positions = "·".join(str(n) for n in row.input[1:])
    out_positions = "·".join(str(n) for n in row.output[1:])
    macs = weights * math.prod(row.input[1:]) + bias * math.prod(row.output[1:])
    text = f"{weights}·{positions}" + (f" + {out}·{out_positions}" if bias else "")
    steps.append(arith.step("macs", "", (text, macs),
                            "weights at every input position, bias at every output position"))
    return steps, None


def _upsample(row, hyper: dict) -> tuple[list[dict], None]:
    rank = len(row.input) - 1
    if hyper.get("like") is not None:
        sizes = [(str(o), o) for o in row.output[1:]]
        note = f"resized to the size of @{hyper['like']}, read at run time"
    elif hyper.get("size") is not None:
        sizes = [(str(o), o) for o in per_axis(hyper["size"], rank)]
        note = "resized to the size given"
    else:
        factors = per_axis(hyper["scale"], rank)
        sizes = [arith.upsample_size(n, f) for n, f in zip(row.input[1:], factors)]
        note = f"{hyper.get('mode', 'nearest')} interpolation; nothing learnt"
        if not all(isinstance(f, int) for f in factors):
            note += "; PyTorch multiplies in floating point and rounds down"
    return _per_dim("output", sizes, note), None


def _pixel_shuffle(row, hyper: dict) -> tuple[list[dict], None]:
    r, c = hyper["factor"], row.input[0]
    if row.op == "pixelshuffle":
        steps = [arith.step("channels", "", (f"{c}/({r}·{r})", c // (r * r)),
                            "each group of r² channels becomes an r×r patch")]
        steps += _per_dim("output", [(f"{n}·{r}", n * r) for n in row.input[1:]])
    else:
        steps = [arith.step("channels", "", (f"{c}·{r}·{r}", c * r * r),
                            "each r×r patch becomes r² channels")]
        steps += _per_dim("output", [(f"{n}/{r}", n // r) for n in row.input[1:]])
    return steps, None


def _norm(row, hyper: dict) -> tuple[list[dict], None]:
    c = row.input[0]
    if row.op == "instancenorm" and not hyper.get("affine"):
        return [_keeps(row)], None
    note = {"layernorm": "a scale and a shift per channel, normalising over the channels",
            "groupnorm": f"a scale and a shift per channel, normalising {hyper.get('groups')} "
                         "groups"}.get(row.op, "a scale and a shift per channel")
    return [_keeps(row), arith.step("params", "", arith.norm_params(c), note)], None


def _per_channel(row, hyper: dict) -> tuple[list[dict], None]:
    note = "one learnt slope per channel" if row.op == "prelu" else \
        "one learnt multiplier per channel"
    return [_keeps(row), arith.step("params", "", (str(row.input[0]), row.input[0]),
                                    note)], None


def _unflatten(row, hyper: dict) -> tuple[list[dict], None]:
    return [arith.step("elements", "", arith.product(row.output),
                       f"the {row.input[0]:,} features, reshaped")], None


def _keeps_text(row, text: str) -> dict:
    return {"topic": "output", "label": "", "text": text, "value": None, "note": ""}


_EXPLAINERS = {"conv": _conv, "maxpool": _pool, "avgpool": _pool, "gap": _adaptive,
               "gmp": _adaptive, "pad": _pad, "channelmean": _channel_reduce,
               "channelmax": _channel_reduce,
               "adaptiveavgpool": _adaptive, "adaptivemaxpool": _adaptive, "fc": _linear,
               "flatten": _flatten, "batchnorm": _batchnorm, "convt": _convt,
               "upsample": _upsample, "pixelshuffle": _pixel_shuffle,
               "pixelunshuffle": _pixel_shuffle, "layernorm": _norm, "groupnorm": _norm,
               "instancenorm": _norm, "prelu": _per_channel, "scale": _per_channel,
               "unflatten": _unflatten}


def _block_steps(result, row) -> list[dict]:
    """A block use adds up the layers inside it."""
    inner = [r for r in _rows(result) if r.name.startswith(row.name + ".") and r.kind != "block"]
    steps = [arith.step("params", "", arith.total([r.params for r in inner if r.params]),
                        f"the parameters of the {len(inner)} layers inside")]
    steps.append(arith.step("macs", "", arith.total([r.macs for r in inner if r.macs])))
    return steps


def _merge_steps(result, row, hyper: dict) -> list[dict]:
    """`concat` and `split` add up their branches' channels; `add` needs equal
    shapes; `mul` and `gate` multiply, broadcasting a branch of spatial size 1."""
    node = _node_of(result, row)
    ends = [branch.info.output for branch in node.branches]
    shapes = ", ".join("x".join(str(n) for n in e) for e in ends)
    if node.op in ("concat", "split"):
        steps = []
        if node.op == "split":
            count = len(ends)
            steps.append(arith.step("channels", "each branch's input",
                                    (f"{row.input[0]}/{count}", row.input[0] // count),
                                    "split gives each branch an equal share of the channels"))
        note = "branches keep their spatial size; channels add up"
        steps.append(arith.step("output", "channels", arith.total([e[0] for e in ends]), note))
        return steps
    if node.op == "add":
        text = f"element-wise sum of {len(ends)} equal shapes: {shapes}"
        if node.form == "residual":
            text += " (the first is the input itself)"
        return [_keeps_text(row, text)]
    text = f"element-wise product of {shapes}"
    if node.form == "gate":
        text += " (the input times its gate)"
    if any(all(n == 1 for n in e[1:]) for e in ends) and len(row.output) > 1:
        text += "; a branch of spatial size 1 is broadcast over every position"
    if any(e[0] == 1 for e in ends) and row.output[0] > 1:
        text += "; a branch of one channel is broadcast over every channel"
    return [_keeps_text(row, text)]
