"""The generated file around its classes: the header with the parameter table,
each class's docstring, the spec it was compiled from, and `__main__`."""

from __future__ import annotations

from cnndsl.backends.pytorch import symbolic
from cnndsl.backends.pytorch.annotate import _used_params
from cnndsl.backends.pytorch.classes import _BlockClass, _Class, _class_text
from cnndsl.backends.pytorch.text import INDENT, _doc, _docstring, _literal, _string_lines
from cnndsl.backends.table.report import clip, human
from cnndsl.ir.shapes import fmt
from cnndsl.version import __version__

HEADER_MARK = "compiled by cnndsl"


class FileText:
    """The text methods of `Emitter` (it has `network`, `summary`, `source_name`
    and `spec_text`)."""

    def _header(self) -> str:
        s = self.summary
        source = _doc(self.source_name)
        ins = ", ".join(fmt(shape) for _, shape in s.inputs)
        outs = ", ".join(fmt(shape) for shape in s.outputs)
        rule = f"    {'-' * 24} {'-' * 28} {'-' * 16} {'-' * 12}"
        lines = [f'"""{self.network.model}: {HEADER_MARK} {__version__} from {source}.', "",
                 f"Edit the spec, not this file: `cnndsl compile {source}` writes it again.", "",
                 f"Input {ins} -> output {outs}; {s.params:,} parameters; "
                 f"{human(s.macs)} multiply-adds.", "",
                 f"    {'Module':<24} {'Layer':<28} {'Output':<16} {'Params':>12}", rule]
        for row in s.top:
            layer = _doc(clip(row.text if row.kind != "merge" else row.op, 28))
            lines.append(f"    {clip(row.name, 24):<24} {layer:<28} "
                         f"{clip(fmt(row.output), 16):<16} {row.params:>12,}")
        lines += [rule, f"    {'Total':<24} {'':<28} {'':<16} {s.params:>12,}"]
        return "\n".join(lines) + '\n"""'

    def _block_text(self, block: _BlockClass) -> str:
        used = _used_params(block.params, block.body)
        params = []
        for name, default in block.params:
            if name not in used:
                continue
            kind = "float" if isinstance(default, float) or name in block.floats else "int"
            params.append(f"{name}: {kind}" + (f" = {default!r}" if default is not None else ""))
        signature = ", ".join(["self", "in_channels: int"] + params)
        call = block.call
        baked = ", ".join(f"{k}={v!r}" for k, v in call.args if k not in used)
        built = f" Built for {baked} (another value gets another class)." if baked else ""
        rank = len(call.info.input) - 1
        if block.body.symbolic:
            where = ("Shapes in comments are for an input of (B, " +
                     ", ".join(("in_channels",) + symbolic.NAMES.get(rank, ())) + ").")
        else:
            where = (f"Shapes in comments are for `{call.text}` on {fmt(call.info.input)} "
                     "input.")
        doc = _docstring([f"The `{call.block}` block of the spec; its first use, `{call.text}` "
                          f"on {fmt(call.info.input)} input, has {call.info.params:,} "
                          "parameters.", built.strip(), where], INDENT)
        return _class_text(block.name, doc, signature, block.body, symbolic=True)

    def _model_text(self, model: _Class) -> str:
        s = self.summary
        ins = ", ".join(fmt(shape) for _, shape in s.inputs)
        outs = ", ".join(fmt(shape) for shape in s.outputs)
        doc = _docstring([f"{self.network.model}: {ins} -> {outs}, {s.params:,} parameters."],
                         INDENT)
        return _class_text(self.network.model, doc, "self", model, symbolic=False)

    def _spec_constants(self) -> str:
        return ("#: The spec this file was compiled from (`cnndsl train` checks it again).\n"
                f"SPEC_PATH = {_literal(self.source_name)}\n"
                f"SPEC = (\n{_string_lines(self.spec_text, INDENT)}\n)")

    def _main(self) -> str:
        return "\n".join([
            'if __name__ == "__main__":',
            f"{INDENT}# Running this file trains the model with cnndsl's harness, exactly as",
            f"{INDENT}# `cnndsl train SPEC_PATH` does, with the same flags.",
            f"{INDENT}try:",
            f"{INDENT * 2}from cnndsl.train.entry import main",
            f"{INDENT}except ImportError:",
            f'{INDENT * 2}message = "training needs cnndsl: pip install cnndsl (the model '
            'needs only torch)"',
            f"{INDENT * 2}raise SystemExit(message) from None",
            f"{INDENT}raise SystemExit(main({self.network.model}, SPEC_PATH, SPEC))",
        ])
