"""Habits newcomers bring from PyTorch and Keras, answered in the language's words.

A pasted layer call (`nn.Conv2d(1, 8, 3, padding=1)`, `Conv2D(8, 3, activation="relu")`)
is read by a small, bounded reader of its own (numbers, tuples, strings, `True`), and
translated exactly (`conv 8 k3 p1`) where cnndsl has the same layer with the same
settings; that translation is the diagnostic's help and its fix. Where there is no exact
translation (Keras's `padding="same"` at stride 2, `nn.Dropout2d`), the cnndsl word is
named, with the reason, and nothing is fixed. A bare foreign word (`dense 10`, `max 2`,
`MaxPooling2D`) is named by its cnndsl word.

One module per step: `reading` (the call's arguments), `values` (as cnndsl writes them),
`translations` (one per family of layers), `foreign` (the table of foreign layers, as data),
`pasted` (finding and reporting pasted calls), `words` (bare words, numbers, options).
"""

import importlib

#: each name's module. They are imported when a name is first asked for: the habits
#: answer mistakes, so checking a correct spec (which imports this package) reads none
#: of their tables (~8 ms of start-up)
_HOMES = {
    "pasted": ("MAX_CALL", "MAX_CALLS", "MAX_TRIES", "Translation", "call_at", "pasted_call",
               "pasted_calls", "translate"),
    "reading": ("MAX_DIGITS", "Unreadable", "read_arguments"),
    "foreign": ("BARE_WORDS", "FOREIGN", "KERAS", "PYTORCH", "Foreign", "candidates"),
    "words": ("bare_number", "bare_word", "option_apart"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__all__ = ["BARE_WORDS", "FOREIGN", "KERAS", "MAX_CALL", "MAX_CALLS", "MAX_DIGITS", "MAX_TRIES",
           "PYTORCH", "Foreign", "Translation", "Unreadable", "bare_number", "bare_word",
           "call_at", "candidates", "option_apart", "pasted_call", "pasted_calls",
           "read_arguments", "translate"]
