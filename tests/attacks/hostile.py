"""Hostile text, and every place in a spec (or its path) where user text can
reach the generated Python.

A *payload* is Python source that, if it ever runs, creates a proof file named
after its case (relative to the working directory, so that it fits in a file
name: no `/`). A *breaker* is text that runs nothing but has broken the
generated code before (a Windows path, a control character).
"""

from __future__ import annotations

from dataclasses import dataclass

HOLE = "@@X@@"


def touch(proof: str) -> str:
    """A Python expression that leaves evidence it ran: it creates `proof`."""
    return f'__import__("pathlib").Path("{proof}").touch()'


#: Ways out of a string, a docstring or a comment, each around `{P}`, a payload
#: expression. They target every quoting the emitter could use: triple and single
#: quotes of both kinds, escaped quotes (an escaper that forgets backslashes),
#: a carriage return (a line end to Python, not to the spec's comment rule)
#: at the indentation of a module, a class and a method, and f-string braces.
#: `padded-` starts past the 40 characters a summary label keeps, so that only
#: the untruncated copies of the text break out.
ESCAPES = {
    "triple-double": '"""+str({P})+"""',
    "padded-triple-double": "." * 40 + '"""+str({P})+"""',
    "padded-triple-single": "." * 40 + "'''+str({P})+'''",
    "triple-single": "'''+str({P})+'''",
    "double": '"+str({P})+"',
    "single": "'+str({P})+'",
    "escaped-double": '\\"+str({P})+\\"',
    "escaped-triple": '\\"""+str({P})+\\"""',
    "cr-module": "\r{P}\r",
    "cr-class": "\r    {P}\r",
    "cr-method": "\r        {P}\r",
    "cr-backslash": "\\\r{P}\r",
    "braces": "{{{P}}} {{0}} %s",
}

#: The same through a newline: only a path can hold one (a spec comment ends there).
NEWLINE_ESCAPES = {
    "nl-module": "\n{P}\n",
    "nl-class": "\n    {P}\n",
    "nl-method": "\n        {P}\n",
    "crlf-module": "\r\n{P}\r\n",
}

#: Text that has made compile fail, or would reach a terminal or an editor raw.
BREAKERS = {
    "windows-path": "C:\\Users\\me\\new\\x41 \\N{BULLET} \\u12",
    "backslash-end": "ends in a backslash \\",
    "form-feed": "a\x0cb\x0bc",
    "line-separators": "a\u2028b\u2029c\x85d\x1ce",
    "bidi": "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069 admin",
    "terminal-escape": "\x1b[2J\x1b]0;owned\x07\x1b[31m",
    "non-utf8": "caf\udce9 \udcff",
    "nul": "a\x00b",
    "quotes-only": "\"\"\" ''' \" ' ` \\",
}

#: Names a spec may try for a model, block, parameter, constant or label: Python's
#: keywords and builtins, the generated file's own names, dunders, role names
#: (`conv1`) and names equal to the model's or a block's.
NAMES = ("self", "x", "torch", "nn", "F", "super", "__class__", "__import__", "exec",
         "None", "class", "lambda", "match", "type", "_", "in_channels", "forward",
         "training", "main", "cnndsl", "Net", "B", "conv1", "Conv1", "relu1", "fc1", "int",
         "SPEC", "PWNED")


def _skeleton(comment: str) -> dict[str, str]:
    """The spec pieces, with a `# HOLE` comment at `comment` (a slot name) only."""
    def at(slot: str) -> str:
        return f"  # {HOLE}" if slot == comment else ""

    def line(slot: str) -> str:
        return f"# {HOLE}\n" if slot == comment else ""

    return {
        "head": f"{line('first-line')}model Net\ninput 1x8x8{at('end-of-line')}\n",
        "block": (f"{line('before-block')}block B(c=4) {{\n    conv c k3 p1{at('in-block')}\n"
                  f"    -> relu\n}}{at('after-block')}\n"),
        # the multi-line call first: the first use of a block is the one its class quotes
        "body": (f"B({at('in-call-open')}\n    c=4,{at('between-args')}\n)\n"
                 f"-> B(4){at('after-call')}\n"
                 f"-> concat(\n    conv 2 k1,{at('in-concat')}\n    conv 2 k3 p1,\n)"
                 f" ->{at('after-arrow')}\nfc 2\n"),
    }


