"""The habits newcomers bring from PyTorch and Keras, each answered in the
language's words (issue 18, part 4), and lists that continue after a comma."""

from __future__ import annotations

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

    from cnndsl.codegen.api import SpecError

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
