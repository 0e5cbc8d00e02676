"""CLI: defaults for ``tracelens check`` from ``.tracelens.toml`` or ``[tool.tracelens]`` in ``pyproject.toml``.

The nearest file wins, searching the current directory and then its parents; in one directory
``.tracelens.toml`` wins over ``pyproject.toml``. Options on the command line win over both.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelens.errors import ConfigFileError

LISTS = ("select", "extend-select", "ignore", "extend-ignore")
STRINGS = ("fail-on", "format", "config", "affinity-miss")
INTEGERS = ("max-annotations",)
KEYS = {*LISTS, *STRINGS, *INTEGERS}


@dataclass(frozen=True, slots=True)
class Settings:
    path: str | None
    values: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read ({exc.strerror or exc})") from None


def find_settings(start: Path | None = None) -> Settings:
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        own = directory / ".tracelens.toml"
        if own.is_file():
            return _validated(own, _read(own))
        project = directory / "pyproject.toml"
        if project.is_file():
            table = _read(project).get("tool", {}).get("tracelens")
            if table is not None:
                return _validated(project, table)
    return Settings(None, {})


def _validated(path: Path, table: Any) -> Settings:
    if not isinstance(table, dict):
        raise ConfigFileError(f"{path}: tracelens settings must be a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigFileError(f"{path}: unknown tracelens setting(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(KEYS))}")
    for key in LISTS:
        value = table.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigFileError(f"{path}: `{key}` must be a list of codes or names")
    for key in STRINGS:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigFileError(f"{path}: `{key}` must be a string")
    for key in INTEGERS:
        value = table.get(key)
        # NOTE: bool is an int in Python, and `max-annotations = true` is a mistake, not 1
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigFileError(f"{path}: `{key}` must be a whole number, 0 or more")
    values = dict(table)
    if "config" in values:
        # a path in the settings file is relative to that file, not to wherever tracelens runs
        values["config"] = str((path.parent / values["config"]).resolve())
    return Settings(str(path), values)
