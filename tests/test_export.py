"""tracelens export and the Python API's tables: each table to each format, read back with pandas."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

import tracelens
from tests.conftest import SAMPLES, run_cli, write
from tracelens.api import iter_events
from tracelens.parse.events import event_kinds
from tracelens.read.reader import ReadStats
from tracelens.report import Report
from tracelens.reporters import frames
from tracelens.reporters import table_files as exporter
from tracelens.reporters.shapes import finding_dict, interval_dict, member_dict, request_dict
from tracelens.routing.replay import Verdict

SAMPLE = SAMPLES / "failover-failback.log"
M1, M2 = "was1node_PluginMember1", "was2Node_PluginMember2"
PID = "00001a2c"
SESSION = "IWuUT_zhR-gFYB-pOAk75Q5"
FORMATS = ("csv", "parquet", "jsonl", "csv.gz", "jsonl.gz")


@pytest.fixture(scope="module")
def report() -> Report:
    return tracelens.analyze([str(SAMPLE)])


def api_frame(report: Report, table: str) -> pd.DataFrame:
    if table == "events":
        return frames.events_frame(iter_events([str(SAMPLE)], ReadStats()))
    return getattr(report, f"{table}_frame")()


def _columns(table: str, *types: str) -> list[str]:
    return [c for c, t in frames.column_types(table).items() if t in types]


def read_back(path: Path, table: str) -> pd.DataFrame:
    """The file as a user reads it: times parsed, text read as text (a CSV reader takes tid 00000e78 for 0.0)."""
    times = _columns(table, "datetime64[ns]")
    text = dict.fromkeys(_columns(table, "string"), "string")
    if path.name.endswith(".parquet"):
        return pd.read_parquet(path)
    if ".csv" in path.name:
        # NOTE: the times are converted after reading, not by parse_dates: pandas before 3.0 leaves a
        # column with an empty cell as object under dtype_backend="numpy_nullable" (.ci/floors runs 2.2)
        back = pd.read_csv(path, dtype=text, dtype_backend="numpy_nullable")
    else:
        back = pd.read_json(path, lines=True, dtype=text, dtype_backend="numpy_nullable")
    for column in times:
        back[column] = pd.to_datetime(back[column], format="ISO8601")
    return back


def cells(column: pd.Series) -> list[Any]:
    """A column's values as plain Python: None for every kind of missing, ISO text for times."""
    out = []
    for v in column.astype(object).tolist():
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            out.append(None)
        elif isinstance(v, pd.Timestamp):
            out.append(v.isoformat())
        else:
            out.append(v.item() if hasattr(v, "item") else v)
    return out


def _requests(back: pd.DataFrame) -> None:
    assert cells(back["served_by"]) == [M1, M2, M2, M1]
    assert cells(back["verdict"]) == ["kept", "failover", "failover", "failback"]
    assert cells(back["first_line"]) == [12, 41, 103, 145]
    assert cells(back["time"])[1] == "2004-06-07T10:15:20"
    assert json.loads(back["clone_ids"][1]) == ["v544d031"]
    assert [a["outcome"] for a in json.loads(back["attempts"][1])] == ["connect_refused", "served"]
    assert "the connection was refused, line 61" in back["reason"][1]


def _sessions(back: pd.DataFrame) -> None:
    assert cells(back["session_id"]) == [SESSION] * 4
    assert cells(back["step"]) == [0, 1, 2, 3]
    assert cells(back["served_by"]) == [M1, M2, M2, M1]
    assert cells(back["verdict"]) == ["kept", "failover", "failover", "failback"]
    assert cells(back["line"]) == [12, 41, 103, 145]


def _findings(back: pd.DataFrame) -> None:
    assert cells(back["code"]) == ["TL001", "TL101", "TL002"]
    assert cells(back["severity"]) == ["warning", "warning", "info"]
    assert cells(back["line"]) == [41, 63, 145]
    assert json.loads(back["evidence"][1]) == [f"{back['file'][1]}:{n}" for n in (61, 63, 159, 188)]


