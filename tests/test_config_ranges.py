"""plugin-cfg.xml numbers outside the range the plug-in documents: a config.problem, and the default used.

The ranges are those of plugin-facts.md §3.1: seconds are 0 or more (RetryInterval, RefreshInterval,
ConnectTimeout, where 0 is a blocking connect), PostBufferSize and ServerIOTimeoutRetry take -1,
MaxConnections -1 or 0 for no limit, LoadBalanceWeight 0 or more (the console offers 0 to 20; 0 is a
documented choice), a Transport Port is a TCP port. A negative ServerIOTimeout is documented (the
member is marked down on a timeout), so it is in range.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli, write
from tests.test_config import parse

SAMPLE_CFG = (SAMPLES / "plugin-cfg.xml").read_text(encoding="utf-8")
FAILOVER = str(SAMPLES / "failover-failback.log")


def config_with(cluster: str = "", server: str = "", transport: str = "", top: str = "") -> str:
    return f"""
    <ServerCluster Name="C" {cluster}>
      <Server Name="s" CloneID="v1" {server}><Transport Hostname="h" {transport}/></Server>
    </ServerCluster>
    """, top


OUT_OF_RANGE = [
    # (where, attribute, value, what is used instead, the sentence's end)
    ("cluster", "RetryInterval", "-5", 60, "whole seconds, 0 or more; using the default 60"),
    ("cluster", "PostBufferSize", "-2", None, "kilobytes, -1 (no limit), 0 (no buffering) or more; treating it as "
                                              "not set (the default: 64 KB)"),
    ("cluster", "ServerIOTimeoutRetry", "-4", None, "-1 (no limit of its own) or a number of retries, 0 or more; "
                                                    "treating it as not set (the default: -1)"),
    ("server", "LoadBalanceWeight", "-1", 2, "a weight of 0 or more (the console offers 0 to 20); using the default 2"),
    ("server", "ConnectTimeout", "-5", None, "whole seconds, 0 (a blocking connect) or more; treating it as not set "
                                             "(the default: the operating system's connect timeout)"),
    ("server", "MaxConnections", "-2", None, "-1 or 0 (no limit) or a number of connections; treating it as not set "
                                             "(the default: no limit)"),
    ("transport", "Port", "0", None, "a TCP port, 1 to 65535; treating it as not set"),
    ("transport", "Port", "65536", None, "a TCP port, 1 to 65535; treating it as not set"),
    ("top", "RefreshInterval", "-60", None, "whole seconds, 0 or more; treating it as not set (the default: checked "
                                            "every 60 s)"),
]
WHERE = {"cluster": "ServerCluster 'C'", "server": "Server 's' in ServerCluster 'C'",
         "transport": "Transport of Server 's' in ServerCluster 'C'", "top": "Config"}


def used(config: object, attribute: str) -> object:
    cluster = config.clusters[0]  # type: ignore[attr-defined]
    member = cluster.members[0]
    return {
        "RetryInterval": lambda: cluster.retry_interval, "PostBufferSize": lambda: cluster.post_buffer_size,
        "ServerIOTimeoutRetry": lambda: cluster.server_io_timeout_retry, "LoadBalanceWeight": lambda: member.weight,
        "ConnectTimeout": lambda: member.connect_timeout, "MaxConnections": lambda: member.max_connections,
        "Port": lambda: member.transports[0].port, "RefreshInterval": lambda: config.refresh_interval,  # type: ignore[attr-defined]
        "ServerIOTimeout": lambda: member.server_io_timeout,
    }[attribute]()


def parsed(where: str, attribute: str, value: str) -> object:
    body, top = config_with(**{where: f'{attribute}="{value}"'})
    return parse(body, config_attrs=top)


@pytest.mark.parametrize(("where", "attribute", "value", "instead", "sentence"), OUT_OF_RANGE)
def test_out_of_range_values_are_problems_and_the_default_is_used(where: str, attribute: str, value: str,
                                                                  instead: object, sentence: str) -> None:
    config = parsed(where, attribute, value)
    assert config.problems == (f"{WHERE[where]}: {attribute}={value} is out of range: {sentence}",)  # type: ignore[attr-defined]
    assert used(config, attribute) == instead


IN_RANGE = [
    ("cluster", "RetryInterval", "0", 0), ("cluster", "PostBufferSize", "-1", -1),
    ("cluster", "PostBufferSize", "0", 0),
    ("cluster", "ServerIOTimeoutRetry", "-1", -1), ("server", "LoadBalanceWeight", "0", 0),
    ("server", "LoadBalanceWeight", "100", 100), ("server", "ConnectTimeout", "0", 0),
    ("server", "MaxConnections", "-1", -1), ("server", "MaxConnections", "0", 0),
    ("server", "ServerIOTimeout", "-30", -30), ("transport", "Port", "1", 1), ("transport", "Port", "65535", 65535),
    ("top", "RefreshInterval", "0", 0),
]


@pytest.mark.parametrize(("where", "attribute", "value", "kept"), IN_RANGE)
def test_documented_values_are_used_as_written(where: str, attribute: str, value: str, kept: int) -> None:
    config = parsed(where, attribute, value)
    assert config.problems == ()  # type: ignore[attr-defined]
    assert used(config, attribute) == kept


def test_a_negative_retry_interval_is_reported_and_not_reasoned_with(tmp_path: Path) -> None:
    # issue 21: RetryInterval="-5" passed, and TL602 then reasoned with "RetryInterval -5 s"
    cfg = write(tmp_path, "plugin-cfg.xml", SAMPLE_CFG.replace('RetryInterval="60"', 'RetryInterval="-5"')
                .replace('LoadBalanceWeight="1"', 'LoadBalanceWeight="-2"'))
    result = run_cli("check", "--format", "json", "--config", str(cfg), FAILOVER)
    findings = json.loads(result.stdout)["findings"]
    problems = [f["message"] for f in findings if f["code"] == "TL605"]
    assert problems == [
        "ServerCluster 'PluginCluster': RetryInterval=-5 is out of range: whole seconds, 0 or more; "
        "using the default 60",
        "Server 'was2Node_PluginMember2' in ServerCluster 'PluginCluster': LoadBalanceWeight=-2 is out of range: "
        "a weight of 0 or more (the console offers 0 to 20); using the default 2",
    ]
    assert not any("-5" in f["message"] for f in findings if f["code"] != "TL605")
