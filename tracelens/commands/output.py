"""CLI: what every command shares in writing its output: ``--output-file`` made atomic, a closed pipe, a full disk.

A command is a :class:`Command`; it writes its report to ``sys.stdout``, which ``--output-file``
points at a file renamed onto its target at the end (:func:`atomic_stdout`).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import click

from tracelens.errors import TracelensError


class OutputError(TracelensError):
    """A report or table that could not be written (a full disk, a closed terminal)."""


class PipeClosed(Exception):
    """The reader of standard output went away (``| head``): not an error of ours."""


@contextmanager
def atomic_stdout(path: str) -> Iterator[None]:
    """``--output-file PATH``: standard output goes to a file beside PATH, renamed onto it at the end.

    A failed run (an error, a full disk, Ctrl-C) leaves PATH as it was and no temporary file. An
    existing PATH keeps its permissions; a read-only one is refused, not replaced behind its owner's
    back; a device or FIFO (/dev/null, a named pipe) is written to, never renamed over.
    """
    target = Path(path)
    mode = _target_mode(target)
    if mode == _NOT_A_FILE:
        with _redirected(path, _open_for_output(path)):
            yield
        return
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    out = _open_for_output(str(part), name=path)
    verdict: click.exceptions.Exit | None = None
    try:
        with writing(path):
            try:
                with _redirected(path, out, close=False):
                    yield
            except click.exceptions.Exit as exc:
                if exc.exit_code not in (0, 1):  # check's verdict is output too
                    raise
                verdict = exc
            out.close()
        if mode is not None:
            os.chmod(part, mode)
        os.replace(part, target)
    except BaseException:
        with suppress(OSError):
            out.close()  # what is still buffered cannot be written either
        part.unlink(missing_ok=True)
        raise
    if verdict is not None:
        raise verdict  # after the rename: `check -o` still exits 1 when it fails


_NOT_A_FILE = -1


def _open_for_output(path: str, name: str | None = None) -> IO[str]:
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise OutputError(f"{name or path}: {exc.strerror or exc}") from None


@contextmanager
def _redirected(path: str, out: IO[str], close: bool = True) -> Iterator[None]:
    saved = sys.stdout
    sys.stdout = out
    try:
        with writing(path):
            yield
            if close:
                out.close()
    finally:
        sys.stdout = saved
        if close:
            with suppress(OSError):
                out.close()


def _target_mode(target: Path) -> int | None:
    """The permissions an existing regular file keeps, None for a new file, :data:`_NOT_A_FILE` for a device."""
    try:
        st = target.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"{target}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{target}: is a directory, not a file to write")
    if not stat.S_ISREG(st.st_mode):
        return _NOT_A_FILE
    if not st.st_mode & 0o222:
        raise OutputError(f"{target}: is read-only; not replaced")
    return stat.S_IMODE(st.st_mode)


class Command(click.Command):
    """A tracelens command: ``--output-file`` puts what it writes on stdout into a file, atomically."""

    def invoke(self, ctx: click.Context) -> Any:
        path = ctx.meta.get("tracelens.output_file")
        try:
            if path is None:
                return super().invoke(ctx)
            with atomic_stdout(path):
                return super().invoke(ctx)
        except BrokenPipeError:
            # NOTE: raised as another type, since click turns a broken pipe into exit 1 (core.main)
            raise PipeClosed from None
        except KeyboardInterrupt:
            # NOTE: and so is Ctrl-C: click turns it into its Abort after writing an empty line to stderr,
            # so that a blank line came before `tracelens: error: aborted`
            raise Interrupted from None


class Interrupted(Exception):
    """Ctrl-C inside a command, carried past click (see :meth:`Command.invoke`)."""


# errors of writing, not of reading: the disk, the quota or the file size limit ran out
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def output_error(exc: OSError, name: str | None = None) -> BaseException:
    """An OSError that escaped a command: a closed pipe, a full disk (one line, exit 2), or a bug."""
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        return PipeClosed()
    if exc.errno in _WRITE_ERRNOS:
        return OutputError(f"{name or exc.filename or 'standard output'}: {exc.strerror or exc}")
    return exc


@contextmanager
def writing(name: str) -> Iterator[None]:
    """A full disk (or quota, or file size limit) while writing ``name`` is one line naming it, exit 2."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _WRITE_ERRNOS:
            raise OutputError(f"{name}: {exc.strerror or exc}") from None
        raise