def _members(back: pd.DataFrame) -> None:
    assert cells(back["pid"]) == [PID, PID]
    assert cells(back["member"]) == [M1, M2]
    down = back.iloc[0]
    assert down["start"] == pd.Timestamp("2004-06-07 10:15:20")
    assert (down["line"], down["reason"], down["reason_line"], down["end_line"]) == (63, "connect_refused", 61, 188)
    assert down["end_reason"] == "served" and down["seconds"] == 63.0
    assert [c["retry_in"] for c in json.loads(down["countdowns"])] == [60, 55]
    never_down = back.iloc[1]  # one row, its interval columns empty
    assert all(pd.isna(never_down[c]) for c in ("interval", "start", "line", "reason", "end", "seconds"))
    assert never_down["requests_served"] == 2


def _events(back: pd.DataFrame) -> None:
    assert len(back) == 190
    assert cells(back["line"]) == list(range(1, 191))
    assert cells(back["kind"])[:3] == ["plugins_loaded", "banner_line", "banner_field"]
    assert back["text"][1].lstrip("'") == "--------------------System Information-----------------------"
    marked = back[back["kind"] == "marked_down"]
    assert cells(marked["line"]) == [63] and cells(marked["server"]) == [M1]
    status = back[back["kind"] == "status_check"].iloc[0]
    assert (status["server"], status["marked_down"], status["reached_max_connections"]) == (M1, 0, 0)


CHECKS: dict[str, Callable[[pd.DataFrame], None]] = {
    "requests": _requests, "sessions": _sessions, "findings": _findings, "members": _members, "events": _events,
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("table", exporter.TABLES)
def test_each_table_round_trips_through_each_format(tmp_path: Path, report: Report, table: str, fmt: str) -> None:
    out = tmp_path / f"{table}.{fmt}"
    result = run_cli("export", str(SAMPLE), "--table", table, "--to", str(out))
    assert result.exit_code == 0, result.stderr
    expected = api_frame(report, table)
    assert result.stderr == f"wrote {len(expected)} rows to {out}\n"
    assert result.stdout == ""
    back = read_back(out, table)
    assert list(back.columns) == list(expected.columns)
    for column in _columns(table, "datetime64[ns]"):
        assert pd.api.types.is_datetime64_dtype(back[column]), column
    for column in _columns(table, "Int64"):
        if expected[column].notna().any():  # a column with no value at all says nothing about its type in a text file
            assert pd.api.types.is_integer_dtype(back[column]), column
    # a CSV holds the cells made spreadsheet-safe (the banner's "----System Information----" line)
    cells_written = exporter.spreadsheet_safe(expected) if fmt.startswith("csv") else expected
    for column in expected.columns:
        assert cells(back[column]) == cells(cells_written[column]), column
    CHECKS[table](back)


@pytest.mark.parametrize("table", exporter.TABLES)
def test_parquet_keeps_every_dtype(tmp_path: Path, report: Report, table: str) -> None:
    out = tmp_path / f"{table}.parquet"
    assert run_cli("export", str(SAMPLE), "--table", table, "--to", str(out)).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out), api_frame(report, table))


# ---------------------------------------------------------------- the Python API


def test_python_api_requests_frame() -> None:
    df = tracelens.analyze([str(SAMPLE)]).requests_frame()
    assert len(df) == 4
    assert df["time"].dtype == "datetime64[ns]"
    assert df["first_line"].dtype == "Int64" and df["status"].dtype == "Int64"
    assert isinstance(df["verdict"].dtype, pd.CategoricalDtype)
    assert list(df["verdict"].cat.categories) == [v.value for v in Verdict]
    assert df["served_by"].tolist() == [M1, M2, M2, M1]
    assert df["verdict"].tolist() == ["kept", "failover", "failover", "failback"]
    assert df.loc[df["verdict"] == "failover", "time"].min() == pd.Timestamp("2004-06-07 10:15:20")


