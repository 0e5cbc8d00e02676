"""Reporters: the analysis as pandas DataFrames with typed columns, one table per kind of record.

Every table types its columns the same way, so that it reads the same after a CSV, Parquet or JSON
lines export (``tracelens export``):

* times: ``datetime64[ns]``, naive, as the log wrote them (the web server's local time); NaT when the
  record has none.
* line numbers, counters, ports, status codes, indexes: ``Int64`` (nullable); <NA> when not logged.
  Durations in seconds: ``Float64``; flags: ``boolean``.
* closed vocabularies (verdict, severity, kind, level, the reason a member was marked down, ...):
  ``category`` whose categories are every value of the enum, so a table's dtypes do not depend on
  what one log happens to hold.
* free text (pids, tids, members, URIs, messages, the reason sentence of a verdict): ``string``.
* lists and nested records (clone_ids, attempts, evidence, cookie, ...): ``string`` holding JSON text,
  ``[]`` for an empty list. JSON text comes back unchanged from CSV, Parquet and JSON lines alike,
  where a Python list would come back from a CSV as its repr; ``frame["clone_ids"].map(json.loads)``
  gives the lists.

Column names are the keys of the JSON reporters (:mod:`tracelens.reporters.shapes`): one shape per
record, whatever the format.
pandas is imported here and nowhere else in tracelens; callers import this module when they need it.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeAlias, Union

from tracelens.errors import TABLES_EXTRA

try:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # typed only with pandas-stubs
except ImportError as exc:  # the `tables` extra is not installed
    raise ModuleNotFoundError(f"the tables need pandas and pyarrow: {TABLES_EXTRA}", name="pandas") from exc

from tracelens.findings.base import Severity
from tracelens.parse import events as ev
from tracelens.reporters.shapes import finding_dict, interval_dict, member_dict, process_keys, request_dict
from tracelens.requests.cookies import CookieOutcome
from tracelens.routing.replay import RequestVerdict, Verdict
from tracelens.state.members import DownReason, EndReason, MemberState

if TYPE_CHECKING:
    from tracelens.report import Report

TEXT = "string"
INT = "Int64"
FLOAT = "Float64"
BOOL = "boolean"
TIME = "datetime64[ns]"
JSON = "json"  # a string column of JSON text
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _category(vocabulary: type[enum.Enum] | Iterable[str]) -> pd.CategoricalDtype:
    values = [m.value for m in vocabulary] if isinstance(vocabulary, type) else list(vocabulary)
    return pd.CategoricalDtype(values)


Column: TypeAlias = "str | pd.CategoricalDtype"  # a dtype name, or the categories of a vocabulary
Schema: TypeAlias = Mapping[str, Column]

# ---------------------------------------------------------------- the schema of each table

_COMMON_EVENT_COLUMNS: dict[str, Column] = {
    "kind": _category(sorted(ev.event_kinds())),
    "file": TEXT,
    "line": INT,
    "time": TIME,
    "pid": TEXT,
    "tid": TEXT,
    "level": _category(ev.Level),
    "component": TEXT,
    "function": TEXT,
}


def _column_of(hint: Any) -> Column:
    """The column type of an event field, from its annotation (``X | None`` is a nullable X)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return _column_of(args[0])
    if hint is bool:
        return BOOL
    if hint is int:
        return INT
    if hint is str:
        return TEXT
    if hint is datetime:
        return TIME
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _category(hint)
    if typing.get_origin(hint) is tuple:
        return JSON
    raise TypeError(f"no column type for an event field of type {hint!r}")


def _event_schema() -> dict[str, Column]:
    # every field of every event kind is a column: one fixed schema for any log, so that a streamed
    # export writes each chunk with the same columns and types (Parquet requires it)
    schema = dict(_COMMON_EVENT_COLUMNS)
    for _, cls in sorted(ev.event_kinds().items()):
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            column = _column_of(hints[f.name])
            if schema.setdefault(f.name, column) != column:
                raise TypeError(f"event field {f.name} has two types: {schema[f.name]} and {column}")
    return schema


EVENTS: dict[str, Column] = _event_schema()

_VERDICT_COLUMNS: dict[str, Column] = {
    "verdict": _category(Verdict),
    "reason": TEXT,
}

