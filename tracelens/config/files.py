"""Config stage: the file given with ``--config``, read once and told apart by content.

plugin-cfg.xml (WebSphere), Apache / Oracle HTTP Server directives or ``Key=Value`` lines (the WebLogic
proxy plug-in): :func:`load_any_config` decides by what the file holds, never by its name, since these
files are copied off web servers under any name.
"""

from __future__ import annotations

import os

from tracelens.config.plugin_cfg import PluginConfig, _display, parse_config, read_config_bytes
from tracelens.config.weblogic import ConfigKind, WebLogicConfig, detect_kind, parse_weblogic_config
from tracelens.errors import ConfigFileError

AnyConfig = PluginConfig | WebLogicConfig


def load_any_config(path: str | os.PathLike[str]) -> AnyConfig:
    """The configuration at ``path``: a plugin-cfg.xml or a WebLogic plug-in configuration."""
    name = os.fspath(path)
    data = read_config_bytes(path, "a configuration")
    return parse_any_config(data, name)


def parse_any_config(data: bytes, path: str) -> AnyConfig:
    """``data`` parsed as the kind of configuration it holds; ``path`` names it in messages."""
    if not data.strip():
        raise ConfigFileError(f"{_display(path)}: is empty, not a plugin-cfg.xml file or a WebLogic plug-in "
                              "configuration")
    # NOTE: web server configuration files are ASCII in practice; Latin-1 reads any byte, so that a stray
    # accented comment does not make the whole file unusable
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    kind = detect_kind(text)
    if kind is ConfigKind.PLUGIN_CFG:
        return parse_config(data, path)
    return parse_weblogic_config(text, path, kind)
