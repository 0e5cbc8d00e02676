"""plugin-cfg.xml ingestion: the sample, real fragments (plugin-facts.md §3.2), defaults, odd values, refusals."""

# The real fragments are kept byte for byte as published (long lines, RB51's tabs and its typo).
# ruff: noqa: E501, E101

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tracelens.config import LoadBalance, PluginConfig, load_config, parse_config
from tracelens.config.plugin_cfg import MAX_BYTES, MAX_DEPTH
from tracelens.errors import ConfigFileError, ExitCode

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs" / "plugin-cfg.xml"


def write(tmp_path: Path, text: str | bytes, name: str = "plugin-cfg.xml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def parse(body: str, config_attrs: str = "") -> PluginConfig:
    """``body`` inside a <Config> element, parsed without touching the disk."""
    text = f'<?xml version="1.0"?>\n<Config {config_attrs}>\n{textwrap.dedent(body)}\n</Config>\n'
    return parse_config(text.encode("utf-8"), "test-cfg.xml")


def refused(path: Path) -> str:
    """The one-line message ``load_config`` refuses ``path`` with."""
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    message = info.value.message
    assert "\n" not in message and "\r" not in message
    assert str(path) in message
    assert info.value.code is ExitCode.USAGE
    # no chained exception: a traceback shown with TRACELENS_DEBUG=1 is ours alone
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    return message


# ---------------------------------------------------------------- the bundled sample


def test_sample_cluster_members_and_order() -> None:
    config = load_config(str(SAMPLE))
    assert config.path == str(SAMPLE)
    assert config.problems == ()
    assert [c.name for c in config.clusters] == ["PluginCluster"]
    cluster = config.clusters[0]
    assert cluster.load_balance is LoadBalance.ROUND_ROBIN
    assert cluster.retry_interval == 60
    assert cluster.ignore_affinity_requests is True
    assert cluster.clone_separator_change is False and cluster.separator == ":"
    assert cluster.post_buffer_size == 64
    assert cluster.server_io_timeout_retry == -1
    assert [(m.name, m.clone_id, m.weight) for m in cluster.members] == [
        ("was1node_PluginMember1", "v544d031", 4),
        ("was2Node_PluginMember2", "v544d0o0", 1),
    ]
    assert cluster.primary == ("was1node_PluginMember1", "was2Node_PluginMember2")
    assert cluster.backup == ()


def test_sample_member_settings_and_lookups() -> None:
    config = load_config(SAMPLE)
    first = config.member("was1node_PluginMember1")
    assert first is not None
    assert (first.connect_timeout, first.server_io_timeout, first.max_connections) == (5, 60, -1)
    assert first.unlimited_connections
    assert [(t.hostname, t.port, t.protocol) for t in first.transports] == [("app1.itso.ibm.com", 9080, "http")]
    cluster = config.cluster("PluginCluster")
    assert cluster is not None
    assert cluster.member_by_clone("v544d0o0") == config.member("was2Node_PluginMember2")
    assert cluster.member_by_clone("nope") is None
    assert cluster.member("nope") is None
    assert config.cluster_of_member("was2Node_PluginMember2") is cluster
    assert config.cluster_of_member("nope") is None
    assert config.cluster("nope") is None and config.member("nope") is None
    assert cluster.normalised_weights() == {"was1node_PluginMember1": 4, "was2Node_PluginMember2": 1}


def test_sample_routes_groups_log() -> None:
    config = load_config(SAMPLE)
    assert config.refresh_interval == 60
    assert config.log is not None
    assert config.log.level == "Trace"
    assert config.log.name == "/opt/IBMIHS/Plugins/logs/webserver1/http_plugin.log"
    assert [(g.name, g.hosts) for g in config.vhost_groups] == [("default_host", ("*:80",))]
    group = config.uri_group("default_host_PluginCluster_URIs")
    assert group is not None
    assert [(u.name, u.affinity_cookie, u.affinity_url_identifier) for u in group.uris] == [
        ("/hitcount", "JSESSIONID", "jsessionid")
    ]
    assert config.vhost_group("default_host") is config.vhost_groups[0]
    [route] = config.routes
    assert (route.server_cluster, route.uri_group, route.virtual_host_group) == (
        "PluginCluster",
        "default_host_PluginCluster_URIs",
        "default_host",
    )
    assert config.affinity_cookie_names() == {"JSESSIONID"}


def test_result_is_immutable() -> None:
    config = load_config(SAMPLE)
    with pytest.raises(AttributeError):
        config.clusters[0].members[0].weight = 9  # type: ignore[misc]


# ---------------------------------------------------------------- real fragments (plugin-facts.md §3.2)

# The gist config as published (github gist mymindleaks/1680442), Name mismatches included; the
# excerpt stops before </Config>, which is added here.
GIST = """\
<?xml version="1.0"?>
<Config ASDisableNagle="false" AcceptAllContent="false" IISDisableNagle="false" IgnoreDNSFailures="false" RefreshInterval="60" ResponseChunkSize="64">
<Log LogLevel="Error" Name="/logs/http_plugin.log"/>
<VirtualHostGroup Name="default_host">
<VirtualHost Name="*:80"/>
</VirtualHostGroup>
<ServerCluster CloneSeparatorChange="false" LoadBalance="Round Robin" Name="server1_default_Cluster" PostSizeLimit="-1" RemoveSpecialHeaders="true" RetryInterval="60">
<Server ConnectTimeout="0" ExtendedHandshake="false" MaxConnections="-1" Name="default_server1" WaitForContinue="false">
<Transport Hostname="mymindleaks.com" Port="80" Protocol="http"/>
</Server>
<PrimaryServers>
<Server Name="MYSYSTEM_default_server1"/>
</PrimaryServers>
</ServerCluster>
<UriGroup Name="default_host_server1_Cluster_URIs">
<Uri AffinityCookie="JSESSIONID" AffinityURLIdentifier="jsessionid" Name="/hello"/>
</UriGroup>
<Route ServerCluster="server1_default_Cluster" UriGroup="default_host_server1_default_Cluster_URIs" VirtualHostGroup="default_host"/>
</Config>
"""


def test_gist_single_member_cluster_without_clone_id(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GIST))
    [cluster] = config.clusters
    assert cluster.name == "server1_default_Cluster"
    [member] = cluster.members
    assert member.name == "default_server1"
    assert member.clone_id is None
    assert member.weight == 2  # no LoadBalanceWeight: the documented default
    assert member.connect_timeout == 0
    assert member.max_connections == -1 and member.unlimited_connections
    assert member.server_io_timeout is None
    assert member.transports[0].port == 80
    # defaults for what the gist leaves out
    assert cluster.ignore_affinity_requests is True
    assert cluster.post_buffer_size is None and cluster.server_io_timeout_retry is None
    assert config.log is not None and config.log.level == "Error"