REQUESTS: dict[str, Column] = {
    "request_index": INT,  # position in the analysis's request list (sessions refer to it)
    "file": TEXT,
    "first_line": INT,
    "last_line": INT,
    "end_file": TEXT,  # a request a rotation cut: its lines above `offset` are in end_file, at line - offset
    "offset": INT,
    "time": TIME,
    "end": TIME,
    "duration_s": FLOAT,
    "web_server": TEXT,  # null when the analysis read one web server
    "pid": TEXT,
    "tid": TEXT,
    "partial": JSON,
    "method": TEXT,
    "uri": TEXT,
    "vhost": TEXT,
    "affinity_source": _category(ev.AffinitySource),
    "session_id": TEXT,
    "cookie": JSON,
    "cookie_line": INT,
    "clone_ids": JSON,
    "attempts": JSON,
    "served_by": TEXT,
    "status": INT,
    "set_cookie": JSON,
    "set_cookie_line": INT,
    "cookie_outcome": _category(CookieOutcome),
    "no_member_line": INT,
    "mark_downs": JSON,
    **_VERDICT_COLUMNS,
    "home": TEXT,  # the member of the cookie's first known clone ID
    "previous": TEXT,  # who served the session's previous request
    "expected": JSON,  # the members the routing model accepted
    "cluster": TEXT,
    "disagreements": JSON,
}

SESSIONS: dict[str, Column] = {
    "session_id": TEXT,
    "step": INT,  # 0, 1, ...: the request's position in its session, in time order
    "request_index": INT,
    "time": TIME,
    "web_server": TEXT,  # null when the analysis read one web server
    "pid": TEXT,
    "tid": TEXT,
    "file": TEXT,
    "line": INT,
    "served_by": TEXT,
    "clone_ids": JSON,
    **_VERDICT_COLUMNS,
}

FINDINGS: dict[str, Column] = {
    "code": TEXT,
    "name": TEXT,
    "severity": _category(Severity),
    "message": TEXT,
    "file": TEXT,
    "line": INT,
    "web_server": TEXT,  # null when the analysis read one web server
    "pid": TEXT,
    "member": TEXT,
    "session": TEXT,
    "evidence": JSON,
}

_COUNTERS = ("line", "pending", "failed", "affinity", "total", "non_affinity")

MEMBERS: dict[str, Column] = {
    "web_server": TEXT,  # null when the analysis read one web server
    "pid": TEXT,
    "member": TEXT,
    "state_at_end": _category(MemberState),
    "first_line": INT,
    "last_line": INT,
    "requests_served": INT,
    # the last STATS summary of the member in this process
    **{f"counters_{name}": INT for name in _COUNTERS},
    "counter_resets": JSON,
    "weights": JSON,
    "max_connections_reached_lines": JSON,
    # one down interval; all empty on the one row of a member never marked down
    "interval": INT,  # 0, 1, ...: the interval's position among the member's intervals
    "file": TEXT,
    "start": TIME,
    "line": INT,  # the mark-down (or first evidence of it)
    "reason": _category(DownReason),
    "reason_line": INT,
    "reason_file": TEXT,
    "end": TIME,
    "end_line": INT,
    "end_file": TEXT,
    "end_reason": _category(EndReason),
    "seconds": FLOAT,
    "retry_due": TIME,
    "retry_due_line": INT,
    "retry_due_file": TEXT,
    "countdowns": JSON,
    "failed_retries": JSON,
}

SCHEMAS: dict[str, Schema] = {
    "events": EVENTS, "requests": REQUESTS, "sessions": SESSIONS, "findings": FINDINGS, "members": MEMBERS,
}


def column_types(table: str) -> dict[str, str]:
    """Each column of ``table`` and its pandas dtype, as a string (``category``, ``Int64``, ...)."""
    return {name: "string" if c == JSON else str(c) for name, c in SCHEMAS[table].items()}


# ---------------------------------------------------------------- building a typed frame


def _typed(values: list[Any], column: Column, name: str) -> Any:
    if isinstance(column, pd.CategoricalDtype):
        unknown = {v for v in values if v is not None} - set(column.categories)
        if unknown:
            # pandas would turn them into NaN without a word
            raise ValueError(f"column {name}: {sorted(unknown)} not among its categories")
        return pd.Categorical(values, dtype=column)
    if column == TIME:
        # ISO text (the JSON shape of the records) or datetimes; pandas infers a unit, the schema says ns
        try:
            stamps = pd.to_datetime(values, format="ISO8601")
        except pd.errors.OutOfBoundsDatetime:
            # pandas before 3.0 converts to nanoseconds first and refuses such a year outright
            stamps = pd.to_datetime(values, format="ISO8601", errors="coerce")
        # NOTE: nanoseconds reach only the years 1677 to 2262; a damaged header can say 9999 or 0001,
        # which raised OutOfBoundsDatetime: such a time is NaT here (the JSON reports keep it)
        inside: Any = stamps.where((stamps >= pd.Timestamp.min) & (stamps <= pd.Timestamp.max))
        return inside.as_unit("ns")
    if column == JSON:
        texts = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        return pd.array(texts, dtype=TEXT)  # type: ignore[call-overload,unused-ignore]
    if column == INT:
        # NOTE: Int64 holds 64 bits; a log's numbers have up to 30 digits (`retry in N`), which raised
        # OverflowError: such a number is <NA> here (the JSON reports keep it)
        values = [None if isinstance(v, int) and not _INT64_MIN <= v <= _INT64_MAX else v for v in values]
    return pd.array(values, dtype=column)  # type: ignore[call-overload,unused-ignore]