@pytest.mark.parametrize("table", ["requests", "sessions", "findings", "members", "events"])
def test_frames_have_the_declared_columns_and_dtypes(report: Report, table: str) -> None:
    df = api_frame(report, table)
    assert {c: str(t) for c, t in df.dtypes.items()} == frames.column_types(table)
    empty = frames.events_frame([]) if table == "events" else None
    if empty is not None:
        assert {c: str(t) for c, t in empty.dtypes.items()} == frames.column_types(table)


def test_frames_keep_the_json_shape_of_each_record(report: Report) -> None:
    # the keys of the JSON reporters are the column names: one shape per record
    assert set(request_dict(report.requests[0])) <= set(frames.REQUESTS)
    assert list(finding_dict(report.findings[0])) == list(frames.FINDINGS)
    rec = report.tracker.members[(PID, M1)]
    nested = {"down_intervals", "counters"}
    assert set(member_dict(rec)) - nested <= set(frames.MEMBERS)
    assert set(interval_dict(rec.intervals[0])) - {"pid", "member"} <= set(frames.MEMBERS)
    for cls in event_kinds().values():
        assert {f for f in cls.__dataclass_fields__} <= set(frames.EVENTS), cls.kind


def test_events_frame_holds_the_cells_of_to_dict() -> None:
    events = list(iter_events([str(SAMPLES / "failover-failback-85.log")], ReadStats()))
    df = frames.events_frame(events)
    for event, row in zip(events, df.to_dict("records"), strict=True):
        for key, value in event.to_dict().items():
            cell = row[key]
            if value is None:
                assert pd.isna(cell), key
            elif key == "time":
                assert cell.isoformat() == value  # microseconds kept (8.5 logs)
            elif isinstance(value, list):
                assert json.loads(cell) == value, key
            else:
                assert cell == value, key


def test_the_command_line_does_not_import_pandas() -> None:
    code = "import sys, tracelens.cli; sys.exit('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ---------------------------------------------------------------- spreadsheet safety


def _variant(tmp_path: Path, old: str, new: str, count: int = -1) -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    assert old in text
    return write(tmp_path, "variant.log", text.replace(old, new, count))


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


HYPERLINK_URI = '=HYPERLINK("http://evil.example/","click")'


def test_a_uri_that_is_a_formula_is_neutralised_in_csv_only(tmp_path: Path) -> None:
    log = _variant(tmp_path, "GET /hitcount HTTP/1.1", f"GET {HYPERLINK_URI} HTTP/1.1", 1)
    for table, column in (("requests", "uri"), ("events", "target")):
        for fmt in ("csv", "parquet", "jsonl"):
            out = tmp_path / f"{table}.{fmt}"
            assert run_cli("export", str(log), "--table", table, "--to", str(out)).exit_code == 0
        rows = _csv_rows(tmp_path / f"{table}.csv")
        values = [r[column] for r in rows if r[column]]
        assert values[0] == "'" + HYPERLINK_URI
        assert values[1:] == ["/hitcount"] * (len(values) - 1)
        # Parquet and JSON lines are not opened by spreadsheets: the text stays as logged
        assert read_back(tmp_path / f"{table}.parquet", table)[column].dropna().iloc[0] == HYPERLINK_URI
        assert read_back(tmp_path / f"{table}.jsonl", table)[column].dropna().iloc[0] == HYPERLINK_URI


@pytest.mark.parametrize("name", ["=HYPERLINK(0)", "+cmd|calc!A0", "-1+1", "@SUM(1+1)"])
def test_a_member_name_that_is_a_formula_is_neutralised(tmp_path: Path, name: str) -> None:
    log = _variant(tmp_path, M2, name)
    for table, column in (("requests", "served_by"), ("members", "member"), ("sessions", "served_by")):
        out = tmp_path / f"{table}.csv"
        assert run_cli("export", str(log), "--table", table, "--to", str(out)).exit_code == 0
        assert "'" + name in [r[column] for r in _csv_rows(out)]
        assert name not in [r[column] for r in _csv_rows(out)]


