"""`cnndsl import`: a PyTorch module -> a `.cnn` spec and a state dict keyed for it.

>>> from cnndsl.importer import import_module
>>> imported = import_module(net, [(3, 224, 224)])   # doctest: +SKIP
>>> print(imported.text)                              # doctest: +SKIP
"""

from cnndsl.importer.pipeline import Imported, import_module, import_target
from cnndsl.importer.unsupported import Unsupported

__all__ = ["Imported", "Unsupported", "import_module", "import_target"]
