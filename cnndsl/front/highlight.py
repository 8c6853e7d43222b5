"""A Pygments lexer for `.cnn` specs, registered as `cnn` (entry point
`pygments.lexers`), so MkDocs, Sphinx and other Pygments users highlight specs.

Pygments is imported here only: `import cnndsl` never needs it. The layer words,
aliases, combinators and keywords come from the layer registry, so a word added
there is highlighted without an edit here.

>>> from pygments import highlight
>>> from pygments.formatters import NullFormatter
>>> print(highlight("conv 6 k5 -> relu", CnnLexer(), NullFormatter()), end="")
conv 6 k5 -> relu
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

from cnndsl.ir.layers import COMBINATORS, KEYWORDS, layer_words

#: Words the language is growing (conditions, `allow`, functions); harmless before then.
_MORE_KEYWORDS = ("if", "else", "and", "or", "not", "allow")
_FUNCTIONS = ("min", "max", "round", "floor", "ceil", "divisible")
_END = r"(?![A-Za-z0-9_])"


class CnnLexer(RegexLexer):
    """The `.cnn` language of cnndsl: declarative convolutional networks."""

    name = "cnn"
    aliases = ["cnn", "cnndsl"]
    filenames = ["*.cnn"]
    mimetypes = ["text/x-cnndsl"]

    tokens = {
        "root": [
            (r"[ \t\f]+", Whitespace),
            (r"\\?\r?\n", Whitespace),
            (r"#[^\n]*", Comment.Single),
            # a training data path: `data folder ./imgs`, or a quoted one
            (r"(folder|segmentation)([ \t]+)((?:\.\.?|~)?/[^\s#{}\"]*)",
             bygroups(Name, Whitespace, String)),
            (r'"[^"\n]*"', String),
            (r"([A-Za-z_][A-Za-z0-9_]*)([ \t]*)(=)(?!=)",
             bygroups(Name.Attribute, Whitespace, Operator)),         # a long option: kernel=
            (words(sorted(KEYWORDS) + list(_MORE_KEYWORDS), suffix=_END), Keyword),
            (words(COMBINATORS, suffix=r"(?=[ \t]*\()"), Keyword),
            (words(_FUNCTIONS, suffix=r"(?=\()"), Name.Function),
            (words(sorted(layer_words(), key=len, reverse=True), suffix=_END), Name.Builtin),
            (r"@[A-Za-z_][A-Za-z0-9_]*", Name.Label),
            (r"[0-9]+(?:x[0-9]+)+" + _END, Number),
            (r"[0-9]+(?:\.[0-9]+)?[kMG]" + _END, Number),
            (r"[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+"
             r"|\.[0-9]+(?:[eE][-+]?[0-9]+)?", Number.Float),
            (r"[0-9]+", Number.Integer),
            (r"[a-z][0-9]+(?:x[0-9]+)*" + _END, Name.Attribute),      # a short flag: k5, s2
            (r"[A-Z][A-Za-z0-9_]*", Name.Class),                      # a block or model name
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"->|//|==|!=|<=|>=|[-+*/%<>=]", Operator),
            (r"[(){},]", Punctuation),
        ],
    }
