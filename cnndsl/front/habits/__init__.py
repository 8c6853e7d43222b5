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

from cnndsl.front.habits.foreign import BARE_WORDS, FOREIGN, KERAS, PYTORCH, Foreign, candidates
from cnndsl.front.habits.pasted import (
           MAX_CALL,
           MAX_CALLS,
           MAX_TRIES,
           Translation,
           call_at,
           pasted_call,
           pasted_calls,
           translate,
)
from cnndsl.front.habits.reading import MAX_DIGITS, Unreadable, read_arguments
from cnndsl.front.habits.words import bare_number, bare_word, option_apart

__all__ = ["BARE_WORDS", "FOREIGN", "KERAS", "MAX_CALL", "MAX_CALLS", "MAX_DIGITS", "MAX_TRIES",
           "PYTORCH", "Foreign", "Translation", "Unreadable", "bare_number", "bare_word",
           "call_at", "candidates", "option_apart", "pasted_call", "pasted_calls",
           "read_arguments", "translate"]
