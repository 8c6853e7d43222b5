"""The intermediate representation the passes build and the back ends read.

`nodes` (the resolved, annotated network), `expr` (symbolic values), `layers` (the
registry of layer words), `training` (the train section and a run's settings),
`arithmetic` (a layer's arithmetic written out), shapes and window arithmetic.
"""
