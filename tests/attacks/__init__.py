"""Hostile inputs and the harness that runs cnndsl on them (tests/test_security*.py)."""
