"""The WebLogic proxy plug-in's configuration: httpd.conf / mod_wl_ohs.conf and weblogic.conf / iisproxy.ini."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli, write
from tracelens.api import analyze
from tracelens.config.files import load_any_config
from tracelens.config.plugin_cfg import PluginConfig
from tracelens.config.weblogic import ConfigKind, Server, WebLogicConfig, detect_kind, parse_weblogic_config
from tracelens.errors import ConfigFileError

REAL = Path("/work/shared/reference/real-logs/weblogic/weblogic-05-pega-httpd-location.conf")
FAILOVER = str(SAMPLES / "failover-failback.log")

# the Pega support article's fragment (real-logs/weblogic/weblogic-05), its placeholders given real values
# and its second <Location> closed
PEGA = """LoadModule weblogic_module modules/mod_wl_22.so

<Location /prweb>
  SetHandler weblogic-handler
  WebLogicCluster wls1.example.com:7001,wls2.example.com:7001
  WLLogFile /path/more_paths/logs/WLDebug.log
  Debug All
  DebugConfigInfo ON
  WLSocketTimeoutSecs 600
  WLIOTimeoutSecs 600
  DynamicServerList OFF
  Idempotent OFF
  ConnectTimeoutSecs 120
  KeepAliveEnabled ON
</Location>
<Location /prhelp>
  SetHandler weblogic-handler
</Location>
"""

OHS = """# mod_wl_ohs.conf
LoadModule weblogic_module "${PRODUCT_HOME}/modules/mod_wl_ohs.so"
<IfModule weblogic_module>
  WebLogicCluster wls1.example.com:7003,wls2.example.com:7003
  HungServerRecoverSecs 120
  CookieName APPSESSION
</IfModule>
<VirtualHost *:443>
  <Location /console>
    SetHandler weblogic-handler
    WebLogicHost admin.example.com
    WebLogicPort 7001
  </Location>
  <LocationMatch ^/shop>
    SetHandler weblogic-handler
    MaxSkipTime 30
  </LocationMatch>
