"""The habits newcomers bring from PyTorch and Keras, each answered in the
language's words (issue 18, part 4), and lists that continue after a comma."""

from __future__ import annotations

import pytest

import cnndsl


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


# ---- lists that continue after a comma ---------------------------------------------------

def test_an_output_list_continues_on_the_next_line_after_a_comma():
    result = cnndsl.check("input 1x28x28\nconv 8 k3 as a -> fc 10 as b\n"
                          "output @a,\n       @b -> relu\n")
    assert result.ok, codes(result)
    assert len(result.network.outputs) == 2


def test_a_comment_after_the_comma_does_not_end_the_list():
    result = cnndsl.check("input 1x28x28\nconv 8 k3 as a -> fc 10 as b\n"
                          "output @a,   # the features\n\n  @b\n")
    assert result.ok, codes(result)
    assert len(result.network.outputs) == 2


def test_a_trailing_comma_still_ends_the_list_at_the_end_of_the_file():
    result = cnndsl.check("input 1x28x28\nconv 8 k3 as a -> fc 10 as b\noutput @a, @b,\n")
    assert result.ok, codes(result)


def test_a_list_without_a_trailing_comma_still_ends_at_the_newline():
    result = cnndsl.check("input 1x28x28\nconv 8 k3 as a -> fc 10 as b\noutput @a, @b\n"
                          "assert params < 100k\n")
    assert result.ok, codes(result)


# ---- an error inside a block names the use that caused it --------------------------------

RES = """input 16x28x28
block Res(c) {
    residual(conv c k3 p1 -> relu -> conv c k3 p1) -> relu
}
conv 16 k3 p1 -> maxpool 2 -> Res(16) -> Res(32) -> fc 10
"""


def test_an_error_in_a_block_body_points_at_the_use_with_its_arguments_and_input():
    (error,) = cnndsl.check(RES).errors
    assert error.span.line == 3
    (use,) = [label for label in error.secondary if label.span.line == 5]
    assert use.text == "used here with c = 32, on 16x14x14"
    assert RES.splitlines()[4][use.span.column - 1:].startswith("Res(32)")


def test_a_residual_names_its_skip_path_and_body_not_branch_numbers():
    (error,) = cnndsl.check(RES).errors
    assert error.notes == ("the input (the skip path): 16x14x14", "the body: 32x14x14")


def test_nested_block_uses_are_each_named():
    spec = ("input 16x8x8\nblock Inner(c) { residual(conv c k3 p1) }\n"
            "block Outer(w) { Inner(w) }\nOuter(16) -> Outer(8)\n")
    (error,) = cnndsl.check(spec).errors
    texts = sorted(label.text for label in error.secondary)
    assert "used here with c = 8, on 16x8x8" in texts
    assert "used here with w = 8, on 16x8x8" in texts


def test_an_error_in_the_arguments_of_a_use_gets_no_use_label():
    spec = "input 16x8x8\nblock B(c) { conv c k3 }\nB(zz)\n"
    (error,) = cnndsl.check(spec).errors
    assert error.code == "E0202"
    assert not any(label.text.startswith("used here") for label in error.secondary)


def test_an_error_that_does_not_depend_on_the_use_is_not_labelled_with_it():
    result = cnndsl.check("input 16x8x8\nblock B(c) { conv c k3 p1 -> rleu }\nB(8) -> B(16)\n")
    (error,) = result.errors
    assert error.code == "E0201" and error.secondary == ()


# ---- cnndsl.build(spec, name=value) speaks of the user's file and value ------------------

def test_build_with_a_bad_constant_names_the_file_and_the_value(tmp_path):
    import pytest

    from cnndsl.backends.pytorch.build import SpecError

    spec = tmp_path / "digits.cnn"
    spec.write_text("let classes = 10\ninput 1x8x8\nconv 4 k3 -> fc classes\n")
    with pytest.raises(SpecError) as caught:
        cnndsl.build(spec, classes=-3)
    text = str(caught.value)
    assert "<string>" not in text and "unexpected" not in text
    assert text.startswith(f"{spec} (with classes=-3) has errors:")
    assert "digits.cnn:3:" in text and "got -3" in text


# ---- small things a newcomer trips on ----------------------------------------------------

