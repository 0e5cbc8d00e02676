"""The import contracts in pyproject.toml hold on the code, and fail when a stage imports against them.

lint-imports is run on a copy of the package into which one import against the layering is written, so
that a contract that could never fail (a wrong module name, a layer left out) is seen as one. What no
import rule can see, a call that opens a file in a stage that must not touch files, is checked here on
the code's syntax trees, on the code and on the same copy broken on purpose.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")

needs_lint_imports = pytest.mark.skipif(LINT_IMPORTS is None,
                                        reason="lint-imports not installed: pip install -e '.[lint]'")


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


@needs_lint_imports
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
@needs_lint_imports
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


# ---------------------------------------------------------------- calls that touch files

#: The parts of the package that may open files: read (the traces, the shipped grammars), config
#: (plugin-cfg.xml), and the edge above the report (the reporters, the API, the commands, the CLI, the man
#: pages). Every other module, the core from parse to the report and any stage added later, may not.
MAY_TOUCH_FILES = frozenset({"read", "config", "reporters", "api.py", "commands", "cli.py", "manpage.py",
                             "__main__.py"})
#: What opens, reads or writes a file, called as a function (``open``) or a method (``io.open``,
#: ``path.read_text``, ``gzip.open``, ``os.fdopen``, ...).
FILE_CALLS = frozenset({"open", "fdopen", "FileIO", "read_text", "read_bytes", "write_text", "write_bytes"})


def file_calls(package: Path, exempt: frozenset[str] = MAY_TOUCH_FILES) -> list[str]:
    """``module:line: call`` for every call in ``package`` outside ``exempt`` that touches a file."""
    found = []
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package)
        if module.parts[0] in exempt:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in FILE_CALLS:
                found.append(f"{module.as_posix()}:{node.lineno}: {ast.unparse(func)}()")
    return found


def test_no_stage_between_read_and_the_reporters_opens_a_file() -> None:
    # the grammar files are read in read (grammar_files), plugin-cfg.xml in config: the core takes text
    assert file_calls(ROOT / "tracelens") == []


def test_the_check_sees_the_files_that_read_and_config_open() -> None:
    # not blind: with nothing exempt, it finds the reads it exists to keep out of the core
    found = file_calls(ROOT / "tracelens", exempt=frozenset())
    assert any(f.startswith("read/grammar_files.py:") and "read_text()" in f for f in found), found
    assert any(f.startswith("config/plugin_cfg.py:") and f.endswith(": open()") for f in found), found
    assert {p for p in MAY_TOUCH_FILES if not (ROOT / "tracelens" / p).exists()} == set()


@pytest.mark.parametrize(("module", "code", "caught"), [
    ("findings/base.py", "def _peek(path: str) -> str:\n    with open(path) as f:\n        return f.read()",
     "open()"),
    ("state/clock.py", "def _peek(path: Any) -> str:\n    return path.read_text()", "path.read_text()"),
    ("routing/model.py", "def _peek(path: Any) -> bytes:\n    return path.read_bytes()", "path.read_bytes()"),
    ("parse/order.py", "import io\n\ndef _peek(path: str) -> str:\n    return io.open(path).read()", "io.open()"),
    ("report.py", "def _save(path: Any, text: str) -> None:\n    path.write_text(text)", "path.write_text()"),
], ids=["open-in-findings", "read-text-in-state", "read-bytes-in-routing", "io-open-in-parse",
        "write-text-in-report"])
def test_a_file_opened_in_the_core_is_caught(tree: Path, module: str, code: str, caught: str) -> None:
    path = tree / "tracelens" / module
    original = path.read_text(encoding="utf-8")
    broken = f"{original}\n\n{code}\n"
    try:
        path.write_text(broken, encoding="utf-8")
        found = file_calls(tree / "tracelens")
    finally:
        path.write_text(original, encoding="utf-8")
    lines = broken.splitlines()
    line = next(n for n in range(len(original.splitlines()) + 1, len(lines) + 1)
                if caught.removesuffix("()") + "(" in lines[n - 1])
    assert found == [f"{module}:{line}: {caught}"]
