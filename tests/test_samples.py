"""Every sample log: every routing message is typed, headered logs have no unparsed record."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import SAMPLES
from tracelens.parse import events as ev
from tracelens.parse import weblogic_parser
from tracelens.parse.parser import parse_records
from tracelens.read.reader import ReadStats, read_records
from tracelens.read.weblogic import System, detect, read_weblogic_records

# Records that carry no routing meaning and stay generic `message` records: select() diagnostics
# during a non-blocking connect (CNB).
NOT_ROUTING = {"errno 0", "RET 0", "READ SET 0", "WRITE SET 0", "EXCEPT SET 0"}

LOGS = sorted(p.name for p in SAMPLES.glob("*.log"))


def parsed(name: str) -> tuple[list[ev.Event], ReadStats]:
    stats = ReadStats()
    path = str(SAMPLES / name)
    if detect(path) is System.WEBLOGIC:  # a WebLogic proxy plug-in log: its own grammar
        return list(weblogic_parser.parse_records(read_weblogic_records([path], stats))), stats
    lenient = name.startswith("real-03")  # the only header-less documentation excerpt
    events = list(parse_records(read_records([path], stats, lenient=lenient), lenient=lenient))
    return events, stats


@pytest.mark.parametrize("name", LOGS)
def test_every_record_typed_and_accounted_for(name: str) -> None:
    events, stats = parsed(name)
    kinds = Counter(e.kind for e in events)
    assert kinds["unparsed"] == 0
    generic = [e for e in events if isinstance(e, ev.Message)]
    assert all(e.text in NOT_ROUTING for e in generic), [(e.line, e.text) for e in generic]
    assert len(events) == stats.expected_records


def test_both_timestamp_styles_of_the_failover_trace_give_the_same_events() -> None:
    a, _ = parsed("failover-failback.log")
    b, _ = parsed("failover-failback-85.log")
    strip = lambda e: {k: v for k, v in e.to_dict().items() if k not in ("file", "time")}  # noqa: E731
    assert [strip(e) for e in a] == [strip(e) for e in b]
    assert all(x.time is not None and y.time is not None and x.time.replace(microsecond=0) == y.time.replace(
        microsecond=0) for x, y in zip(a, b, strict=True))
