"""The analysis runs with Python's cyclic garbage collector paused (tracelens.api.collector_paused).

The pause is safe only because what the analysis builds forms no reference cycles, so these tests
check that on every sample and on damaged input (lines the fast path cannot type, headerless lines),
and that the collector's state is given back whatever happens.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, write
from tracelens import api
from tracelens.errors import InputError
from tracelens.read.reader import ReadStats

LOGS = sorted(SAMPLES.glob("*.log"))


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def damaged(tmp_path: Path) -> Path:
    """The failover sample with every other body mangled and headerless lines between."""
    out = []
    for i, line in enumerate((SAMPLES / "failover-failback.log").read_text().splitlines()):
        if i % 2 == 0 and " - " in line:
            head, _, body = line.partition(" - ")
            body = re.sub(r"\d+", "x", body).replace("'", "").replace(": ", ":: ", 1)
            line = f"{head} - {body}"
        out.append(line)
        if i % 5 == 0:
            out.append(f"garbage without a header {i}")
    return write(tmp_path, "damaged.log", "\n".join(out) + "\n")


@pytest.mark.parametrize("lenient", [False, True])
def test_the_analysis_leaves_no_cyclic_garbage(tmp_path: Path, collector_on: None, lenient: bool) -> None:
    logs = [*LOGS, damaged(tmp_path)]
    for log in logs:  # once first: what the first run caches for good (the grammar) is no garbage
        api.analyze([str(log)], lenient=lenient)
    gc.collect()
    gc.disable()
    for log in logs:
        report = api.analyze([str(log)], lenient=lenient)
        assert report.stats.physical_lines > 0
        del report
    assert gc.collect() == 0  # nothing the collector would have had to find


def test_the_collector_is_paused_during_the_analysis_and_enabled_after(
        collector_on: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def progress(_stats: ReadStats, _records: int) -> None:
        seen.append(gc.isenabled())

    monkeypatch.setattr(api, "PROGRESS_EVERY", 1)
    api.analyze([str(SAMPLES / "failover-failback.log")], progress=progress)
    assert seen and not any(seen)
    assert gc.isenabled()


def test_a_paused_collector_stays_paused(collector_on: None) -> None:
    gc.disable()
    api.analyze([str(SAMPLES / "failover-failback.log")])
    assert not gc.isenabled()


def test_the_collector_is_given_back_when_the_input_is_refused(tmp_path: Path, collector_on: None) -> None:
    empty = write(tmp_path, "empty.log", "")
    with pytest.raises(InputError):
        api.analyze([str(empty)])
    assert gc.isenabled()
