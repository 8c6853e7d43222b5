"""`python -m cnndsl ...` (and `torchrun -m cnndsl train ...`)."""

from cnndsl.cli import main

raise SystemExit(main())