def test_gist_name_mismatches_are_kept_and_reported(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GIST))
    cluster = config.clusters[0]
    assert cluster.primary == ("MYSYSTEM_default_server1",)
    assert len(config.problems) == 2
    assert "PrimaryServers names 'MYSYSTEM_default_server1'" in config.problems[0]
    assert config.problems[0].startswith("ServerCluster 'server1_default_Cluster': ")
    assert "UriGroup='default_host_server1_default_Cluster_URIs' names no <UriGroup>" in config.problems[1]
    assert config.routes[0].uri_group == "default_host_server1_default_Cluster_URIs"


FREEKB_CLUSTER = (
    '<ServerCluster CloneSeparatorChange="false" GetDWLMTable="true" IgnoreAffinityRequests="false" '
    'LoadBalance="Round Robin" Name="Cluster1" PostBufferSize="0" PostSizeLimit="-1" '
    'RemoveSpecialHeaders="true" RetryInterval="60" ServerIOTimeoutRetry="-1">'
)
RB51_EX_5_8_SERVER = (
    '<Server CloneID="v544d0o0" ConnectTimeout="0" ExtendedHandshake="false" LoadBalanceWeight="2" '
    'MaxConnections="-1" Name="was2Node_PluginMember2" WaitForContinue="false">'
)


def test_freekb_cluster_attributes() -> None:
    config = parse(
        f"""
        {FREEKB_CLUSTER}
        {RB51_EX_5_8_SERVER}
        <Transport Hostname="app2" Port="9080" Protocol="http"/>
        </Server>
        </ServerCluster>
        """
    )
    assert config.problems == ()
    cluster = config.clusters[0]
    assert cluster.name == "Cluster1"
    assert cluster.ignore_affinity_requests is False
    assert cluster.load_balance is LoadBalance.ROUND_ROBIN
    assert cluster.post_buffer_size == 0
    assert cluster.server_io_timeout_retry == -1
    assert cluster.retry_interval == 60
    member = cluster.members[0]
    assert (member.clone_id, member.weight, member.connect_timeout) == ("v544d0o0", 2, 0)
    assert cluster.primary == ("was2Node_PluginMember2",)  # no PrimaryServers: every member


