"""`cnndsl fmt` (issue 21): one layout for every spec, comments kept where they were,
idempotent, meaning kept (same summary, same generated code but for the spec's own
text), `--check`/`--diff`, and the file-safety rules of `check --fix`."""

from __future__ import annotations

import os
import re

import pytest
from conftest import ROOT, SPECS, spec_id
from hypothesis import given
from hypothesis import strategies as st
from properties_ast import render
from properties_chains import property_settings
from properties_graphs import graph_specs, multi_io_specs

import cnndsl
from cnndsl.backends.cnn import WIDTH, FormatError, SyntaxProblem, _Printer, comments, format_source
from cnndsl.backends.pytorch.build import compile_result
from cnndsl.cli import main
from cnndsl.front import syntax as ast
from cnndsl.front.source import Source


def _figures(text: str, name: str = "spec.cnn"):
    """The verdict (diagnostic codes and messages), then per layer: path, input and
    output shapes, parameters, MACs."""
    result = cnndsl.check(text, name)
    verdict = sorted((d.severity, d.code, d.message) for d in result.diagnostics)
    rows = [(r.path, r.kind, str(r.input), str(r.output), r.params, r.macs)
            for r in result.summary.rows] if result.summary is not None else None
    return (verdict, rows), result


def _code(result) -> str | None:
    """The generated module without the spec's own text (`SPEC = (...)`) and the header
    (its table spells each layer as written); a docstring's quote of a use as written
    (`IR(divisible(c * w, 8), t)`) compared without its spaces."""
    if not result.ok:
        return None
    code = re.sub(r"\nSPEC = \(\n.*?\n\)\n", "\nSPEC = ...\n", compile_result(result),
                  flags=re.S)
    code = re.sub(r"its first use, `[^`\n]*`", lambda m: m.group(0).replace(" ", ""), code)
    assert code.startswith('"""')
    return code[code.index('"""', 3):]


def _kept(text: str, name: str = "spec.cnn", code: bool = True) -> str:
    """Format `text`; assert idempotence, the same verdict, figures and code, the same
    comments in the same order."""
    formatted = format_source(text, name)
    assert format_source(formatted, name) == formatted
    before, after = _figures(text, name), _figures(formatted, name)
    assert before[0] == after[0]
    if code:
        assert _code(before[1]) == _code(after[1])
    assert [c.text.rstrip() for c in comments(Source(text))] == \
        [c.text.rstrip() for c in comments(Source(formatted))]
    return formatted


# ---- every spec and random ones ------------------------------------------------------

@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_every_spec_formats_idempotently_keeping_meaning_and_comments(path):
    formatted = _kept(path.read_text(encoding="utf-8"), path.name)
    assert cnndsl.check(formatted, path.name).ok
    assert all(len(line) <= WIDTH or "#" in line for line in formatted.splitlines())


@given(spec=graph_specs())
@property_settings(25)
def test_random_graph_specs_format_keeping_meaning(spec):
    _kept(render(spec))


@given(spec=multi_io_specs())
@property_settings(25)
def test_random_multi_io_specs_format_keeping_meaning(spec):
    _kept(render(spec))


def _scattered(text: str, rng) -> str:
    """`text` with comments and line breaks wherever the language allows them: ending
    lines, on lines of their own, after `(` and `,`, before `)`, around `->`."""
    out = []
    for line in text.split("\n"):
        if rng.random() < 0.3 and line.strip():
            line += f"   # c{rng.randint(0, 99)}"
        out.append(line)
        if rng.random() < 0.15:
            out.append(" " * rng.randint(0, 8) + f"# own {rng.randint(0, 99)}")
    text = "\n".join(out)
    text = text.replace(" -> ", rng.choice([" -> ", "->", " ->\n    ", "\n-> ", " -> # x\n"]))
    text = text.replace(", ", rng.choice([", ", ",\n", ", # y\n", ","]))
    if rng.random() < 0.5:
        return text
    text = text.replace("(", rng.choice(["(", "( # o\n", "(\n  # p\n"]))
    return text.replace(")", rng.choice([")", "\n # q\n)", " # r\n)"]))


