"""CLI: ``tracelens config FILE``, a ``--config`` file as tracelens reads it, each value with where it came from."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from tracelens.commands.options import Format, format_option, output_options
from tracelens.commands.output import Command

if TYPE_CHECKING:
    from tracelens.config.files import AnyConfig


def _text(cfg: AnyConfig) -> None:
    from tracelens.reporters.config_view import config_text

    config_text(cfg, sys.stdout)


def _json(cfg: AnyConfig) -> None:
    from tracelens.reporters.config_view import config_json

    config_json(cfg, sys.stdout)


WRITERS: dict[Format, Callable[[AnyConfig], None]] = {Format.TEXT: _text, Format.JSON: _json}


@click.command("config", cls=Command)
@click.argument("file", metavar="FILE", type=click.Path())
@format_option(WRITERS, Format.TEXT, "Blocks for reading, or one JSON object (schema_version 1).")
@output_options
def config_command(file: str, fmt: Format) -> None:
    """A --config file as tracelens reads it: WebLogic settings per location, or plugin-cfg.xml clusters.

    Each WebLogic value shows where it came from (file:line, or default); values the plug-in would not
    take are listed as problems. The kind of file is told by content.
    """
    from tracelens.config.files import load_any_config

    WRITERS[fmt](load_any_config(file))
