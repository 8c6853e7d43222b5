"""Language v3 (issue 20): expressions with comparisons, logic, conditionals, `/`, `%`
and functions; `if` items chosen where a block is used; `* 0`. PyTorch is the oracle:
compiled specs against hand-written twins, and torchvision's published figures."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import torch
from torch import nn
from twins.compare import assert_same_outputs, copy_in_order, perturb
from twins.compiled import build

import cnndsl
from cnndsl.backends.pytorch.build import compile_result
from cnndsl.front.parser import parse
from cnndsl.front.source import Source
from cnndsl.passes.declare import constants

SPECS = Path(__file__).resolve().parent.parent / "specs"


def value_of(expression: str):
    program, found = parse(Source(f"let v = {expression}\n"))
    assert not found, found
    diagnostics: list = []
    env = constants(program, diagnostics)
    assert not diagnostics, [d.message for d in diagnostics]
    return env["v"].value


def codes(text: str) -> list[str]:
    return [d.code for d in cnndsl.check(text).diagnostics if d.is_error]


def model_of(text: str, tmp_path: Path, name: str = "spec") -> tuple[nn.Module, int]:
    path = tmp_path / f"{name}.cnn"
    path.write_text(text)
    model, params, _ = build(path)
    return model.eval(), params


# ---- expressions --------------------------------------------------------------------------

@pytest.mark.parametrize("expression,expected", [
    ("7 % 3", 1),
    ("-7 % 3", 2),                    # Python's remainder: the sign of the divisor
    ("7.5 % 2", Fraction(3, 2)),
    ("7 / 2", Fraction(7, 2)),        # exact division
    ("64 / 2", 32),                   # a whole result is an integer
    ("64/2", 32),                     # `/2` is not read as a path
    ("1 + 2 * 3 - 8 // 3", 5),
    ("-(3 - 5)", 2),
    ("- 2 * 3", -6),
    ("min(3, 1, 2)", 1),
    ("max(1.5, 1)", Fraction(3, 2)),
    ("round(2.5)", 2),                # halves to even, as Python's
    ("round(3.5)", 4),
    ("floor(-0.5)", -1),
    ("ceil(0.2)", 1),
    ("divisible(37.5, 8)", 40),
    ("divisible(24 * 0.75, 8)", 24),  # 16 is below 0.9 * 18: one more step
    ("divisible(32 * 0.75, 8)", 24),
    ("2 if 3 > 2 and not 1 == 2 else 5", 2),
    ("2 if 1 > 2 else 3 if 2 >= 2 else 4", 3),
    ("1 if 1 != 1 or 2 <= 1 else 0", 0),
    ("10 if 1 < 2 else 1 // 0", 10),  # only the chosen value is computed
])
def test_expressions_evaluate_exactly(expression, expected):
    got = value_of(expression)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("text,code", [
    ("input 3x8x8\nconv (8 > 4) k3", "E0418"),           # a truth value as a layer argument
    ("input 3x8x8\nlet t = 2 > 1\nconv t k3", "E0418"),  # ... even through a constant
    ("input 3x8x8\nblock B(f) {\n  conv 8 k3 stride=f\n}\nB(1 > 0)", "E0418"),
    ("input 3x8x8\nlet t = 2 > 1\n(conv 8 k3) * t", "E0418"),
    ("input 3x8x8\nconv (1 < 2) + 8 k3", "E0418"),       # ... or in arithmetic
    ("input 3x8x8\nconv 8 if 4 else 2 k3", "E0419"),     # a number as a condition
    ("input 3x8x8\nconv 8 if not 3 else 2 k3", "E0419"),
    ("input 3x8x8\nconv 8 if 1 < 2 and 3 else 2 k3", "E0419"),
    ("input 3x8x8\nconv mean(8, 2) k3", "E0420"),        # an unknown function
    ("input 3x8x8\nconv round(8, 2) k3", "E0420"),       # the wrong number of arguments
    ("input 3x8x8\nconv divisible(8) k3", "E0420"),
    ("input 3x8x8\nconv divisible(8, 0) k3", "E0404"),
    ("input 3x8x8\nconv 8 % 0 k3", "E0406"),
    ("input 3x8x8\nconv 8 / 0 k3", "E0406"),
    ("input 3x8x8\nconv 9 / 2 k3", "E0402"),             # 4.5 channels
    ("input 3x8x8\nconv 8 k3 -> if 3 { relu }", "E0419"),
    ("input 3x8x8\nconv min(1x2, 3) k3", "E0402"),
])
def test_misused_values_are_located_errors(text, code):
    assert codes(text) == [code]


def test_constants_and_block_arguments_may_hold_truth_values_for_conditions():
    text = ("input 3x32x32\nlet deep = 3 > 2\n"
            "block Stage(c, first) {\n  conv c k3 p1 stride=2 if first else 1 -> relu\n"
            "  -> if deep and not first { conv c k1 }\n}\n"
            "Stage(8, first=1 == 1) -> Stage(8, first=2 == 1) -> gap -> fc 2\n")
    result = cnndsl.check(text)
    assert result.ok and not result.diagnostics
    assert result.network is not None and result.summary.output == (2,)
    params = (3 * 9 * 8 + 8) + (8 * 9 * 8 + 8) + (8 * 8 + 8) + (8 * 2 + 2)
    assert result.summary.params == params


def test_a_slash_glued_to_a_name_after_a_space_says_how_to_divide():
    (found,) = cnndsl.check("input 3x8x8\nlet d = 2\nconv 16 /d k1\n").diagnostics
    assert found.code == "E0001" and "`a / name`" in found.help


def test_a_slash_still_starts_a_path_in_train():
    result = cnndsl.check("input 3x8x8\nconv 8 k3 -> gap -> fc 2\n"
                          "train {\n  data folder /tmp/shapes\n}\n")
    assert not [d for d in result.diagnostics if d.is_error]


# ---- if, chosen per use --------------------------------------------------------------------

RESNET = """model Res
input 3x32x32