@pytest.mark.parametrize("path", SPECS[::4], ids=spec_id)
def test_comments_anywhere_are_kept_in_order_and_mean_the_same(path):
    import random

    from cnndsl.front.parser import parse

    rng = random.Random(path.name)
    tried = 0
    for _ in range(40):   # some specs (a `train` block) refuse most placements
        text = _scattered(path.read_text(encoding="utf-8"), rng)
        if parse(Source(text))[0] is None:
            continue   # a comment where the language allows none
        tried += 1
        # the code quotes a block use as written, and a comment moved out of a layer's
        # arguments moves with it: the figures must agree, not the code's text
        _kept(text, path.name, code=False)
    assert tried


# ---- the layout ----------------------------------------------------------------------------

def test_spacing_is_canonical():
    text = "model   M\ninput  3x8x8\nlet w = ( 2 + 3 ) * 4\nconv w  k3->relu  ->  fc 10\n"
    assert format_source(text) == ("model M\ninput 3x8x8\nlet w = (2+3)*4\n"
                                   "conv w k3 -> relu -> fc 10\n")


def test_a_long_chain_breaks_before_arrow_past_width():
    text = " -> ".join(f"conv {n} k3 p1" for n in range(8, 40)) + "\n"
    out = format_source(text)
    lines = out.splitlines()
    assert len(lines) > 1 and all(len(line) <= WIDTH for line in lines)
    assert all(line.startswith("-> ") for line in lines[1:])


def test_a_short_chain_is_joined_on_one_line():
    assert format_source("conv 6 k5\n-> relu\n-> fc 10\n") == "conv 6 k5 -> relu -> fc 10\n"


def test_blocks_combinators_groups_and_labels():
    text = ("block B(c, k = 3) { conv c kernel=k p1 -> relu }\n"
            "conv 8 k3 -> concat( conv 4 k1 , (conv 4 k1->relu)*2 ) as e1\n"
            "-> add(@e1, relu) -> B(16, k=5) -> gap -> fc 10\n")
    assert format_source(text) == (
        "block B(c, k=3) { conv c kernel=k p1 -> relu }\n"
        "conv 8 k3 -> concat(conv 4 k1, (conv 4 k1 -> relu) * 2) as e1 -> add(@e1, relu)"
        " -> B(16, k=5) -> gap\n-> fc 10\n")


def test_expression_parentheses_keep_the_tree():
    text = "let a = 10 - (4 - 1)\nlet b = (1 + 2) * 3\nlet c = 2 * (3 // 2)\nconv a k3\n"
    assert format_source(text) == ("let a = 10-(4-1)\nlet b = (1+2)*3\nlet c = 2*(3//2)\n"
                                   "conv a k3\n")


@pytest.mark.parametrize(("written", "printed"), [
    ("-(a + b)", "-(a+b)"),
    ("- a", "-a"),
    ("-(-a)", "--a"),
    ("a - -b", "a--b"),
    ("not a and b", "not a and b"),
    ("not (a and b)", "not (a and b)"),
    ("(not a) and b", "not a and b"),
    ("not not a", "not not a"),
    ("(not a) + 1", "(not a)+1"),
    ("a if b else c if d else e", "a if b else c if d else e"),
    ("a if b else (c if d else e)", "a if b else c if d else e"),
    ("(a if b else c) if d else e", "(a if b else c) if d else e"),
    ("a if (b if c else d) else e", "a if (b if c else d) else e"),
    ("(a if b else c) * 2", "(a if b else c)*2"),
    ("a / b // c % d", "a/b//c%d"),
    ("a / (b // (c % d))", "a/(b//(c%d))"),
    ("(a / b) * c", "a/b*c"),
    ("a<b and c>=d or a!=1 and not b==2", "a < b and c >= d or a != 1 and not b == 2"),
    ("(a or b) and c", "(a or b) and c"),
    ("a or (b or c)", "a or (b or c)"),
    ("(a < b) == (c < d)", "(a < b) == (c < d)"),
    ("a + 1 <= b * 2", "a+1 <= b*2"),
    ("-(a < b)", "-(a < b)"),
    ("(-a) * b", "-a*b"),
    ("-(a * b)", "-(a*b)"),
    ("min(a,b, ) + max(1, a if b else c) * round(a / 2)",
     "min(a, b)+max(1, a if b else c)*round(a/2)"),
    ("divisible(floor(a) + ceil(b), 8) % 3", "divisible(floor(a)+ceil(b), 8)%3"),
    ("1. / 2", "1. / 2"),
])
def test_expressions_take_the_fewest_parentheses_that_keep_the_tree(written, printed):
    text = f"let a = 1\nlet b = 2\nlet c = 3\nlet d = 4\nlet e = 5\nlet x = {written}\n"
    formatted = format_source(text)
    assert formatted == text.replace(f"x = {written}", f"x = {printed}")
    assert format_source(formatted) == formatted   # and parses to the same tree (checked)


