"""The package as pip and a user's shell see it: the wheel's contents, the floors, the extras, man pages, completion."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SAMPLE = SAMPLES / "failover-failback.log"


def _floors(requirements: list[str]) -> dict[str, str]:
    out = {}
    for req in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)", req.strip())
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


# ---------------------------------------------------------------- metadata and the wheel


def test_lowest_constraints_are_the_floors_of_pyproject() -> None:
    """.ci/floors installs .ci/lowest.txt: it must be every runtime floor, exactly."""
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    floors = _floors(project["dependencies"]) | _floors(extras["tables"]) | _floors(extras["report"])
    pinned = {}
    for line in (ROOT / ".ci" / "lowest.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[name.strip().lower()] = version.strip()
    assert set(pinned) == set(floors) == {"click", "defusedxml", "lark", "rich", "junitparser", "polars", "pandas",
                                         "pyarrow", "jinja2", "plotly"}
    for name, floor in floors.items():
        assert _release(pinned[name]) == _release(floor), (name, floor, pinned[name])


def _release(version: str) -> tuple[int, ...]:
    """``8.2.0`` and ``8.2`` are the same release."""
    parts = [int(p) for p in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def test_pandas_is_an_extra_and_the_test_extra_pulls_it() -> None:
    project = PYPROJECT["project"]
    assert not any(d.startswith(("pandas", "pyarrow")) for d in project["dependencies"])
    extras = project["optional-dependencies"]
    assert set(_floors(extras["tables"])) == {"pandas", "pyarrow"}
    assert "tracelens[tables]" in extras["test"]  # the README's `pip install -e '.[test]'` gets everything


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot build the wheel here: {done.stderr.strip()[-300:]}")
    return next(out.glob("tracelens-*.whl"))


def test_the_wheel_holds_types_licence_and_man_pages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "tracelens/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in meta
    man = {Path(n).name for n in names if "/data/share/man/man1/" in n}
    assert "tracelens.1" in man and "tracelens-analyze.1" in man and "tracelens-timeline.1" in man
    for version in ("3.11", "3.12", "3.13"):
        assert f"Classifier: Programming Language :: Python :: {version}" in meta
    # no published home yet: an address made up for the metadata would point at whoever owns it
    assert "Project-URL" not in meta
    assert "Provides-Extra: tables" in meta and "Requires-Dist: pandas>=2.2.2; extra == 'tables'" in meta


def test_the_wheel_carries_the_grammars_and_parses_with_them(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        z.extractall(tmp_path / "site")
    grammars = {"plugin_log.lark", "header.lark", "lenient.lark"}
    assert grammars <= {Path(n).name for n in names if n.startswith("tracelens/grammars/")}
    # the unpacked wheel, not the checkout: the grammar's `%import .header` is resolved inside the package,
    # and the reader takes its header from the packaged header.lark too (no cache: the grammar is built)
    code = (
        "import tracelens.read.grammar_files as g, tracelens.read.header as h\n"
        "from tracelens.parse.grammar import build_parser\n"
        "from tracelens.parse.parser import RecordParser\n"
        "from tracelens.read.reader import RawRecord\n"
        "print(g.grammar_path('header.lark').parent)\n"
        "build_parser(strict=True)\n"
        "e = RecordParser(fast=False).parse(RawRecord('p.log', 1, '[Wed Dec 03 15:40:13 2014] 00000dbc 00000e78 - "
        "ERROR: ws_common: websphereGetStream: Connect timeout fired'))\n"
        "print(type(e).__name__, e.pid, len(h.TERMINALS))\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(tmp_path / "site" / "tracelens" / "grammars"),
                                        "ConnectTimeoutFired 00000dbc 6"]


# ---------------------------------------------------------------- without the tables extra


_NO_PANDAS = "import sys\nsys.modules['pandas'] = None\nsys.modules['pyarrow'] = None\n"


def _without_pandas(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TRACELENS_DEBUG"} | {"NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", _NO_PANDAS + code], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, check=False)


def test_export_without_pandas_says_what_to_install(tmp_path: Path) -> None:
    argv = ["tracelens", "export", str(SAMPLE), "--table", "requests", "--to", str(tmp_path / "r.csv")]
    done = _without_pandas(f"import tracelens.cli as c\nsys.argv = {argv!r}\nc.run()")
    assert done.returncode == 2
    assert done.stderr == "tracelens: error: export needs pandas and pyarrow: pip install 'tracelens[tables]'\n"
    assert list(tmp_path.iterdir()) == []


def test_the_analysis_and_the_api_run_without_pandas() -> None:
    argv = ["tracelens", "analyze", "--format", "json", str(SAMPLE)]
    done = _without_pandas(f"import tracelens.cli as c\nsys.argv = {argv!r}\nc.run()")
    assert done.returncode == 0 and '"schema_version"' in done.stdout
    api = _without_pandas(
        "import tracelens\n"
        f"report = tracelens.analyze({str(SAMPLE)!r})\n"
        "print(len(report.requests))\n"
        "try:\n    report.requests_frame()\nexcept ImportError as exc:\n    print(exc)\n")
    assert api.returncode == 0, api.stderr
    assert api.stdout == "4\nthe tables need pandas and pyarrow: pip install 'tracelens[tables]'\n"


# ---------------------------------------------------------------- man pages


def test_the_man_pages_are_generated_from_the_help_of_today(tmp_path: Path) -> None:
    from tracelens.manpage import write_pages

    fresh = {p.name: p.read_text(encoding="utf-8") for p in write_pages(tmp_path)}
    kept = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "man").glob("*.1")}
    assert set(kept) == set(fresh), "run `python -m tracelens.manpage man` and commit man/"
    for name, text in fresh.items():
        assert kept[name] == text, f"man/{name} is stale: run `python -m tracelens.manpage man` and commit man/"


def test_a_man_page_holds_every_option_of_its_command() -> None:
    import click

    from tracelens.cli import cli
    from tracelens.manpage import command_page

    root = click.Context(cli, info_name="tracelens")
    for name in cli.list_commands(root):
        page = command_page(cli, name)
        command = cli.get_command(root, name)
        assert command is not None
        for param in command.params:
            for opt in getattr(param, "opts", []) if isinstance(param, click.Option) else []:
                assert opt.replace("-", "\\-") in page, (name, opt)
        assert page.startswith(f'.TH "TRACELENS-{name.upper()}" "1"')


@pytest.mark.skipif(not shutil.which("groff"), reason="groff is not installed")
def test_the_man_pages_render_without_warnings() -> None:
    for page in sorted((ROOT / "man").glob("*.1")):
        done = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)], capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0 and done.stderr == "", (page.name, done.stderr)
    text = subprocess.run(["groff", "-man", "-Tutf8", str(ROOT / "man" / "tracelens-timeline.1")],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    assert "█ marked down" in text and "--output-file PATH" in re.sub(r".\x08", "", text)


# ---------------------------------------------------------------- shell completion


def _complete(shell_var: str, words: str, cword: int) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMP_")} | {
        "_TRACELENS_COMPLETE": shell_var, "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    done = subprocess.run([sys.executable, "-m", "tracelens"], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F"), ("zsh", "#compdef tracelens"),
                                               ("fish", "complete --no-files --command tracelens")])
def test_completion_scripts_for_the_documented_shells(shell: str, marker: str) -> None:
    assert marker in _complete(f"{shell}_source", "", 0)


def test_completion_offers_commands_options_and_files() -> None:
    assert "plain,timeline" in _complete("bash_complete", "tracelens tim", 1).splitlines()
    assert "plain,--format" in _complete("bash_complete", "tracelens analyze --fo", 2).splitlines()
    # log files and --config, --to, --output-file: the shell completes file names
    assert _complete("bash_complete", "tracelens analyze sample_logs/fail", 2).splitlines() == ["file,sample_logs/fail"]
    assert _complete("bash_complete", "tracelens analyze --config sam", 3).splitlines() == ["file,sam"]
    assert _complete("bash_complete", "tracelens export x.log --to ou", 4).splitlines() == ["file,ou"]
