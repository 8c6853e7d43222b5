"""The registry of diagnostic codes: one code per distinct error or warning,
each with a title and a paragraph of explanation (`cnndsl explain CODE`).

Every code the checker emits is listed here (a test scans the source for
codes and checks them against this registry, and the code table of docs/errors.md is
generated from it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    title: str
    explanation: str

    @property
    def severity(self) -> str:
        return "warning" if self.code.startswith("W") else "error"


def _codes(*entries: tuple[str, str, str]) -> dict[str, Code]:
    return {code: Code(code, title, " ".join(text.split())) for code, title, text in entries}


CODES = _codes(
    # ---- syntax
    ("E0001", "unexpected token", """
     The parser found a word or symbol where the language does not allow it. The message
     names what was found and what could stand there instead; the most common causes are a
     missing `->` between two layers, a stray parenthesis, or a size written with spaces
     (`3 x 32` instead of `3x32`)."""),
    ("E0002", "unexpected character", """
     A character that is no part of the language: `[`, `;`, `'`, a letter from another
     alphabet that looks like a Latin one. Sizes are written `3x32x32`, options `name=value`,
     and statements end at the end of the line."""),
    ("E0003", "unexpected end of file", """
     The file ends in the middle of something: a chain ending with `->`, a `(` or `{` that is
     never closed, a block without its body."""),
    ("E0004", "not a text file", """
     A spec is UTF-8 text. The file holds bytes that are not UTF-8, or NUL bytes (it is
     binary). Save it as UTF-8 text."""),
    ("E0005", "nested too deeply", """
     Parentheses nest more than 64 levels deep (or the spec nests too deeply to check). Name
     the inner part as a `block` and use it instead."""),
    ("E0006", "network too large", """
     Once repetition is unrolled the network would have more than 200,000 layers. No real
     network is that large; check the repetition counts (`relu * 1000000` is a typo)."""),
    ("E0010", "a PyTorch or Keras layer", """
     A layer written as PyTorch or Keras writes it (`nn.Conv2d(1, 8, 3, padding=1)`,
     `Dense(10, activation="relu")`). cnndsl writes layers as words with flags, and never
     writes input channels: they come from the shape flowing in. Where cnndsl has the same
     layer with the same settings, the help gives the exact translation (`conv 8 k3 p1`) and
     `cnndsl check --fix` writes it; otherwise the help names the cnndsl word and the note
     says what differs (Keras's `padding="same"` at stride 2 pads unevenly; `nn.Dropout2d`
     drops whole channels)."""),
    # ---- structure
    ("E0101", "no input", """
     Every spec declares one sample's shape with `input`: `input 3x32x32` (channels, then
     spatial sizes), `input 1x128` for 1-D signals, `input 784` for feature vectors."""),
    ("E0102", "declared twice", """
     `model` or `output` appears twice. A file describes one network: keep one."""),
    ("E0103", "no body", """
     The file has no network body: the one chain of layers that makes the network, e.g.
     `conv 6 k5 -> relu -> fc 10`."""),
    ("E0104", "second body chain", """
     A file holds exactly one body chain; a second chain starts on a line of its own. Join the
     chains with `->`, or start the continuation line with `->`."""),
    ("E0105", "`output` before the body", """
     `output` reads labels the body defines, so it comes after the body."""),
    ("E0106", "defined twice", """
     A constant, a block or a parameter of a block is defined twice. Names are defined once;
     keep one definition or rename the other."""),
    ("E0107", "unnamed input among several", """
     A network with several inputs names each one (`input image 3x64x64`, `input depth
     1x64x64`); the body starts from the first and reaches the others with `@name`."""),
    # ---- names
    ("E0201", "unknown layer or block", """
     A word that is neither a layer word of the language nor a block of this file (or, before
     `(`, neither a combinator such as `concat(` nor a block). The help suggests the closest
     known word. The layer words are listed below; with their options and the PyTorch modules
     they become, in the layer reference (docs/layers.md in cnndsl's repository)."""),
    ("E0202", "unknown name", """
     A name used as a value is neither a `let` constant nor a parameter of the enclosing
     block. Define it with `let name = ...`, or make it a block parameter."""),
    ("E0203", "recursive block", """
     A block uses itself, directly or through other blocks. Blocks are expanded where they
     are used, so a cycle would never end; repeat a block with `* N` instead."""),
    ("E0204", "block named like a layer", """
     Layer words (`conv`, `relu`, ...) are reserved; a block may not take one as its name."""),
    ("E0205", "unusable name", """
     A name the generated Python cannot use, or that the language reserves: a Python keyword
     or builtin, a name starting with `_`, a name the generated file uses itself (`x`,
     `torch`, `self`), a keyword of the language, a name that reads as a short flag (`k3`),
     a parameter named like a block, or a name over 80 characters."""),
    ("E0206", "block or layer used the other's way", """
     A block's arguments go in parentheses right after its name (`Double(32)`, no space
     before `(`); a layer's arguments follow it with spaces (`conv 16 k3`), never in
     parentheses."""),
    ("E0207", "short flag in arithmetic", """
     Short flags such as `k3` or `s2` take literal numbers only. To compute a value use the
     long form (`kernel=c*2`); to repeat a layer group it: `(conv 8 k3) * 2`."""),
    ("E0208", "unknown block parameter", """
     A block use names a parameter (`Stage(s=2)`) that the block does not declare. The note
     shows the block's signature."""),
    ("E0209", "too many block arguments", """
     A block use passes more positional arguments than the block has parameters."""),
    ("E0210", "missing block argument", """
     A block parameter without a default value is not given at a use of the block."""),
    ("E0211", "unknown label", """
     `@name` refers to no labelled item and no named input. Label an item with `as name` to
     use its output later as `@name`."""),
    ("E0212", "label defined twice", """
     Two items in one body carry the same label (or a label has an input's name). Labels are
     visible to the end of the body that defines them, so each must be unique there."""),
    ("E0213", "label used before its definition", """
     `@name` appears before the item labelled `name`: a chain can only reach tensors that have
     already been computed."""),
    ("E0214", "label out of reach", """
     A label made inside a branch of a merge or inside a repeated item stays there: each
     branch and each copy has its own. Label the merge or the repetition itself to use its
     output further on."""),
    ("E0215", "misplaced `@label`", """
     `@name` starts a chain: the first item of a merge's branch (`concat(@e1, identity)`) or
     of an `output` chain. It cannot stand in the middle of a chain, start a `split` branch
     (which runs on its share of the channels) or start a block's body; an `output` chain must
     start with one."""),
    ("E0216", "`in` without a value", """
     `in` is the channel count entering the block use (at the top level, the network
     input's). It has no value in a `let` constant or a parameter default."""),
    ("E0230", "`--set` names no constant", """
     `--set NAME=VALUE` (or a keyword of `cnndsl.build`) replaces the value of a `let`
     constant, and the spec has no `let` of that name. The help names the closest one."""),
    ("E0231", "`--input` names no input", """
     `--input NAME=SIZE` (or `input={NAME: size}` in `cnndsl.build`) names an input the spec
     does not declare, or `--input SIZE` has no name while the spec has several inputs:
     say which, `--input image=3x64x64`."""),
    ("E0232", "`--input` size of another rank", """
     The size given by `--input` has a different number of dimensions from the input it
     replaces. Give the whole shape, channels first, as `input` writes it: `--input 3x64x64`
     for `input 3x32x32` (`64x64` would be a 1-D signal of 64 channels)."""),
    # ---- shapes
    ("E0301", "window does not fit", """
     A convolution kernel or pooling window is larger than its (padded) input, so the output
     size ⌊(n + 2p − d·(k−1) − 1)/s⌋ + 1 would be below 1. Use a smaller kernel, pad, or
     remove a pooling step earlier on; the note shows the arithmetic and how the input got so
     small."""),
    ("E0302", "`concat` spatial sizes differ", """
     The branches of a `concat` (or the outputs of a `split`'s branches) are joined along the
     channels, so their spatial sizes must agree. Pad convolutions (`p1` for `k3`) and use the
     same strides in every branch."""),
    ("E0303", "`add` shapes differ", """
     The branches of an `add` (or a `residual`'s body and its input) are summed element by
     element, so their shapes must agree exactly. For a residual whose body changes the
     shape, project the skip path: `add(conv C k1 ..., <body>)`."""),
    ("E0304", "groups do not divide the channels", """
     A grouped convolution splits its input and output channels into equal groups, so the
     group count must divide both."""),
    ("E0305", "`same` padding with a stride", """
     `same` keeps the spatial size, which only a stride of 1 can do. With stride 2, pad by
     (k−1)/2 (`p1` for `k3`) to halve the size."""),
    ("E0306", "empty output", """
     A transposed convolution or an upsampling step would produce an output size below 1."""),
    ("E0307", "padding too large for its mode", """
     Reflect padding must be smaller than the input size, circular padding at most the input
     size (PyTorch's rule); `same` with an even kernel pads one side one more."""),
    ("E0308", "pooling padding too large", """
     PyTorch requires pooling padding of at most half the window: p ≤ ⌊k/2⌋."""),
    ("E0309", "needs spatial input", """
     A convolution, pooling or resizing layer runs after `fc` or `flatten` removed the
     spatial dimensions. Move it before the first `fc` or `flatten`."""),
    ("E0310", "too many spatial dimensions", """
     An input has at most three spatial dimensions: `CxL`, `CxHxW`, `CxDxHxW`."""),
    ("E0311", "size of the wrong rank", """
     A size given per dimension (`k3x5`) has a different number of dimensions than the input
     it applies to. Give one number, or one per spatial dimension."""),
    ("E0312", "3-D average pooling on a small input", """
     PyTorch's 3-D average pooling needs the input before padding to be at least the window in
     every dimension (2-D and max pooling allow padding to make up the difference)."""),
    ("E0313", "`mul` shapes do not fit", """
     The branches of a `mul` (or a `gate` and its input) are multiplied element by element,
     broadcasting as PyTorch does: in every dimension, channels included, each branch has the
     result's size or 1 (`C×1×1` after `gap`, `1×H×W` after `channelmean`)."""),
    ("E0314", "`split` does not divide the channels", """
     `split` gives each branch an equal share of the input's channels, so the number of
     branches must divide the channel count."""),
    ("E0315", "`output_padding` too large", """
     A transposed convolution's `output_padding` must be below its stride or its dilation
     (PyTorch's rule)."""),
    ("E0316", "groups do not divide the channels (group norm)", """
     `groupnorm G` normalises G equal groups of channels, so G must divide the channels."""),
    ("E0317", "pixel shuffle does not divide", """
     `pixelshuffle R` turns C·R² channels into C, so the channels must be a multiple of R²;
     `pixelunshuffle R` needs spatial sizes divisible by R."""),
    ("E0318", "`cubic` outside 2-D", """
     PyTorch's bicubic interpolation exists for 2-D inputs only; use `linear` (linear in 1-D,
     trilinear in 3-D) or `nearest`."""),
    ("E0319", "`unflatten` changes the element count", """
     `unflatten S` reshapes features into S, so the product of S must equal the feature
     count."""),
    ("E0320", "shuffle groups do not divide the channels", """
     `shuffle G` interleaves G equal groups of channels, so G must divide the channels."""),
    ("E0321", "wrong input rank for this layer", """
     The layer works on inputs of certain ranks only: `pixelshuffle` on 2-D inputs,
     instance norm and channel shuffle on spatial inputs."""),
    ("E0322", "`unflatten` on spatial input", """
     `unflatten` takes features (after `fc` or `flatten`) and gives them a shape."""),
    ("E0323", "`align` without interpolation", """
     `align` (PyTorch's `align_corners`) only changes `linear` and `cubic` interpolation;
     with `nearest` PyTorch refuses it."""),
    ("E0324", "instance norm over one position", """
     Instance norm normalises each channel of each sample over its positions; with a
     single position (a 1x1 input) there is nothing to normalise, and PyTorch refuses."""),
    ("E0325", "output too large for PyTorch", """
     A layer's output would hold more values than a PyTorch tensor can count (2^63 − 1,
     its 64-bit limit): an upsampling or transposed convolution by a huge factor, or
     several in a row. No machine could hold it; the checker stops there."""),
    # ---- arguments
    ("E0401", "missing argument", """
     A layer needs an argument that is not given: a convolution its output channels and
     kernel (`conv 16 k3`), a pooling its window (`maxpool 2`), `fc` its size."""),
    ("E0402", "wrong kind of value", """
     A value of the wrong kind: a decimal where a whole number is needed, a size (`3x3`) where
     one number is, a size in arithmetic, `//` on decimals, a size as a block argument."""),
    ("E0403", "unknown option", """
     `name=value` names an option the layer does not have (the note lists its options); short
     flags are written without `=` (`k3`, not `k=3`)."""),
    ("E0404", "value out of range", """
     A value outside what the layer accepts: channels and sizes at least 1 (and at most
     2,147,483,647), padding at least 0, a probability in [0, 1), an input dimension of 0."""),
    ("E0405", "given twice", """
     The same argument is given twice (`s1 s2`, `same p1`, `nobias nobias`, a block parameter
     by position and by name). Keep one."""),
    ("E0406", "division by zero", """
     An expression divides by zero: `c // 0`, or a block argument or constant that is 0
     where it divides. Check the values passed to the block."""),
    ("E0407", "bad repetition count", """
     `item * N` needs a whole number N of at least 0 (`* 0` is the identity)."""),
    ("E0408", "value too large", """
     A number or the result of arithmetic is far beyond any size a network could have (more
     than 15 digits, or beyond 2^40 in magnitude). The checker refuses it rather than compute
     with it."""),
    ("E0409", "too many arguments", """
     More positional arguments than the layer takes. To repeat a layer whose last argument is
     a number, group it: `(fc 64) * 2`."""),
    ("E0410", "wrong number of branches", """
     `concat`, `add`, `mul` and `split` need at least two branches; `residual` and `gate` take
     exactly one chain."""),
    ("E0411", "unknown short flag", """
     A short flag (`g2`) the layer does not have. The note lists the layer's flags."""),
    ("E0412", "layer word as an argument", """
     A layer word stands where an argument is expected: probably a missing `->` between two
     layers (`conv 6 k5 relu`)."""),
    ("E0413", "unknown argument", """
     A word after a layer that is none of its switches (`nobias`, `ceil`, ...), flags or
     constants."""),
    ("E0414", "unknown choice", """
     An option that takes one of a few words (`pad=reflect`) was given another word."""),
    ("E0415", "number too large to represent", """
     A decimal beyond the largest floating-point number (about 1.8e308), which would become
     infinity."""),
    ("E0416", "value too precise", """
     Arithmetic is exact, with decimals kept as fractions; a result finer than 60 decimal
     places (`1e-40 * 1e-40`) is refused rather than carried through every later step.
     Round the numbers it is made of."""),
    ("E0417", "generated code too large", """
     `compile` writes block classes whose channel counts are formulas of the block's
     parameters; a formula of more than 400 terms, or a file of more than 64 MiB, is refused
     rather than written. Split the block, or use blocks for repeated parts."""),
    ("E0418", "truth value as a number", """
     A comparison (`s > 1`), `and`, `or` or `not` gives true or false: a condition, for
     `if COND { ... }` and `A if COND else B` (a constant or a block argument may hold one for
     them: `let deep = depth > 50`, `Stage(64, first=i == 0)`). It is not a number, so it
     cannot be a layer argument, a count or part of arithmetic: write `2 if s > 1 else 1`
     for a number chosen by a condition."""),
    ("E0419", "condition is not true or false", """
     The condition of `if` or of `A if COND else B`, and each side of `and`, `or`, `not`,
     must be true or false: compare the number (`s > 1`, `in != c`, `n % 2 == 0`)."""),
    ("E0420", "unknown function or wrong arguments", """
     The functions of expressions are `min(a, b, ...)`, `max(a, b, ...)`, `round(x)`,
     `floor(x)`, `ceil(x)` and `divisible(v, d)`; each takes numbers, as many as shown."""),
    ("E0421", "an error cannot be allowed", """
     `allow` (in the file, at the end of a line, or `--allow` on the command line) silences
     warnings only. An error means the spec is not a network; fix what it reports."""),
    ("E0422", "`pad` written wrongly", """
     `pad P` pads both sides of each spatial dimension by P (one number, or one per dimension
     joined by `x`); `pad before=S after=S` pads one side or each differently (`pad after=1x1`
     pads the bottom and the right). Give one form, not both; `value=V` fills a constant pad
     and goes with no `reflect`, `replicate` or `circular`."""),
    ("E0423", "`reflect` or `circular` padding larger than the input", """
     PyTorch's rules: `reflect` padding must be below the input's size in that dimension (the
     edge is not repeated), and `circular` padding at most the size (it wraps around once).
     `replicate` and zero padding have no limit."""),
    ("E0425", "module name given twice", """
     A label names the module it labels in the generated class (`conv 64 k7 as conv1` is
     `self.conv1`), and a labelled group or repetition is an `nn.Sequential` whose modules
     are numbered from 0 (`layer1.0`, `layer1.1`) unless labelled themselves. A label inside
     a repeated item names one module per copy, so the name is given twice: leave the
     repeated item unlabelled and label the repetition (`(Basic(64) * 2) as layer1`)."""),
    ("E0426", "label cannot name a module", """
     A label on a layer, block use, group or repetition becomes that module's attribute
     name, and `nn.Module` and `nn.Sequential` already have attributes of some names
     (`forward`, `training`, `parameters`, `append`, ...): a module of that name would hide
     them or be hidden. Choose another label."""),
    ("E0427", "`like=@NAME` misplaced or of another rank", """
     A label is a value in one place only: `upsample like=@NAME` resizes its input to the
     spatial size of the labelled tensor (or named input), read at run time. The label must
     be a spatial tensor of the input's rank (taken before any `fc` or `flatten`); no other
     layer and no other option takes `@NAME`."""),
    # ---- assertions
    ("E0501", "assertion failed", """
     An `assert` in the spec does not hold for the network as checked; the label shows the
     measured figure."""),
    ("E0502", "unknown metric", """
     `assert` takes one of: params, trainable_params, macs, output, layers."""),
    ("E0503", "comparison of the wrong kind", """
     `output` is a shape, compared with `==` or `!=` against a size; the other metrics are
     numbers, compared against numbers."""),
    # ---- training section
    ("E0601", "unknown training setting", """
     The `train { }` section holds defaults for `cnndsl train` (data, epochs, batch,
     optimizer, lr, loss, schedule, augment, and those docs/training.md lists); another key
     is a mistake. The help suggests the closest setting."""),
    ("E0602", "bad training value", """
     A value in the `train { }` section that `cnndsl train` cannot use: an unknown dataset,
     optimizer, option or loss, a number that is not positive, a wrong number of values."""),
    ("E0603", "training value out of range", """
     A number in `train { }` is not finite, or outside what its meaning allows: `lr nan`,
     `epochs 0`, `optimizer adam beta1=2`, `val 1.5`. The message gives the range and whether
     each end is included; `cnndsl train` refuses the same values as flags."""),
    ("E0604", "training settings that contradict each other", """
     Each value is valid alone, but the pair is refused: `nesterov=1` without momentum above
     0, or with `dampening` (PyTorch's SGD refuses both), or `smoothing` with a loss other
     than cross-entropy (only cross-entropy smooths its labels). The help says what to add
     or drop."""),
    # ---- warnings
    ("W0101", "stride drops rows", """
     The floor in ⌊(n + 2p − k)/s⌋ + 1 means the last rows or columns of the input are never
     read by any window. Pad, change the input size, or (pooling) add `ceil`."""),
    ("W0102", "`softmax` before cross-entropy", """
     Cross-entropy applies log-softmax itself; a softmax in front of it saturates the loss
     and slows training. `cnndsl train` leaves the softmax out while training."""),
    ("W0103", "one `fc` holds most parameters", """
     A fully connected layer on a large flattened feature map holds most of the network's
     parameters (in a network of over 100k). Pooling first (`gap`) cuts its size."""),
    ("W0104", "unused block", """
     A block is defined but never used in the body or in another block that is used. Use
     it, or remove it."""),
    ("W0105", "unused block parameter", """
     A block parameter is never used in the block's body. Short flags take only literal
     numbers, so pass a parameter with the long form: `stride=s`."""),
    ("W0106", "unused constant", """
     A `let` constant is never used by any layer, block argument or repetition count. Use
     it, or remove it."""),
    ("W0107", "unused label or input", """
     A label (or a named input) is never reached with `@name`: its tensor is computed but
     nothing reads it by name. Use it, or remove the label."""),
    ("W0110", "input looks channels-last", """
     The input is written as Keras and NumPy write an image, channels last (`input 28x28x1`,
     `input 32x32x3`), or without its channel (`input 28x28`). PyTorch, and so cnndsl, reads
     the first number as the channels: `28x28x1` is 28 channels of 28x1. Such an input may
     even check (`32x32x3` is 32 channels of 32x3), but it is not the network meant: write
     the channels first, `input 1x28x28`, `input 3x32x32`."""),
    ("W0111", "unknown code in `allow`", """
     `allow` names a code that cnndsl does not have (a typo, or a code of another tool). It
     silences nothing; `cnndsl explain CODE` says what a code means."""),
    ("W0112", "`allow` silences nothing", """
     A warning named in `allow W0101` (the file) or `# allow W0101` (the end of a line) does
     not occur there any more. Remove the `allow`, so it does not hide a later warning."""),
)


def explain(code: str) -> str | None:
    """The explanation of a code, as `cnndsl explain` prints it, or None."""
    entry = CODES.get(code.upper())
    if entry is None:
        return None
    import textwrap

    body = textwrap.fill(entry.explanation, 79)
    if entry.code == "E0201":  # the words themselves, from the layer registry
        from cnndsl.ir.layers import layer_words

        body += "\n\n" + textwrap.fill("Layer words: " + ", ".join(layer_words()) + ".", 79)
    return f"{entry.code}: {entry.title} ({entry.severity})\n\n{body}"


def table() -> str:
    """The table of codes in docs/errors.md, one row per code."""
    rows = ["| code | meaning |", "| --- | --- |"]
    rows += [f"| {c.code} | {c.title} |" for c in CODES.values()]
    return "\n".join(rows)
