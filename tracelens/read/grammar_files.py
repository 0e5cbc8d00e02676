"""Read stage: the grammar files shipped with tracelens (``grammars/*.lark``), found and read once.

The parse stage builds its parser from their text and this stage splits records by the header terminals
of ``grammars/header.lark``; neither reads a file itself (only read, config and the reporters touch files).
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

#: the grammar of a line; it imports the header's terminals from :data:`HEADER_GRAMMAR`
MAIN_GRAMMAR = "plugin_log.lark"
#: the record header's terminals, shared by the grammar and the reader
HEADER_GRAMMAR = "header.lark"
#: the ``%override`` lines appended to :data:`MAIN_GRAMMAR` under ``--lenient``
LENIENT_GRAMMAR = "lenient.lark"


def grammar_path(name: str = MAIN_GRAMMAR) -> Path:
    """Where the grammar is: inside the installed package (wheel) or beside it (checkout, editable)."""
    packaged = resources.files("tracelens").joinpath("grammars").joinpath(name)
    if packaged.is_file():
        return Path(str(packaged))
    in_checkout = Path(__file__).resolve().parents[2] / "grammars" / name
    if in_checkout.is_file():
        return in_checkout
    raise FileNotFoundError(f"the grammar {name} is not installed with tracelens")


@functools.cache
def grammar_source(name: str) -> str:
    """The text of the shipped grammar ``name``."""
    return grammar_path(name).read_text(encoding="utf-8")