def test_a_released_run_folder_keeps_no_lock_file(tmp_path):
    from cnndsl.train.folder import RunFolder

    folder = RunFolder(tmp_path, False)
    folder.lock()
    assert [p.name for p in tmp_path.iterdir()] == [".lock"]
    folder.release()
    assert list(tmp_path.iterdir()) == []
    again = RunFolder(tmp_path, False)
    again.lock()            # and the folder can be locked again
    again.release()


def test_a_lock_taken_on_a_removed_lock_file_is_taken_again_on_the_new_one(tmp_path):
    import fcntl
    import os

    from cnndsl.train.folder import RunFolder

    first = RunFolder(tmp_path, False)
    first.lock()
    stale = os.open(tmp_path / ".lock", os.O_RDWR)   # opened before the first run ends
    first.release()
    second = RunFolder(tmp_path, False)
    second.lock()
    try:
        fcntl.flock(stale, fcntl.LOCK_EX | fcntl.LOCK_NB)   # the old file is free, but
        assert os.fstat(stale).st_ino != os.stat(tmp_path / ".lock").st_ino   # not the lock
        third = RunFolder(tmp_path, False)
        import pytest

        from cnndsl.train.folder import FolderError
        with pytest.raises(FolderError, match="in use"):
            third.lock()
    finally:
        os.close(stale)
        second.release()


def test_a_missing_data_folder_is_named_once(tmp_path):
    from types import SimpleNamespace

    import pytest

    from cnndsl.train import data

    settings = SimpleNamespace(data="folder", data_dir=str(tmp_path / "x"), workers=0)
    facts = SimpleNamespace(input=(1, 8, 8))
    with pytest.raises(data.DataError) as caught:
        data._stream_data(settings, facts, None, "cpu", 0, 1, None)
    assert str(caught.value).startswith("folder `")
    assert "folder folder" not in str(caught.value)


def test_progress_has_help_text():
    import argparse

    from cnndsl.train.options import add_train_arguments

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    (action,) = [a for a in parser._actions if "--progress" in a.option_strings]
    assert action.help and "bar" in action.help


# ---- PyTorch and Keras layers, pasted ----------------------------------------------------

def pasted(spec: str):
    result = cnndsl.check(spec)
    found = [d for d in result.diagnostics if d.code == "E0010"]
    assert found, codes(result)
    return found


def known(text: str) -> str | None:
    """`text`, when every layer word in it is in this version's registry."""
    from cnndsl.ir.layers import canonical

    return text if all(canonical(s.split()[0]) for s in text.split("->")) else None


def translation(call: str) -> str | None:
    """The exact cnndsl text offered for a call pasted as a whole chain."""
    (diagnostic,) = pasted(f"input 4x16x16\n{call}\n")
    if not diagnostic.fixes:
        return None
    (fix,) = diagnostic.fixes
    assert diagnostic.help == f"in cnndsl: `{fix.replacement}`"
    return fix.replacement


