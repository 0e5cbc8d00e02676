"""CLI: manual pages (roff) generated from the command line's own help, so that they never drift from ``--help``.

``python -m tracelens.manpage [DIR]`` writes ``tracelens.1`` and one ``tracelens-COMMAND.1`` per
command into DIR (default ``man/``). The pages in the repository's ``man/`` are installed with the
wheel into ``share/man/man1``; ``tests/test_package.py`` checks that they are what this module
generates today.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from tracelens import __version__

SECTION = "1"

# what the README's "Exit codes" section says, for the main page
EXIT_STATUS = (
    ("0", "success"),
    ("1", "findings at or above the threshold (commands that gate on findings)"),
    ("2", "usage error, or an input that cannot be used at all; a full disk while writing"),
    ("3", "internal error in tracelens (set TRACELENS_DEBUG=1 to see the traceback)"),
    ("130", "interrupted (Ctrl-C)"),
)
ENVIRONMENT = (
    ("NO_COLOR", "when set to a non-empty value, no colour (unless --color always)"),
    ("CI", "when set, no progress bar"),
    ("COLUMNS", "the width of the terminal's reports when it cannot be asked"),
    ("TRACELENS_DEBUG", "when set, an internal error shows its traceback"),
    ("_TRACELENS_COMPLETE", "shell completion: bash_source, zsh_source or fish_source prints the script to load"),
)


def _escape(text: str) -> str:
    """Text for roff: backslashes and hyphens escaped, other than ASCII as ``\\[uXXXX]`` (troff reads
    bytes without preconv), a line never starting with a control character."""
    out = text.replace("\\", "\\e").replace("-", "\\-")
    out = "".join(ch if ch.isascii() else f"\\[u{ord(ch):04X}]" for ch in out)
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line for line in out.splitlines())


def _bold(text: str) -> str:
    return f"\\fB{_escape(text)}\\fR"


def _paragraphs(help_text: str) -> list[str]:
    """click's help text as paragraphs; a ``\\b`` paragraph keeps its lines."""
    cleaned = click.unstyle(help_text or "")
    blocks = re.split(r"\n\s*\n", _dedent(cleaned).strip())
    out = []
    for block in blocks:
        if block.startswith("\b"):
            lines = block[1:].strip("\n").splitlines()
            out.append(".nf\n" + "\n".join(_escape(line) for line in lines) + "\n.fi")
        else:
            out.append(_escape(" ".join(block.split())))
    return out


def _dedent(text: str) -> str:
    import inspect

    return inspect.cleandoc(text)


def _summary(command: click.Command) -> str:
    """The first paragraph of the help, whole (click's short help cuts it differently from version to version)."""
    if command.short_help:
        return command.short_help
    first = re.split(r"\n\s*\n", _dedent(command.help or ""), maxsplit=1)[0]
    return " ".join(first.split())


def _header(name: str, summary: str) -> list[str]:
    return [
        f'.TH "{name.upper()}" "{SECTION}" "" "tracelens {__version__}" "User Commands"',
        ".SH NAME",
        f"{_escape(name)} \\- {_escape(summary)}",
    ]


def _options(ctx: click.Context) -> list[str]:
    lines = []
    for param in ctx.command.get_params(ctx):
        if isinstance(param, click.Argument):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, text = record
        lines += [".TP", _bold(names), _escape(" ".join(text.split()))]
    return lines


def command_page(group: click.Group, name: str) -> str:
    """The page of ``tracelens NAME``."""
    root = click.Context(group, info_name="tracelens", **group.context_settings)
    command = group.get_command(root, name)
    if command is None:
        raise KeyError(name)
    ctx = click.Context(command, info_name=name, parent=root)
    lines = _header(f"tracelens-{name}", _summary(command))
    lines += [".SH SYNOPSIS", f"{_bold('tracelens ' + name)} {_escape(' '.join(command.collect_usage_pieces(ctx)))}"]
    lines += [".SH DESCRIPTION"]
    for i, paragraph in enumerate(_paragraphs(command.help or "")):
        lines += ([".PP"] if i else []) + [paragraph]
    lines += [".SH OPTIONS", *_options(ctx)]
    lines += [".SH SEE ALSO", f"{_bold('tracelens')}({SECTION})"]
    return "\n".join(lines) + "\n"


def main_page(group: click.Group) -> str:
    """The page of ``tracelens`` itself: its commands, exit status and environment."""
    ctx = click.Context(group, info_name="tracelens", **group.context_settings)
    lines = _header("tracelens", _summary(group))
    lines += [".SH SYNOPSIS", f"{_bold('tracelens')} [OPTIONS] COMMAND [ARGS]...", ".SH DESCRIPTION"]
    for i, paragraph in enumerate(_paragraphs(group.help or "")):
        lines += ([".PP"] if i else []) + [paragraph]
    lines += [".SH COMMANDS"]
    names = group.list_commands(ctx)
    for name in names:
        command = group.get_command(ctx, name)
        assert command is not None
        see = f" See {_bold('tracelens-' + name)}({SECTION})."
        lines += [".TP", _bold(name), _escape(_summary(command)) + see]
    lines += [".SH OPTIONS", *_options(ctx)]
    lines += [".SH EXIT STATUS"]
    for code, meaning in EXIT_STATUS:
        lines += [".TP", _bold(code), _escape(meaning)]
    lines += [".SH ENVIRONMENT"]
    for variable, meaning in ENVIRONMENT:
        lines += [".TP", _bold(variable), _escape(meaning)]
    lines += [".SH SEE ALSO", ",\n".join(f"{_bold('tracelens-' + n)}({SECTION})" for n in names)]
    return "\n".join(lines) + "\n"


def pages(group: click.Group) -> dict[str, str]:
    """File name -> page, for the main page and every command."""
    ctx = click.Context(group, info_name="tracelens")
    out = {f"tracelens.{SECTION}": main_page(group)}
    for name in group.list_commands(ctx):
        out[f"tracelens-{name}.{SECTION}"] = command_page(group, name)
    return out


def write_pages(directory: Path) -> list[Path]:
    from tracelens.cli import cli

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in pages(cli).items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("man")
    for path in write_pages(target):
        print(path)
