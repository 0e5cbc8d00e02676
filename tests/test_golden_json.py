"""The JSON report of every sample log, test trace and a generated trace, byte for byte against its golden file.

Any change of an answer shows here. When one is deliberate, rewrite the goldens with
`python tests/golden/regenerate.py`, read the diff, and name the change in CHANGELOG.md.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.golden import regenerate as golden


def _compare(stem: str, got: str) -> None:
    path = golden.json_golden_path(stem)
    assert path.exists(), f"no golden file {path.name}: run python tests/golden/regenerate.py"
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(keepends=True), got.splitlines(keepends=True),
                                            f"golden/{path.name}", "now", n=2))
        pytest.fail(f"the JSON report of {stem} changed (python tests/golden/regenerate.py rewrites it):\n"
                    f"{diff[:6000]}")


@pytest.mark.parametrize("stem", sorted(golden.JSON_CASES))
def test_the_json_report_is_its_golden_file(stem: str) -> None:
    _compare(stem, golden._render(golden.analyze_args(golden.JSON_CASES[stem])))


def test_the_json_report_of_a_generated_trace_is_its_golden_file(tmp_path: Path) -> None:
    _compare(Path(golden.GENERATED_NAME).stem, golden.render_generated(tmp_path))


def test_every_sample_log_and_test_trace_has_a_golden_case() -> None:
    named = {arg for case in golden.JSON_CASES.values() for arg in case if arg.endswith(".log")}
    logs = {p.relative_to(golden.ROOT).as_posix()
            for folder in ("sample_logs", "tests/traces", "tests/traces/weblogic")
            for p in (golden.ROOT / folder).glob("*.log")}
    assert named == logs
    kept = {p.stem for p in golden.JSON_DIR.glob("*.json")}
    assert kept == {*golden.JSON_CASES, Path(golden.GENERATED_NAME).stem}, "a golden file no case writes"