_LEAVES = st.sampled_from(["a", "b", "in", "2", "0.5", "1.", "k3", "3x3"])


def _fully_parenthesised(draw_leaf=_LEAVES):
    """Any expression tree, written with parentheses around every operation."""
    return st.recursive(draw_leaf, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "and", "or", "==",
                                          "!=", "<", "<=", ">", ">="]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda a: f"(-{a})"),
        inner.map(lambda a: f"(not {a})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(st.sampled_from(["min", "max", "round", "divisible"]),
                  st.lists(inner, min_size=1, max_size=3))
        .map(lambda t: f"{t[0]}({', '.join(t[1])})"),
    ), max_leaves=12)


@given(expression=_fully_parenthesised())
@property_settings(60)
def test_random_expressions_keep_their_tree_with_fewer_parentheses(expression):
    text = f"let x = {expression}\nconv 8 {expression} k3 stride={expression}\n"
    formatted = format_source(text)   # raises where the tree would change
    assert format_source(formatted) == formatted
    assert formatted.count("(") <= text.count("(")


def test_a_negative_argument_after_another_keeps_its_parentheses():
    assert format_source("conv 8 (-1)\nconv (-1) k3\nconv 8 -1\n") == \
        "conv 8 (-1)\nconv -1 k3\nconv 8-1\n"


def test_conditions_in_arguments_repeats_and_uses():
    text = ("input 3x8x8\nblock B(c, first) { conv c k3 p1 stride = 2 if first else 1 }\n"
            "B(8, first = 1 == 1) -> (relu) * (1 if 2 > 1 else 2) -> gap -> fc 2\n")
    assert _kept(text) == (
        "input 3x8x8\nblock B(c, first) { conv c k3 p1 stride=2 if first else 1 }\n"
        "B(8, first=1 == 1) -> (relu) * (1 if 2 > 1 else 2) -> gap -> fc 2\n")


IFS = ("input 3x8x8\n"
       "block B(t) {\n"
       "  conv 8 k3 p1->if t==1 {conv 8 k1} else if t==2 { conv 8 k1 -> relu } else {relu}\n"
       "  -> if t > 2 { relu }\n"
       "}\n"
       "B(1) -> B(2) -> B(3) -> gap -> fc 2\n")


def test_if_else_if_else_items_in_a_block_stay_on_a_line_where_they_fit():
    assert _kept(IFS) == (
        "input 3x8x8\n"
        "block B(t) {\n"
        "    conv 8 k3 p1 -> if t == 1 { conv 8 k1 } else if t == 2 { conv 8 k1 -> relu }"
        " else { relu }\n"
        "    -> if t > 2 { relu }\n"
        "}\n"
        "B(1) -> B(2) -> B(3) -> gap -> fc 2\n")


