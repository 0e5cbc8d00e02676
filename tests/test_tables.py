"""The tables' schemas (tracelens.tables): one definition per table, typed, documented, vocabularies the enums'."""

from __future__ import annotations

import enum
from pathlib import Path

import polars as pl
import pytest

from tracelens import tables
from tracelens.parse import events as ev
from tracelens.requests.assemble import Attempt, AttemptOutcome, Request, StatusSeen
from tracelens.requests.cookies import CookieOutcome
from tracelens.routing.model import Availability
from tracelens.routing.replay import RequestVerdict, Verdict
from tracelens.state.members import DownInterval, DownReason, EndReason, MemberState, MemberView, TimerRestart


@pytest.mark.parametrize(("dtype", "vocabulary"), [
    (tables.MEMBER_STATE, MemberState),
    (tables.DOWN_REASON, DownReason),
    (tables.END_REASON, EndReason),
    (tables.ATTEMPT_OUTCOME, AttemptOutcome),
    (tables.COOKIE_OUTCOME, CookieOutcome),
    (tables.VERDICT, Verdict),
    (tables.LEVEL, ev.Level),
    (tables.AFFINITY_SOURCE, ev.AffinitySource),
])
def test_each_vocabulary_is_its_enum_in_order(dtype: pl.Enum, vocabulary: type[enum.Enum]) -> None:
    assert dtype.categories.to_list() == [m.value for m in vocabulary]


def test_the_event_kinds_are_every_event_class() -> None:
    assert tables.EVENT_KIND.categories.to_list() == sorted(ev.event_kinds())
    assert "status_check" in tables.EVENT_KIND.categories.to_list()


def test_every_table_is_named_once_keyed_by_its_own_columns_and_documents_each_column() -> None:
    assert set(tables.TABLES) == {"events", "requests", "member_views", "member_intervals", "verdicts",
                                  "session_steps"}
    for name, table in tables.TABLES.items():
        assert table.name == name
        assert len(set(table.names)) == len(table.names), name
        assert set(table.key) <= set(table.names), name
        assert table.doc
        for column in table.columns:
            assert column.doc.strip(), (name, column.name)
            assert isinstance(column.dtype, pl.DataType), (name, column.name)
        empty = table.empty()
        assert empty.height == 0
        assert empty.schema == table.schema


def _names(cls: type) -> set[str]:
    return set(cls.__dataclass_fields__)


@pytest.mark.parametrize(("table", "cls", "renamed", "not_stored"), [
    # the session cookie is stored as logged (parsed again when read), the snapshot as a view id
    (tables.REQUESTS, Request, {"request", "begin_missing", "end_missing", "view"}, {"partial", "state_at_begin"}),
    (tables.MEMBER_VIEWS, MemberView, {"view"}, set()),
    (tables.VERDICTS, RequestVerdict, {"request"}, {"index"}),
    (tables.MEMBER_INTERVALS, DownInterval, set(), {"repeat_files"}),
])
def test_a_table_holds_every_field_of_the_record_it_replaces(table: tables.Table, cls: type, renamed: set[str],
                                                             not_stored: set[str]) -> None:
    """A column added to the record but not to its table would be lost on the way through the table."""
    assert _names(cls) - not_stored <= set(table.names)
    assert set(table.names) - _names(cls) <= renamed


@pytest.mark.parametrize(("column", "cls", "not_stored"), [
    (tables.REQUESTS.column("attempts"), Attempt, {"state"}),
    (tables.REQUESTS.column("status_checks"), StatusSeen, set()),
    (tables.VERDICTS.column("skipped"), Availability, set()),
    (tables.MEMBER_INTERVALS.column("timer_restarts"), TimerRestart, set()),
])
def test_a_nested_column_holds_every_field_of_its_record(column: tables.Column, cls: type,
                                                         not_stored: set[str]) -> None:
    assert isinstance(column.dtype, pl.List)
    inner = column.dtype.inner
    assert isinstance(inner, pl.Struct)
    assert _names(cls) - not_stored <= {f.name for f in inner.fields}


def test_a_table_round_trips_through_an_arrow_ipc_file_with_its_types(tmp_path: Path) -> None:
    """The spill format keeps Enum, Categorical and nested types: what is written is read back the same."""
    row = {
        "request": [0], "pid": ["00001a2c"], "tid": ["00003f10"], "file": ["http_plugin.log"], "first_line": [10],
        "last_line": [42], "begin": [None], "end": [None], "begin_missing": [False], "end_missing": [False],
        "uri": ["/shop/cart"], "vhost": ["www.example.com"], "method": ["GET"], "affinity_source": ["cookie"],
        "cookie": ["0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031"], "cookie_line": [12],
        "cookies_in_header": [["0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031"]], "cookie_header_line": [None],
        "clone_compares": [[{"cookie_clone": "v544d031", "member_clone": "v544d031", "line": 14}]],
        "clone_matches": [[{"member": "node1_server1", "line": 15}]],
        "status_checks": [[]],
        "attempts": [[{"member": "node1_server1", "line": 16, "time": None, "by_affinity": True, "outcome": "served",
                       "outcome_line": 30, "host": "node1", "port": 9080, "status": 200, "view": 3}]],
        "served_by": ["node1_server1"], "status": [200], "status_line": [30], "set_cookie": [None],
        "set_cookie_line": [None], "cookie_outcome": ["none"], "no_member_line": [None], "mark_downs": [[]],
        "view": [3], "end_file": [None], "offset": [0],
    }
    frame = pl.DataFrame(row, schema=tables.REQUESTS.schema)
    path = tmp_path / "requests.arrow"
    frame.write_ipc(path)
    back = pl.read_ipc(path)
    assert back.schema == tables.REQUESTS.schema
    assert back.to_dicts() == frame.to_dicts()
    assert back["attempts"][0][0]["outcome"] == "served"
    with pytest.raises(pl.exceptions.InvalidOperationError):
        pl.DataFrame({"verdict": ["kept", "lost"]}, schema={"verdict": tables.VERDICT})  # not a verdict


def test_an_unknown_column_name_is_an_error_that_names_the_table() -> None:
    with pytest.raises(KeyError, match="requests has no column 'session'"):
        tables.REQUESTS.column("session")