RB51_EX_9_1_LISTS = """\
        <PrimaryServers>
            <Server Name="HAClusterServer1"/>
            <Server Name="HAClusterServer3"/>
        </PrimaryServers>
        <BackupServers>
				Server Name="HAClusterServer2"/>
            	<Server Name="HAClusterServer4"/>
  	</BackupServers>
"""


def _ha_cluster(lists: str) -> str:
    servers = "".join(
        f'<Server CloneID="c{i}" Name="HAClusterServer{i}"><Transport Hostname="h{i}" Port="9080" Protocol="http"/>'
        f"</Server>\n"
        for i in range(1, 5)
    )
    return f'<ServerCluster Name="HACluster">\n{servers}{lists}</ServerCluster>'


def test_rb51_example_9_1_primary_backup_with_its_typo() -> None:
    config = parse(_ha_cluster(RB51_EX_9_1_LISTS))
    cluster = config.clusters[0]
    assert cluster.primary == ("HAClusterServer1", "HAClusterServer3")
    # the line without "<" is text inside <BackupServers>, not an element: only Server4 is a backup
    assert cluster.backup == ("HAClusterServer4",)
    assert config.problems == ()
    assert [m.name for m in cluster.members] == [f"HAClusterServer{i}" for i in range(1, 5)]


def test_server_list_entry_naming_no_member_is_kept_with_a_problem() -> None:
    lists = '<PrimaryServers><Server Name="HAClusterServer1"/><Server Name="Ghost"/></PrimaryServers>'
    config = parse(_ha_cluster(lists))
    assert config.clusters[0].primary == ("HAClusterServer1", "Ghost")
    assert config.problems == (
        "ServerCluster 'HACluster': PrimaryServers names 'Ghost', which is not a <Server> of this cluster; "
        "kept as written",
    )


def test_backup_entry_naming_no_member_and_entry_without_name() -> None:
    lists = '<BackupServers><Server/><Server Name="Ghost"/></BackupServers>'
    config = parse(_ha_cluster(lists))
    cluster = config.clusters[0]
    assert cluster.backup == ("Ghost",)
    assert cluster.primary == tuple(f"HAClusterServer{i}" for i in range(1, 5))
    assert len(config.problems) == 2
    assert "without a Name in <BackupServers>" in config.problems[0]
    assert "BackupServers names 'Ghost'" in config.problems[1]


# ---------------------------------------------------------------- weights (TN-REC)


def _weights(*weights: int | str) -> dict[str, int]:
    servers = "".join(
        f'<Server Name="s{i}" LoadBalanceWeight="{w}"><Transport Hostname="h" Port="1"/></Server>'
        for i, w in enumerate(weights)
    )
    return parse(f'<ServerCluster Name="C">{servers}</ServerCluster>').clusters[0].normalised_weights()


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ((100, 90, 80), [10, 9, 8]),
        ((20, 20, 20), [1, 1, 1]),
        ((4, 1), [4, 1]),
        ((6, 0, 9), [2, 0, 3]),
        ((0, 0), [0, 0]),
        ((5,), [1]),
        ((-3, 6), [1, 3]),  # a negative weight is out of range: the default 2 is used (issue 21)
    ],
)
def test_normalised_weights(weights: tuple[int, ...], expected: list[int]) -> None:
    assert list(_weights(*weights).values()) == expected
    assert list(_weights(*weights)) == [f"s{i}" for i in range(len(weights))]


def test_normalised_weights_of_an_empty_cluster() -> None:
    assert parse('<ServerCluster Name="C"/>').clusters[0].normalised_weights() == {}


def test_negative_weight_is_out_of_range() -> None:
    # NOTE: this test said a negative weight was used as written; the plug-in documents weights of 0
    # and more (issue 21 item 11), so it is a problem and the documented default 2 is used
    config = parse(
        '<ServerCluster Name="C"><Server Name="s" LoadBalanceWeight="-3"><Transport Hostname="h"/></Server></ServerCluster>'
    )
    assert config.clusters[0].members[0].weight == 2
    assert config.problems == ("Server 's' in ServerCluster 'C': LoadBalanceWeight=-3 is out of range: a weight of 0 "
                               "or more (the console offers 0 to 20); using the default 2",)


# ---------------------------------------------------------------- defaults


