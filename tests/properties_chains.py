"""Hypothesis strategies for chains of layers, the first version's and issue 11's, in 1-D,
2-D and 3-D, borders included (`output_padding` at its limit and past it, odd sizes,
sizes that do not divide).

A chain is drawn without knowing its shapes: PyTorch decides later whether it runs. The
drawing only keeps spatial sizes small (`CAP`), so that no example is slow.
"""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from properties_ast import Chain, Input, Layer, Spec

#: `CNNDSL_EXAMPLES_SCALE=20 pytest tests/test_properties*.py` hunts harder
SCALE = int(os.environ.get("CNNDSL_EXAMPLES_SCALE", "1"))
#: `CNNDSL_SHRINK=1` shrinks a failing spec to a smallest one. Off by default: a check,
#: a compile and a run per attempt make shrinking take minutes per failing test.
SHRINK = os.environ.get("CNNDSL_SHRINK", "") not in ("", "0")


def examples(n: int) -> int:
    """`n` examples, times CNNDSL_EXAMPLES_SCALE."""
    return max(1, n * SCALE)


def property_settings(n: int) -> settings:
    """The settings of a property test drawing `n` examples (times the scale)."""
    phases = tuple(Phase) if SHRINK else (Phase.explicit, Phase.reuse, Phase.generate)
    return settings(max_examples=examples(n), deadline=None, phases=phases,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


#: the largest spatial size a chain may grow to, per rank, before growing layers stop
CAP = {1: 160, 2: 40, 3: 8}
GROWING = ("convt", "upsample", "pixel")

EPS = st.sampled_from([1e-05, 0.001, 1e-06, 0.01])
MOMENTUM = st.sampled_from([0.1, 0.01, 0.3])
GROUPS = st.sampled_from([1, 2, 2, 3])
PAD = st.sampled_from(["zeros", "reflect", "replicate", "circular"])


# ---- numbers --------------------------------------------------------------------------------


def pick(draw, options):
    """One of `options` (shrinking towards the first). Cheaper than `st.sampled_from`, which
    builds a new strategy per call: a graph takes a hundred picks."""
    options = tuple(options)
    return options[draw(st.integers(0, len(options) - 1))]


def per_dim(draw, rank: int, lo: int, hi: int):
    """A number, or now and then a size: one number per spatial dim (rarely a wrong count,
    which LANGUAGE.md makes an error)."""
    if draw(st.integers(0, 9)) > 1:
        return draw(st.integers(lo, hi))
    count = rank if rank > 1 and draw(st.integers(0, 4)) else pick(draw, [2, 3, 4])
    return tuple(draw(st.integers(lo, hi)) for _ in range(count))


def _most(value) -> int:
    return max(value) if isinstance(value, tuple) else value


def _least(value) -> int:
    return min(value) if isinstance(value, tuple) else value


def _maybe(draw, key: str, strategy, chance: int = 6) -> tuple:
    """`((key, value),)` in `chance` draws out of ten, else `()` (the layer's default)."""
    return ((key, draw(strategy)),) if draw(st.integers(0, 9)) < chance else ()


def _long(draw) -> bool:
    return draw(st.integers(0, 4)) == 0


# ---- layers -----------------------------------------------------------------------------------


def conv(draw, rank: int) -> list[Layer]:
    opts = (("k", per_dim(draw, rank, 1, 5)),)
    if draw(st.integers(0, 9)) < 6:
        opts += (("s", per_dim(draw, rank, 1, 3)),)
    same = draw(st.integers(0, 9)) == 0
    opts += () if same else _maybe(draw, "p", st.integers(0, 2))
    opts += _maybe(draw, "d", st.integers(1, 2), 3)
    opts += _maybe(draw, "g", GROUPS, 2) + _maybe(draw, "pad", PAD, 1)
    flags = ("nobias",) * draw(st.booleans()) + ("same",) * same
    return [Layer("conv", (draw(st.integers(1, 8)),), opts, flags, long=_long(draw))]


def _widen(draw, factor: int) -> list[Layer]:
    """Now and then a `conv` to a multiple of `factor` channels first, so that the layer
    after it (`pixelshuffle`, `shuffle`, `groupnorm`) finds a count it divides."""
    if draw(st.integers(0, 9)) < 4:
        return []
    return [Layer("conv", (factor * draw(st.integers(1, 2)),), (("k", 1),))]


def convt(draw, rank: int) -> list[Layer]:
    stride = per_dim(draw, rank, 1, 3)
    dilation = pick(draw, [1, 1, 2])
    limit = max(_least(stride), dilation) - 1       # output_padding below max(s, d)
    padding = pick(draw, [limit, limit, limit + 1, 0, 1, 2])
    opts = (("k", per_dim(draw, rank, 1, 4)), ("s", stride))
    opts += _maybe(draw, "p", st.integers(0, 2)) + (("d", dilation),) * (dilation > 1)
    opts += _maybe(draw, "g", GROUPS, 2)
    opts += (("output_padding", padding),) if padding or draw(st.booleans()) else ()
    flags = ("nobias",) if draw(st.booleans()) else ()
    spelling = pick(draw, ["convt", "convt", "convT", "deconv"])
    return [Layer("convt", (draw(st.integers(1, 8)),), opts, flags, spelling, _long(draw))]


def pool(draw, rank: int) -> list[Layer]:
    word = pick(draw, ["maxpool", "avgpool"])
    opts = _maybe(draw, "s", st.integers(1, 3), 7) + _maybe(draw, "p", st.integers(0, 2), 7)
    if word == "maxpool":
        opts += _maybe(draw, "d", st.integers(1, 2), 2)
    flags = ("ceil",) if draw(st.booleans()) else ()
    if word == "avgpool" and draw(st.integers(0, 3)) == 0:
        flags += ("exclude_pad",)
    return [Layer(word, (draw(st.integers(1, 4)),), opts, flags)]


def adaptive(draw, rank: int) -> list[Layer]:
    word = pick(draw, ["adaptiveavgpool", "adaptiveavgpool", "adaptivemaxpool"])
    return [Layer(word, (per_dim(draw, rank, 1, 4),))]


def upsample(draw, rank: int) -> list[Layer]:
    mode = pick(draw, ["", "", "nearest", "linear", "linear", "cubic"])
    # `align` with an interpolating mode one time in three; with nearest (an error) rarely
    align = draw(st.integers(0, 2 if mode in ("linear", "cubic") else 14)) == 0
    flags = (mode,) * bool(mode) + ("align",) * align
    if draw(st.integers(0, 2)) == 0:
        size = per_dim(draw, rank, 1, 9)
        return [Layer("upsample", (), (("size", size),), flags)]
    return [Layer("upsample", (per_dim(draw, rank, 1, 3),), (), flags)]


def pixel(draw, rank: int) -> list[Layer]:
    word = pick(draw, ["pixelshuffle", "pixelunshuffle"])
    factor = pick(draw, [2, 2, 3, 1])
    before = _widen(draw, factor * factor) if word == "pixelshuffle" else []
    return before + [Layer(word, (factor,))]


def batchnorm(draw, rank: int) -> list[Layer]:
    opts = _maybe(draw, "eps", EPS, 3) + _maybe(draw, "momentum", MOMENTUM, 3)
    return [Layer("batchnorm", (), opts, spelling=pick(draw, ["batchnorm", "bn"]))]


def plain_batchnorm(draw, rank: int) -> list[Layer]:
    return [Layer("batchnorm")]


def norm(draw, rank: int) -> list[Layer]:
    word = pick(draw, ["layernorm", "groupnorm", "instancenorm", "batchnorm"])
    if word == "batchnorm":
        return batchnorm(draw, rank)
    if word == "instancenorm":
        return [Layer(word, flags=("affine",) if draw(st.booleans()) else ())]
    eps = _maybe(draw, "eps", EPS, 3)
    if word == "layernorm":
        return [Layer(word, (), eps, spelling=pick(draw, ["layernorm", "ln"]))]
    spelling = pick(draw, ["groupnorm", "gn"])
    groups = draw(st.integers(1, 4))
    return _widen(draw, groups) + [Layer(word, (groups,), eps, spelling=spelling)]


NEW_ACTIVATIONS = ["hardswish", "hardsigmoid", "mish", "selu", "softplus", "prelu", "swish"]
OLD_ACTIVATIONS = ["relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "elu", "leakyrelu",
                   "softmax", "logsoftmax", "identity"]


def activation(draw, rank: int) -> list[Layer]:
    word = pick(draw, NEW_ACTIVATIONS + OLD_ACTIVATIONS)
    if word == "swish":
        return [Layer("swish", spelling="swish")]
    if word in ("elu", "leakyrelu") and draw(st.booleans()):
        return [Layer(word, (pick(draw, [0.1, 0.5, 2.0]),))]
    return [Layer(word)]


def relu(draw, rank: int) -> list[Layer]:
    return [Layer("relu")]


def scale(draw, rank: int) -> list[Layer]:
    init = pick(draw, [None, 1e-06, 0.5, 2])
    return [Layer("scale", () if init is None else (init,))]


def droppath(draw, rank: int) -> list[Layer]:
    return [Layer("droppath", (pick(draw, [0, 0.1, 0.5]),))]


def dropout(draw, rank: int) -> list[Layer]:
    return [Layer("dropout", (pick(draw, [0.3, 0.3, 0, 0.5]),))]


def shuffle(draw, rank: int) -> list[Layer]:
    groups = draw(st.integers(1, 4))
    return _widen(draw, groups) + [Layer("shuffle", (groups,))]


def gap(draw, rank: int) -> list[Layer]:
    return [Layer("gap")]


def pad(draw, rank: int) -> list[Layer]:
    """`pad P [mode]`, or `pad before=S after=S` (language v3)."""
    flags = (pick(draw, ["", "", "reflect", "replicate", "circular"]),)
    flags = tuple(f for f in flags if f)
    if draw(st.booleans()):
        return [Layer("pad", (per_dim(draw, rank, 0, 3),), (), flags)]
    opts = _maybe(draw, "before", st.integers(0, 3), 5) + _maybe(draw, "after", st.integers(0, 3))
    return [Layer("pad", (), opts, flags)]


def reduce(draw, rank: int) -> list[Layer]:
    """Global max pooling, or a reduction over the channels (language v3)."""
    return [Layer(pick(draw, ["gmp", "channelmean", "channelmax"]))]


def flatten(draw, rank: int) -> list[Layer]:
    return [Layer("flatten")]


def fc(draw, rank: int) -> list[Layer]:
    flags = ("nobias",) if draw(st.integers(0, 3)) == 0 else ()
    spelling = pick(draw, ["fc", "fc", "linear"])
    return [Layer("fc", (draw(st.integers(1, 10)),), (), flags, spelling)]


def fc_unflatten(draw, rank: int) -> list[Layer]:
    """`fc N -> unflatten S`, N the element count of S (now and then one more)."""
    new_rank = pick(draw, [1, 2, 2, 3])
    shape = (draw(st.integers(1, 6)),) + tuple(draw(st.integers(1, 4 if new_rank < 3 else 3))
                                                for _ in range(new_rank))
    features = math.prod(shape) + (draw(st.integers(0, 9)) == 0)
    return [Layer("fc", (features,)), Layer("unflatten", (shape,))]


#: the layer makers, by name; a palette lists names, repeated to weigh them
MAKERS = {
    "conv": conv, "convt": convt, "pool": pool, "adaptive": adaptive, "upsample": upsample,
    "pixel": pixel, "norm": norm, "bn": batchnorm, "plain_bn": plain_batchnorm,
    "activation": activation, "relu": relu, "scale": scale, "droppath": droppath,
    "dropout": dropout, "shuffle": shuffle, "gap": gap, "flatten": flatten, "fc": fc,
    "fc_unflatten": fc_unflatten, "reduce": reduce, "pad": pad,
}

#: the first version's vocabulary: conv, pooling, bn, relu, dropout, gap, adaptive, fc
PLAIN = {"spatial": ["conv"] * 3 + ["pool", "plain_bn", "relu", "dropout", "gap", "adaptive"],
         "features": ["relu", "dropout", "plain_bn", "fc"]}

#: everything, issue 11's layers weighed up
MODERN = {"spatial": ["conv", "conv", "convt", "convt", "pool", "upsample", "upsample", "pixel",
                      "pixel", "norm", "norm", "activation", "activation", "scale", "droppath",
                      "shuffle", "gap", "adaptive", "flatten", "fc_unflatten", "dropout",
                      "reduce", "pad"],
          "features": ["fc", "fc", "norm", "norm", "activation", "activation", "scale",
                       "droppath", "fc_unflatten", "fc_unflatten", "dropout", "conv",
                       "upsample", "shuffle", "pixel"]}


def focused(*names: str) -> dict:
    """A palette where `names` come up half the time, among convolutions and norms."""
    spatial = list(names) * 4 + ["conv", "conv", "norm", "activation", "pool", "fc_unflatten"]
    return {"spatial": spatial, "features": ["fc", "fc_unflatten"] + list(names)}


# ---- chains -----------------------------------------------------------------------------------


def grow(layer: Layer, rank: int, bound: int) -> tuple[int, int]:
    """The rank (0 once flattened) and an upper bound of the largest spatial size after
    `layer`: only what it takes to keep examples small, not a shape inference."""
    word, arg = layer.word, (layer.args[0] if layer.args else None)
    if rank == 0 and word != "unflatten":
        return 0, 1
    opts = dict(layer.opts)
    if word in ("fc", "flatten"):
        return 0, 1
    if word == "unflatten":
        return len(arg) - 1, max(arg[1:])
    if word == "upsample":
        return rank, _most(opts["size"]) if "size" in opts else bound * _most(arg)
    if word == "convt":
        k, s = _most(opts["k"]), _most(opts["s"])
        return rank, bound * s + opts.get("d", 1) * k + 2
    if word == "pixelshuffle":
        return rank, bound * arg
    if word in ("conv", "maxpool", "avgpool"):
        return rank, bound + 2 * _most(opts.get("p", 0))
    return rank, bound


@st.composite
def chain_specs(draw, palette: dict, max_layers: int = 6, final_fc: bool = False):
    """`input CxN..` and a chain of up to `max_layers` drawn from `palette`."""
    rank = pick(draw, [1, 2, 2, 3])
    size = draw(st.one_of(st.integers(1, 3), st.integers(4, 16 if rank < 3 else 6)))
    shape = (draw(st.integers(1, 4)),) + (size,) * rank
    layers: list[Layer] = []
    now, bound = rank, size
    for _ in range(draw(st.integers(1, max_layers))):
        names = palette["spatial" if now else "features"]
        if now and bound * 2 > CAP[now]:
            names = [n for n in names if n not in GROWING] or ["relu"]
        for layer in MAKERS[pick(draw, names)](draw, now or rank):
            now, bound = grow(layer, now, bound)
            layers.append(layer)
    if final_fc and draw(st.booleans()):
        layers += fc(draw, rank)
    return Spec(inputs=(Input(shape),), body=Chain(tuple(layers)))
