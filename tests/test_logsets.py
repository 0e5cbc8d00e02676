"""Log sets: rotated files read as one log whatever the argument order, several web servers kept apart,
duplicates read once (issue 14 §2). Through the command line, on the Redbook trace cut the way a
plug-in rotates its log."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli
from tracelens.read.logset import Order, plan

FAILOVER = SAMPLES / "failover-failback.log"
LINES = FAILOVER.read_text(encoding="utf-8").splitlines(keepends=True)
M1, M2 = "was1node_PluginMember1", "was2Node_PluginMember2"
# cut inside the failing request of thread 00000f10 (lines 41-..., its mark-down at 63) and inside the
# outage (retry due at 159, served again at 188): both cross a rotation
CUTS = (62, 160)


def rotated(tmp_path: Path, lines: list[str] = LINES, cuts: tuple[int, int] = CUTS) -> list[str]:
    """The trace as a plug-in rotates it: ``.2.gz`` (oldest, gzipped), ``.1``, then the live file."""
    a, b = cuts
    oldest = tmp_path / "http_plugin.log.2.gz"
    oldest.write_bytes(gzip.compress("".join(lines[:a]).encode()))
    (tmp_path / "http_plugin.log.1").write_text("".join(lines[a:b]), encoding="utf-8")
    (tmp_path / "http_plugin.log").write_text("".join(lines[b:]), encoding="utf-8")
    return [str(tmp_path / n) for n in ("http_plugin.log.2.gz", "http_plugin.log.1", "http_plugin.log")]


def analysis(*args: str) -> dict[str, Any]:
    result = run_cli("analyze", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_rotated_set_gives_the_same_report_in_every_argument_order(tmp_path: Path) -> None:
    files = rotated(tmp_path)
    reports = []
    for order in itertools.permutations(files):
        data = analysis(*order)
        assert data["input_order"]["given"] == list(order)
        assert data["input_order"]["order"] == "first-timestamp"
        assert data["input_order"]["reordered"] == (list(order) != files)
        del data["input_order"]
        reports.append(data)
    assert all(r == reports[0] for r in reports[1:])
    data = reports[0]
    assert [i["path"] for i in data["inputs"]] == files  # oldest first
    assert [i["first"] for i in data["inputs"]] == ["2004-06-07T10:15:01", "2004-06-07T10:15:20",
                                                    "2004-06-07T10:16:22"]
    whole = analysis(str(FAILOVER))
    # one log: the same requests, verdicts and findings as the file it was cut from, nothing partial
    assert data["summary"] == whole["summary"]
    assert data["accounting"]["requests_partial"] == 0
    assert [f["code"] for f in data["findings"]] == [f["code"] for f in whole["findings"]]
    # the outage crosses both rotations and still counts the requests it affected
    (down_finding,) = [f for f in data["findings"] if f["code"] == "TL101"]
    assert "for 63 s" in down_finding["message"] and "2 request(s) affected" in down_finding["message"]
    assert down_finding["evidence"] == [f"{files[0]}:61", f"{files[1]}:1", f"{files[1]}:97", f"{files[2]}:28"]
    down = data["processes"][0]["members"][0]["down_intervals"][0]
    assert (down["file"], down["line"], down["end_file"], down["end_line"]) == (files[1], 1, files[2], 28)
    assert down["seconds"] == 63.0 and down["end_reason"] == "served"
    assert "TL404" not in {f["code"] for f in data["findings"]}


def test_the_rich_report_says_which_order_was_used(tmp_path: Path) -> None:
    files = rotated(tmp_path)
    out = run_cli("analyze", *reversed(files)).stdout
    assert "read as one log oldest first (by first timestamp), not in the order given:" in out
    assert out.index("http_plugin.log.2.gz") < out.index("http_plugin.log.1,")
    # with several files every line the report names is file:line (whitespace removed: rich wraps paths)
    assert f"connectrefused,{files[1]}:1" in "".join(out.split())
    single = run_cli("analyze", str(FAILOVER)).stdout
    assert "read as one log" not in single  # one file: nothing to say


def test_a_request_crossing_a_rotation_is_one_request_with_its_lines_in_both_files(tmp_path: Path) -> None:
    files = rotated(tmp_path)
    rows = [json.loads(x) for x in run_cli("requests", "--format", "jsonl", *reversed(files)).stdout.splitlines()]
    assert len(rows) == 4 and not any(r["partial"] for r in rows)
    crossing = rows[1]
    assert (crossing["file"], crossing["first_line"], crossing["end_file"], crossing["offset"]) == (
        files[0], 41, files[1], 62)
    # the mark-down is line 63 of the log: line 1 of the second file
    assert crossing["mark_downs"] == [{"member": M1, "line": 63}]
    assert crossing["served_by"] == M2 and crossing["status"] == 200


def test_a_request_across_two_rotations_is_cut_at_the_second(tmp_path: Path) -> None:
    # .1 holds only ten lines of the failing request (41-102): a request a whole file long is not
    # continued into a third file, whose lines could not be told from the first's
    (tmp_path / "http_plugin.log.2").write_text("".join(LINES[:50]), encoding="utf-8")
    (tmp_path / "http_plugin.log.1").write_text("".join(LINES[50:60]), encoding="utf-8")
    (tmp_path / "http_plugin.log").write_text("".join(LINES[60:]), encoding="utf-8")
    paths = [str(tmp_path / n) for n in ("http_plugin.log", "http_plugin.log.1", "http_plugin.log.2")]
    rows = [json.loads(x) for x in run_cli("requests", "--format", "jsonl", *paths).stdout.splitlines()]
    cut = rows[1]
    assert (cut["file"], cut["first_line"], cut["end_file"]) == (paths[2], 41, paths[1])
    assert cut["partial"] == ["end_missing"]
    assert cut["last_line"] - cut["offset"] == 10  # the last line of .1
    rest = rows[2]
    assert (rest["file"], rest["partial"], rest["served_by"]) == (paths[0], ["begin_missing"], M2)


def test_the_same_file_twice_or_a_copy_is_read_once_with_a_warning(tmp_path: Path) -> None:
    log = tmp_path / "http_plugin.log"
    shutil.copy(FAILOVER, log)
    copy = tmp_path / "copy" / "http_plugin.log"
    copy.parent.mkdir()
    shutil.copy(FAILOVER, copy)
    once = analysis(str(log))
    for args in ((str(log), str(log)), (str(log), str(copy))):
        result = run_cli("analyze", "--format", "json", *args)
        assert result.exit_code == 0
        data = json.loads(result.stdout)
        how = "the same file" if args[0] == args[1] else "the same content"
        assert result.stderr == f"tracelens: warning: {args[1]}: {how} as {log}, read once\n"
        assert data["input_order"]["duplicates"] == [{"path": args[1], "same_as": str(log), "how": how}]
        assert [i["path"] for i in data["inputs"]] == [str(log)]
        assert data["summary"] == once["summary"] and data["accounting"] == once["accounting"]
    # the same for the commands that do not analyse
    parsed = run_cli("parse", "--summary", str(log), str(log))
    assert parsed.exit_code == 0 and "read once" in parsed.stderr


def test_standard_input_keeps_the_order_given() -> None:
    got = plan(["-", str(FAILOVER)])
    assert got.order is Order.AS_GIVEN and got.paths == ("-", str(FAILOVER))
    assert not got.continues("<stdin>", str(FAILOVER))


def test_a_pipe_or_device_is_not_read_before_the_analysis_reads_it(tmp_path: Path) -> None:
    # a pipe (<(zcat ...)) cannot be read twice: a set with a file that is not regular keeps the order
    # given and leaves its bytes to the reader. /dev/null stands for it: opening a FIFO with no writer
    # blocks, and that is the reader's to handle, not the log set's
    files = rotated(tmp_path)
    got = plan([os.devnull, *reversed(files)])
    assert got.order is Order.AS_GIVEN and got.paths == (os.devnull, *reversed(files))
    assert got.files[0].first is None and not got.duplicates


@pytest.mark.parametrize("spec", ["ihs1", "=x", "ihs@1=*.log"])
def test_a_malformed_web_server_option_is_a_usage_error(spec: str) -> None:
    result = run_cli("analyze", "--web-server", spec, str(FAILOVER))
    assert result.exit_code == 2
    assert result.stderr.startswith("tracelens: error: --web-server ")


def test_a_down_interval_that_would_be_negative_is_a_contradiction_not_a_duration(tmp_path: Path) -> None:
    # the clock is set back five minutes after the retry became due (line 160): the member is served
    # again at 10:11:23, "before" it was marked down at 10:15:20
    text = LINES[:160] + [line.replace("10:16:", "10:11:") for line in LINES[160:]]
    path = tmp_path / "http_plugin.log"
    path.write_text("".join(text), encoding="utf-8")
    data = analysis(str(path))
    down = data["processes"][0]["members"][0]["down_intervals"][0]
    assert (down["start"], down["end"], down["seconds"]) == ("2004-06-07T10:15:20", "2004-06-07T10:11:23", None)
    codes = {f["code"]: f for f in data["findings"]}
    assert "TL404" in codes  # the jump itself
    contradiction = codes["TL501"]
    assert "its down time ends at 2004-06-07 10:11:23 (line 188), 237 s earlier" in contradiction["message"]
    assert contradiction["evidence"] == [f"{path}:63", f"{path}:188"]
    member_down = codes["TL101"]["message"]
    assert " for " not in member_down.split("(")[1]  # no length for it, least of all a negative one
    outputs = [json.dumps(data), run_cli("analyze", str(path)).stdout, run_cli("members", str(path)).stdout,
               run_cli("requests", "--format", "jsonl", str(path)).stdout, run_cli("timeline", str(path)).stdout]
    for out in outputs:
        assert not re.search(r"(?<![\w:.-])-\d+(?:\.\d+)? ?(?:s\b|min\b|h\b|days\b)", out)
        assert '"seconds": -' not in out and '"duration_s": -' not in out


# ---------------------------------------------------------------- several web servers

DIVERGENCE = (ROOT / "tests" / "traces" / "process-divergence.log").read_text(encoding="utf-8").splitlines(
    keepends=True)


def two_web_servers(tmp_path: Path, names: tuple[str, str] = ("ihs1/http_plugin.log", "ihs2/http_plugin.log"),
                    rotate_first: bool = False) -> list[str]:
    """The divergence trace's two processes as two IHS boxes whose pids coincide (both 00001a2c)."""
    first = [line for line in DIVERGENCE if " 00001a2c " in line]
    second = [line.replace(" 00001b40 ", " 00001a2c ") for line in DIVERGENCE if " 00001b40 " in line]
    paths = []
    for name, lines in zip(names, (first, second), strict=True):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if rotate_first and lines is first:
            (tmp_path / (name + ".1")).write_text("".join(lines[:50]), encoding="utf-8")
            lines = lines[50:]
            paths.append(str(tmp_path / (name + ".1")))
        path.write_text("".join(lines), encoding="utf-8")
        paths.append(str(path))
    return paths