def test_defaults_of_a_bare_file() -> None:
    config = parse('<ServerCluster Name="C"><Server Name="s"><Transport Hostname="h"/></Server></ServerCluster>')
    assert config.problems == ()
    assert config.refresh_interval is None and config.log is None
    cluster = config.clusters[0]
    assert cluster.load_balance is LoadBalance.ROUND_ROBIN
    assert cluster.retry_interval == 60
    assert cluster.ignore_affinity_requests is True
    assert cluster.clone_separator_change is False and cluster.separator == ":"
    assert cluster.post_buffer_size is None and cluster.server_io_timeout_retry is None
    assert cluster.primary == ("s",) and cluster.backup == ()
    member = cluster.members[0]
    assert member.clone_id is None and member.weight == 2
    assert member.connect_timeout is None and member.server_io_timeout is None
    assert member.max_connections is None and member.unlimited_connections
    assert member.transports[0].port is None and member.transports[0].protocol == "http"
    assert config.affinity_cookie_names() == {"JSESSIONID"}


def test_uri_defaults_and_custom_affinity_cookies() -> None:
    config = parse(
        """
        <UriGroup Name="g">
          <Uri Name="/a"/>
          <Uri Name="/b" AffinityCookie="SESSION" AffinityURLIdentifier="sid"/>
        </UriGroup>
        <Log/>
        """
    )
    a, b = config.uri_groups[0].uris
    assert (a.affinity_cookie, a.affinity_url_identifier) == ("JSESSIONID", "jsessionid")
    assert (b.affinity_cookie, b.affinity_url_identifier) == ("SESSION", "sid")
    assert config.affinity_cookie_names() == {"JSESSIONID", "SESSION"}
    assert config.log is not None and (config.log.level, config.log.name) == ("Error", None)


def test_random_and_clone_separator_change() -> None:
    config = parse('<ServerCluster Name="C" LoadBalance="Random" CloneSeparatorChange="true"/>')
    cluster = config.clusters[0]
    assert cluster.load_balance is LoadBalance.RANDOM
    assert cluster.separator == "+"
    assert cluster.members == () and cluster.primary == ()


@pytest.mark.parametrize(("value", "limited"), [("-1", False), ("0", False), ("10", True)])
def test_max_connections(value: str, limited: bool) -> None:
    config = parse(
        f'<ServerCluster Name="C"><Server Name="s" MaxConnections="{value}"><Transport Hostname="h"/></Server></ServerCluster>'
    )
    member = config.clusters[0].members[0]
    assert member.max_connections == int(value)
    assert member.unlimited_connections is not limited


def test_unknown_elements_attributes_comments_and_text_are_ignored() -> None:
    config = parse(
        """
        <!-- generated -->
        <Property Name="ESIEnable" Value="true"/>
        <RequestMetrics armEnabled="false"/>
        <ServerCluster Name="C" GetDWLMTable="false" Future="x">
          stray text
          <Server Name="s" Future="y"><Transport Hostname="h" Port="9443" Protocol="https"><Property Name="keyring" Value="k.kdb"/></Transport></Server>
          <Unknown><Server Name="hidden"/></Unknown>
        </ServerCluster>
        """
    )
    assert config.problems == ()
    cluster = config.clusters[0]
    assert [m.name for m in cluster.members] == ["s"]
    assert cluster.members[0].transports[0].protocol == "https"


# ---------------------------------------------------------------- odd values: default used, problem recorded


