"""The layer registry (`cnndsl.ir.layers`): one table of layer words, validated
through pydantic-core schemas built from it, exported as one JSON Schema that the
playground's word lists (and the docs, and editors) are built from."""

from __future__ import annotations

import dataclasses
import json

import pytest
from conftest import ROOT

import cnndsl
from cnndsl.cli import main
from cnndsl.cli.schema import WEB_BEGIN, WEB_END, web_words
from cnndsl.ir.layers import ALIASES, DOCS, LAYERS, MAX_INT, layer_words, schema, validator
from cnndsl.ir.layers import accepts as layers_accepts


def test_the_web_word_lists_are_generated_from_the_schema():
    source = (ROOT / "web" / "src" / "cnn-language.js").read_text(encoding="utf-8")
    block = source[source.index(WEB_BEGIN):source.index(WEB_END) + len(WEB_END)]
    assert block == web_words(schema()), \
        "web/src/cnn-language.js is stale: paste `cnndsl schema --web` over its block, " \
        "then `npm run build` in web/"


def test_every_word_is_defined_once_with_docs_class_and_aliases():
    document = schema()
    assert list(document["$defs"]) == list(LAYERS) == list(DOCS)
    named = [w for op, d in document["$defs"].items() for w in (op, *d["x-aliases"])]
    assert sorted(named) == sorted(layer_words())
    assert document["x-aliases"] == ALIASES
    for op, definition in document["$defs"].items():
        assert definition["x-torch"] and definition["description"], op
        assert definition["additionalProperties"] is False
        for name, field in definition["properties"].items():
            assert field.get("description"), (op, name)


def test_the_schema_is_json_and_the_command_prints_it(capsys):
    assert cnndsl.layer_schema() == schema()
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(schema()))


def test_the_command_prints_the_web_block(capsys):
    assert main(["schema", "--web"]) == 0
    assert capsys.readouterr().out == web_words(schema()) + "\n"


def test_the_schemas_bounds_are_the_ones_binding_enforces():
    """Each bound the schema states is one the validator holds to: a value one
    step past it is refused, the bound itself accepted."""
    from pydantic_core import ValidationError

    checked = 0
    for op, definition in schema()["$defs"].items():
        required = {a.field: (a.minimum or 1) for a in LAYERS[op].args if a.required}
        for arg in LAYERS[op].args:
            if arg.minimum is None or arg.kind == "word":
                continue
            field = definition["properties"][arg.field]
            stated = [b.get("minimum") for b in field.get("oneOf", [field])
                      if b.get("type") in ("integer", "number")]
            assert stated and set(stated) == {arg.minimum}, (op, arg.field)
            base = {k: int(v) if arg.kind != "float" else v for k, v in required.items()}
            bad = arg.minimum - 1 if arg.kind in ("int", "size") else arg.minimum - 0.5
            validator(op).validate_python({**base, arg.field: arg.minimum})
            with pytest.raises(ValidationError):
                validator(op).validate_python({**base, arg.field: bad})
            checked += 1
    assert checked > 20


def _found(text: str) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in cnndsl.check("input 1x8x8\n" + text + "\n").diagnostics]


@pytest.mark.parametrize("text, expected", [
    # a number where a word is due was taken silently, to fail in PyTorch
    ("conv 4 k3 pad=3", ("E0414", "unknown padding mode `3`")),
    ("conv 4 k3 pad=2x2", ("E0414", "unknown padding mode `2x2`")),
    ("upsample 2 mode=3", ("E0414", "unknown mode `3`")),
    ("fc 4x4", ("E0402", "the output features is one number, not a size")),
    ("conv 4 k3 padding=1x1x1x1", ("E0402", "a padding has one to three numbers")),
    ("conv 4 k3 stride=1.5", ("E0402", "the stride must be a whole number")),
    ("conv 0 k3", ("E0404", "the output channels must be at least 1")),
    ("conv 4 k3 s0x0", ("E0404", "the stride must be at least 1")),
    ("upsample 0x1", ("E0404", "the scale factor must be above 0")),
    ("dropout 1", ("E0404", "the probability must be below 1")),
    (f"conv {MAX_INT + 1} k3", ("E0404", f"the output channels must be at most {MAX_INT:,}")),
    ("maxpool", ("E0401", "`maxpool` needs its window size")),
])
def test_the_validators_errors_are_the_languages(text, expected):
    assert _found(text) == [expected]


def test_every_bad_value_of_a_layer_is_reported_with_its_other_errors():
    found = _found("conv 4 k3x3x3x3 s0 foo")
    assert [code for code, _ in found] == ["E0402", "E0404", "E0413"]


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_value_that_is_not_finite_is_refused_in_words(value):
    """The parser refuses `1e400` first (E0415); the registry holds to it as well."""
    from pydantic_core import ValidationError

    from cnndsl.passes.bind import problem

    eps = next(a for a in LAYERS["batchnorm"].args if a.field == "eps")
    with pytest.raises(ValidationError) as caught:
        validator("batchnorm").validate_python({"eps": value})
    assert problem(eps, value, caught.value.errors())[:2] == \
        ("E0404", "the epsilon must be a finite number")


