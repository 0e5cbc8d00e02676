"""Reporters: a report written to ``--output-file`` whole or not at all (a temporary file renamed into place)."""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tracelens.errors import TracelensError


@contextmanager
def output(path: str | None) -> Iterator[IO[str]]:
    """Standard output, or ``path`` written atomically: a failed run leaves the target as it was.

    The report goes to a hidden file beside the target, which replaces the target only when the report
    is whole and on disk; on any error, Ctrl-C included, the hidden file is removed. An existing target
    keeps its permissions; a read-only one is refused rather than replaced behind its owner's back.
    """
    if path is None:
        yield sys.stdout
        return
    target = Path(path)
    mode = _existing_mode(target)
    if mode == _SPECIAL:
        # NOTE: a device or a FIFO (/dev/null, a named pipe) is written to, never renamed over
        with _open_special(target) as out:
            yield out
        return
    part = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        # 0o666 less the umask, as any new file the user's shell would make
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise TracelensError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(part, mode)
        os.replace(part, target)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise TracelensError(f"{path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise


_SPECIAL = -1


@contextmanager
def _open_special(target: Path) -> Iterator[IO[str]]:
    try:
        out = open(target, "w", encoding="utf-8")  # noqa: SIM115 - closed below, its errors made one line
    except OSError as exc:
        raise TracelensError(f"{target}: cannot write ({exc.strerror or exc})") from None
    try:
        with out:
            yield out
    except OSError as exc:
        raise TracelensError(f"{target}: cannot write ({exc.strerror or exc})") from None


def _existing_mode(target: Path) -> int | None:
    try:
        st = target.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TracelensError(f"{target}: cannot write ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise TracelensError(f"{target}: is a directory, not a file to write")
    if not stat.S_ISREG(st.st_mode):
        return _SPECIAL
    if not st.st_mode & 0o222:
        raise TracelensError(f"{target}: is read-only; not replaced")
    return stat.S_IMODE(st.st_mode)