def test_a_long_if_breaks_like_a_block_body():
    long = " -> ".join(["conv 8 k3 p1 -> relu"] * 4)
    text = (f"input 3x8x8\nblock B(t) {{ if t == 1 {{ {long} }} else if t == 2 {{ relu }}"
            f" else {{ {long} }} -> relu }}\nB(1) -> B(2) -> B(3) -> gap -> fc 2\n")
    formatted = _kept(text)
    assert formatted == (
        "input 3x8x8\n"
        "block B(t) {\n"
        "    if t == 1 {\n"
        f"        {long}\n"
        "    } else if t == 2 {\n"
        "        relu\n"
        "    } else {\n"
        f"        {long}\n"
        "    } -> relu\n"
        "}\n"
        "B(1) -> B(2) -> B(3) -> gap -> fc 2\n")
    assert all(len(line) <= WIDTH for line in formatted.splitlines())


def test_comments_in_an_if_stay_in_their_branch():
    text = ("input 3x8x8\n"
            "block B(t) {\n"
            "  # before\n"
            "  if t == 1 {  # one\n"
            "    conv 8 k1\n"
            "    # end of one\n"
            "  } else if t == 2 {  # two\n"
            "    # first of two\n"
            "    relu  # relu\n"
            "  } else {  # other\n"
            "    gap\n"
            "    # end of other\n"
            "  }  # after\n"
            "  -> relu\n"
            "}\n"
            "B(1) -> B(2) -> fc 2\n")
    assert _kept(text) == (
        "input 3x8x8\n"
        "block B(t) {\n"
        "    # before\n"
        "    if t == 1 {  # one\n"
        "        conv 8 k1\n"
        "        # end of one\n"
        "    } else if t == 2 {  # two\n"
        "        # first of two\n"
        "        relu  # relu\n"
        "    } else {  # other\n"
        "        gap\n"
        "        # end of other\n"
        "    }  # after\n"
        "    -> relu\n"
        "}\n"
        "B(1) -> B(2) -> fc 2\n")


def test_an_if_ending_a_top_level_chain_keeps_its_last_comment_inside():
    text = ("input 3x8x8\nconv 8 k3 -> if in == 3 { gap } else {\n  gap\n  # last\n}\n"
            "-> fc 2\n")
    assert _kept(text) == ("input 3x8x8\nconv 8 k3 -> if in == 3 {\n    gap\n} else {\n"
                           "    gap\n    # last\n} -> fc 2\n")
    text = "input 3x8x8\nconv 8 k3 -> gap -> if in == 3 { fc 2 } else {\n  fc 3\n  # last\n}\n"
    assert _kept(text).endswith("} else {\n    fc 3\n    # last\n}\n")


def test_allow_statements_and_line_allows():
    text = ("allow   W0101 ,W0103\n# allow nothing here\ninput 3x32x32\n"
            "conv 8 k3 s2   # allow W0101\n-> relu -> fc 10\n")
    formatted = _kept(text)
    assert formatted == ("allow W0101, W0103\n# allow nothing here\ninput 3x32x32\n"
                         "conv 8 k3 s2  # allow W0101\n-> relu -> fc 10\n")


def test_a_line_allow_keeps_its_line_together_and_apart():
    """`# allow` covers its own line: a long line is not broken under it, and a line
    before it is not joined onto it."""
    chain = " -> ".join(["conv 8 k3 p1 -> relu"] * 4)
    long = f"input 3x32x32\nconv 8 k3 s2 -> {chain} -> gap -> fc 10   # allow W0101\n"
    formatted = _kept(long)
    assert formatted == long.replace("   #", "  #")
    apart = "input 3x32x32\nconv 8 k3 s2\n-> relu -> fc 10  # allow W0101\n"
    assert _kept(apart) == apart
    assert [d.code for d in cnndsl.check(apart).diagnostics] == ["W0101", "W0112"]


def test_code_moved_onto_a_line_allow_is_refused():
    text = "input 3x32x32\nconv 8 k3 -> concat(\n  conv 8 k3 s2,\n  conv 8 k3 s2)  # allow W0101\n"
    with pytest.raises(FormatError, match="# allow"):
        format_source(text)