block Basic(c, s=1) {
  add(
    conv c k3 stride=s p1 nobias -> bn -> relu -> conv c k3 p1 nobias -> bn,
    if s > 1 or in != c { conv c k1 stride=s nobias -> bn }
  ) -> relu
}

conv 16 k3 p1 nobias -> bn -> relu
-> Basic(16) -> Basic(32, s=2) -> Basic(32) -> Basic(64, s=2)
-> gap -> fc 10
"""


class BasicTwin(nn.Module):
    def __init__(self, cin: int, c: int, s: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, s, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.down = None
        if s != 1 or cin != c:   # projection only where the shape changes
            self.down = nn.Sequential(nn.Conv2d(cin, c, 1, s, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.down is None else self.down(x)))


class ResTwin(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU())
        self.blocks = nn.Sequential(BasicTwin(16, 16, 1), BasicTwin(16, 32, 2),
                                    BasicTwin(32, 32, 1), BasicTwin(32, 64, 2))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


def test_resnet_basic_block_projects_only_where_the_shape_changes(tmp_path):
    model, params = model_of(RESNET, tmp_path)
    twin = ResTwin().eval()
    assert params == sum(p.numel() for p in twin.parameters()) == \
        sum(p.numel() for p in model.parameters())
    inputs = (torch.randn(2, 3, 32, 32),)
    perturb(twin)
    copy_in_order(twin, model, inputs)
    assert_same_outputs(model, twin, inputs)


def test_a_parameter_read_only_by_a_condition_is_used():
    assert cnndsl.check(RESNET).diagnostics == ()


def test_a_label_may_be_defined_in_either_branch():
    text = ("input 3x8x8\nblock B(c) {\n  if c > 4 { conv c k1 as x } else { conv 4 k1 as x }"
            " -> add(identity, @x)\n}\nB(8) -> B(2) -> gap -> fc 2\n")
    result = cnndsl.check(text)
    assert result.ok and not result.diagnostics


def test_block_classes_differ_where_the_chosen_branch_differs():
    code = compile_result(cnndsl.check(RESNET))
    assert "class Basic(nn.Module)" in code and "class Basic2(nn.Module)" in code
    assert "class Basic3" not in code      # the two uses of each shape share a class
    assert "self.basic1 = Basic(" in code and "self.basic2 = Basic2(" in code
    assert "self.basic3 = Basic(" in code and "self.basic4 = Basic2(" in code


def test_the_branch_not_chosen_need_not_be_valid():
    text = ("input 3x8x8\nblock B(c) {\n  if c > 100 { conv c k3 groups=7 } else { conv c k1 }\n}\n"
            "B(8) -> gap -> fc 2\n")
    result = cnndsl.check(text)
    assert result.ok and result.summary.params == 3 * 8 + 8 + 8 * 2 + 2


def test_else_if_and_a_missing_else():
    text = ("input 3x8x8\nblock B(k) {{\n  if k == 1 {{ relu }}\n  else if k == 2 {{ gelu }}\n"
            "  else {{ tanh }}\n  -> if k > 5 {{ conv 4 k1 }}\n}}\nB({k})\n")
    for k, layer in ((1, "nn.ReLU()"), (2, "nn.GELU()"), (3, "nn.Tanh()")):
        code = compile_result(cnndsl.check(text.format(k=k)))
        assert layer in code and "Conv2d" not in code


def test_if_reads_in_at_the_top_level():
    text = "input 3x8x8\nif in == 3 { conv 8 k1 } else { conv 4 k1 } -> gap -> fc 2\n"
    assert cnndsl.check(text).summary.params == (3 * 8 + 8) + (8 * 2 + 2)


# ---- * 0 ---------------------------------------------------------------------------------

def test_times_zero_is_the_identity():
    with_zero = cnndsl.check("input 3x8x8\nconv 8 k3 -> (conv 8 k3 p1 -> relu) * 0 -> gap "
                             "-> fc 2\n")
    without = cnndsl.check("input 3x8x8\nconv 8 k3 -> gap -> fc 2\n")
    assert with_zero.ok and with_zero.summary.params == without.summary.params


def test_a_stage_of_one_block_repeats_n_minus_one():
    text = ("input 3x8x8\nblock Stage(c, n) {\n  conv c k3 p1 -> (conv c k3 p1) * (n - 1)\n}\n"
            "Stage(4, 1) -> Stage(4, 3)\n")
    result = cnndsl.check(text)
    assert result.ok
    assert result.summary.params == (3 * 9 * 4 + 4) + 3 * (4 * 9 * 4 + 4)
    assert codes("input 3x8x8\n(conv 8 k3) * (1 - 2)") == ["E0407"]


# ---- MobileNetV2, width 0.75: torchvision's exact figure ------------------------------------

def make_divisible(v: float, d: int) -> int:
    """torchvision's `_make_divisible`, as published."""
    new = max(d, int(v + d / 2) // d * d)
    return new + d if new < 0.9 * v else new


class InvertedTwin(nn.Module):
    def __init__(self, cin: int, cout: int, s: int, t: int) -> None:
        super().__init__()
        hidden = int(round(cin * t))
        layers: list[nn.Module] = []
        if t != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [nn.Conv2d(hidden, hidden, 3, s, 1, groups=hidden, bias=False),
                   nn.BatchNorm2d(hidden), nn.ReLU6(),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = s == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2Twin(nn.Module):
    """torchvision.models.mobilenet_v2(width_mult=0.75), written out."""

    def __init__(self, width: float = 0.75) -> None:
        super().__init__()
        cin = make_divisible(32 * width, 8)
        layers: list[nn.Module] = [nn.Conv2d(3, cin, 3, 2, 1, bias=False), nn.BatchNorm2d(cin),
                                   nn.ReLU6()]
        for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                           (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
            cout = make_divisible(c * width, 8)
            for i in range(n):
                layers.append(InvertedTwin(cin, cout, s if i == 0 else 1, t))
                cin = cout
        last = make_divisible(1280 * max(1.0, width), 8)
        layers += [nn.Conv2d(cin, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, 1000))

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


def test_mobilenet_v2_075_with_divisible_reaches_torchvisions_figure():
    model, params, shape = build(SPECS / "mobilenet_v2_075.cnn")
    twin = MobileNetV2Twin().eval()
    assert params == 2_636_424 == sum(p.numel() for p in twin.parameters())
    assert shape == (3, 224, 224)
    inputs = (torch.randn(1, 3, 96, 96),)
    perturb(twin)
    copy_in_order(twin, model.eval(), inputs)
    assert_same_outputs(model, twin, inputs, tolerance=1e-4)


# ---- sizes as values ------------------------------------------------------------------------

@pytest.mark.parametrize("expression,expected", [
    ("1x7 // 2", (0, 3)),
    ("7x1 * 2 + 1", (15, 3)),
    ("2 * 3x5", (6, 10)),
    ("1x7 + 1x1", (2, 8)),
    ("-1x2", (-1, -2)),
    ("3x5 / 2", (Fraction(3, 2), Fraction(5, 2))),
    ("1 if 1x7 == 1x7 else 0", 1),
    ("1 if 1x7 != 7x1 else 0", 1),
])
def test_sizes_compute_per_dimension(expression, expected):
    assert value_of(expression) == expected


@pytest.mark.parametrize("text,code", [
    ("input 3x8x8\nconv 8 kernel=1x7 + 1x2x3", "E0402"),   # lengths differ
    ("input 3x8x8\nconv 8 kernel=3x5 / 2", "E0402"),       # 1.5x2.5 is not whole
    ("input 3x8x8\nblock B(c) {\n  conv c k3\n}\nB(2x2)", "E0402"),   # channels from a size
    ("input 3x8x8\nconv 8 k3 -> if 1x7 < 2x2 { relu }", "E0402"),
    ("input 3x8x8\n(conv 8 k3) * 2x2", "E0407"),
])
def test_sizes_misused_are_located_errors(text, code):
    assert codes(text) == [code]


INCEPTION = """input 3x17x17
block C(c, k=1x7, p=0x3) {
  conv c kernel=k padding=p nobias -> bn -> relu
}
block D(c, k) {
  conv c kernel=k padding=k//2 -> relu
}
C(8) -> C(8, k=7x1, p=3x0) -> D(8, 1x7) -> D(8, 7x1) -> D(8, 3) -> gap -> fc 2
"""


class InceptionTwin(nn.Module):
    """Inception-v3's factorised 1x7 / 7x1 convolutions, written out."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, (1, 7), padding=(0, 3), bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, (7, 1), padding=(3, 0), bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, (1, 7), padding=(0, 3)), nn.ReLU(),
            nn.Conv2d(8, 8, (7, 1), padding=(3, 0)), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.body(x).mean((2, 3)))


def test_sizes_as_block_arguments_match_inception_v3s_convolutions(tmp_path):
    model, params = model_of(INCEPTION, tmp_path)
    twin = InceptionTwin().eval()
    assert params == sum(p.numel() for p in twin.parameters())
    inputs = (torch.randn(2, 3, 17, 17),)
    perturb(twin)
    copy_in_order(twin, model, inputs)
    assert_same_outputs(model, twin, inputs)


# ---- allow ----------------------------------------------------------------------------------

DROPS_ROWS = "input 3x32x32\nconv 8 k3 s2{line}\n-> relu -> fc 10\n"   # W0101 on line 2


def warning_codes(text: str, allow: tuple[str, ...] = ()) -> list[str]:
    return [d.code for d in cnndsl.check(text, allow=allow).diagnostics]


def test_every_allow_form_silences_the_warning():
    assert warning_codes(DROPS_ROWS.format(line="")) == ["W0101"]
    assert warning_codes("allow W0101\n" + DROPS_ROWS.format(line="")) == []
    assert warning_codes("allow W0103, W0101\n" + DROPS_ROWS.format(line="")) == ["W0112"]
    assert warning_codes(DROPS_ROWS.format(line="   # allow W0101")) == []
    assert warning_codes(DROPS_ROWS.format(line=""), allow=("W0101",)) == []
    assert warning_codes(DROPS_ROWS.format(line=""), allow=("w0101",)) == []


def test_a_line_allow_covers_its_own_line_only():
    text = "input 3x32x32  # allow W0101\nconv 8 k3 s2\n-> relu -> fc 10\n"
    assert warning_codes(text) == ["W0112", "W0101"]
    assert warning_codes(DROPS_ROWS.format(line="   # allows W0101 here, a remark")) == ["W0101"]


def test_allowing_an_error_is_an_error_and_an_unknown_code_a_warning():
    assert codes("allow E0304\n" + DROPS_ROWS.format(line="")) == ["E0421"]
    assert warning_codes(DROPS_ROWS.format(line="   # allow W0101, W9999")) == ["W0111"]
    assert [d.code for d in cnndsl.check(DROPS_ROWS.format(line=""), allow=("E0201",))
            .diagnostics if d.is_error] == ["E0421"]
    assert warning_codes(DROPS_ROWS.format(line=""), allow=("nonsense",)) == ["W0111", "W0101"]


def test_check_allow_on_the_command_line(tmp_path, capsys):
    from cnndsl.cli import main

    spec = tmp_path / "net.cnn"
    spec.write_text(DROPS_ROWS.format(line=""))
    assert main(["check", "-q", str(spec)]) == 0
    assert "W0101" in capsys.readouterr().out
    assert main(["check", "-q", str(spec), "--allow", "W0101"]) == 0
    assert "W0101" not in capsys.readouterr().out
    assert main(["check", "-q", str(spec), "--allow", "E0101"]) == 1
    assert "E0421" in capsys.readouterr().out


@pytest.mark.parametrize("command,out", [("compile", "net.py"), ("diagram", "net.dot")])
def test_compile_and_diagram_take_allow(command, out, tmp_path, capsys):
    from cnndsl.cli import main

    spec = tmp_path / "net.cnn"
    spec.write_text(DROPS_ROWS.format(line=""))
    target = str(tmp_path / out)
    assert main([command, str(spec), "-o", target, "--allow", "W0101,W0103"]) == 0
    assert main([command, str(spec), "-o", target, "--allow", "E0101"]) == 1
    assert "E0421" in capsys.readouterr().err


def test_train_takes_the_allow_option():
    from cnndsl.cli import build_parser
    from cnndsl.cli.common import allowed_codes

    args = build_parser().parse_args(["train", "net.cnn", "--allow", "W0101,W0103",
                                      "--allow", "W0105"])
    assert allowed_codes(args) == ("W0101", "W0103", "W0105")
