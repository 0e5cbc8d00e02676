"""CLI: ``tracelens check``, the CI gate: exit 1 when a finding reaches the threshold."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

import click

from tracelens.commands.analysis import analyze_logs
from tracelens.commands.options import (
    AFFINITY_MISS_CHOICES,
    CONFIG,
    SEVERITY_CHOICES,
    WEBLOGIC_FAILOVER,
    Format,
    engine_options,
    format_option,
    output_options,
    reading_options,
)
from tracelens.commands.output import Command
from tracelens.commands.settings import Settings, find_settings
from tracelens.errors import ExitCode, TracelensError

if TYPE_CHECKING:
    from tracelens.findings.base import Finding, Rule, Severity

STATISTICS_FORMATS = (Format.TEXT, Format.JSON)
# NOTE: 50 is reporters.gate.MAX_ANNOTATIONS, written here so that junitparser does not load at every
# start of tracelens (tests/test_check_options.py checks that they agree)
DEFAULTS: dict[str, Any] = {"fail-on": "warning", "format": Format.TEXT.value,
                            "affinity-miss": AFFINITY_MISS_CHOICES[0], "max-annotations": 50, "config": None,
                            "select": [], "extend-select": [], "ignore": [], "extend-ignore": []}
COMMAND_LINE = "command line"
DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Setting:
    """One merged setting of ``check`` and where its value came from (``--show-settings`` prints both)."""

    key: str
    value: Any
    source: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``check`` found and decided, as the writer of its ``--format`` gets it."""

    findings: list[Finding]
    rules: list[type[Rule]]
    threshold: Severity
    failed: bool
    code: int
    inputs: list[str]
    statistics: bool
    quiet: bool
    exit_zero: bool
    max_annotations: int


def _text(o: Outcome, out: IO[str]) -> None:
    from tracelens.reporters import gate
    from tracelens.reporters.console import coloured_diagnostics, stdout_console, terminal

    if o.statistics:
        gate.write_statistics(o.findings, o.threshold, o.failed, out, quiet=o.quiet, exit_zero=o.exit_zero)
    elif terminal().stdout_colour():
        # NOTE: coloured here, over the text reporter's plain lines: reporters/gate.py writes the same
        # bytes whether or not they reach a terminal
        text = io.StringIO()
        gate.write_text(o.findings, o.threshold, o.failed, text, quiet=o.quiet, exit_zero=o.exit_zero)
        stdout_console(wrap=False).print(coloured_diagnostics(text.getvalue()), end="", soft_wrap=True)
    else:
        gate.write_text(o.findings, o.threshold, o.failed, out, quiet=o.quiet, exit_zero=o.exit_zero)


def _json(o: Outcome, out: IO[str]) -> None:
    from tracelens.reporters import gate

    gate.write_json(o.findings, o.threshold, o.failed, o.code, out, with_statistics=o.statistics)


def _junit(o: Outcome, out: IO[str]) -> None:
    from tracelens.reporters import gate

    gate.write_junit(o.findings, o.rules, o.threshold, out, datetime.now().astimezone())


def _github(o: Outcome, out: IO[str]) -> None:
    from tracelens.reporters import gate

    gate.write_github(o.findings, out, max_annotations=o.max_annotations, quiet=o.quiet)
    if not o.quiet:
        out.write(gate.summary_line(o.findings, o.threshold, o.failed, exit_zero=o.exit_zero))


def _sarif(o: Outcome, out: IO[str]) -> None:
    from tracelens.reporters import sarif

    sarif.write_sarif(o.findings, o.rules, o.inputs, o.code, out)


def _gitlab(o: Outcome, out: IO[str]) -> None:
    from tracelens.reporters import codequality

    codequality.write_code_quality(o.findings, o.inputs, out)


WRITERS: dict[Format, Callable[[Outcome, IO[str]], None]] = {
    Format.TEXT: _text, Format.JSON: _json, Format.JUNIT: _junit, Format.GITHUB: _github, Format.SARIF: _sarif,
    Format.GITLAB: _gitlab}
FORMATS = tuple(f.value for f in WRITERS)


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
@format_option(WRITERS, None,
               "text; json; junit (JUnit XML for Jenkins, GitLab, Azure DevOps: a test case per finding); "
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
@WEBLOGIC_FAILOVER
@reading_options
@engine_options
@output_options
def check(files: tuple[str, ...], config: str | None, fail_on: str | None, select: tuple[str, ...],
          extend_select: tuple[str, ...], ignore: tuple[str, ...], extend_ignore: tuple[str, ...], fmt: Format | None,
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
    given = {"fail-on": fail_on, "format": None if fmt is None else fmt.value, "affinity-miss": affinity_miss,
             "config": config,
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
    output = Format(merged["format"].value)
    if statistics and output not in STATISTICS_FORMATS:
        raise TracelensError(f"--statistics works with --format {' or '.join(f.value for f in STATISTICS_FORMATS)}, "
                             f"not {output.value}")
    threshold = Severity(merged["fail-on"].value)
    report = analyze_logs(files, merged["config"].value, lenient, merged["affinity-miss"].value, strict)
    findings = keep(report.findings, rules)
    failed = fails(findings, threshold)
    code = ExitCode.FINDINGS if failed and not exit_zero else ExitCode.OK
    outcome = Outcome(findings, rules, threshold, failed, int(code), report.stats.files, statistics=statistics,
                      quiet=terminal().quiet, exit_zero=exit_zero, max_annotations=merged["max-annotations"].value)
    # NOTE: to sys.stdout, which --output-file points at a file renamed onto its target at the end
    # (tracelens.commands.output.atomic_stdout)
    WRITERS[output](outcome, sys.stdout)
    sys.stdout.flush()
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
