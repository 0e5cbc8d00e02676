"""Read stage: what a record header is (``[timestamp] pid tid - ``), defined once for every stage.

The reader finds record boundaries by their header (a physical line may hold several records, §1.4
of the facts), so the header belongs to this stage. Its terminals are written once, in
``grammars/header.lark``: the grammar imports them (``%import .header``), this module reads the same
definitions, and the fast regular expressions of the later stages fill the same :func:`header_layout`
with looser pieces. Nothing here imports a later stage.
"""

from __future__ import annotations

import re
from datetime import datetime

from tracelens.read.grammar_files import HEADER_GRAMMAR, grammar_source

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}

#: A terminal definition of ``grammars/header.lark``: ``NAME: /regex/`` or ``NAME.PRIORITY: /regex/``.
_DEFINITION = re.compile(r"(?P<name>[A-Z_]+(?:\.[0-9]+)?): /(?P<regex>.+)/")


def terminal_definitions(text: str) -> tuple[tuple[str, str], ...]:
    """The terminals a grammar of one-line regex definitions defines: ``(name as written, regex)``.

    Raises ValueError on any other line but a comment or a blank one, so that a definition the reader
    cannot take is never silently left to the grammar alone.
    """
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        match = _DEFINITION.fullmatch(stripped)
        if match is None:
            raise ValueError(f"{HEADER_GRAMMAR}:{number}: not a one-line /regex/ terminal: {stripped}")
        out.append((match["name"], match["regex"]))
    return tuple(out)


# NOTE: the regular expressions are read from grammars/header.lark, which plugin_log.lark imports: one
# definition for the reader and the grammar. They keep the grammar's spelling (``\/`` for a slash): lark
# hands back exactly these strings as the terminals' regular expressions, and Python's re reads ``\/``
# as ``/``. A line-by-line reading, not lark's grammar loader, because that builds lark's own parser of
# grammars at every start (a quarter of a second); tests/test_grammar.py checks the two readings agree.

#: The grammar's terminals that ``grammars/header.lark`` defines: ``(name as the grammar writes it, regex)``.
#: COMPONENT takes priority 2 over the grammar's other terminals (a message's function would else win).
TERMINALS = terminal_definitions(grammar_source(HEADER_GRAMMAR))
_REGEX = {name.partition(".")[0]: regex for name, regex in TERMINALS}

#: ``Wed Dec 03 15:40:13 2014`` or, space-padded, ``Wed Oct  6 13:51:03 2010`` (§1.1 A, A')
ASCTIME = _REGEX["ASCTIME"]
#: ``11/Sep/2017:18:43:58.84049`` (§1.1 B: five fractional digits; up to six accepted, none too)
CLFTIME = _REGEX["CLFTIME"]
#: pid and tid: hex, 1 to 16 digits (§1.1 notes); decimal on IBM i, after the job name (§1.1 C)
PROCID = _REGEX["PROCID"]
IBMI_JOB = _REGEX["IBMI_JOB"]
#: the level word that starts a record's text (§1.2)
LEVEL = _REGEX["LEVEL"]
#: ``component: function: message`` needs both colons; ``Set-Cookie: a=b`` and ``Bld version: 5.1.`` do not
COMPONENT = _REGEX["COMPONENT"]


def header_layout(stamp: str, process: str, thread: str) -> str:
    """The header's layout, ``[stamp] process thread - ``, around three regex pieces.

    The one place that says what a header looks like: :data:`HEADER` fills it with the exact terminals,
    the bulk parser and the job planner with loose, fast pieces whose values are checked afterwards.
    """
    return rf"\[{stamp}\] {process} {thread} - "


#: A record header with the exact terminals: what splits a physical line holding several records.
HEADER = re.compile(header_layout(f"(?:{ASCTIME}|{CLFTIME})", f"(?:{IBMI_JOB} )?{PROCID}", PROCID))

#: What starts a record in a header-less excerpt: a header, a level word, or ``component: function: ``.
RECORD_START = re.compile(rf"(?:{HEADER.pattern}|{LEVEL}:|{COMPONENT}: )")


def asctime(text: str) -> datetime:
    """``Wed Oct  6 13:51:03 2010`` -> datetime (the weekday is not checked: logs are not calendars)."""
    # NOTE: fixed offsets, because the ASCTIME terminal fixes the layout.
    return datetime(
        int(text[20:24]),
        _MONTHS[text[4:7]],
        int(text[8:10]),
        int(text[11:13]),
        int(text[14:16]),
        int(text[17:19]),
    )


def clftime(text: str) -> datetime:
    """``11/Sep/2017:18:43:58.84049`` -> datetime with microseconds."""
    micro = 0
    if len(text) > 20:
        micro = int(text[21:].ljust(6, "0"))
    return datetime(
        int(text[7:11]),
        _MONTHS[text[3:6]],
        int(text[0:2]),
        int(text[12:14]),
        int(text[15:17]),
        int(text[18:20]),
        micro,
    )