def test_two_web_servers_with_coinciding_pids_are_kept_apart_and_their_sessions_merged(tmp_path: Path) -> None:
    files = two_web_servers(tmp_path, rotate_first=True)
    ihs1_old, ihs1, ihs2 = files
    for order in itertools.permutations(files):
        data = analysis(*order)
        assert data["input_order"]["web_servers"] == ["ihs1", "ihs2"]
        assert [(i["path"], i["web_server"]) for i in data["inputs"]] == [
            (ihs1_old, "ihs1"), (ihs1, "ihs1"), (ihs2, "ihs2")]
        assert [(p["web_server"], p["pid"]) for p in data["processes"]] == [("ihs1", "00001a2c"), ("ihs2", "00001a2c")]
        assert (data["summary"]["processes"], data["summary"]["sessions"], data["summary"]["requests"]) == (2, 1, 4)
        (session,) = data["sessions"]
        assert session["processes"] == ["00001a2c@ihs1", "00001a2c@ihs2"]
        assert {(r["web_server"], r["pid"]) for r in session["requests"]} == {("ihs1", "00001a2c"),
                                                                              ("ihs2", "00001a2c")}
        (divergence,) = [f for f in data["findings"] if f["code"] == "TL005"]
        assert (divergence["web_server"], divergence["pid"], divergence["file"]) == ("ihs2", "00001a2c", ihs2)
        assert "process 00001a2c@ihs1 sent it to was2Node_PluginMember2" in divergence["message"]
        assert "process 00001a2c@ihs2 to was1node_PluginMember1" in divergence["message"]
        assert divergence["evidence"] == [f"{ihs1_old}:12", f"{ihs2}:12"]
        # the outage is ihs1's alone: ihs2's process of the same pid never saw the member down
        (down,) = [f for f in data["findings"] if f["code"] == "TL101"]
        assert (down["web_server"], down["pid"]) == ("ihs1", "00001a2c")
        ihs2_members = data["processes"][1]["members"]
        assert [(m["name"], m["down_intervals"]) for m in ihs2_members] == [(M1, [])]


