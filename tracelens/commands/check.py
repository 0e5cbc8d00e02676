"""CLI: ``tracelens check``, the CI gate: exit 1 when a finding reaches the threshold."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from tracelens.commands.analysis import analyze_logs
from tracelens.commands.options import (
    AFFINITY_MISS_CHOICES,
    CONFIG,
    JOBS,
    LENIENT,
    MAX_RECORD,
    SEVERITY_CHOICES,
    STRICT,
    WEB_SERVER,
    output_options,
)
from tracelens.commands.output import Command
from tracelens.commands.settings import Settings, find_settings
from tracelens.errors import ExitCode, TracelensError

if TYPE_CHECKING:
    from tracelens.findings.base import Finding, Rule, Severity
    from tracelens.report import Report

FORMATS = ("text", "json", "junit", "github", "sarif", "gitlab")
STATISTICS_FORMATS = ("text", "json")
# NOTE: 50 is reporters.gate.MAX_ANNOTATIONS, written here so that junitparser does not load at every
# start of tracelens (tests/test_check_options.py checks that they agree)
DEFAULTS: dict[str, Any] = {"fail-on": "warning", "format": "text", "affinity-miss": AFFINITY_MISS_CHOICES[0],
                            "max-annotations": 50, "config": None, "select": [], "extend-select": [],
                            "ignore": [], "extend-ignore": []}
COMMAND_LINE = "command line"
DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Setting:
    """One merged setting of ``check`` and where its value came from (``--show-settings`` prints both)."""

    key: str
    value: Any
    source: str


@click.command(cls=Command)
# NOTE: FILE... is optional for --show-settings, which reads no log; without it, one is required
@click.argument("files", nargs=-1, metavar="FILE...", type=click.Path(allow_dash=True))
@CONFIG
@click.option("--fail-on", type=click.Choice(SEVERITY_CHOICES), default=None,
              help="Exit 1 when a finding of this severity or above remains.  [default: warning]")
@click.option("--select", multiple=True, metavar="CODES|NAMES",
              help="Report only these findings (codes, names, groups like `affinity`, globs; comma-separated); "
                   "replaces the settings file's `select`.")
@click.option("--extend-select", multiple=True, metavar="CODES|NAMES",
              help="Report these findings too, on top of `select` from the settings file or --select.")
@click.option("--ignore", multiple=True, metavar="CODES|NAMES",
              help="Do not report these findings; replaces the settings file's `ignore`.")
@click.option("--extend-ignore", multiple=True, metavar="CODES|NAMES",
              help="Do not report these findings either, on top of `ignore` from the settings file or --ignore.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="text; json; junit (JUnit XML for Jenkins, GitLab, Azure DevOps: a test case per finding); "
                   "github (Actions annotations); sarif (SARIF 2.1.0 for GitHub code scanning); gitlab (GitLab "
                   "Code Quality).  [default: text]")
@click.option("--statistics", is_flag=True,
              help="One line per rule with its number of findings instead of the findings (text; json adds a "
                   "`statistics` list).")
@click.option("--max-annotations", type=click.IntRange(min=0), default=None, metavar="N",
              help="--format github: annotate at most N findings of each rule, then count the rest in one line "
                   "per rule.  [default: 50]")
@click.option("--exit-zero", is_flag=True,
              help="Exit 0 even when findings reach --fail-on (input and usage errors still exit 2).")
@click.option("--show-settings", is_flag=True,
              help="Print the merged settings, each with where it came from, and exit; reads no log.")
@click.option("--isolated", is_flag=True, help="Ignore settings files (.tracelens.toml, pyproject.toml).")
@click.option("--affinity-miss", type=click.Choice(AFFINITY_MISS_CHOICES), default=None,
              help="See `tracelens analyze --help`.  [default: load-balance]")
@LENIENT
@STRICT
@WEB_SERVER
@JOBS
@MAX_RECORD
@output_options
def check(files: tuple[str, ...], config: str | None, fail_on: str | None, select: tuple[str, ...],
          extend_select: tuple[str, ...], ignore: tuple[str, ...], extend_ignore: tuple[str, ...], fmt: str | None,
          statistics: bool, max_annotations: int | None, exit_zero: bool, show_settings: bool, isolated: bool,
          affinity_miss: str | None, lenient: bool, strict: bool) -> None:
    """Gate a CI job on captured plug-in logs: exit 0 when no finding reaches --fail-on, 1 when one does.

    Defaults come from `.tracelens.toml` or `[tool.tracelens]` in `pyproject.toml` (keys fail-on,
    select, extend-select, ignore, extend-ignore, format, config, affinity-miss, max-annotations);
    options win over them (--isolated: the files are not read). With --strict, input with unparsed
    records is an input error (exit 2, nothing on stdout). With --quiet, only the findings: no summary
    lines either.
    """
    from tracelens.findings.base import Severity
    from tracelens.findings.select import fails, keep, selected_rules, split_selectors
    from tracelens.reporters.console import terminal

    settings = Settings(None, {}) if isolated else find_settings()
    given = {"fail-on": fail_on, "format": fmt, "affinity-miss": affinity_miss, "config": config,
             "max-annotations": max_annotations, "select": split_selectors(select) or None,
             "extend-select": split_selectors(extend_select), "ignore": split_selectors(ignore) or None,
             "extend-ignore": split_selectors(extend_ignore)}
    merged = {s.key: s for s in merge(settings, given)}
    for key, allowed in (("fail-on", SEVERITY_CHOICES), ("format", FORMATS), ("affinity-miss", AFFINITY_MISS_CHOICES)):
        _check_choice(merged[key], allowed)
    rules = selected_rules(merged["select"].value, [*merged["ignore"].value, *merged["extend-ignore"].value],
                           merged["extend-select"].value)
    if show_settings:
        _show_settings(settings, isolated, list(merged.values()), [r.code for r in rules])
        return
    if not files:
        raise click.UsageError("Missing argument 'FILE...'.")
    output = merged["format"].value
    if statistics and output not in STATISTICS_FORMATS:
        raise TracelensError(f"--statistics works with --format {' or '.join(STATISTICS_FORMATS)}, not {output}")
    threshold = Severity(merged["fail-on"].value)
    report = analyze_logs(files, merged["config"].value, lenient, merged["affinity-miss"].value, strict)
    findings = keep(report.findings, rules)
    failed = fails(findings, threshold)
    code = ExitCode.FINDINGS if failed and not exit_zero else ExitCode.OK
    _write(report, findings, rules, threshold, failed, int(code), output, statistics=statistics,
           quiet=terminal().quiet, exit_zero=exit_zero, max_annotations=merged["max-annotations"].value)
    click.get_current_context().exit(int(code))


def merge(settings: Settings, given: dict[str, Any]) -> list[Setting]:
    """Each setting from the command line, else the settings file, else its default; ``extend-*`` add up."""
    merged = []
    for key, default in DEFAULTS.items():
        cli_value = given.get(key)
        file_value = settings.get(key)
        if key.startswith("extend-"):
            sources = [s for s, v in ((settings.path, file_value), (COMMAND_LINE, cli_value)) if v]
            merged.append(Setting(key, [*(file_value or []), *(cli_value or [])], " + ".join(map(str, sources))
                                  or DEFAULT))
        elif cli_value is not None:
            merged.append(Setting(key, cli_value, COMMAND_LINE))
        elif file_value is not None:
            merged.append(Setting(key, file_value, str(settings.path)))
        else:
            merged.append(Setting(key, default, DEFAULT))
    return merged


def _check_choice(setting: Setting, allowed: tuple[str, ...]) -> None:
    if setting.value not in allowed:
        raise TracelensError(f"{setting.source}: `{setting.key}` must be one of {', '.join(allowed)}, "
                             f"not {setting.value!r}")


def _show_settings(settings: Settings, isolated: bool, merged: list[Setting], codes: list[str]) -> None:
    """The merged settings as TOML a settings file could hold, each with its source as a comment."""
    if isolated:
        origin = "none read (--isolated)"
    else:
        origin = settings.path or "none found (.tracelens.toml or [tool.tracelens] in pyproject.toml)"
    lines = [f"# settings file: {origin}"]
    for s in merged:
        if s.value is None:
            lines.append(f"# {s.key}: not set ({s.source})")
        else:
            lines.append(f"{s.key} = {json.dumps(s.value, ensure_ascii=False)}  # {s.source}")
    lines.append(f"# rules reported ({len(codes)}): {', '.join(codes)}")
    sys.stdout.write("\n".join(lines) + "\n")


def _write(report: Report, findings: list[Finding], rules: list[type[Rule]], threshold: Severity, failed: bool,
           code: int, output: str, *, statistics: bool, quiet: bool, exit_zero: bool,
           max_annotations: int) -> None:
    from tracelens.reporters import codequality, gate, sarif
    from tracelens.reporters.console import coloured_diagnostics, stdout_console, terminal

    inputs = report.stats.files
    # NOTE: to sys.stdout, which --output-file points at a file renamed onto its target at the end
    # (tracelens.commands.output.atomic_stdout)
    out = sys.stdout
    if output == "json":
        gate.write_json(findings, threshold, failed, code, out, with_statistics=statistics)
    elif output == "junit":
        gate.write_junit(findings, rules, threshold, out, datetime.now().astimezone())
    elif output == "github":
        gate.write_github(findings, out, max_annotations=max_annotations, quiet=quiet)
        if not quiet:
            out.write(gate.summary_line(findings, threshold, failed, exit_zero=exit_zero))
    elif output == "sarif":
        sarif.write_sarif(findings, rules, inputs, code, out)
    elif output == "gitlab":
        codequality.write_code_quality(findings, inputs, out)
    elif statistics:
        gate.write_statistics(findings, threshold, failed, out, quiet=quiet, exit_zero=exit_zero)
    elif terminal().stdout_colour():
        # NOTE: coloured here, over the text reporter's plain lines: reporters/gate.py writes the same
        # bytes whether or not they reach a terminal
        text = io.StringIO()
        gate.write_text(findings, threshold, failed, text, quiet=quiet, exit_zero=exit_zero)
        stdout_console(wrap=False).print(coloured_diagnostics(text.getvalue()), end="", soft_wrap=True)
    else:
        gate.write_text(findings, threshold, failed, out, quiet=quiet, exit_zero=exit_zero)
    out.flush()