def test_numbers_stay_numbers_in_csv(tmp_path: Path) -> None:
    # `maxConnectionsCount -1` and `serverIOTimeoutRetry -1`: a negative number is not a formula
    out = tmp_path / "events.csv"
    assert run_cli("export", str(SAMPLE), "--table", "events", "--to", str(out)).exit_code == 0
    maxima = {r["maximum"] for r in _csv_rows(out) if r["kind"] == "max_connections_check"}
    assert maxima == {"-1"}
    assert set(read_back(out, "events")["maximum"].dropna()) == {-1}


def test_spreadsheet_safe_prefixes_every_cell_a_spreadsheet_evaluates() -> None:
    # NOTE: "-x", "\tx" and "\rx" were guarded before; a spreadsheet evaluates none of them (issue 17:
    # guard only what it would evaluate), and "\t=1+1" was not guarded though it evaluates (issue 21)
    df = pd.DataFrame({
        "text": pd.array(["=1+1", "+1", "-x", "@x", "\tx", "\rx", "ok", None, "\t=1+1", "\r-1+2"], dtype="string"),
        "n": pd.array([-1, 1, -2, 0, None, 3, 4, 5, 6, 7], dtype="Int64"),
        "c": pd.Categorical(["-a1", "b", "b", "b", "b", "b", "b", None, "b", "b"]),
    })
    safe = exporter.spreadsheet_safe(df)
    assert safe["text"].tolist()[:7] == ["'=1+1", "'+1", "-x", "'@x", "\tx", "\rx", "ok"]
    assert safe["text"].isna().tolist()[7]
    assert safe["text"].tolist()[8:] == ["'\t=1+1", "'\r-1+2"]
    assert safe["c"].tolist()[0] == "'-a1" and safe["n"].dtype == "Int64" and safe["n"].tolist()[0] == -1
    assert df["text"].tolist()[0] == "=1+1"  # the frame given is not changed


# ---------------------------------------------------------------- streaming events


def _long_log(tmp_path: Path, lines: int) -> Path:
    """The sample repeated, each copy a process (pid) and a session of its own, cut at ``lines`` lines."""
    sample = SAMPLE.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    copy = 0
    while len(out) < lines:
        pid = f"{0x1a2c + copy:08x}"
        session = f"IWuUT_zhR-gFYB-{copy:08d}"
        out.extend(line.replace(PID, pid).replace(SESSION, session) for line in sample)
        copy += 1
    return write(tmp_path, "long.log", "\n".join(out[:lines]) + "\n")


def _spy_on_chunks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    real = frames.events_frame

    def spy(events: Any) -> pd.DataFrame:
        df = real(events)
        sizes.append(len(df))
        return df

    monkeypatch.setattr(frames, "events_frame", spy)
    return sizes


@pytest.fixture(scope="module")
def long_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _long_log(tmp_path_factory.mktemp("long"), 25_000)


@pytest.mark.parametrize("fmt", ["parquet", "csv.gz"])
def test_events_of_a_long_log_are_written_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    long_log: Path, fmt: str) -> None:
    sizes = _spy_on_chunks(monkeypatch)
    out = tmp_path / f"events.{fmt}"
    result = run_cli("export", str(long_log), "--table", "events", "--to", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"wrote 25000 rows to {out}\n"
    # one chunk in memory at a time, whatever the length of the log
    assert [s for s in sizes if s] == [10_000, 10_000, 5_000]
    if fmt == "parquet":
        # one row group per chunk, all of one schema
        assert pq.ParquetFile(out).metadata.num_row_groups == 3
        back = pd.read_parquet(out, columns=["line", "time", "pid"])
    else:
        back = pd.read_csv(out, usecols=["line", "time", "pid"], parse_dates=["time"], dtype={"pid": "string"})
    assert len(back) == 25_000
    assert back["line"].tolist() == list(range(1, 25_001))
    assert back["pid"].nunique() == 132 and pd.api.types.is_datetime64_dtype(back["time"])


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "csv.gz", "jsonl.gz"])
def test_chunks_append_to_one_text_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    monkeypatch.setattr(exporter, "EVENTS_CHUNK", 64)
    sizes = _spy_on_chunks(monkeypatch)
    out = tmp_path / f"events.{fmt}"
    assert run_cli("export", str(SAMPLE), "--table", "events", "--to", str(out)).exit_code == 0
    assert [s for s in sizes if s] == [64, 64, 62]
    back = read_back(out, "events")
    assert cells(back["line"]) == list(range(1, 191))  # one header, rows in order
    raw = gzip.decompress(out.read_bytes()) if fmt.endswith(".gz") else out.read_bytes()
    assert raw.count(b"kind,file,line") == (1 if fmt.startswith("csv") else 0)