def _frame(rows: Sequence[Mapping[str, Any]], schema: Schema) -> pd.DataFrame:
    """A DataFrame of ``rows`` with exactly the columns and dtypes of ``schema`` (missing keys: empty)."""
    return pd.DataFrame(
        {name: _typed([row.get(name) for row in rows], column, name) for name, column in schema.items()},
        index=pd.RangeIndex(len(rows)),
    )


# each event kind's fields, and whether the field holds an enum (whose column holds its value)
_EVENT_FIELDS: dict[type[ev.Event], tuple[tuple[str, bool], ...]] = {
    cls: tuple((f.name, isinstance(EVENTS[f.name], pd.CategoricalDtype)) for f in fields(cls))
    for cls in ev.event_kinds().values()
}


def events_frame(events: Iterable[ev.Event]) -> pd.DataFrame:
    """One row per record: the common fields, then every event kind's own fields (empty for other kinds).

    The cells are those of :meth:`Event.to_dict`; a column is filled straight from the events' fields,
    which is several times faster than going through one dict per event (the export streams millions).
    """
    batch = list(events)
    columns: dict[str, list[Any]] = {name: [None] * len(batch) for name in EVENTS}
    kinds = columns["kind"]
    for i, event in enumerate(batch):
        kinds[i] = event.kind
        for name, is_enum in _EVENT_FIELDS[type(event)]:
            value = getattr(event, name)
            columns[name][i] = value.value if is_enum and value is not None else value
    return pd.DataFrame(
        {name: _typed(columns[name], column, name) for name, column in EVENTS.items()},
        index=pd.RangeIndex(len(batch)),
    )


def _verdict_dict(v: RequestVerdict) -> dict[str, Any]:
    return {"verdict": v.verdict.value, "reason": v.reason, "home": v.home, "previous": v.previous,
            "expected": list(v.expected), "cluster": v.cluster, "disagreements": list(v.disagreements)}


def request_rows(report: Report) -> Iterator[dict[str, Any]]:
    """One row per request, in the analysis's order, with its verdict and the verdict's reason."""
    for i, (r, v) in enumerate(zip(report.requests, report.verdicts, strict=True)):
        yield {"request_index": i, **request_dict(r), **_verdict_dict(v)}


def session_rows(report: Report) -> Iterator[dict[str, Any]]:
    """One row per request of each session (sessions in order of their first request), with its verdict."""
    for s in report.sessions:
        for step, st in enumerate(s.steps):
            v = report.verdicts[st.index]
            yield {
                "session_id": s.session_id, "step": step, "request_index": st.index, "time": st.time,
                **process_keys(st.pid), "tid": st.tid, "file": st.file, "line": st.line, "served_by": st.served_by,
                "clone_ids": list(st.clone_ids), "verdict": v.verdict.value, "reason": v.reason,
            }


def finding_rows(report: Report) -> Iterator[dict[str, Any]]:
    """One row per finding, in the order the rules reported them."""
    return (finding_dict(f) for f in report.findings)


def member_rows(report: Report) -> Iterator[dict[str, Any]]:
    """One row per (pid, member, down interval); a member never marked down has one row, interval empty."""
    for key in sorted(report.tracker.members):
        rec = report.tracker.members[key]
        member = member_dict(rec)
        counters = member.pop("counters") or {}
        member.pop("down_intervals")
        member.update({f"counters_{name}": counters.get(name) for name in _COUNTERS})
        if not rec.intervals:
            yield member
        for n, iv in enumerate(rec.intervals):
            interval = interval_dict(iv)
            del interval["pid"], interval["member"]
            yield {**member, "interval": n, **interval}


#: Each analysis table: the rows of a report, and the columns they fill.
TABLE_ROWS: dict[str, tuple[Callable[[Report], Iterator[dict[str, Any]]], Schema]] = {
    "requests": (request_rows, REQUESTS), "sessions": (session_rows, SESSIONS),
    "findings": (finding_rows, FINDINGS), "members": (member_rows, MEMBERS),
}


def frames_of(report: Report, table: str, chunk: int) -> Iterator[pd.DataFrame]:
    """The rows of an analysis ``table`` as typed frames of at most ``chunk`` rows (none: no rows)."""
    rows, schema = TABLE_ROWS[table]
    it = rows(report)
    while batch := list(islice(it, chunk)):
        yield _frame(batch, schema)


def empty_table(table: str) -> pd.DataFrame:
    """An analysis ``table`` without rows: its columns and their types."""
    return _frame([], TABLE_ROWS[table][1])


def table_frame(report: Report, table: str) -> pd.DataFrame:
    """The whole analysis ``table`` as one typed frame."""
    rows, schema = TABLE_ROWS[table]
    return _frame(list(rows(report)), schema)