def test_wrong_types_use_defaults_and_are_reported() -> None:
    config = parse(
        """
        <ServerCluster Name="Cluster1" RetryInterval="sixty" IgnoreAffinityRequests="maybe"
                       LoadBalance="Weighted" PostBufferSize="64KB">
          <Server Name="s1" LoadBalanceWeight="abc" ConnectTimeout="5s" MaxConnections="1_000">
            <Transport Hostname="h" Port="http"/>
          </Server>
        </ServerCluster>
        """,
        config_attrs='RefreshInterval="1.5"',
    )
    cluster = config.clusters[0]
    assert cluster.retry_interval == 60
    assert cluster.ignore_affinity_requests is True
    assert cluster.load_balance is LoadBalance.ROUND_ROBIN
    assert cluster.post_buffer_size is None
    member = cluster.members[0]
    assert (member.weight, member.connect_timeout, member.max_connections) == (2, None, None)
    assert member.transports[0].port is None
    assert config.refresh_interval is None
    assert config.problems == (
        "Config: RefreshInterval='1.5' is not a whole number; treating it as not set (the default: checked every 60 s)",
        "ServerCluster 'Cluster1': LoadBalance='Weighted' is not 'Round Robin' or 'Random'; "
        "using the default 'Round Robin'",
        "ServerCluster 'Cluster1': RetryInterval='sixty' is not a whole number; using the default 60",
        "ServerCluster 'Cluster1': IgnoreAffinityRequests='maybe' is not true or false; using the default true",
        "ServerCluster 'Cluster1': PostBufferSize='64KB' is not a whole number; treating it as not set "
        "(the default: 64 KB)",
        "Transport of Server 's1' in ServerCluster 'Cluster1': Port='http' is not a whole number; "
        "treating it as not set",
        "Server 's1' in ServerCluster 'Cluster1': LoadBalanceWeight='abc' is not a whole number; using the default 2",
        "Server 's1' in ServerCluster 'Cluster1': ConnectTimeout='5s' is not a whole number; treating it as not set "
        "(the default: the operating system's connect timeout)",
        "Server 's1' in ServerCluster 'Cluster1': MaxConnections='1_000' is not a whole number; treating it as not set "
        "(the default: no limit)",
    )


def test_tolerated_spellings() -> None:
    config = parse(
        '<ServerCluster Name="C" LoadBalance="round robin" IgnoreAffinityRequests="FALSE" RetryInterval=" 30 "/>'
    )
    cluster = config.clusters[0]
    assert cluster.load_balance is LoadBalance.ROUND_ROBIN
    assert cluster.ignore_affinity_requests is False
    assert cluster.retry_interval == 30
    assert config.problems == ()


def test_nameless_elements_are_skipped_with_a_problem() -> None:
    config = parse(
        """
        <ServerCluster>
          <Server Name="orphan"><Transport Hostname="h"/></Server>
        </ServerCluster>
        <ServerCluster Name="C">
          <Server CloneID="x"><Transport Hostname="h"/></Server>
          <Server Name="s"><Transport Hostname="h"/></Server>
        </ServerCluster>
        <Route UriGroup="g"/>
        """
    )
    assert [c.name for c in config.clusters] == ["C"]
    assert [m.name for m in config.clusters[0].members] == ["s"]
    assert config.routes == ()
    assert config.problems == (
        "ServerCluster: a <ServerCluster> without a Name is skipped (no Route can name it)",
        "ServerCluster 'C': a <Server> without a Name is skipped (the log could never name it)",
        "Route: a <Route> without a ServerCluster is skipped (it sends requests nowhere)",
    )


def test_structural_oddities_are_reported() -> None:
    config = parse(
        """
        <ServerCluster Name="C">
          <Server Name="a" CloneID="v1"><Transport Hostname="h"/></Server>
          <Server Name="b" CloneID="v1"><Transport Hostname="h"/></Server>
          <Server Name="a"/>
          <PrimaryServers/>
          <BackupServers><Server Name="b"/></BackupServers>
        </ServerCluster>
        <ServerCluster Name="C"/>
        <Route ServerCluster="Elsewhere"/>
        """
    )
    cluster = config.cluster("C")
    assert cluster is config.clusters[0]
    assert cluster.primary == () and cluster.backup == ("b",)
    assert cluster.member("a") is cluster.members[0]
    problems = "\n".join(config.problems)
    assert "Server 'a' in ServerCluster 'C': has no usable <Transport>" in problems
    assert "more than one <Server> is named 'a'" in problems
    assert "Servers 'a' and 'b' share CloneID 'v1'" in problems
    assert "<PrimaryServers> is empty" in problems
    assert "ServerCluster 'C': defined more than once" in problems
    assert "ServerCluster='Elsewhere' names no <ServerCluster>" in problems
    assert config.routes[0].uri_group is None and config.routes[0].virtual_host_group is None


def test_member_in_both_lists_is_reported() -> None:
    lists = '<PrimaryServers><Server Name="HAClusterServer1"/></PrimaryServers><BackupServers><Server Name="HAClusterServer1"/></BackupServers>'
    config = parse(_ha_cluster(lists))
    assert config.problems == (
        "ServerCluster 'HACluster': 'HAClusterServer1' is listed both in PrimaryServers and in BackupServers",
    )


def test_problems_stay_on_one_line() -> None:
    config = parse('<ServerCluster Name="C&#10;D" RetryInterval="6&#10;0"/>')
    assert config.clusters[0].name == "C\nD"
    [problem] = config.problems
    assert "\n" not in problem and "\\n" in problem


