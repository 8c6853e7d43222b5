"""A layer's arithmetic written out with its own numbers, as the course notes write it.

Pure functions of plain integers (`conv_params`, `receptive_field`, ...); a window's size
and its formula have their own home, `cnndsl.ir.windows`, which the checker, the symbolic
shapes and the query share. `cnndsl.backends.query` feeds them a layer's hyperparameters
and shapes; the formulas follow the same rules as the checker (`cnndsl/passes/sliding.py`,
`resizing.py`), and the test suite evaluates every formula it shows against the number the
checker computed.

Each function returns `(formula, value)`; `step()` joins them into the text
shown (`⌊(28 + 2·0 − 5)/1⌋ + 1 = 24`).
"""

from __future__ import annotations

import math
from fractions import Fraction

Formula = tuple[str, int]


def grouped(n: int) -> str:
    """`589824` -> `589,824`: results are read, operands are checked against the spec."""
    return f"{n:,}"


def step(topic: str, label: str, formula: Formula, note: str = "") -> dict:
    """One line of arithmetic as JSON-ready data."""
    text, value = formula
    shown = f"{text} = {grouped(value)}" if text != str(value) else str(value)
    return {"topic": topic, "label": label, "text": shown, "value": value, "note": note}


def product(factors: list[int] | tuple[int, ...]) -> Formula:
    """`6·5·5 = 150`; a single factor is itself."""
    return "·".join(str(f) for f in factors), math.prod(factors)


def total(terms: list[int]) -> Formula:
    """`16 + 24 + 24 + 24 = 88`."""
    return " + ".join(str(t) for t in terms) if terms else "0", sum(terms)


# ---- receptive field and jump (the sizes are `cnndsl.ir.windows`') ----------------

def receptive_field(rf: int, k: int, d: int, jump: int) -> Formula:
    """`r_out = r_in + d·(k − 1)·j_in`: how far back one output position sees."""
    window = f"({k} − 1)" if d == 1 else f"{d}·({k} − 1)"
    return f"{rf} + {window}·{jump}", rf + d * (k - 1) * jump


def jump(j: int, s: int) -> Formula:
    """`j_out = j_in·s`: the input distance between two neighbouring outputs."""
    return f"{j}·{s}", j * s


def adaptive_field(rf: int, n: int, o: int, j: int) -> Formula:
    """An adaptive pool's widest window is `⌈n/o⌉`: `r_in + (⌈n/o⌉ − 1)·j_in`."""
    return f"{rf} + (⌈{n}/{o}⌉ − 1)·{j}", rf + (-(-n // o) - 1) * j


def adaptive_jump(j: int, n: int, o: int) -> Formula:
    """As the checker counts it: `j_in·max(1, ⌊n/o⌋)`."""
    return f"{j}·max(1, ⌊{n}/{o}⌋)", j * max(1, n // o)


# ---- resizing -------------------------------------------------------------------

def upsampled(n: int, factor: int | float) -> int:
    """The size `nn.Upsample(scale_factor=factor)` gives along an axis of `n`.

    PyTorch multiplies in double precision and rounds down, so a decimal factor
    is not exact: `upsampled(45, 1.4)` is 62 (45·1.4 is 62.99999999999999 as a
    double), not 63. The checker, the playground and the symbolic shapes all ask here.
    """
    if isinstance(factor, int):
        return n * factor
    try:
        product = n * float(factor)
    except OverflowError:
        product = math.inf
    if math.isfinite(product):
        return math.floor(product)
    return math.floor(n * Fraction(factor))   # beyond a double, and any tensor: exact


def upsample_size(n: int, factor: int | float) -> Formula:
    """`⌊45·1.4⌋ = 62`: the size after upsampling, rounded down as PyTorch rounds."""
    if isinstance(factor, int):
        return f"{n}·{factor}", n * factor
    return f"⌊{n}·{factor}⌋", upsampled(n, factor)


# ---- parameters and multiply-adds -------------------------------------------------

def conv_params(kernel: tuple[int, ...], c_in: int, groups: int, out: int,
                bias: bool) -> Formula:
    """`(5·5·1 + 1)·6 = 156`: each output channel has a kernel over its group of
    input channels, and a bias."""
    per_group = c_in // groups
    channels = f"{per_group}" if groups == 1 else f"({c_in}/{groups})"
    weights = "·".join(str(k) for k in kernel) + f"·{channels}"
    value = (math.prod(kernel) * per_group + (1 if bias else 0)) * out
    return (f"({weights} + 1)·{out}" if bias else f"{weights}·{out}"), value


def linear_params(features: int, out: int, bias: bool) -> Formula:
    """`(400 + 1)·120 = 48,120`."""
    value = (features + (1 if bias else 0)) * out
    return (f"({features} + 1)·{out}" if bias else f"{features}·{out}"), value


def norm_params(channels: int) -> Formula:
    """Batch norm learns a scale and a shift per channel: `2·6 = 12`."""
    return f"2·{channels}", 2 * channels


def applied_macs(params: int, positions: tuple[int, ...]) -> Formula:
    """A convolution applies its weights (and bias) at every output position:
    `156·24·24 = 89,856`; the count is a result, so it is grouped (`36,864·56·56`)."""
    return "·".join([grouped(params), *map(str, positions)]), params * math.prod(positions)
