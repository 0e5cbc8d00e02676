"""Reporter: a ``--config`` file as tracelens reads it: the WebLogic settings with their origins, or the clusters."""

from __future__ import annotations

import json
from typing import IO, Any

from tracelens.config.files import AnyConfig
from tracelens.config.plugin_cfg import PluginConfig
from tracelens.config.weblogic import Setting, WebLogicConfig, WebLogicSettings

#: the JSON shape of ``tracelens config --format json``; a changed key is a CHANGELOG entry
SCHEMA_VERSION = 1


def _safe(value: str) -> str:
    """Control characters from the file written as escapes, so that a value cannot drive the terminal."""
    return value if value.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "(none)"
    return "(not set)" if value is None else str(value)


def _rows(s: WebLogicSettings) -> list[tuple[str, Setting[Any]]]:
    return [
        ("servers", s.servers), ("DynamicServerList", s.dynamic_server_list), ("MaxSkipTime", s.max_skip_time),
        ("ConnectTimeoutSecs", s.connect_timeout_secs), ("ConnectRetrySecs", s.connect_retry_secs),
        ("WLIOTimeoutSecs", s.wl_io_timeout_secs), ("Idempotent", s.idempotent), ("WLCookieName", s.cookie_name),
        ("Debug", s.debug), ("WLLogFile", s.log_file),
    ]


def config_text(cfg: AnyConfig, out: IO[str]) -> None:
    """One block per WebLogic location (parameter, value, where it came from), or per plugin-cfg.xml cluster."""
    if isinstance(cfg, WebLogicConfig):
        out.write(f"{_safe(cfg.path)}: WebLogic plug-in configuration ({cfg.kind.value}), "
                  f"{len(cfg.settings)} set(s) of settings\n")
        for s in cfg.settings:
            out.write(f"\n{_safe(s.name)}" + (f" (line {s.line})" if s.line else "") + "\n")
            for label, setting in _rows(s):
                # the file is named above: a line number is enough, and the name written when it differs
                written = setting.origin.directive
                origin = "default" if setting.origin.is_default else f"line {setting.origin.line}"
                if written and written != label:
                    origin += f" ({written})"
                out.write(f"  {label:20} {_safe(_shown(setting.value)):44} {_safe(origin)}\n")
            for d in s.unknown:
                out.write(f"  {'unknown':20} {_safe(d.name)} {_safe(d.value)!s:30} line {d.line}\n")
    else:
        out.write(f"{_safe(cfg.path)}: plugin-cfg.xml, {len(cfg.clusters)} cluster(s)\n")
        for c in cfg.clusters:
            out.write(f"\n{_safe(c.name)}: {c.load_balance.value}, RetryInterval {c.retry_interval} s\n")
            for m in c.members:
                out.write(f"  {_safe(m.name):40} CloneID {_safe(m.clone_id or '(none)'):12} weight {m.weight}\n")
    problems = _problems(cfg)
    if problems:
        out.write("\nproblems:\n")
        for _, message in problems:
            out.write(f"  {_safe(message)}\n")


def _problems(cfg: AnyConfig) -> list[tuple[int | None, str]]:
    if isinstance(cfg, PluginConfig):
        return [(None, p) for p in cfg.problems]
    return [(p.line, p.message) for p in cfg.problems]


def _origin(setting: Setting[Any]) -> dict[str, Any]:
    return {"file": None if setting.origin.is_default else setting.origin.file, "line": setting.origin.line,
            "directive": setting.origin.directive, "default": setting.origin.is_default}


def _value(value: object) -> object:
    if isinstance(value, tuple):
        return [str(v) for v in value]
    return value


def config_dict(cfg: AnyConfig) -> dict[str, Any]:
    """The configuration as JSON data: ``kind``, ``settings`` (WebLogic) or ``clusters``, ``problems``."""
    data: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "path": cfg.path}
    if isinstance(cfg, WebLogicConfig):
        data["kind"] = cfg.kind.value
        data["settings"] = [
            {"name": s.name, "line": s.line,
             "values": {label: {"value": _value(setting.value), "origin": _origin(setting)}
                        for label, setting in _rows(s)},
             "unknown": [{"name": d.name, "value": d.value, "line": d.line} for d in s.unknown]}
            for s in cfg.settings
        ]
    else:
        data["kind"] = "plugin-cfg.xml"
        data["clusters"] = [
            {"name": c.name, "load_balance": c.load_balance.value, "retry_interval": c.retry_interval,
             "members": [{"name": m.name, "clone_id": m.clone_id, "weight": m.weight} for m in c.members]}
            for c in cfg.clusters
        ]
    data["problems"] = [{"line": line, "message": message} for line, message in _problems(cfg)]
    return data


def config_json(cfg: AnyConfig, out: IO[str]) -> None:
    json.dump(config_dict(cfg), out, indent=2, ensure_ascii=False)
    out.write("\n")