#: (a PyTorch call on 4x16x16, its translation): PyTorch is the oracle below
TORCH = [
    ("nn.Conv2d(4, 8, 3)", "conv 8 k3"),
    ("nn.Conv2d(4, 8, 3, padding=1)", "conv 8 k3 p1"),
    ("Conv2d(4, 8, kernel_size=(3, 5), stride=2, padding=(1, 2), bias=False)",
     "conv 8 k3x5 s2 p1x2 nobias"),
    ("torch.nn.Conv2d(4, 8, 3, 1, 2, 2, 2)", "conv 8 k3 p2 d2 g2"),
    ("nn.Conv2d(in_channels=4, out_channels=8, kernel_size=3, padding='same')", "conv 8 k3 same"),
    ("nn.Conv2d(4, 8, 3, padding=1, padding_mode='reflect')", "conv 8 k3 p1 pad=reflect"),
    ("nn.ConvTranspose2d(4, 8, 2, stride=2)", "convt 8 k2 s2"),
    ("nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1, bias=False)",
     "convt 8 k3 s2 p1 nobias output_padding=1"),
    ("nn.MaxPool2d(2)", "maxpool 2"),
    ("nn.MaxPool2d(2, 2)", "maxpool 2"),
    ("nn.MaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True)", "maxpool 3 s2 p1 ceil"),
    ("nn.AvgPool2d(3, stride=1, padding=1)", "avgpool 3 s1 p1"),
    ("nn.AdaptiveAvgPool2d(1)", "gap"),
    ("nn.AdaptiveAvgPool2d((1, 1))", "gap"),
    ("nn.AdaptiveAvgPool2d((7, 7))", "adaptiveavgpool 7"),
    ("nn.AdaptiveMaxPool2d(1)", "gmp" if known("gmp") else "adaptivemaxpool 1"),
    ("nn.BatchNorm2d(4)", "batchnorm"),
    ("nn.BatchNorm2d(4, eps=1e-3, momentum=0.01)", "batchnorm eps=1e-3 momentum=0.01"),
    ("nn.Dropout()", "dropout 0.5"),
    ("nn.Dropout(p=0.2)", "dropout 0.2"),
    ("nn.Flatten()", "flatten"),
    ("nn.Linear(1024, 10)", "fc 10"),
    ("nn.Linear(1024, 10, bias=False)", "fc 10 nobias"),
    ("nn.ReLU(inplace=True)", "relu"),
    ("nn.ReLU6()", "relu6"),
    ("nn.Sigmoid()", "sigmoid"),
    ("nn.Tanh()", "tanh"),
    ("nn.GELU()", "gelu"),
    ("nn.SiLU()", "silu"),
    ("nn.LeakyReLU(0.2)", "leakyrelu 0.2"),
    ("nn.LeakyReLU()", "leakyrelu"),
    ("nn.ELU(alpha=0.5)", "elu 0.5"),
    ("nn.Softmax(dim=1)", "softmax"),
    ("nn.LogSoftmax(dim=1)", "logsoftmax"),
    ("nn.Identity()", "identity"),
    ("nn.GroupNorm(2, 4)", "groupnorm 2"),
    ("nn.InstanceNorm2d(4, affine=True)", "instancenorm affine"),
    ("nn.Upsample(scale_factor=2)", "upsample 2"),
    ("nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)",
     "upsample 2 linear align"),
    ("nn.PixelShuffle(2)", "pixelshuffle 2"),
    ("nn.ZeroPad2d(1)", "pad 1"),
    ("nn.ZeroPad2d((0, 1, 0, 1))", "pad after=1x1"),
    ("nn.ZeroPad2d((2, 1, 3, 0))", "pad before=3x2 after=0x1"),
    ("nn.ZeroPad2d((1, 1, 2, 2))", "pad 2x1"),
]


@pytest.mark.parametrize(("call", "expected"), TORCH, ids=[c for c, _ in TORCH])
def test_a_pasted_pytorch_call_gets_its_exact_translation(call, expected):
    assert translation(call) == known(expected)


@pytest.mark.parametrize(("call", "expected"), TORCH, ids=[c for c, _ in TORCH])
def test_the_translation_is_what_pytorch_computes(call, expected):
    torch = pytest.importorskip("torch")
    if known(expected) is None:
        pytest.skip(f"this version has no `{expected.split()[0]}`")

    theirs = eval(call.removeprefix("torch."), {"nn": torch.nn, "Conv2d": torch.nn.Conv2d})
    if "Linear" in call:     # cnndsl's `fc` flattens its input first
        theirs = torch.nn.Sequential(torch.nn.Flatten(), theirs)
    ours = cnndsl.build(f"input 4x16x16\n{expected}\n")
    x = torch.randn(2, 4, 16, 16)
    theirs.eval()
    ours.eval()
    assert ours(x).shape == theirs(x).shape
    count = sum(p.numel() for p in theirs.parameters())
    assert sum(p.numel() for p in ours.parameters()) == count
    if count:   # the same weights give the same output
        with torch.no_grad():
            for mine, given in zip(ours.parameters(), theirs.parameters()):
                mine.copy_(given)
            for mine, given in zip(ours.buffers(), theirs.buffers()):
                mine.copy_(given)
            torch.testing.assert_close(ours(x), theirs(x))