# ---------------------------------------------------------------- refusals: one line naming the file


def test_missing_file(tmp_path: Path) -> None:
    assert refused(tmp_path / "absent.xml").endswith("absent.xml: no such file")


def test_missing_parent_is_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert refused(tmp_path / "file" / "plugin-cfg.xml").endswith(": no such file")


def test_directory(tmp_path: Path) -> None:
    assert "is a directory" in refused(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_unreadable(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE.read_bytes())
    path.chmod(0)
    try:
        assert refused(path).endswith(": permission denied")
    finally:
        path.chmod(0o600)


def test_unreadable_when_open_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # root reads everything, so stand in for the denial where the test runs as root
    path = write(tmp_path, SAMPLE.read_bytes())

    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", deny)
    assert refused(path).endswith(": permission denied")


@pytest.mark.parametrize("text", [b"", b"  \n\t\n"])
def test_empty(tmp_path: Path, text: bytes) -> None:
    assert refused(write(tmp_path, text)).endswith(": is empty, not a plugin-cfg.xml file")


def test_not_xml(tmp_path: Path) -> None:
    path = write(tmp_path, b"[03/Jan/2005:16:09:07] 0000030c 00000b5c - TRACE: ws_common: websphereHandleRequest\n")
    message = refused(path)
    assert ": not well-formed XML: syntax error at line 1, column 1" in message


def test_not_xml_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '<Config>\n  <ServerCluster Name="C">\n</Config>\n')
    assert refused(path).endswith(": not well-formed XML: mismatched tag at line 3, column 3")


def test_truncated_file(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE.read_bytes()[:500])
    assert "not well-formed XML" in refused(path)


def test_unknown_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, b'<?xml version="1.0" encoding="no-such-codec"?><Config/>')
    assert "not well-formed XML" in refused(path)


def test_root_is_not_config(tmp_path: Path) -> None:
    path = write(tmp_path, '<?xml version="1.0"?><project><ServerCluster Name="C"/></project>')
    assert refused(path).endswith(": not a plugin-cfg.xml file: the root element is <project>, not <Config>")


BILLION_LAUGHS = """\
<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Config><ServerCluster Name="&lol9;"/></Config>
"""


@pytest.mark.parametrize(
    "text",
    [
        BILLION_LAUGHS,
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<Config Name="&e;"/>\n',
        '<!DOCTYPE Config SYSTEM "http://example.invalid/plugin-cfg.dtd">\n<Config/>\n',
        "<!DOCTYPE Config>\n<Config/>\n",
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "bare-doctype"],
)
def test_doctype_and_entities_are_refused(tmp_path: Path, text: str) -> None:
    message = refused(write(tmp_path, text))
    assert message.endswith(
        ": DOCTYPE and entity declarations are not allowed (billion laughs / external entity protection)"
    )


def test_undeclared_entity_is_not_xml(tmp_path: Path) -> None:
    assert "undefined entity" in refused(write(tmp_path, '<Config Name="&e;"/>'))


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    depth = 100
    text = "<Config>" + "<a>" * (depth - 1) + "</a>" * (depth - 1) + "</Config>"
    message = refused(write(tmp_path, text))
    assert f": elements nest deeper than {MAX_DEPTH} levels (line 1); refused" in message


def test_nesting_up_to_the_limit_is_accepted() -> None:
    inner = "<a>" * (MAX_DEPTH - 1) + "</a>" * (MAX_DEPTH - 1)
    config = parse_config(f"<Config>{inner}</Config>".encode(), "deep.xml")
    assert config.clusters == () and config.problems == ()


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: no 32 MiB written to the disk
    assert "larger than the 32 MiB" in refused(path)


def test_parse_config_refuses_too_large_bytes() -> None:
    with pytest.raises(ConfigFileError, match=r"big\.xml: is 33554433 bytes, larger than the 32 MiB"):
        parse_config(b" " * (MAX_BYTES + 1), "big.xml")


def test_control_characters_in_the_path_stay_escaped(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError) as info:
        parse_config(b"", "bad\nname.xml")
    assert info.value.message == "bad\\nname.xml: is empty, not a plugin-cfg.xml file"


def test_parse_config_names_the_given_path() -> None:
    with pytest.raises(ConfigFileError) as info:
        parse_config(b"<nope", "/etc/httpd/plugin-cfg.xml")
    assert info.value.message.startswith("/etc/httpd/plugin-cfg.xml: not well-formed XML: ")
