"""CSV exports read back by the readers people use (csv, pandas, Polars, DuckDB), with hostile cells.

A log line is untrusted text: a member name or URI can hold a CR, a quote, a comma or a formula. Each
table is exported from such a log and read back by each reader with the options the README gives; the
rows must be the table's rows, every text cell what the analysis holds (made spreadsheet-safe), and
an all-digit pid must come back as the text it was.
"""

from __future__ import annotations

import csv
import datetime
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pytest

import tracelens
from tests.conftest import ROOT, SAMPLES, run_cli, write
from tracelens.api import iter_events
from tracelens.read.reader import ReadStats
from tracelens.reporters import frames
from tracelens.reporters import table_files as exporter

SAMPLE = SAMPLES / "failover-failback.log"
M2 = "was2Node_PluginMember2"
PID, TID = "00001a2c", "00000e78"
READERS = ("csv", "pandas", "polars", "duckdb")
README = (ROOT / "README.md").read_text(encoding="utf-8")
BANNER = "--------------------System Information-----------------------"


def hostile_log(tmp_path: Path) -> Path:
    """The sample with member 2 renamed to a CR and a formula (the issue's ``sed``) and a URI holding a
    quote, a comma, a semicolon and a formula after a tab."""
    text = SAMPLE.read_text(encoding="utf-8").replace(M2, "\r=1+2")
    text = text.replace("GET /hitcount HTTP/1.1", 'GET /a,"b";\t@SUM(1)|x HTTP/1.1', 1)
    return write(tmp_path, "hostile.log", text.encode("utf-8"))


def expected_frame(log: Path, table: str) -> pd.DataFrame:
    if table == "events":
        return frames.events_frame(iter_events([str(log)], ReadStats()))
    return getattr(tracelens.analyze([str(log)]), f"{table}_frame")()


def text_columns(table: str) -> list[str]:
    return [c for c, t in frames.column_types(table).items() if t == "string" or t.startswith("category")]


def read_csv_as(reader: str, path: Path, table: str) -> dict[str, list[Any]]:
    """The file's columns as Python lists (None for a missing value), read as the README says."""
    text = text_columns(table)
    if reader == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        header, body = rows[0], rows[1:]
        return {name: [row[i] or None for row in body] for i, name in enumerate(header)}
    if reader == "pandas":
        back = pd.read_csv(path, dtype=dict.fromkeys(text, "string"))
        return {c: [None if v is pd.NA or v != v else v for v in back[c].astype(object).tolist()] for c in back}
    if reader == "polars":
        back = pl.read_csv(path, schema_overrides=dict.fromkeys(text, pl.String))
        return {c: back[c].to_list() for c in back.columns}
    relation = duckdb.read_csv(str(path))  # no options: quoted text stays VARCHAR
    names = relation.columns
    return {name: list(values) for name, values in zip(names, zip(*relation.fetchall(), strict=True), strict=True)}


def export(log: Path, table: str, out: Path) -> None:
    result = run_cli("export", str(log), "--table", table, "--to", str(out))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("reader", READERS)
def test_a_cr_inside_a_log_line_does_not_split_rows(tmp_path: Path, reader: str) -> None:
    # issue 21: `sed 's/was2Node_PluginMember2/\r=1+2/'`, then `export --table events` read back as 201 rows
    log = hostile_log(tmp_path)
    out = tmp_path / "events.csv"
    export(log, "events", out)
    back = read_csv_as(reader, out, "events")
    assert len(back["line"]) == 190
    assert [int(v) for v in back["line"]] == list(range(1, 191))
    marked = [s for k, s in zip(back["kind"], back["server"], strict=True) if k == "marked_down"]
    assert marked == ["was1node_PluginMember1"]
    matched = [s for k, s in zip(back["kind"], back["server"], strict=True) if k == "clone_match"]
    assert "'\r=1+2" in matched  # the CR kept, inside its cell, behind the guard
    texts = [t for t in back["text"] if t and "\r=1+2" in t]
    assert "Setting name \r=1+2" in texts  # inside a sentence: nothing to guard


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("table", exporter.TABLES)
def test_every_table_round_trips_hostile_cells_through_each_reader(tmp_path: Path, table: str, reader: str) -> None:
    log = hostile_log(tmp_path)
    out = tmp_path / f"{table}.csv"
    export(log, table, out)
    expected = exporter.spreadsheet_safe(expected_frame(log, table))
    back = read_csv_as(reader, out, table)
    assert list(back) == list(expected.columns)
    assert all(len(values) == len(expected) for values in back.values())
    for column in text_columns(table):
        want = [None if v is pd.NA or v != v else v for v in expected[column].astype(object).tolist()]
        assert back[column] == want, column
    hostile = {v for c in text_columns(table) for v in back[c] if isinstance(v, str) and ("\r" in v or '"' in v)}
    if table in ("events", "requests", "sessions", "members"):
        assert hostile, "the hostile cells reached this table"