def _v3_snippets() -> list[str]:
    """Every spec text written out in tests/test_language_v3.py (a string literal that
    parses; those completed by `.format` are left out)."""
    import ast as python

    from cnndsl.front.parser import parse

    tree = python.parse((ROOT / "tests" / "test_language_v3.py").read_text(encoding="utf-8"))
    found = []
    for node in python.walk(tree):
        if isinstance(node, python.Constant) and isinstance(node.value, str) \
                and "\n" in node.value and node.value not in found \
                and parse(Source(node.value))[0] is not None:
            found.append(node.value)
    return found


def test_every_v3_snippet_formats_keeping_its_meaning():
    snippets = _v3_snippets()
    assert len(snippets) >= 15
    checked = 0
    for text in snippets:
        formatted = _kept(text)   # the same verdict, and per layer the same figures and code
        if cnndsl.check(text).ok:
            checked += 1
            assert cnndsl.check(formatted).ok
            assert _figures(text)[0][1] == _figures(formatted)[0][1]
    assert checked >= 10


def test_train_section_and_blank_lines():
    text = ("conv 6 k5 -> fc 10\n\n\n\ntrain {\n  epochs   3\n  optimizer sgd momentum = 0.9\n"
            "}\n")
    assert format_source(text) == ("conv 6 k5 -> fc 10\n\ntrain {\n    epochs 3\n"
                                   "    optimizer sgd momentum=0.9\n}\n")


def test_arguments_take_their_canonical_order_and_short_flags():
    text = ("input 3x32x32\nconv nobias 16 stride=2 padding=1 kernel_size=3 -> relu\n"
            "-> maxpool ceil kernel=3x3 s2 -> conv 8 groups=2 k1 -> fc 10\n")
    out = _kept(text)
    assert out == ("input 3x32x32\nconv 16 k3 s2 p1 nobias -> relu -> maxpool k3x3 s2 ceil"
                   " -> conv 8 k1 g2 -> fc 10\n")


def test_arguments_that_are_not_literals_or_have_no_flag_stay_options():
    text = "let w = 3\ninput 4x8x8\nconv 8 kernel=w groups=in pad=reflect p1 -> fc 10\n"
    assert format_source(text) == ("let w = 3\ninput 4x8x8\nconv 8 p1 kernel=w groups=in "
                                   "pad=reflect -> fc 10\n")


def test_a_spec_with_errors_keeps_its_arguments_as_written():
    text = "input 3x8x8\nconv stride=2 16 k3 k5 -> fc 10\n"   # k twice: an error
    assert format_source(text) == text


# ---- comments ------------------------------------------------------------------------------

COMMENTED = """\
# head

model   M   # the model
input x 3x32x32
# blocks
block B(c) {   # open
    # first
    conv c k3 p1 ->   # after conv
    relu
    # before bn
    -> bn   # end
    # tail of block
}
conv 8 k3 -> concat(   # cat
    conv 4 k1,  # one
    # two lead
    conv 4 k3 p1 -> relu,
    # before close
) as e1 -> B(16) -> add(@e1 -> conv 24 k1, relu)   # last
-> gap -> fc 10
# end
"""


def test_comments_stay_where_they_were():
    out = _kept(COMMENTED)
    assert out == """\
# head

model M  # the model
input x 3x32x32
# blocks
block B(c) {  # open
    # first
    conv c k3 p1  # after conv
    -> relu
    # before bn
    -> bn  # end
    # tail of block
}
conv 8 k3 -> concat(  # cat
    conv 4 k1,        # one
    # two lead
    conv 4 k3 p1 -> relu,
    # before close
) as e1 -> B(16) -> add(@e1 -> conv 24 k1, relu)  # last
-> gap -> fc 10
# end
"""


def test_trailing_comments_of_consecutive_lines_are_aligned():
    text = "conv 6 k5 -> relu  # a\n-> maxpool 2 # b\n-> fc 10       # c\n"
    assert format_source(text) == ("conv 6 k5 -> relu  # a\n-> maxpool 2       # b\n"
                                   "-> fc 10           # c\n")


def test_a_comment_inside_a_layer_goes_to_the_end_of_its_item():
    text = "concat(conv 4  # odd\n k1, relu)\n"
    out = _kept(text + "")
    assert "# odd" in out and "k1" in out


