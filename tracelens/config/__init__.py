"""Config stage: plugin-cfg.xml read into the settings that state and routing replay against."""

from __future__ import annotations

from tracelens.config.plugin_cfg import (
    Cluster,
    LoadBalance,
    LogSettings,
    Member,
    PluginConfig,
    Route,
    Transport,
    Uri,
    UriGroup,
    VirtualHostGroup,
    load_config,
    parse_config,
)

__all__ = [
    "Cluster",
    "LoadBalance",
    "LogSettings",
    "Member",
    "PluginConfig",
    "Route",
    "Transport",
    "Uri",
    "UriGroup",
    "VirtualHostGroup",
    "load_config",
    "parse_config",
]
