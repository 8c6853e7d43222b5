"""The front end: `.cnn` text to a syntax tree with spans.

`source` (files, spans, line:column), `parser` (Lark, one Transformer, errors in the
language's words), `syntax` (the tree as written), `habits` (what newcomers bring
from PyTorch and Keras), `highlight` (the Pygments lexer the docs use).
"""