KERAS = [
    ("Conv2D(8, 3)", "conv 8 k3"),
    ("Conv2D(8, (3, 3), activation='relu')", "conv 8 k3 -> relu"),
    ("layers.Conv2D(filters=8, kernel_size=3, padding='same', use_bias=False)",
     "conv 8 k3 same nobias"),
    ("keras.layers.Conv2D(8, 3, strides=2)", "conv 8 k3 s2"),
    ("Conv2D(8, 3, dilation_rate=2, groups=2)", "conv 8 k3 d2 g2"),
    ("MaxPooling2D()", "maxpool 2"),
    ("MaxPooling2D(pool_size=(3, 3), strides=2)", "maxpool 3 s2"),
    ("AveragePooling2D(2)", "avgpool 2"),
    ("GlobalAveragePooling2D()", "gap -> flatten"),
    ("Dense(10)", "fc 10"),
    ("Dense(10, activation=\"softmax\")", "fc 10 -> softmax"),
    ("BatchNormalization()", "batchnorm eps=0.001 momentum=0.01"),
    ("BatchNormalization(momentum=0.9, epsilon=1e-5)", "batchnorm"),
    ("layers.Dropout(0.25)", "dropout 0.25"),
    ("Activation('relu')", "relu"),
    ("Activation('swish')", "silu"),
    ("UpSampling2D(size=(2, 2))", "upsample 2"),
    ("Conv2DTranspose(8, 2, strides=2)", "convt 8 k2 s2"),
    ("tf.keras.layers.ZeroPadding2D(padding=1)", "pad 1"),
]


@pytest.mark.parametrize(("call", "expected"), KERAS, ids=[c for c, _ in KERAS])
def test_a_pasted_keras_call_gets_its_exact_translation(call, expected):
    assert translation(call) == known(expected)


NAMED_ONLY = [
    ("nn.Dropout2d(0.5)", "dropout", "whole channels"),
    ("Conv2D(8, 3, strides=2, padding='same')", "conv", "unevenly"),
    ("MaxPooling2D(2, padding='same')", "maxpool", "unevenly"),
    ("nn.Softmax()", "softmax", "dim=1"),
    ("nn.MaxPool2d(2, return_indices=True)", "maxpool", "indices"),
    ("nn.Conv2d(4, 8, 3, device=dev, frobnicate=2)", "conv", "frobnicate"),
    ("nn.BatchNorm2d(4, affine=False)", "batchnorm", "affine"),
    ("nn.LayerNorm(64)", "layernorm", "channels at each position"),
    ("Activation('hard_silu')", "activation", "hard_silu"),
    ("nn.Conv2d(4, out, 3)", "conv", ""),
    ("nn.Sequential(nn.ReLU())", "->", "->"),
]


@pytest.mark.parametrize(("call", "word", "reason"), NAMED_ONLY, ids=[c for c, *_ in NAMED_ONLY])
def test_a_call_without_an_exact_translation_is_named_without_a_fix(call, word, reason):
    (diagnostic,) = pasted(f"input 4x16x16\n{call}\n")
    assert diagnostic.fixes == ()
    assert f"`{word}`" in diagnostic.help or word in diagnostic.help
    assert reason in " ".join(diagnostic.notes) + diagnostic.help


def test_a_name_both_libraries_use_with_different_defaults_is_not_guessed():
    (diagnostic,) = pasted("input 4x16x16\nLeakyReLU()\n")
    assert diagnostic.fixes == ()
    assert "`leakyrelu`" in " ".join(diagnostic.notes) and "`leakyrelu 0.3`" in \
        " ".join(diagnostic.notes)
    (prefixed,) = pasted("input 4x16x16\nnn.LeakyReLU()\n")
    assert prefixed.fixes[0].replacement == "leakyrelu"


def test_every_pasted_call_in_the_file_is_reported_at_once_and_fix_makes_it_check():
    from cnndsl.diagnostics.fix import plan

    spec = ("input 1x28x28\nnn.Conv2d(1, 8, 3, padding=1) -> nn.ReLU() -> nn.MaxPool2d(2)\n"
            "-> nn.Flatten() -> nn.Linear(8 * 14 * 14, 10)\n")
    found = pasted(spec)
    assert len(found) == 5
    fixed = plan(found).apply(spec)
    assert fixed == "input 1x28x28\nconv 8 k3 p1 -> relu -> maxpool 2\n-> flatten -> fc 10\n"
    assert cnndsl.check(fixed).ok