def test_read_as_one_log_the_two_web_servers_would_be_one_process(tmp_path: Path) -> None:
    # what the keying prevents: the same lines in one file make one process that contradicts itself
    files = two_web_servers(tmp_path)
    merged = tmp_path / "merged.log"
    merged.write_text("".join(sorted(DIVERGENCE)).replace(" 00001b40 ", " 00001a2c "), encoding="utf-8")
    assert analysis(str(merged))["summary"]["processes"] == 1
    assert analysis(*files)["summary"]["processes"] == 2


def test_overlapping_files_of_one_directory_are_different_web_servers(tmp_path: Path) -> None:
    files = two_web_servers(tmp_path, names=("logs/ihs1_plugin.log", "logs/ihs2_plugin.log"))
    data = analysis(*files)
    assert data["input_order"]["web_servers"] == ["ihs1_plugin.log", "ihs2_plugin.log"]
    assert [p["web_server"] for p in data["processes"]] == ["ihs1_plugin.log", "ihs2_plugin.log"]
    out = run_cli("analyze", *files).stdout
    assert "2 web servers, each read as one log oldest first" in out


def test_web_server_option_names_the_web_servers(tmp_path: Path) -> None:
    files = two_web_servers(tmp_path, names=("a/http_plugin.log", "b/http_plugin.log"))
    data = analysis("--web-server", f"front={tmp_path}/a/*", "--web-server", "back=*/b/http_plugin.log*", *files)
    assert [(i["path"], i["web_server"]) for i in data["inputs"]] == [(files[0], "front"), (files[1], "back")]
    # one name for files that overlap: one plug-in cannot have written both
    result = run_cli("analyze", "--web-server", "all=*", *files)
    assert result.exit_code == 2
    assert result.stderr.startswith("tracelens: error: --web-server all: ") and "overlap in time" in result.stderr


