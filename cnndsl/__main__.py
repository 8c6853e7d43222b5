"""`python -m cnndsl ...` (and `torchrun -m cnndsl train ...`)."""

from cnndsl.cli import run

run()
