"""The tables of the analysis: every table's columns, their Polars types and what each one means, in one place.

The analysis holds its per-line and per-request data as Arrow tables (Polars frames), not as Python
objects: events of the kinds it reads, requests (one row each), the member views the requests were
judged by, member-state intervals, verdicts and session steps. Whatever fills a table (the engine,
the request store) and whatever reads one (rules, replay, reporters, exports) takes its schema from
here, so that a column is named, typed and explained once.

Conventions, the same in every table:

* line numbers, counters and ids: ``Int64`` (nullable, ``null`` when not logged). Line numbers are in
  log order: a request cut by a rotation numbers its lines in the next file after its first file's
  (see :class:`tracelens.requests.assemble.Request`), so they can exceed one file's count.
* times: ``Datetime("us")``, naive, as the log wrote them (the web server's local time).
* closed vocabularies (event kind, level, verdict, outcomes, reasons): ``Enum`` over every value of
  the Python enum, in its order, so that a table's type does not depend on what one log holds.
* few distinct names that repeat on every row (files, pids, tids, members, clone IDs, web servers):
  ``Categorical``; free text (URIs, cookie values, reason sentences): ``String``.
* a request's repeated parts (attempts, status checks, clone comparisons): ``List(Struct(...))`` in
  its row, so that one request is one row and a batch of rows can be written and read alone.

NOTE: the vocabularies of stages above this one (verdicts, outcomes, reasons) are spelt here as their
values, because the engine below those stages fills these tables; tests/test_tables.py keeps each
equal to its Python enum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from tracelens.parse import events as ev

# ---------------------------------------------------------------- vocabularies

#: ``Event.kind`` of every event class, sorted: the categories of an events table's ``kind``.
EVENT_KIND = pl.Enum(sorted(ev.event_kinds()))
LEVEL = pl.Enum([m.value for m in ev.Level])
AFFINITY_SOURCE = pl.Enum([m.value for m in ev.AffinitySource])
SERVER_LIST = pl.Enum([m.value for m in ev.ServerList])
#: tracelens.state.members.MemberState
MEMBER_STATE = pl.Enum(["unknown", "up", "down", "retry_due"])
#: tracelens.state.members.DownReason
DOWN_REASON = pl.Enum(["connect_refused", "connect_timeout", "server_io_timeout", "http_5xx", "stream_failed",
                       "marked_down", "before_log", "unseen"])
#: tracelens.state.members.EndReason
END_REASON = pl.Enum(["marked_up", "served", "status_up", "restart", "log_end"])
#: tracelens.requests.assemble.AttemptOutcome
ATTEMPT_OUTCOME = pl.Enum(["served", "connect_refused", "connect_timeout", "server_io_timeout", "error_status",
                           "stream_failed", "unknown"])
#: tracelens.requests.cookies.CookieOutcome
COOKIE_OUTCOME = pl.Enum(["none", "same_session", "clone_appended", "new_session"])
#: tracelens.routing.replay.Verdict
VERDICT = pl.Enum(["kept", "failover", "failback", "new_session", "load_balanced", "clone_unknown", "no_member",
                   "unexplained", "incomplete", "secondary_used", "jvmid_stale"])

LINE = pl.Int64()
TIME = pl.Datetime("us")
NAME = pl.Categorical()
TEXT = pl.String()


# ---------------------------------------------------------------- the description of a table


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name, its Polars type, and what it holds (its docstring)."""

    name: str
    dtype: pl.DataType
    doc: str


@dataclass(frozen=True, slots=True)
class Table:
    """One table: its name, what one row is, its key and its columns in order."""

    name: str
    doc: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def schema(self) -> pl.Schema:
        """The Polars schema, columns in order."""
        return pl.Schema([(c.name, c.dtype) for c in self.columns])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    def empty(self) -> pl.DataFrame:
        """The table with no rows, every column typed."""
        return pl.DataFrame(schema=self.schema)

    def docs(self) -> Mapping[str, str]:
        """Each column's docstring by its name."""
        return {c.name: c.doc for c in self.columns}


