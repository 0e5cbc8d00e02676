"""Shared test helpers: the sample logs, and the CLI run as a user runs it."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from tracelens.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # reporters are tested at a fixed width without colour
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("TRACELENS_DEBUG", raising=False)


@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def _entry(args: tuple[str, ...]) -> None:
    """The real entry point (one-line errors, exit codes) inside click's runner."""
    os.environ["TRACELENS_DEBUG"] = "1"  # an unexpected exception fails the test instead of becoming a line
    try:
        code = main(list(args))
    finally:
        del os.environ["TRACELENS_DEBUG"]
    raise SystemExit(int(code))


def run_cli(*args: str, input: bytes | str | None = None) -> Result:
    """Run ``tracelens ARGS`` and capture stdout, stderr and the exit code."""
    return CliRunner().invoke(_entry, list(args), input=input, catch_exceptions=False)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p