COMMENT_SLOTS = ("first-line", "end-of-line", "before-block", "in-block", "after-block",
                 "after-call", "in-call-open", "between-args", "in-concat", "after-arrow")


def _join(parts: dict[str, str]) -> str:
    return parts["head"] + parts["block"] + parts["body"]


def comment_spec(slot: str) -> str:
    """The standard spec with one comment holding the hole, at `slot`."""
    return _join(_skeleton(slot))


#: Specs where the hole is a name; a hole that is not an identifier is a syntax error.
NAME_SPECS = {
    "model-name": f"model {HOLE}\ninput 1x8x8\nconv 4 k3 -> relu -> fc 2\n",
    "block-name": (f"model Net\ninput 1x8x8\nblock {HOLE}(c=4) {{ conv c k3 p1 -> relu }}\n"
                   f"{HOLE}(4) -> {HOLE}(2) -> fc 2\n"),
    "param-name": (f"model Net\ninput 1x8x8\nblock B({HOLE}=4) {{ conv {HOLE} k3 p1 -> relu }}\n"
                   "B(4) -> B() -> fc 2\n"),
    "block-after-convs": (f"model Net\ninput 1x8x8\nblock {HOLE}(c=4) {{ conv c k3 p1 }}\n"
                          f"(conv 4 k3 p1) * 11 -> {HOLE}(4) -> relu -> fc 2\n"),
    "constant-name": f"model Net\ninput 1x8x8\nlet {HOLE} = 4\nconv {HOLE} k3 -> relu -> fc 2\n",
    "label": (f"model Net\ninput 1x8x8\n"
              f"conv 4 k3 p1 as {HOLE} -> concat(@{HOLE}, identity) -> fc 2\n"),
}

#: The spec stored under a hostile file or directory name; no `model` line, so the
#: class name is made from the file name.
PATH_SPEC = "input 1x8x8\nblock B(c=4) { conv c k3 p1 -> relu }\nB(4) -> fc 2\n"
PATH_SLOTS = ("file-name", "dir-name")


def spec_path(slot: str, text: str) -> str:
    """The relative path of a spec whose file (or directory) name holds `text`."""
    return f"{text}.cnn" if slot == "file-name" else f"{text}/spec.cnn"


def blocks_of(position: str, text: str) -> set[str]:
    """The block names a position's spec declares."""
    return {text} if position in ("block-name", "block-after-convs") else {"B"}


def expected_model(position: str, text: str) -> str | None:
    """The model class name the spec asks for (None: made from the file name)."""
    if position in PATH_SLOTS:
        return None
    # spaces, tabs and form feeds around a word only separate it (the grammar ignores them)
    return text.strip("\t \f") if position == "model-name" else "Net"


@dataclass(frozen=True)
class Case:
    """One hostile input: where the text goes, what it is, and its proof file."""

    id: str
    position: str
    text: str

    @property
    def proof(self) -> str:
        return _proof(self.id)

    @property
    def is_path(self) -> bool:
        return self.position in PATH_SLOTS

    def spec(self) -> str:
        """The spec text (a path position keeps the text in the path instead)."""
        if self.is_path:
            return PATH_SPEC
        if self.position in NAME_SPECS:
            return NAME_SPECS[self.position].replace(HOLE, self.text)
        return comment_spec(self.position).replace(HOLE, self.text)

    def path(self) -> str:
        return spec_path(self.position, self.text) if self.is_path else "spec.cnn"


def cases() -> list[Case]:
    """The sweep: every position with every escape (payloads) and breaker."""
    out = []
    for slot in COMMENT_SLOTS + PATH_SLOTS:
        families = dict(ESCAPES, **BREAKERS)
        if slot in PATH_SLOTS:
            families.update(NEWLINE_ESCAPES)
            del families["nul"]          # no file system takes a NUL in a name
        for family, template in families.items():
            case_id = f"{slot}-{family}"
            out.append(Case(case_id, slot, template.replace("{P}", touch(_proof(case_id)))))
    for position in NAME_SPECS:
        out += [Case(f"{position}-{name}", position, name) for name in NAMES]
    return out


def _proof(case_id: str) -> str:
    return "proof_" + case_id.replace("-", "_")