def _struct(*columns: Column) -> pl.Struct:
    return pl.Struct([pl.Field(c.name, c.dtype) for c in columns])


def _nested(columns: Sequence[Column]) -> str:
    """The fields of a list-of-structs column, for its docstring."""
    return "; ".join(f"{c.name}: {c.doc}" for c in columns)


# ---------------------------------------------------------------- events

EVENTS = Table(
    name="events",
    doc="One row per record of a kind the analysis reads (every other record is only counted), in log order.",
    key=("file", "line", "pid", "tid"),
    columns=(
        Column("kind", EVENT_KIND, "the event's kind (``Event.kind``: status_check, marked_down, ...)"),
        Column("file", NAME, "the log file the record was read from, as given"),
        Column("line", LINE, "its line number in that file (the first line of a record split from one line)"),
        Column("time", TIME, "the header's timestamp; null for a record without a header"),
        Column("web_server", NAME, "the web server the file belongs to (its directory, or --web-server NAME); "
                                   "null for a single web server"),
        Column("pid", NAME, "the web-server process, as the header writes it (hex)"),
        Column("tid", NAME, "the thread of that process, as the header writes it (hex)"),
        Column("level", LEVEL, "the level word after the header"),
        Column("function", NAME, "a located record's function (``serverGroupDecrementConnectionCount``, ...)"),
        Column("member", NAME, "the member the record names (``server``): status checks, picks, mark-downs, STATS"),
        Column("cookie_clone_id", NAME, "clone comparison: the clone ID read from the session cookie"),
        Column("server_clone_id", NAME, "clone comparison: the clone ID of the member it was compared with; "
                                        "configuration load: ``Setting clone id`` of the member named before"),
        Column("marked_down", pl.Boolean(), "status check: ``markedDown 1``"),
        Column("retry_now", pl.Boolean(), "status check: ``retryNow 1``"),
        Column("retry_in", pl.Int32(), "seconds until the retry: ``retryInSec N`` or ``is marked down; retry in N``; "
                                     "null where the log writes ``--`` or nothing"),
        Column("wlb_allows", pl.Int32(), "status check: ``wlbAllows N``"),
        Column("reached_max_connections", pl.Boolean(), "status check: ``reachedMaxConnectionsLimit 1``; "
                                                      "null where the log leaves it out"),
        Column("status", pl.Int16(), "the HTTP status read back from the member"),
        Column("host", NAME, "transport or failure: the host the plug-in connected to"),
        Column("port", pl.Int32(), "transport: the port"),
        Column("cookie_name", NAME, "cookie read, Set-Cookie: the cookie's name (JSESSIONID, SSLJSESSION, ...)"),
        Column("cookie_value", TEXT, "cookie read, Set-Cookie: the value as logged (cache ID, session ID, clone IDs)"),
        Column("affinity_source", AFFINITY_SOURCE, "affinity check: where the plug-in looks for the session ID "
                                                   "(its cookie or URL name in cookie_name)"),
        Column("pairs", pl.List(pl.Struct([pl.Field("name", TEXT), pl.Field("value", TEXT)])),
               "Cookie header: every cookie in order; request info: every ``key='value'`` in order"),
        Column("uri", TEXT, "route lookup, request line (its target), URL session: the URI"),
        Column("vhost", TEXT, "route lookup, request info: the virtual host"),
        Column("method", NAME, "request info, request line: the HTTP method"),
        Column("weight", pl.Int32(), "pick, weight state: the member's current weight"),
        Column("max_weight", pl.Int32(), "weight state: the member's configured (maximum) weight"),
        Column("cluster", NAME, "weights check: the cluster (server group)"),
        Column("mode", NAME, "load balance mode: as logged"),
        Column("server_list", SERVER_LIST, "configuration load: the list a member was added to"),
        Column("will_retry", pl.Boolean(), "failed transaction: ``will try another one``"),
        Column("pending", LINE, "STATS: pendingRequests (or pendingConnectionCount of a connection count)"),
        Column("failed", LINE, "STATS: failedRequests"),
        Column("affinity", LINE, "STATS: affinityRequests"),
        Column("total", LINE, "STATS: totalRequests (or totalConnectionsCount of a connection count)"),
        Column("reason", TEXT, "unparsed record: why it did not parse"),
        Column("text", TEXT, "unparsed record: the record as read (its start, for a line over the record limit)"),
    ),
)

