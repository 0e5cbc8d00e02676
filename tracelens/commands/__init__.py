"""CLI commands, one module each; ``tracelens.cli`` adds them to its group (they never import it)."""
