"""CLI commands that live in modules of their own; each registers itself on ``tracelens.cli.cli``."""
