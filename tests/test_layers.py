"""The import contracts in pyproject.toml hold on the code, and fail when a stage imports against them.

lint-imports is run on a copy of the package into which one import against the layering is written, so
that a contract that could never fail (a wrong module name, a layer left out) is seen as one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")

pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="lint-imports not installed: pip install -e '.[lint]'")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS is not None
    # NOTE: the copy must be the package imported: PYTHONPATH puts it before any installed tracelens
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package and its pyproject.toml, copied to be broken on purpose."""
    copy = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "tracelens", copy / "tracelens", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_the_contracts_hold_on_the_code(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " broken" in result.stdout and "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("parse/order.py", "import tracelens.state.clock", "tracelens.parse is not allowed to import tracelens.state"),
    ("state/clock.py", "import rich", "tracelens.state is not allowed to import rich"),
    ("findings/base.py", "import shutil", "tracelens.findings is not allowed to import shutil"),
    ("read/reader.py", "import tracelens.parse.grammar", "tracelens.read is not allowed to import tracelens.parse"),
    ("report.py", "import pandas", "tracelens.report is not allowed to import pandas"),
    ("commands/check.py", "import tracelens.cli", "tracelens.commands is not allowed to import tracelens.cli"),
    ("lanes/chart.py", "import rich.text", "tracelens.lanes is not allowed to import rich"),
    ("lanes/scale.py", "import tracelens.reporters.console",
     "tracelens.lanes is not allowed to import tracelens.reporters"),
], ids=["parse-above-state", "rich-in-state", "files-in-findings", "read-above-parse", "pandas-in-report",
        "commands-import-cli", "rich-in-lanes", "lanes-import-a-reporter"])
def test_an_import_against_the_layers_breaks_a_contract(tree: Path, module: str, line: str, broken: str) -> None:
    path = tree / "tracelens" / module
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(f"{original}\n{line}  # noqa: E402\n", encoding="utf-8")
        result = lint_imports(tree)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout
