"""Reporters: the only stage, beside the CLI, that writes to the terminal or to files."""