@pytest.mark.parametrize("reader", ["pandas", "polars", "duckdb"])
def test_all_digit_ids_come_back_as_text(tmp_path: Path, reader: str) -> None:
    # issue 17: pid 00001234 became 1234, and tid 00000e78 became 0.0 (a number in E notation)
    log = write(tmp_path, "digits.log", SAMPLE.read_text(encoding="utf-8").replace(PID, "00001234"))
    for table in ("events", "requests", "members"):
        out = tmp_path / f"{table}.csv"
        export(log, table, out)
        back = read_csv_as(reader, out, table)
        assert set(back["pid"]) == {"00001234"}, table
        if "tid" in back:
            assert TID in back["tid"], table


def test_duckdb_keeps_ids_as_text_without_options(tmp_path: Path) -> None:
    log = write(tmp_path, "digits.log", SAMPLE.read_text(encoding="utf-8").replace(PID, "00001234"))
    out = tmp_path / "requests.csv"
    export(log, "requests", out)
    described = {row[0]: row[1] for row in duckdb.sql(f"DESCRIBE SELECT * FROM read_csv('{out}')").fetchall()}
    assert described["pid"] == "VARCHAR" and described["tid"] == "VARCHAR"
    assert described["time"] == "TIMESTAMP" and described["first_line"] == "BIGINT"
    first = duckdb.sql(f"SELECT pid, tid, time FROM read_csv('{out}') ORDER BY first_line LIMIT 1").fetchall()
    assert first == [("00001234", TID, datetime.datetime(2004, 6, 7, 10, 15, 6))]


def test_banner_text_is_not_guarded(tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    export(SAMPLE, "events", out)
    back = read_csv_as("csv", out, "events")
    assert back["text"][1] == BANNER


GUARDED = ["=1+2", "+1", "-1+2", "@SUM(1)", " =1", "\r=1+2", "\n=1+2", "\t@SUM(1)", "\u200b=1", "\u00a0+1",
           "+cmd|' /C calc'!A0", "-A1", "-$A$1", "+Sheet1!A1", "-HYPERLINK(\"http://x\")", "--1", "- 1", "+(1)"]
NOT_GUARDED = [BANNER, "-----System Information", "-x", "--help", "a=b", "1+2", "-", "+", "", " ", "ok=1",
               "Setting name \r=1+2"]


@pytest.mark.parametrize("cell", GUARDED)
def test_cells_a_spreadsheet_evaluates_are_guarded(cell: str) -> None:
    frame = pd.DataFrame({"text": pd.array([cell], dtype="string")})
    assert exporter.spreadsheet_safe(frame)["text"].tolist() == ["'" + cell]


@pytest.mark.parametrize("cell", NOT_GUARDED)
def test_text_a_spreadsheet_does_not_evaluate_stays_as_logged(cell: str) -> None:
    frame = pd.DataFrame({"text": pd.array([cell], dtype="string")})
    assert exporter.spreadsheet_safe(frame)["text"].tolist() == [cell]


def test_the_readme_reads_ids_as_text_with_each_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 17: the README gave the dtype for pandas only; its block for every reader is run as written
    block = re.search(r"<!-- csv-readers -->\n```python\n(.*?)```", README, flags=re.DOTALL)
    assert block is not None
    log = write(tmp_path, "digits.log", SAMPLE.read_text(encoding="utf-8").replace(PID, "00001234"))
    export(log, "requests", tmp_path / "requests.csv")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(block.group(1).split("requests =")[0], namespace)  # the imports and the id columns
    results = []
    for line in block.group(1).splitlines():
        if line.startswith("requests = "):  # one reader a line
            exec(line, namespace)
            results.append(namespace["requests"])
    pandas_back, polars_back, duckdb_back = results
    assert pandas_back["pid"].tolist() == ["00001234"] * 4 and pandas_back["tid"].iloc[0] == TID
    assert pd.api.types.is_datetime64_dtype(pandas_back["time"])
    assert polars_back["pid"].to_list() == ["00001234"] * 4 and polars_back["tid"][0] == TID
    assert polars_back.schema["time"] == pl.Datetime
    assert [row[0] for row in duckdb_back.select("pid").fetchall()] == ["00001234"] * 4
    assert duckdb_back.select("tid").fetchall()[0] == (TID,)