def test_the_other_outputs_carry_the_web_server(tmp_path: Path) -> None:
    files = two_web_servers(tmp_path)
    rows = [json.loads(x) for x in run_cli("requests", "--format", "jsonl", *files).stdout.splitlines()]
    assert sorted({(r["web_server"], r["pid"]) for r in rows}) == [("ihs1", "00001a2c"), ("ihs2", "00001a2c")]
    members = [json.loads(x) for x in run_cli("members", "--format", "jsonl", *files).stdout.splitlines()]
    assert [(m["web_server"], m["pid"], m["member"]) for m in members] == [
        ("ihs1", "00001a2c", M1), ("ihs1", "00001a2c", M2), ("ihs2", "00001a2c", M1)]
    out = tmp_path / "findings.csv"
    assert run_cli("export", *files, "--table", "findings", "--to", str(out)).exit_code == 0
    rows_csv = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert {(r["web_server"], r["pid"]) for r in rows_csv if r["code"] == "TL005"} == {("ihs2", "00001a2c")}
    lanes = run_cli("timeline", "--width", "100", *files).stdout
    assert "00001a2c@ihs1 was1node" in lanes and "00001a2c@ihs2 was1node" in lanes
    # a bare pid names that process in every web server
    only = run_cli("timeline", "--width", "100", "--pid", "00001a2c", *files).stdout
    assert "00001a2c@ihs1" in only and "00001a2c@ihs2" in only
    single = run_cli("analyze", "--format", "json", str(FAILOVER)).stdout
    assert '"web_server": null' in single and "@" not in json.loads(single)["processes"][0]["pid"]


