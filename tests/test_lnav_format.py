"""The benchmark's lnav format for the plug-in log reads every line of every sample log, both timestamp styles.

lnav stands beside tracelens in benchmarks/run.py; a format that silently stopped matching would make
lnav look faster than it is (its count check in run.py stops such a run; this test says so earlier).
Skipped where lnav is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
LNAV = shutil.which("lnav")
LOGS = sorted(p for p in SAMPLES.glob("*.log") if not p.name.startswith("real-03"))  # real-03 has no headers

pytestmark = pytest.mark.skipif(LNAV is None, reason="lnav is not installed (Debian package lnav)")


def _lnav(query: str, log: Path, home: Path) -> list[list[str]]:
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "TERM": "dumb"}
    out = subprocess.run([str(LNAV), "-n", "-I", str(ROOT / "benchmarks" / "lnav"), "-c", query, str(log)],
                         capture_output=True, text=True, env=env, timeout=60, check=True).stdout
    return [line.split() for line in out.splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_lnav_reads_every_line_of_a_sample_log_as_the_plugin_format(log: Path, tmp_path: Path) -> None:
    # lnav counts log messages: a headered line each (these logs' blank lines belong to the message before)
    lines = sum(1 for line in log.open(encoding="utf-8") if line.startswith("["))
    assert _lnav(";SELECT count(*) FROM websphere_plugin_log", log, tmp_path) == [[str(lines)]]


def test_lnav_takes_the_pid_tid_and_time_of_both_timestamp_styles(tmp_path: Path) -> None:
    query = ";SELECT pid, tid, log_time FROM websphere_plugin_log WHERE log_line = 0"
    asctime = _lnav(query, SAMPLES / "failover-failback.log", tmp_path)
    fraction = _lnav(query, SAMPLES / "failover-failback-85.log", tmp_path)
    assert asctime == [["00001a2c", "00000e78", "2004-06-07", "10:15:01.000"]]
    assert fraction == [["00001a2c", "00000e78", "2004-06-07", "10:15:01.123"]]
