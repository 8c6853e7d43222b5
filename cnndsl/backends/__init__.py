"""The back ends: each reads the checked, annotated network and writes one thing.

`pytorch` (generated code; compile, build, load), `diagram` (Graphviz), `tikz`,
`table` (the summary table as text, HTML, JSON, Markdown, CSV, LaTeX), `query`
(a position's layer and arithmetic), `export` (ONNX, TorchScript,
ExportedProgram), `cnn` (the `.cnn` printer behind `cnndsl fmt`).
"""
