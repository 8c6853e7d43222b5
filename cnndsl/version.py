"""cnndsl's version, in a module of its own that imports nothing: the CLI, the
emitter and run records read it without importing the package root."""

__version__ = "0.1.0"
