"""Start-up of `cnndsl check` (issue 19): the command line builds only the parser of the
command it runs, and says the same as the whole one does."""

from __future__ import annotations

import pytest
from conftest import ROOT, fresh_python

from cnndsl.cli import COMMANDS, build_parser


def test_a_command_builds_only_its_own_parser():
    code = ("import sys\n"
            "from cnndsl.cli import main\n"
            "status = main(['check', '--quiet', 'specs/lenet.cnn'])\n"
            "print(status, *sorted(m for m in sys.modules if m.startswith('cnndsl.cli.')))\n")
    printed = fresh_python(code)
    assert printed.split() == ["0", "cnndsl.cli.check", "cnndsl.cli.common"]


def _said(parser, argv, capsys):
    """What a parser makes of `argv`: its namespace, or its exit status and words."""
    try:
        return vars(parser.parse_args(argv))
    except SystemExit as exc:
        return exc.code, capsys.readouterr()


@pytest.mark.parametrize("command", COMMANDS)
def test_one_commands_parser_reads_as_the_whole_one(command, capsys):
    whole, alone = build_parser(), build_parser(only=command)
    for argv in ([command, "--help"], [command, "--no-such-flag"], [command],
                 [command, "x.cnn"]):
        assert _said(whole, argv, capsys) == _said(alone, argv, capsys), argv


def test_no_command_or_another_word_gets_the_whole_parser(capsys):
    from cnndsl.cli import main

    assert main(["--debug", "check", "--quiet", str(ROOT / "specs" / "lenet.cnn")]) == 0
    with pytest.raises(SystemExit):
        main(["chek", "x.cnn"])
    assert "invalid choice: 'chek' (choose from 'check', 'compile'" in capsys.readouterr().err


#: what a check of a correct spec needs none of: torch and pydantic (training and a run's
#: settings), pydantic-core (a wrong layer argument's errors), the habits' tables (a
#: mistake from PyTorch or Keras), difflib (a misspelt word)
NOT_FOR_A_CORRECT_CHECK = ("torch", "pydantic", "pydantic_core", "cnndsl.front.habits.foreign",
                           "cnndsl.front.habits.pasted", "cnndsl.front.habits.reading",
                           "difflib")


def test_checking_a_correct_spec_imports_nothing_it_does_not_need():
    code = ("import sys\n"
            "from cnndsl.cli import main\n"
            "status = main(['check', '--quiet', 'specs/resnet50.cnn'])\n"
            f"print(status, *sorted(set(sys.modules) & set({NOT_FOR_A_CORRECT_CHECK!r})))\n")
    printed = fresh_python(code)
    assert printed.split() == ["0"]


def test_a_mistake_still_reads_what_answers_it():
    """The lazily read habits and validator still answer, in a fresh process."""
    code = ("import cnndsl\n"
            "for text in ('nn.Conv2d(1, 8, 3)', 'conv 8 k3 -> dense 10', 'conv 0 k3',\n"
            "             'conv 8 k3 -> rellu'):\n"
            "    found = cnndsl.check('input 1x8x8\\n' + text + '\\n').diagnostics\n"
            "    print(*[(d.code, d.help) for d in found])\n")
    printed = fresh_python(code)
    assert printed.splitlines() == [
        "('E0010', 'in cnndsl: `conv 8 k3`')",
        "('E0201', \"Keras's `keras.layers.Dense`: cnndsl writes `fc`\")",
        "('E0404', None)",
        "('E0201', 'did you mean `relu`?')"]


def test_the_shipped_parse_tables_are_loaded_not_built():
    """Building them from the grammar costs ~200 ms: a check loads the stored ones."""
    from cnndsl.front.parsing.tables import _lark

    assert _lark().source_path == "<deserialized>"
    assert _lark().parse("input 1x8x8\nrelu\n").data == "start"
