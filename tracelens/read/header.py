"""Read stage: what a record header is (``[timestamp] pid tid - ``), defined once for every stage.

The reader finds record boundaries by their header (a physical line may hold several records, §1.4
of the facts), so the header belongs to this stage; the grammar takes its header terminals from
here (:func:`tracelens.parse.grammar.grammar_text` appends :data:`TERMINALS` to the ``.lark`` file),
and the fast regular expressions of the later stages fill the same :func:`header_layout` with looser
pieces. Nothing here imports a later stage.
"""

from __future__ import annotations

import re
from datetime import datetime

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}

# NOTE: these are written as the grammar writes a /regex/ terminal (``\/`` for a slash), because they
# are appended to the grammar as such: lark then hands back exactly these strings as the terminals'
# regular expressions, and Python's re reads ``\/`` as ``/``.

#: ``Wed Dec 03 15:40:13 2014`` or, space-padded, ``Wed Oct  6 13:51:03 2010`` (§1.1 A, A')
ASCTIME = (
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"[ 0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}"
)
#: ``11/Sep/2017:18:43:58.84049`` (§1.1 B: five fractional digits; up to six accepted, none too)
CLFTIME = (
    r"[0-3][0-9]\/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/[0-9]{4}:"
    r"[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,6})?"
)
#: pid and tid: hex, 1 to 16 digits (§1.1 notes); decimal on IBM i, after the job name (§1.1 C)
PROCID = r"[0-9A-Fa-f]{1,16}(?![0-9A-Za-z])"
IBMI_JOB = r"[0-9]{1,10}\/[A-Za-z0-9_#@$]{1,10}\/[A-Za-z0-9_#@$]{1,10}"
#: the level word that starts a record's text (§1.2; WARNING and WARN are [U]: accepted, never required)
LEVEL = r"(?:TRACE|STATS|ERROR|WARNING|WARN|DEBUG|DETAIL|PLUGIN)(?=:)"
#: ``component: function: message`` needs both colons; ``Set-Cookie: a=b`` and ``Bld version: 5.1.`` do not
COMPONENT = r"[A-Za-z_][A-Za-z0-9_.]*(?=: [^\s:]+: ?)"

#: The grammar's terminals that this module defines: ``(name as the grammar writes it, regex)``.
#: COMPONENT takes priority 2 over the grammar's other terminals (a message's function would else win).
TERMINALS = (
    ("ASCTIME", ASCTIME),
    ("CLFTIME", CLFTIME),
    ("PROCID", PROCID),
    ("IBMI_JOB", IBMI_JOB),
    ("LEVEL", LEVEL),
    ("COMPONENT.2", COMPONENT),
)


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