# ---------------------------------------------------------------- the README's CI examples, as written

README_CHECKS = [line.strip().removeprefix("- run: ").removeprefix("- ")
                 for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
                 if "tracelens check" in line and "captured/http_plugin.log*" in line]


def test_the_readme_has_ci_examples_on_a_rotated_capture() -> None:
    assert len(README_CHECKS) >= 4 and all(c.startswith("tracelens check ") for c in README_CHECKS)


@pytest.mark.parametrize("command", README_CHECKS)
def test_the_readme_ci_examples_are_right_as_written(tmp_path: Path, command: str) -> None:
    # a capture as a drill leaves it: the rotated set (the shell expands it newest first) and the config
    captured = tmp_path / "captured"
    captured.mkdir()
    rotated(captured)
    shutil.copy(SAMPLES / "plugin-cfg.xml", captured / "plugin-cfg.xml")
    shell = command.replace("tracelens ", f"{shlex.quote(sys.executable)} -m tracelens ", 1)
    done = subprocess.run(["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    gate = "--exit-zero" not in command
    assert done.returncode == (1 if gate else 0), done.stderr  # the drill's failover is a warning
    assert "Traceback" not in done.stderr
    out = done.stdout
    for flag in ("-o", "--output-file"):
        if f" {flag} " in command:
            out = (tmp_path / command.split(f" {flag} ")[1].split()[0]).read_text(encoding="utf-8")
    # one log: the failover, the outage and the failback, nothing cut, no time going backwards
    if "--format sarif" in command:
        found = {r["ruleId"] for run in json.loads(out)["runs"] for r in run["results"]}
    elif "--format gitlab" in command:
        found = {issue["check_name"] for issue in json.loads(out)}
    elif "--format junit" in command:  # a passing test case per rule without findings
        found = {case.get("classname", "").split()[0] for case in ElementTree.fromstring(out).iter("testcase")
                 if case.get("name") != "no findings"}
    else:
        found = set(re.findall(r"TL\d{3}", out))
    assert {"TL001", "TL101"} <= found and not {"TL402", "TL404"} & found
    if "--format github" in command:
        assert "::warning file=captured/http_plugin.log.2.gz,line=41," in out  # the failover's request
        assert "::warning file=captured/http_plugin.log.1,line=1," in out  # the mark-down, after the rotation


# ---------------------------------------------------------------- in parts (--jobs)


def _generated(lines: int, seed: int) -> list[str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return [line + "\n" for line in generate(lines, seed=seed)]


def test_log_sets_give_the_same_analysis_whatever_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracelens import parallel

    monkeypatch.setattr(parallel, "MIN_SPLIT_BYTES", 1)  # split even these small files
    # two web servers whose generated processes have the same pids, the first rotated three times
    (tmp_path / "ihs1").mkdir()
    files = rotated(tmp_path / "ihs1", _generated(3000, 5), cuts=(900, 2100))
    ihs2 = tmp_path / "ihs2" / "http_plugin.log"
    ihs2.parent.mkdir()
    ihs2.write_text("".join(_generated(2000, 6)), encoding="utf-8")
    args = [str(ihs2), *reversed(files)]
    outputs = [run_cli("analyze", "--format", "json", "--jobs", str(jobs), *args) for jobs in (1, 2, 3)]
    assert all(o.exit_code == 0 for o in outputs) and outputs[1].stdout == outputs[0].stdout == outputs[2].stdout
    data = json.loads(outputs[0].stdout)
    assert data["input_order"]["web_servers"] == ["ihs1", "ihs2"]
    pids = {(p["web_server"], p["pid"]) for p in data["processes"]}
    assert {pid for _, pid in pids if _ == "ihs1"} & {pid for _, pid in pids if _ == "ihs2"}  # they coincide