def test_a_value_breaking_two_rules_is_told_the_form_first():
    from pydantic_core import ValidationError

    from cnndsl.passes.bind import problem

    stride = next(a for a in LAYERS["conv"].args if a.field == "stride")
    with pytest.raises(ValidationError) as caught:
        validator("conv").validate_python({"out": 4, "kernel": 3, "stride": (0, 1.5)})
    errors = caught.value.errors()
    assert {"greater_than_equal", "int_type"} <= {e["type"] for e in errors}
    assert problem(stride, (0, 1.5), errors)[:2] == ("E0402", "the stride must be a whole number")


def _ir_classes() -> dict[str, type]:
    """op -> the IR node class that holds it."""
    import typing

    from cnndsl.ir import nodes as ir

    found = {}
    for cls in vars(ir).values():
        if isinstance(cls, type) and issubclass(cls, ir.Element):
            op = typing.get_type_hints(cls, vars(ir)).get("op")
            for word in typing.get_args(op) if op is not None else ():
                found[word] = cls
    return found


def test_the_schemas_defaults_are_the_ones_the_network_gets():
    """A default the schema documents is the value a layer written without it has."""
    import dataclasses

    classes = _ir_classes()
    compared = 0
    for op, definition in schema()["$defs"].items():
        fields = {f.name: f for f in dataclasses.fields(classes[op])}
        for name, field in definition["properties"].items():
            if "default" not in field or name in LAYERS[op].defaults or name not in fields:
                continue
            if fields[name].default is dataclasses.MISSING:
                assert field["default"] is None, (op, name)   # filled in by the resolver
                continue
            assert field["default"] == fields[name].default, (op, name)
            compared += 1
    assert compared > 20


def test_the_docs_layer_table_is_built_from_the_schema(capsys):
    from cnndsl.cli.schema import markdown_table

    assert main(["schema", "--markdown"]) == 0
    table = capsys.readouterr().out.rstrip("\n")
    assert table == markdown_table(schema())
    rows = table.splitlines()[2:]
    assert [row.split("`")[1] for row in rows] == list(LAYERS)
    for row, word in zip(rows, LAYERS.values()):
        assert row.replace("\\|", "").count("|") == 6, row   # five cells, pipes escaped
        assert all(f"`{a.flag}N`" in row for a in word.args if a.flag), row
        assert all(f"`{s}`" in row for s in word.switches), row


def test_every_word_reaches_every_stage():
    """A word added to the registry once is built, inferred and emitted: the stages'
    tables (keyed by IR class, per kind of work) cover every word's class, and the
    binder's model matches the class's fields."""
    from cnndsl.backends.pytorch.modules import MODULES
    from cnndsl.passes.construct import BUILDERS as _BUILDERS
    from cnndsl.passes.infer import _RULES

    classes = _ir_classes()
    for op, word in LAYERS.items():
        cls = classes[op]
        assert cls in _RULES and cls in MODULES, op
        assert op in _BUILDERS or cls.__name__ == "Activation", op
        bound = {a.field for a in word.args} | {f for f, _ in word.switches.values()}
        fields = {f.name for f in dataclasses.fields(cls)}
        assert bound <= fields, (op, bound - fields)


def _candidates(arg) -> list:
    """Values of every form, near every bound of `arg`, and its words."""
    bounds = [b for b in (arg.minimum, arg.above, arg.below) if b is not None]
    near = [f(b) for b in bounds for f in (lambda b: b, lambda b: b + 1, lambda b: b - 1,
                                            lambda b: b + 0.5, lambda b: int(b))]
    return [None, 0, 1, -1, 2, 3, MAX_INT, MAX_INT + 1, -(10 ** 400), 10 ** 400, 0.5, 1.0,
            -0.5, 1e300, float("inf"), float("nan"), True, False, (1,), (2, 3), (1, 2, 3),
            (1, 2, 3, 4), (0, 1), (1.0,), (True,), (), [1, 2], "x", "e1", "1e", "a\n", "",
            *arg.words, *near]


def _refused(op: str, values: dict) -> list[tuple]:
    """Where the validator refuses `values` (the arguments it names)."""
    from pydantic_core import ValidationError

    try:
        validator(op).validate_python(values)
    except ValidationError as exc:
        return [e["loc"][:1] for e in exc.errors()]
    return []


@pytest.mark.parametrize("op", list(LAYERS))
def test_the_plain_check_says_yes_exactly_when_the_validator_does(op):
    """`accepts` spares a correct spec pydantic-core's import: it must agree with the
    validator on every value of every form, one argument varied at a time from values
    it accepts, a switch and an unknown key too."""
    word = LAYERS[op]
    base: dict = {}
    for arg in (a for a in word.args if a.required):
        base[arg.field] = next(c for c in _candidates(arg)
                               if (arg.field,) not in _refused(op, {**base, arg.field: c}))
    cases = [dict(base), {**base, "nonsense": 1}]
    for arg in word.args:
        cases += [{**base, arg.field: c} for c in _candidates(arg)]
        cases.append({k: v for k, v in base.items() if k != arg.field})
    for name, _ in word.switches.values():
        cases += [{**base, name: v} for v in (True, False, 1, None)]
    said = [(values, layers_accepts(op, values), not _refused(op, values))
            for values in cases]
    assert [(v, plain) for v, plain, them in said if plain != them] == []
    assert any(plain for _, plain, _ in said)