def test_a_translation_keeps_its_meaning_before_a_repetition():
    spec = "input 4x16x16\nDense(10) * 2 -> Dense(10, activation='relu') as out\n"
    first, second = pasted(spec)
    assert first.fixes[0].replacement == "(fc 10)"
    assert second.fixes[0].replacement == "(fc 10 -> relu)"


def test_a_keras_input_shape_is_named_as_the_input_declaration():
    (diagnostic,) = pasted("input 1x28x28\nConv2D(8, 3, input_shape=(28, 28, 1))\n")
    assert diagnostic.fixes[0].replacement == "conv 8 k3"
    assert any("`input 1x28x28`" in n for n in diagnostic.notes)


def test_a_users_block_of_that_name_is_not_a_habit():
    result = cnndsl.check("input 4x16x16\nblock Dense(n) { fc n }\nDense(10)\n")
    assert result.ok, codes(result)


def test_a_pasted_call_is_read_within_bounds():
    spec = "input 4x16x16\nnn.Conv2d(" + "1, " * 5000 + "3)\n"
    (diagnostic,) = cnndsl.check(spec).diagnostics     # too long to read: no translation
    assert diagnostic.code == "E0002" and not diagnostic.fixes
    huge = "input 4x16x16\nnn.Conv2d(4, 99999999999999999999, 3)\n"
    (diagnostic,) = pasted(huge)
    assert diagnostic.fixes == ()


BARE = [("dense 10", "fc", "Keras"), ("max 2", "maxpool", ""), ("Dense", "fc", "Keras"),
        ("MaxPooling2D", "maxpool", "Keras"), ("conv2d 8 k3", "conv", "PyTorch"),
        ("Linear", "fc", "PyTorch"), ("avg 2", "avgpool", "")]


@pytest.mark.parametrize(("text", "word", "library"), BARE, ids=[t for t, *_ in BARE])
def test_another_librarys_word_is_named_by_cnndsls(text, word, library):
    (diagnostic,) = cnndsl.check(f"input 4x16x16\nconv 8 k3 -> {text}\n").diagnostics
    assert diagnostic.code == "E0201"
    assert diagnostic.help.endswith(f"cnndsl writes `{word}`") and library in diagnostic.help
    assert [f.replacement for f in diagnostic.fixes] == [word]


# ---- numbers and words where cnndsl writes flags -----------------------------------------

def test_a_bare_kernel_size_is_answered_with_its_flag():
    (error,) = cnndsl.check("input 1x28x28\nconv 8 3 -> relu\n").errors
    assert error.code == "E0409"
    assert "`k3`" in error.help
    assert [(f.span.start, f.replacement) for f in error.fixes] == [(21, "k3")]


def test_further_bare_numbers_follow_pytorchs_order_as_suggestions():
    result = cnndsl.check("input 1x28x28\nconv 8 3 2 1\n")
    first, second, third = result.errors
    assert [f.replacement for f in first.fixes] == ["k3"]
    assert "`s2`" in second.help and not second.fixes
    assert "`p1`" in third.help and not third.fixes


def test_a_flag_written_as_a_word_is_one_error_with_its_short_form():
    (error,) = cnndsl.check("input 1x28x28\nconv 8 k3 -> maxpool 2 stride 2\n").errors
    assert error.code == "E0413"
    assert "`s2`" in error.help and "`stride=2`" in error.help
    (fix,) = error.fixes
    assert fix.replacement == "s2"
    assert "input 1x28x28\nconv 8 k3 -> maxpool 2 stride 2\n"[fix.span.start:fix.span.end] \
        == "stride 2"


def test_a_flag_word_with_an_expression_gets_the_long_form():
    (error,) = cnndsl.check("let s = 2\ninput 1x28x28\nconv 8 kernel 3 stride s\n").errors[1:]
    assert error.fixes[0].replacement == "stride=s"


def test_a_constant_named_like_an_option_is_still_a_constant():
    result = cnndsl.check("let stride = 2\ninput 1x28x28\nconv 8 k3 -> maxpool stride\n")
    assert result.ok, codes(result)


# ---- channels-last inputs ----------------------------------------------------------------