# ---------------------------------------------------------------- requests

_ATTEMPT = (
    Column("member", NAME, "the member picked; null when the log does not name it"),
    Column("line", LINE, "the line that decided the attempt (the pick)"),
    Column("time", TIME, "when it was decided"),
    Column("by_affinity", pl.Boolean(), "chosen by the session's clone IDs (else load balancing)"),
    Column("outcome", ATTEMPT_OUTCOME, "how it ended"),
    Column("outcome_line", LINE, "the line that said how it ended"),
    Column("host", NAME, "where it connected"),
    Column("port", pl.Int32(), "the port it connected to"),
    Column("status", pl.Int16(), "the HTTP status the member answered"),
    Column("view", LINE, "what the process believed when the attempt was decided: a ``view`` of member_views"),
)
_STATUS_CHECK = (
    Column("member", NAME, "the member whose status was checked"),
    Column("line", LINE, "the status line"),
    Column("marked_down", pl.Boolean(), "``markedDown 1``"),
    Column("retry_now", pl.Boolean(), "``retryNow 1``"),
    Column("retry_in", pl.Int32(), "``retryInSec N``, or the ``retry in N`` line that followed"),
    Column("reached_max_connections", pl.Boolean(), "``reachedMaxConnectionsLimit 1``"),
    Column("time", TIME, "when the process said so"),
)
_CLONE_COMPARE = (
    Column("cookie_clone", NAME, "the clone ID from the cookie"),
    Column("member_clone", NAME, "the member's clone ID it was compared with"),
    Column("line", LINE, "the comparison's line"),
)
_MEMBER_LINE = (
    Column("member", NAME, "the member"),
    Column("line", LINE, "the line"),
)

REQUESTS = Table(
    name="requests",
    doc="One row per request rebuilt from its (pid, tid), in input order (file, first line); the row's "
        "repeated parts are list columns.",
    key=("request",),
    columns=(
        Column("request", LINE, "the request's position in input order, from 0: the key verdicts and session "
                                "steps refer to"),
        Column("pid", NAME, "its process (``pid@web-server`` with several web servers)"),
        Column("tid", NAME, "its thread; null for records without one"),
        Column("file", NAME, "the file of its first line"),
        Column("first_line", LINE, "its first line: where it began, and the moment it is judged by"),
        Column("last_line", LINE, "its last line"),
        Column("begin", TIME, "the time of its first line"),
        Column("end", TIME, "the time of its last timed line"),
        Column("begin_missing", pl.Boolean(), "the log starts inside this request"),
        Column("end_missing", pl.Boolean(), "the log ends, or the thread moves on, before the request ends"),
        Column("uri", TEXT, "the URI asked for"),
        Column("vhost", TEXT, "the virtual host"),
        Column("method", NAME, "the HTTP method"),
        Column("affinity_source", AFFINITY_SOURCE, "where the session ID was found; null: no session ID"),
        Column("cookie", TEXT, "the session identifier the request carried, as logged (cache ID, session ID, "
                               "clone IDs)"),
        Column("cookie_line", LINE, "the line the plug-in read it on"),
        Column("cookies_in_header", pl.List(TEXT), "every affinity cookie value of the Cookie header, in order"),
        Column("cookie_header_line", LINE, "the Cookie header's line"),
        Column("clone_compares", pl.List(_struct(*_CLONE_COMPARE)),
               "clone ID comparisons, in order: " + _nested(_CLONE_COMPARE)),
        Column("clone_matches", pl.List(_struct(*_MEMBER_LINE)),
               "members whose clone ID matched, in order: " + _nested(_MEMBER_LINE)),
        Column("status_checks", pl.List(_struct(*_STATUS_CHECK)),
               "the status lines inside the request, in order: " + _nested(_STATUS_CHECK)),
        Column("attempts", pl.List(_struct(*_ATTEMPT)),
               "every routing decision, in order: " + _nested(_ATTEMPT)),
        Column("served_by", NAME, "the member that answered (a 5xx answer included); null: none did"),
        Column("status", pl.Int16(), "the HTTP status the client got from the member"),
        Column("status_line", LINE, "the status line"),
        Column("set_cookie", TEXT, "the affinity cookie the response set, as logged"),
        Column("set_cookie_line", LINE, "the Set-Cookie line"),
        Column("cookie_outcome", COOKIE_OUTCOME, "what the Set-Cookie did to the session"),
        Column("no_member_line", LINE, "``Failed to find an app server to handle this request``"),
        Column("mark_downs", pl.List(_struct(*_MEMBER_LINE)),
               "members marked down while handling the request: " + _nested(_MEMBER_LINE)),
        Column("view", LINE, "what its process believed when it began: a ``view`` of member_views"),
        Column("end_file", NAME, "the next file of its web server, when a rotation cut the request; else null"),
        Column("offset", LINE, "what its lines in end_file are numbered after (0 when not cut)"),
    ),
)

