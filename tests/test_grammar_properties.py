"""Property tests: generated headers and bodies parse to the event and values they were built from."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tracelens.parse import events as ev
from tracelens.parse.parser import RecordParser
from tracelens.read.reader import RawRecord

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

times = st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2038, 1, 1))
hexid = st.text("0123456789abcdefABCDEF", min_size=1, max_size=16)
# member names as administrators write them, including non-ASCII letters
names = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.éßü中"), min_size=1, max_size=40
)
clone_ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=12)
ints = st.integers(min_value=-(10**12), max_value=10**12)
counts = st.integers(min_value=0, max_value=10**12)


@st.composite
def headers(draw: st.DrawFn) -> tuple[str, datetime, str, str]:
    t = draw(times)
    pid, tid = draw(hexid), draw(hexid)
    style = draw(st.sampled_from(["asctime0", "asctime_space", "clf"]))
    if style == "clf":
        digits = draw(st.integers(min_value=0, max_value=6))
        frac = f"{t.microsecond:06d}"[:digits]
        stamp = f"{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S}" + (f".{frac}" if digits else "")
        expected = t.replace(microsecond=int(frac.ljust(6, "0")) if digits else 0)
    else:
        day = f"{t.day:02d}" if style == "asctime0" else f"{t.day:>2}"
        stamp = f"{DAYS[t.weekday()]} {MONTHS[t.month - 1]} {day} {t:%H:%M:%S} {t.year}"
        expected = t.replace(microsecond=0)
    return f"[{stamp}] {pid} {tid} - ", expected, pid, tid


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, type[ev.Event], dict[str, object]]:
    """A body from a real message text with generated slot values, and what it must parse to."""
    name = draw(names)
    kind = draw(st.integers(min_value=0, max_value=9))
    if kind == 0:
        md, rn, wlb = draw(st.integers(0, 1)), draw(st.integers(0, 1)), draw(ints)
        retry = draw(st.one_of(st.none(), ints))
        reached = draw(st.one_of(st.none(), st.integers(0, 1)))
        text = f"Checking status of {name}, ignoreWeights 1, markedDown {md}, retryNow {rn}"
        text += f", retryInSec {'--' if retry is None else retry}" if draw(st.booleans()) or retry is not None else ""
        text += f", wlbAllows {wlb}" + ("" if reached is None else f" reachedMaxConnectionsLimit {reached}")
        return (f"STATS: ws_server_group: serverGroupCheckServerStatus: {text}", ev.StatusCheck,
                {"server": name, "marked_down": md, "retry_now": rn, "retry_in_sec": retry, "wlb_allows": wlb,
                 "reached_max_connections": reached})
    if kind == 1:
        n = draw(ints)
        return (f"TRACE: ws_server_group: serverGroupCheckServerStatus: Server {name} is marked down; retry in {n}",
                ev.MarkedDownRetry, {"server": name, "retry_in": n})
    if kind == 2:
        p, f, a, t = (draw(counts) for _ in range(4))
        keys = draw(st.sampled_from(["Requests", "Connections"]))
        return (f"STATS: ws_server: serverSetFailoverStatus: Server {name} : pending{keys} {p} failed{keys} {f} "
                f"affinity{keys} {a} total{keys} {t}.", ev.ServerStats,
                {"server": name, "pending": p, "failed": f, "affinity": a, "total": t})
    if kind == 3:
        w = draw(ints)
        return (f"TRACE: ws_server_group: lockedServerGroupUseServer: Server {name} picked, weight {w}.",
                ev.ServerPicked, {"server": name, "weight": w})
    if kind == 4:
        return (f"ERROR: ws_server: serverSetFailoverStatus: Marking {name} down", ev.MarkedDown, {"server": name})
    if kind == 5:
        session = draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=23,
                               max_size=23))
        clones = draw(st.lists(clone_ids, min_size=1, max_size=4))
        value = "0001" + session + "".join(":" + c for c in clones)
        return (f"TRACE: lib_htrequest: htrequestGetCookieValue: name='JSESSIONID', value='{value}'", ev.CookieValue,
                {"name": "JSESSIONID", "value": value})
    if kind == 6:
        a, b = draw(clone_ids), draw(clone_ids)
        return (f"TRACE: ws_server_group: serverGroupFindClone: Comparing curCloneID '{a}' to server clone id '{b}'",
                ev.CloneCompare, {"cookie_clone_id": a, "server_clone_id": b})
    if kind == 7:
        host = draw(names)
        err = draw(counts)
        return (f"ERROR: ws_common: websphereGetStream: Failed to connect to app server on host '{host}', OS err={err}",
                ev.ConnectFailed, {"host": host, "errno": err, "local_port": None})
    if kind == 8:
        host = draw(names)
        return (f"ERROR: ws_common: websphereHandleRequest: Failed to execute the transaction to '{name}'on host "
                f"'{host}'; will try another one", ev.TransactionFailed, {"server": name, "host": host})
    status = draw(st.integers(100, 599))
    return (f"TRACE:    HTTP/1.1 {status} Whatever Reason", ev.ResponseStatus, {"status": status})


PARSER = RecordParser()


@settings(max_examples=300, deadline=None)
@given(headers(), bodies())
def test_generated_records_parse_to_their_event(header: tuple[str, datetime, str, str],
                                                body: tuple[str, type[ev.Event], dict[str, object]]) -> None:
    text_header, time, pid, tid = header
    text_body, cls, fields = body
    event = PARSER.parse(RawRecord("gen.log", 1, text_header + text_body))
    assert type(event) is cls, event
    assert (event.time, event.pid, event.tid) == (time, pid, tid)
    for name, value in fields.items():
        assert getattr(event, name) == value, name


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_becomes_an_event_and_never_raises(text: str) -> None:
    event = PARSER.parse(RawRecord("gen.log", 1, text))
    assert isinstance(event, ev.Event)
    if isinstance(event, ev.Unparsed):
        assert event.reason and event.text == text
