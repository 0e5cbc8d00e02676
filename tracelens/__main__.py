"""``python -m tracelens``."""

from tracelens.cli import run

run()
