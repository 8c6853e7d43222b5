"""Diagnostics: what the checker says, and how.

`diagnostic` (the data, its text and JSON renderers), `codes` (the registry of
codes and explanations), `suggest` (did you mean), `fix` (applying exact fixes).
"""