def test_a_hash_in_a_string_is_no_comment():
    text = 'conv 6 k5 -> fc 10\ntrain {\n    data "a#b"  # real\n}\n'
    assert [c.text for c in comments(Source(text))] == [" real"]
    assert format_source(text) == text


def test_hostile_comments_and_names_are_kept_byte_exact():
    evil = "# \x1b[2J\x1b]0;pwned\x07 \u202e gnp.exe\n"
    text = (evil + "model Evil\nconv 6 k5 -> relu   # \x1b[31mred\n"
            'train {\n    data "\x1b[8m\u202eÉ #x"\n}\n')
    out = format_source(text)
    assert out.startswith(evil) and "# \x1b[31mred" in out
    assert 'data "\x1b[8m\u202eÉ #x"' in out


def test_unparsable_text_is_refused_with_located_errors():
    with pytest.raises(SyntaxProblem) as caught:
        format_source("conv 6 k5 ->\n", "bad.cnn")
    assert caught.value.diagnostics[0].span.line == 1


def test_a_spec_too_deep_to_print_is_refused_in_words():
    with pytest.raises(SyntaxProblem) as caught:
        format_source("input 3x8x8\nrelu" + " as a" * 3000 + "\n")
    assert caught.value.diagnostics[0].code == "E0005"


def test_many_statements_and_comments_keep_their_order():
    text = "".join(f"let c{i} = {i}  # c{i}\n# own {i}\n" for i in range(300)) + "conv 3 k1\n"
    out = format_source(text)
    assert [c.text for c in comments(Source(out))] == [c.text for c in comments(Source(text))]


def test_an_unknown_node_fails_loudly():
    from cnndsl.front.parser import parse

    program, _ = parse(Source("conv 6 k5\n"))
    printer = _Printer(Source("conv 6 k5\n"), program)
    with pytest.raises(FormatError, match="no layout"):
        printer.item(ast.Param(span=program.bodies[0].span, name="x"), 0)
    with pytest.raises(FormatError, match="no layout"):
        printer.expr(object())
    num = ast.Num(span=program.bodies[0].span, value=1, text="1")
    with pytest.raises(FormatError, match="operator `\\*\\*`"):
        printer.expr(ast.BinOp(span=num.span, op="**", left=num, right=num))
    with pytest.raises(FormatError, match="operator `~`"):
        printer.expr(ast.Unary(span=num.span, op="~", operand=num))
    with pytest.raises(FormatError, match="no layout for the statement"):
        printer._statement(ast.Param(span=num.span, name="x"))


# ---- the command ---------------------------------------------------------------------------