@pytest.mark.parametrize("table", ["requests", "sessions", "findings", "members"])
def test_analysis_tables_written_in_chunks_are_the_table_written_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: Report, table: str) -> None:
    whole = {fmt: tmp_path / f"whole.{fmt}" for fmt in ("csv", "jsonl", "parquet")}
    for out in whole.values():
        exporter.write_table(report, table, exporter.target(str(out)))
    rows = len(api_frame(report, table))
    assert rows >= 2, "the sample must give the table several rows for chunks to mean anything"
    for fmt, out in whole.items():
        chunked = tmp_path / f"chunked.{fmt}"
        assert exporter.write_table(report, table, exporter.target(str(chunked)), chunk=1) == rows
        if fmt == "parquet":
            assert pq.ParquetFile(chunked).metadata.num_row_groups == rows
            pd.testing.assert_frame_equal(pd.read_parquet(chunked), pd.read_parquet(out))
        else:
            assert chunked.read_bytes() == out.read_bytes()


def test_frames_of_gives_chunks_of_the_whole_table(report: Report) -> None:
    chunks = list(frames.frames_of(report, "requests", 2))
    assert [len(c) for c in chunks[:-1]] == [2] * (len(chunks) - 1) and 1 <= len(chunks[-1]) <= 2
    whole = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(whole, report.requests_frame())


# ---------------------------------------------------------------- errors: one line, exit 2, no file


@pytest.mark.parametrize("name", ["out.xlsx", "out", "out.parquet.gz", "out.json", ".csv"])
def test_an_unknown_suffix_is_a_usage_error(tmp_path: Path, name: str) -> None:
    result = run_cli("export", str(SAMPLE), "--table", "requests", "--to", str(tmp_path / name))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tracelens: error: ")
    assert ".csv, .csv.gz, .parquet, .jsonl, .jsonl.gz" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_parquet_without_pyarrow_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = run_cli("export", str(SAMPLE), "--table", "requests", "--to", str(tmp_path / "r.parquet"))
    assert result.exit_code == 2
    assert result.stderr == "tracelens: error: Parquet export needs pyarrow: pip install 'tracelens[tables]'\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("table", ["events", "requests"])
def test_a_failed_export_leaves_no_file(tmp_path: Path, table: str) -> None:
    empty = write(tmp_path, "empty.log", "")
    out = tmp_path / "out" / "t.csv"
    out.parent.mkdir()
    for args in ([str(tmp_path / "missing.log")], [str(empty)]):
        result = run_cli("export", *args, "--table", table, "--to", str(out))
        assert result.exit_code == 2 and result.stderr.count("\n") == 1
        assert list(out.parent.iterdir()) == []


def test_an_unwritable_target_is_one_line(tmp_path: Path) -> None:
    result = run_cli("export", str(SAMPLE), "--table", "requests", "--to", str(tmp_path / "no" / "such" / "r.csv"))
    assert result.exit_code == 2
    assert result.stderr.startswith("tracelens: error: cannot write ") and result.stderr.count("\n") == 1