def test_a_channels_last_input_that_still_checks_is_warned_about():
    result = cnndsl.check("input 32x32x3\nconv 8 k3 -> relu -> fc 10\n")
    assert result.ok
    (warning,) = [d for d in result.diagnostics if not d.is_error]
    assert warning.code == "W0110" and (warning.span.line, warning.span.column) == (1, 7)
    assert "`input 3x32x32`" in warning.help and warning.fixes == ()
    assert "32 channels of 32x3" in warning.label


def test_a_channels_last_input_that_fails_gets_the_warning_beside_the_error():
    result = cnndsl.check("input 28x28x1\nconv 8 k3 -> fc 10\n")
    assert [d.code for d in result.diagnostics] == ["W0110", "E0301"]
    assert "`input 1x28x28`" in result.diagnostics[0].help


def test_an_image_without_its_channel_is_warned_about():
    result = cnndsl.check("input 28x28\nfc 10\n")
    (warning,) = [d for d in result.diagnostics if not d.is_error]
    assert "`input 1x28x28`" in warning.help


@pytest.mark.parametrize("shape", ["3x32x32", "1x28x28", "16x28x28", "64x7x7", "32x16x3",
                                   "1x128", "3x16x64x64", "3x3x3", "4x4"])
def test_channels_first_inputs_are_not_warned_about(shape):
    result = cnndsl.check(f"input {shape}\nrelu\n")
    assert not [d for d in result.diagnostics if d.code == "W0110"]


def test_looking_for_pasted_calls_is_bounded_in_a_large_file():
    from cnndsl.front import habits
    from cnndsl.front.source import Source

    calls = habits.pasted_calls(Source("nn.Conv2d(" * 200_000 + "\n", "big.cnn"))
    assert calls == []
    many = habits.pasted_calls(Source("nn.ReLU() -> " * 10_000 + "relu\n", "many.cnn"))
    assert len(many) == habits.MAX_CALLS


def test_a_dotted_layer_name_without_its_call_is_named_too():
    (relu, conv) = pasted("input 4x16x16\nconv 8 k3 -> nn.ReLU -> nn.Conv2d -> fc 10\n")
    assert relu.message == "`nn.ReLU` is a PyTorch layer, not cnndsl"
    assert relu.fixes[0].replacement == "relu"
    assert conv.fixes == () and "`conv`" in conv.help


def test_a_trailing_comma_before_another_statement_says_the_list_went_on():
    result = cnndsl.check("input 1x28x28\nconv 8 k3 as a -> fc 10 as b\noutput @a, @b,\n"
                          "assert params < 100k\n")
    (error,) = result.errors
    assert error.span.line == 4
    assert "a newline" not in error.label
    assert "remove the `,` at the end of line 3" in error.help


#: (input, a PyTorch call, its translation) in other ranks
RANKS = [
    ("4x32", "nn.Conv1d(4, 8, 5, stride=2, padding=2)", "conv 8 k5 s2 p2"),
    ("4x32", "nn.MaxPool1d(3, stride=2)", "maxpool 3 s2"),
    ("4x32", "nn.BatchNorm1d(4)", "batchnorm"),
    ("4x8x8x8", "nn.Conv3d(4, 8, kernel_size=(3, 3, 3), padding=1, bias=False)",
     "conv 8 k3 p1 nobias"),
    ("4x8x8x8", "nn.AvgPool3d(2)", "avgpool 2"),
    ("4x8x8x8", "nn.ConvTranspose3d(4, 2, 2, stride=2)", "convt 2 k2 s2"),
]


@pytest.mark.parametrize(("shape", "call", "expected"), RANKS, ids=[c for _, c, _ in RANKS])
def test_calls_of_other_ranks_translate_exactly_as_pytorch_computes(shape, call, expected):
    torch = pytest.importorskip("torch")
    (diagnostic,) = pasted(f"input {shape}\n{call}\n")
    assert [f.replacement for f in diagnostic.fixes] == [expected]
    theirs = eval(call, {"nn": torch.nn}).eval()
    ours = cnndsl.build(f"input {shape}\n{expected}\n").eval()
    x = torch.randn(2, *map(int, shape.split("x")))
    assert ours(x).shape == theirs(x).shape
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())


def test_every_bare_word_answer_is_a_layer_word_of_this_version():
    from cnndsl.front.habits import BARE_WORDS
    from cnndsl.ir.layers import canonical

    assert BARE_WORDS and all(canonical(word) for word in BARE_WORDS.values())