</VirtualHost>
"""

IISPROXY = """WebLogicCluster=wls1.example.com:7001,wls2.example.com:7001
ConnectTimeoutSecs=20
ConnectRetrySecs=4
WlForwardPath=/
Debug=ERR
"""


def test_pega_location_settings_each_value_with_its_line() -> None:
    cfg = parse_weblogic_config(PEGA, "httpd.conf")
    assert cfg.kind is ConfigKind.APACHE
    # the article's second location sets nothing but the handler: the plug-in would have no server for it
    assert [(p.line, "no WebLogicCluster or WebLogicHost" in p.message) for p in cfg.problems] == [(16, True)]
    prweb, prhelp = cfg.settings
    assert prweb.name == "<Location /prweb>" and prweb.line == 3
    assert prweb.servers.value == (Server("wls1.example.com", 7001), Server("wls2.example.com", 7001))
    assert str(prweb.servers.origin) == "httpd.conf:5"
    assert (prweb.wl_io_timeout_secs.value, prweb.wl_io_timeout_secs.origin.line) == (600, 10)
    assert (prweb.dynamic_server_list.value, prweb.idempotent.value) == (False, False)
    assert prweb.connect_timeout_secs.value == 120 and prweb.debug.value == ("ALL",)
    assert prweb.log_file.value == "/path/more_paths/logs/WLDebug.log"
    assert prweb.max_skip_time.value == 10 and str(prweb.max_skip_time.origin) == "default"
    assert prweb.connect_retry_secs.value == 2 and prweb.cookie_name.value == "JSESSIONID"
    assert prhelp.servers.value == () and prhelp.idempotent.value is True


def test_an_unclosed_location_is_a_problem() -> None:
    cfg = parse_weblogic_config(PEGA.replace("</Location>\n", "", 1), "httpd.conf")
    assert [p.line for p in cfg.problems] == [15, 15]
    assert "not closed" in cfg.problems[0].message and "no WebLogicCluster" in cfg.problems[1].message


def test_the_real_fragment_reads_with_its_damage_reported() -> None:
    if not REAL.is_file():
        pytest.skip("the shared real excerpts are not on this machine")
    cfg = load_any_config(REAL)
    assert isinstance(cfg, WebLogicConfig)
    messages = " | ".join(p.message for p in cfg.problems)
    assert "'host1:port1' is not host:port" in messages
    assert "never closed" in messages
    assert cfg.settings[0].idempotent.value is False and cfg.settings[0].wl_io_timeout_secs.value == 600


def test_ohs_locations_inherit_the_server_level_and_older_names_count() -> None:
    cfg = parse_weblogic_config(OHS, "mod_wl_ohs.conf")
    console, shop = cfg.settings
    assert console.name == "<Location /console>"
    assert console.servers.value == (Server("admin.example.com", 7001),)
    assert shop.name == "<LocationMatch ^/shop>"
    assert [str(s) for s in shop.servers.value] == ["wls1.example.com:7003", "wls2.example.com:7003"]
    assert str(shop.servers.origin) == "mod_wl_ohs.conf:4"
    assert (shop.wl_io_timeout_secs.value, shop.wl_io_timeout_secs.origin.directive) == (120, "HungServerRecoverSecs")
    assert shop.cookie_name.value == "APPSESSION" and shop.max_skip_time.value == 30
    assert console.max_skip_time.value == 10


def test_key_value_file() -> None:
    cfg = parse_weblogic_config(IISPROXY, "iisproxy.ini")
    assert cfg.kind is ConfigKind.KEY_VALUE
    (only,) = cfg.settings
    assert only.name == "iisproxy.ini" and len(only.servers.value) == 2
    assert (only.connect_timeout_secs.value, only.connect_retry_secs.value, only.debug.value) == (20, 4, ("ERR",))
    assert only.unknown == ()


@pytest.mark.parametrize(("line", "phrase"), [
    ("Idempotent maybe", "is not ON or OFF"),
    ("MaxSkipTime -3", "is not a whole number of seconds"),
    ("WebLogicCluster wls1.example.com", "is not host:port"),
    ("WebLogicCluster wls1.example.com:99999", "is not host:port"),
    ("Debug LOUD", "is not one of"),
    ("WLCookieName my cookie", "is not a cookie name"),
])
def test_bad_values_take_the_default_and_leave_a_problem_with_their_line(line: str, phrase: str) -> None:
    text = PEGA.replace("  KeepAliveEnabled ON\n", f"  KeepAliveEnabled ON\n  {line}\n")
    cfg = parse_weblogic_config(text, "httpd.conf")
    assert any(phrase in p.message and p.line == 15 for p in cfg.problems), cfg.problems


def test_detection_by_content() -> None:
    assert detect_kind(PEGA) is ConfigKind.APACHE
    assert detect_kind(OHS) is ConfigKind.APACHE
    assert detect_kind(IISPROXY) is ConfigKind.KEY_VALUE
    assert detect_kind('<?xml version="1.0"?>\n<Config/>') is ConfigKind.PLUGIN_CFG
    assert detect_kind("<html><body>not a config</body></html>") is ConfigKind.PLUGIN_CFG
    assert isinstance(load_any_config(SAMPLES / "plugin-cfg.xml"), PluginConfig)


def test_a_file_without_weblogic_directives_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigFileError, match=r"not a plugin-cfg\.xml or a WebLogic plug-in configuration"):
        parse_weblogic_config("ServerRoot /etc/httpd\nListen 80\n", "httpd.conf")


def test_analyze_takes_a_weblogic_configuration(tmp_path: Path) -> None:
    config = write(tmp_path, "httpd.conf", PEGA)
    report = analyze(FAILOVER, str(config))
    assert report.config is None  # the WebSphere topology is inferred from the trace
    result = run_cli("analyze", "--format", "json", "--config", str(config), FAILOVER)
    assert result.exit_code in (0, 1), result.stderr


def test_cli_refuses_an_unusable_configuration_in_one_line(tmp_path: Path) -> None:
    config = write(tmp_path, "httpd.conf", "ServerRoot /etc/httpd\nListen 80\n")
    result = run_cli("analyze", "--config", str(config), FAILOVER)
    assert result.exit_code == 2
    assert "no WebLogic directive" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_config_command_shows_each_value_with_its_origin(tmp_path: Path) -> None:
    config = write(tmp_path, "mod_wl_ohs.conf", OHS)
    result = run_cli("config", str(config))
    assert result.exit_code == 0, result.stderr
    shop = result.stdout.split("<LocationMatch ^/shop>", 1)[1]
    assert re.search(r"servers +wls1\.example\.com:7003,wls2\.example\.com:7003 +line 4 \(WebLogicCluster\)", shop)
    assert re.search(r"WLIOTimeoutSecs +120 +line 5 \(HungServerRecoverSecs\)", shop)
    assert re.search(r"ConnectRetrySecs +2 +default", shop)
    assert re.search(r"MaxSkipTime +30 +line 16", shop)


def test_config_command_json(tmp_path: Path) -> None:
    config = write(tmp_path, "httpd.conf", PEGA)
    result = run_cli("config", "--format", "json", str(config))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["schema_version"], data["kind"]) == (1, "apache")
    prweb = data["settings"][0]
    assert prweb["name"] == "<Location /prweb>"
    assert prweb["values"]["servers"]["value"] == ["wls1.example.com:7001", "wls2.example.com:7001"]
    assert prweb["values"]["WLIOTimeoutSecs"] == {"value": 600, "origin": {
        "file": str(config), "line": 10, "directive": "WLIOTimeoutSecs", "default": False}}
    assert prweb["values"]["MaxSkipTime"]["origin"]["default"] is True
    assert data["problems"] == [{"line": 16, "message": data["problems"][0]["message"]}]


def test_config_command_on_plugin_cfg_and_on_a_bad_file(tmp_path: Path) -> None:
    result = run_cli("config", "--format", "json", str(SAMPLES / "plugin-cfg.xml"))
    assert result.exit_code == 0 and json.loads(result.stdout)["kind"] == "plugin-cfg.xml"
    assert json.loads(result.stdout)["clusters"][0]["members"][0]["clone_id"] == "v544d031"
    bad = run_cli("config", str(write(tmp_path, "x.conf", "Listen 80\n")))
    assert bad.exit_code == 2 and bad.stderr.startswith("tracelens: error: ") and bad.stdout == ""