def _spec(tmp_path, data: bytes, name: str = "m.cnn"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_fmt_rewrites_in_place_keeping_bom_and_crlf(tmp_path, capsys):
    path = _spec(tmp_path, b"\xef\xbb\xbfmodel X\r\ninput 1x28x28\r\nconv 6 k5->relu # c\r\n")
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes() == (b"\xef\xbb\xbfmodel X\r\ninput 1x28x28\r\n"
                                 b"conv 6 k5 -> relu  # c\r\n")
    assert "reformatted" in capsys.readouterr().err
    assert main(["fmt", str(path)]) == 0    # a formatted file is left as it is
    assert "0 files reformatted, 1 unchanged" in capsys.readouterr().err


def test_fmt_check_exits_1_with_a_diff_and_writes_nothing(tmp_path, capsys):
    data = b"conv 6 k5->relu\n"
    path = _spec(tmp_path, data)
    assert main(["fmt", "--check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "-conv 6 k5->relu" in out and "+conv 6 k5 -> relu" in out
    assert path.read_bytes() == data
    clean = _spec(tmp_path, b"conv 6 k5 -> relu\n", "clean.cnn")
    assert main(["fmt", "--check", str(clean)]) == 0


def test_fmt_diff_writes_nothing_and_escapes_the_terminal(tmp_path, capsys):
    data = "conv 6 k5->relu  # \x1b[31mred\u202e\n".encode()
    path = _spec(tmp_path, data)
    assert main(["fmt", "--diff", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\\x1b[31mred\\u202e" in out
    assert path.read_bytes() == data


def test_fmt_refuses_a_file_that_does_not_parse(tmp_path, capsys):
    data = b"conv 6 k5 ->\n"
    path = _spec(tmp_path, data)
    assert main(["fmt", str(path)]) == 1
    err = capsys.readouterr().err
    assert "error[E0003]" in err and "m.cnn:1:" in err and "not formatted" in err
    assert path.read_bytes() == data


def test_fmt_refuses_special_and_missing_files(tmp_path, capsys):
    fifo = tmp_path / "pipe.cnn"
    os.mkfifo(fifo)
    assert main(["fmt", str(fifo), str(tmp_path / "missing.cnn")]) == 2
    err = capsys.readouterr().err
    assert "FIFO" in err and "no such file" in err


def test_fmt_says_why_a_file_cannot_be_written_and_goes_on(tmp_path, capsys, monkeypatch):
    from cnndsl.cli import fmt as command
    from cnndsl.files import FileProblem

    first = _spec(tmp_path, b"conv 6 k5->relu\n", "a.cnn")
    second = _spec(tmp_path, b"conv 6 k5->relu\n", "b.cnn")
    real = command._write

    def refuse_first(path, data, payload):
        if path == str(first):
            raise FileProblem(f"cannot write `{path}`: permission denied")
        real(path, data, payload)

    monkeypatch.setattr(command, "_write", refuse_first)
    assert main(["fmt", str(first), str(second)]) == 1
    assert "permission denied" in capsys.readouterr().err
    assert first.read_bytes() == b"conv 6 k5->relu\n"
    assert second.read_bytes() == b"conv 6 k5 -> relu\n"


def test_fmt_does_not_write_a_file_changed_since_it_was_read(tmp_path, capsys, monkeypatch):
    import cnndsl.backends.cnn as library

    path = _spec(tmp_path, b"conv 6 k5->relu\n")
    real = library.format_source

    def meanwhile(text, name="<string>"):
        path.write_bytes(b"conv 8 k3\n")   # another editor saves while we format
        return real(text, name)

    monkeypatch.setattr(library, "format_source", meanwhile)
    assert main(["fmt", str(path)]) == 1
    assert "changed while it was formatted" in capsys.readouterr().err
    assert path.read_bytes() == b"conv 8 k3\n"


def test_fmt_refuses_text_that_is_not_utf8(tmp_path, capsys):
    path = _spec(tmp_path, b"conv 6 k5 \xff\n")
    assert main(["fmt", str(path)]) == 1
    assert "E0004" in capsys.readouterr().err
    assert path.read_bytes() == b"conv 6 k5 \xff\n"


def _stdin(monkeypatch, data: bytes) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_fmt_reads_standard_input_and_prints_the_result(monkeypatch, capsys):
    _stdin(monkeypatch, b"conv 6 k5->relu # x\n")
    assert main(["fmt", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "conv 6 k5 -> relu  # x\n" and captured.err == ""
    _stdin(monkeypatch, b"conv 6 k5->relu\n")
    assert main(["fmt", "--check", "-"]) == 1
    _stdin(monkeypatch, b"conv 6 k5 ->\n")
    assert main(["fmt", "-"]) == 1
    assert "<stdin>:1:" in capsys.readouterr().err


def test_fmt_keeps_the_generated_code_of_every_spec(tmp_path):
    for spec in SPECS[:3]:
        copy = _spec(tmp_path, spec.read_bytes(), spec.name)
        assert main(["fmt", str(copy)]) == 0
        before = cnndsl.check_file(spec.relative_to(ROOT).as_posix())
        after = cnndsl.check_file(copy)
        assert _code(before).replace(str(spec.relative_to(ROOT).as_posix()), "X") \
            .replace(spec.name, "X") == _code(after).replace(str(copy), "X").replace(spec.name, "X")
