"""The passes of the checker, each a pure function returning a value and diagnostics:

`resolve` (syntax tree -> network), `infer` (network -> per-layer figures),
`lint` (warnings and assertions).
"""