# ---------------------------------------------------------------- member state

MEMBER_VIEWS = Table(
    name="member_views",
    doc="What a process believed about its members at one moment: one view per change of its state, "
        "one row per member of the view (a view of a process that knows no member has no rows).",
    key=("view", "member"),
    columns=(
        Column("view", LINE, "the view's id, which requests and attempts refer to"),
        Column("member", NAME, "a member the process has evidence of"),
        Column("state", MEMBER_STATE, "what the process believed about it"),
        Column("retry_from", TIME, "when its retry timer last started"),
        Column("reason", DOWN_REASON, "why it was marked down; null when up"),
        Column("reached_max_connections", pl.Boolean(), "the latest status line or warning said MaxConnections "
                                                      "was reached"),
    ),
)

_COUNTDOWN = (
    Column("time", TIME, "when it was logged"),
    Column("line", LINE, "the line"),
    Column("seconds", pl.Int32(), "the seconds the log said were left"),
    Column("after", pl.Int32(), "whole seconds since the retry timer last started"),
    Column("file", NAME, "the file of the line when it is not the interval's"),
)

_TIMER_RESTART = (
    Column("line", LINE, "the further mark-down"),
    Column("time", TIME, "when it was logged: the retry timer starts again there"),
    Column("file", NAME, "the file of the line when it is not the interval's"),
    Column("retry_due", TIME, "when the process had logged the retry due before it; null: not logged"),
    Column("retry_due_line", LINE, "the line that logged that retry due"),
    Column("retry_due_file", NAME, "the file of retry_due_line when it is not the interval's"),
)

MEMBER_INTERVALS = Table(
    name="member_intervals",
    doc="One row per down interval of a member in one process: from its mark-down to its recovery.",
    key=("pid", "member", "file", "start_line"),
    columns=(
        Column("pid", NAME, "the process"),
        Column("member", NAME, "the member"),
        Column("file", NAME, "the file of the line that began the interval"),
        Column("start_line", LINE, "the line that began it"),
        Column("start", TIME, "when it began"),
        Column("reason", DOWN_REASON, "why the member was marked down"),
        Column("reason_line", LINE, "the line of the failure that caused it"),
        Column("reason_file", NAME, "the file of reason_line when it is not the interval's"),
        Column("end_line", LINE, "the line that ended it; null: still down when the log ends"),
        Column("end", TIME, "when it ended"),
        Column("end_reason", END_REASON, "how it ended"),
        Column("end_file", NAME, "the file of end_line, when a later file continued the log"),
        Column("countdowns", pl.List(_struct(*_COUNTDOWN)),
               "the ``retry in N`` countdowns as logged: " + _nested(_COUNTDOWN)),
        Column("retry_due_line", LINE, "the first ``retryNow 1`` or ``Time to retry server``"),
        Column("retry_due", TIME, "when the retry was due"),
        Column("retry_due_file", NAME, "the file of retry_due_line when it is not the interval's"),
        Column("retry_from", TIME, "when the retry timer last started (a failed retry probe restarts it)"),
        Column("repeats", pl.List(LINE), "lines of further mark-downs while down (failed retry probes)"),
        Column("timer_restarts", pl.List(_struct(*_TIMER_RESTART)),
               "each further mark-down, where the retry timer starts again: " + _nested(_TIMER_RESTART)),
    ),
)

