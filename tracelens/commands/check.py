"""CLI: ``tracelens check``, the CI gate: exit 1 when a finding reaches the threshold."""

from __future__ import annotations

import sys

import click

from tracelens.cli import (
    AFFINITY_MISS_CHOICES,
    CONFIG,
    FILES,
    JOBS,
    LENIENT,
    SEVERITY_CHOICES,
    STRICT,
    WEB_SERVER,
    _analyze,
    cli,
    refuse_unparsed,
)
from tracelens.commands.settings import Settings, find_settings
from tracelens.errors import ExitCode, TracelensError

FORMATS = ("text", "json", "junit", "github")


@cli.command()
@FILES
@CONFIG
@click.option("--fail-on", type=click.Choice(SEVERITY_CHOICES), default=None,
              help="Exit 1 when a finding of this severity or above remains.  [default: warning]")
@click.option("--select", multiple=True, metavar="CODES|NAMES",
              help="Report only these findings (codes, names, groups like `affinity`, globs; comma-separated).")
@click.option("--ignore", multiple=True, metavar="CODES|NAMES", help="Do not report these findings.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="text, json, junit (JUnit XML for Jenkins, GitLab) or github (Actions annotations).  "
                   "[default: text]")
@click.option("--affinity-miss", type=click.Choice(AFFINITY_MISS_CHOICES), default=None,
              help="See `tracelens analyze --help`.  [default: load-balance]")
@LENIENT
@STRICT
@WEB_SERVER
@JOBS
def check(files: tuple[str, ...], config: str | None, fail_on: str | None, select: tuple[str, ...],
          ignore: tuple[str, ...], fmt: str | None, affinity_miss: str | None, lenient: bool, strict: bool) -> None:
    """Gate a CI job on captured plug-in logs: exit 0 when no finding reaches --fail-on, 1 when one does.

    Defaults come from `.tracelens.toml` or `[tool.tracelens]` in `pyproject.toml` (keys fail-on,
    select, ignore, format, config, affinity-miss); options win over them. With --strict, input with
    unparsed records is an input error (exit 2, nothing on stdout).
    """
    from tracelens.findings.base import Severity
    from tracelens.findings.select import fails, keep, selected_rules, split_selectors
    from tracelens.reporters import gate

    settings = find_settings()
    threshold = Severity(fail_on or _setting(settings, "fail-on", list(SEVERITY_CHOICES), "warning"))
    output = fmt or _setting(settings, "format", list(FORMATS), "text")
    miss = affinity_miss or _setting(settings, "affinity-miss", list(AFFINITY_MISS_CHOICES), AFFINITY_MISS_CHOICES[0])
    rules = selected_rules(split_selectors(select) or settings.get("select", []),
                           split_selectors(ignore) or settings.get("ignore", []))
    report = _analyze(files, config or settings.get("config"), lenient, miss)
    if strict:
        refuse_unparsed(report.summary)
    findings = keep(report.findings, rules)
    failed = fails(findings, threshold)
    code = ExitCode.FINDINGS if failed else ExitCode.OK
    if output == "json":
        gate.write_json(findings, threshold, failed, int(code), sys.stdout)
    elif output == "junit":
        gate.write_junit(findings, rules, threshold, sys.stdout)
    elif output == "github":
        gate.write_github(findings, sys.stdout)
        sys.stdout.write(gate.summary_line(findings, threshold, failed))
    else:
        gate.write_text(findings, threshold, failed, sys.stdout)
    sys.stdout.flush()
    click.get_current_context().exit(int(code))


def _setting(settings: Settings, key: str, allowed: list[str], default: str) -> str:
    value = settings.get(key, default)
    if value not in allowed:
        raise TracelensError(f"{settings.path}: `{key}` must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)