# ---------------------------------------------------------------- verdicts and sessions

_SKIPPED = (
    Column("member", NAME, "an affinity member passed over"),
    Column("available", pl.Boolean(), "whether the model found it available"),
    Column("why", TEXT, "why it was not: ``marked down, retry in 55 s``, ``MaxConnections reached``"),
    Column("retry_in", pl.Int32(), "the seconds left of its retry interval"),
    Column("status_line", LINE, "the request's own status line that said so"),
    Column("disagreement", TEXT, "how the status line and the retry interval disagree"),
)
_FAILED_ATTEMPT = (
    Column("member", NAME, "the member of a failed attempt"),
    Column("outcome", ATTEMPT_OUTCOME, "how it failed"),
    Column("line", LINE, "the line that said so"),
)
_EVIDENCE = (
    Column("file", NAME, "the file"),
    Column("line", LINE, "the line in it"),
)

VERDICTS = Table(
    name="verdicts",
    doc="One row per request: what the replay against the routing model concluded.",
    key=("request",),
    columns=(
        Column("request", LINE, "the request (``request`` of the requests table)"),
        Column("verdict", VERDICT, "the verdict"),
        Column("reason", TEXT, "the sentence that explains it"),
        Column("routed_to", NAME, "the member the plug-in routed it to"),
        Column("expected", pl.List(NAME), "the members the model accepted for the final attempt"),
        Column("home", NAME, "the member of the cookie's first known clone ID"),
        Column("previous", NAME, "who served the session's previous request in the log"),
        Column("skipped", pl.List(_struct(*_SKIPPED)), "affinity members passed over: " + _nested(_SKIPPED)),
        Column("failed_attempts", pl.List(_struct(*_FAILED_ATTEMPT)),
               "the attempts that failed: " + _nested(_FAILED_ATTEMPT)),
        Column("unknown_clones", pl.List(NAME), "the cookie's clone IDs that match no member"),
        Column("disagreements", pl.List(TEXT), "where the log and the model disagree"),
        Column("evidence", pl.List(_struct(*_EVIDENCE)), "the lines that show it: " + _nested(_EVIDENCE)),
        Column("cluster", NAME, "the cluster the request was routed in"),
    ),
)

SESSION_STEPS = Table(
    name="session_steps",
    doc="One row per request of a session, each session's requests in time order.",
    key=("session_id", "request"),
    columns=(
        Column("session_id", TEXT, "the session ID, without cache ID and clone IDs"),
        Column("request", LINE, "the request (``request`` of the requests table)"),
        Column("time", TIME, "when the request began"),
        Column("pid", NAME, "its process"),
        Column("tid", NAME, "its thread"),
        Column("file", NAME, "the file of its first line"),
        Column("line", LINE, "its first line"),
        Column("served_by", NAME, "the member that served it"),
        Column("clone_ids", pl.List(NAME), "the clone IDs of the cookie it carried, in cookie order"),
    ),
)

#: Every table, by name.
TABLES: Mapping[str, Table] = {t.name: t for t in (EVENTS, REQUESTS, MEMBER_VIEWS, MEMBER_INTERVALS, VERDICTS,
                                                   SESSION_STEPS)}

