"""The reference routing model (facts §4, §6) as pure functions: ``availability`` and ``expect``.

Every case is built by hand from :class:`ClusterModel` / :class:`MemberModel` / :class:`MemberView` /
:class:`StatusSeen` values, so each test states one documented rule and nothing else:

- affinity: clone IDs in cookie order, each against the primaries in list order (RB51 Ex. 9-8);
- a member is unavailable while marked down in this process and its retry interval has not passed,
  or while it has reached MaxConnections (§4.5, §5.13);
- an affinity miss is load balanced among the available primaries (after APAR PM12112) or sent to the
  next primary after the affinity member (before it);
- backups only when no primary is available, first available in list order (§4.4);
- nothing available: no member (PH46938);
- a status line that contradicts the retry interval is kept as a disagreement (APAR PK28197).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tracelens.config.plugin_cfg import LoadBalance
from tracelens.config.topology import ClusterModel, MemberModel, Source
from tracelens.requests.assemble import StatusSeen
from tracelens.routing.model import (
    AffinityMiss,
    ExpectKind,
    RoutingSettings,
    availability,
    expect,
)
from tracelens.state.members import DownReason, MemberState, MemberView

NOW = datetime(2004, 6, 7, 10, 15, 25)
RETRY = 60

# RB51 Example 9-8: HAClusterServer1 has clone u307p2vq, HAClusterServer2 has u307p62u
HA1, HA2, HA3 = "HAClusterServer1", "HAClusterServer2", "HAClusterServer3"
C1, C2, C3 = "u307p2vq", "u307p62u", "u307p7zz"
B1, B2 = "HABackup1", "HABackup2"


def member(name: str, clone: str | None, weight: int | None = 1, max_connections: int | None = None) -> MemberModel:
    return MemberModel(name, clone, weight, max_connections, "HACluster", Source.CONFIG)


def cluster(
    members: list[MemberModel],
    primary: list[str] | None = None,
    backup: list[str] | None = None,
    load_balance: LoadBalance = LoadBalance.ROUND_ROBIN,
) -> ClusterModel:
    return ClusterModel(
        name="HACluster", members=tuple(members),
        primary=tuple(primary if primary is not None else [m.name for m in members if m.name not in (backup or [])]),
        backup=tuple(backup or []), retry_interval=RETRY, retry_interval_source=Source.CONFIG,
        load_balance=load_balance, ignore_affinity_requests=True, separator=":", source=Source.CONFIG,
    )


def up(name: str) -> MemberView:
    return MemberView(name, MemberState.UP, None, None, False)


def down(name: str, seconds_ago: float) -> MemberView:
    """Marked down in this process ``seconds_ago`` before NOW."""
    return MemberView(name, MemberState.DOWN, NOW - timedelta(seconds=seconds_ago), DownReason.CONNECT_REFUSED, False)


def status(name: str, line: int, *, marked_down: bool = False, retry_now: bool = False, retry_in: int | None = None,
           max_conn: bool = False) -> StatusSeen:
    return StatusSeen(name, line, marked_down, retry_now, retry_in, max_conn)


def views(*vs: MemberView) -> dict[str, MemberView]:
    return {v.member: v for v in vs}


THREE = cluster([member(HA1, C1), member(HA2, C2), member(HA3, C3)])


# ---------------------------------------------------------------- availability


def test_up_member_is_available() -> None:
    a = availability(HA1, up(HA1), [], NOW, RETRY)
    assert a.available and a.why is None and a.disagreement is None


def test_member_never_seen_is_available() -> None:
    # no view at all: nothing says the process marked it down
    assert availability(HA1, None, [], NOW, RETRY).available


def test_marked_down_with_retry_not_due_is_unavailable_with_time_left() -> None:
    a = availability(HA1, down(HA1, 2), [], NOW, RETRY)
    assert not a.available
    assert a.retry_in == 58
    assert a.why == "marked down, retry in 58 s"
    assert a.status_line is None and a.disagreement is None


@pytest.mark.parametrize("seconds_ago", [60, 61, 600])
def test_marked_down_is_available_again_once_the_retry_interval_has_passed(seconds_ago: int) -> None:
    a = availability(HA1, down(HA1, seconds_ago), [], NOW, RETRY)
    assert a.available and a.disagreement is None


def test_the_retry_interval_counts_from_when_the_timer_last_started() -> None:
    # APAR PK28197: retry is decided from "the current time and the last time at which a request
    # failed": down for 100 s, but the retry probe failed 30 s ago, so 30 s are left. The view
    # carries when the timer last started (tests/test_state_members.py: the tracker sets it)
    view = MemberView(HA1, MemberState.DOWN, NOW - timedelta(seconds=30), DownReason.CONNECT_REFUSED, False)
    a = availability(HA1, view, [], NOW, RETRY)
    assert not a.available and a.retry_in == 30 and a.why == "marked down, retry in 30 s"


@pytest.mark.parametrize(("since", "now", "available"), [
    # the plug-in's clock counts whole seconds (retryInSec, plugin-facts §2.3): 59.2 s by the log's
    # fractions are 60 whole seconds, and 59.8 s are 59
    (datetime(2004, 6, 7, 10, 14, 25, 900_000), datetime(2004, 6, 7, 10, 15, 25, 100_000), True),
    (datetime(2004, 6, 7, 10, 14, 25, 100_000), datetime(2004, 6, 7, 10, 15, 24, 900_000), False),
])
def test_the_retry_interval_is_counted_in_whole_seconds(since: datetime, now: datetime, available: bool) -> None:
    view = MemberView(HA1, MemberState.DOWN, since, DownReason.CONNECT_REFUSED, False)
    a = availability(HA1, view, [], now, RETRY)
    assert a.available is available and a.retry_in == (None if available else 1)


def test_a_status_line_is_checked_against_the_retry_interval_at_its_own_time() -> None:
    # the affinity check said "retry in 1" 59 s after the mark-down, a second before the request's
    # load-balancing pick: the process was right when it said so, whatever the time of the pick
    view = down(HA1, 60)
    said = StatusSeen(HA1, 7, True, False, 1, False, NOW - timedelta(seconds=1))
    a = availability(HA1, view, [said], NOW, RETRY)
    assert not a.available and a.retry_in == 1 and a.status_line == 7 and a.disagreement is None
    # ... and it disagrees when the interval had passed by the line's own time
    late = StatusSeen(HA1, 7, True, False, 1, False, NOW)
    assert availability(HA1, down(HA1, 61), [late], NOW, RETRY).disagreement == (
        f"the process kept {HA1} marked down although its retry interval of 60 s had passed")


def test_retry_due_state_is_available() -> None:
    view = MemberView(HA1, MemberState.RETRY_DUE, NOW - timedelta(seconds=5), DownReason.CONNECT_REFUSED, False)
    assert availability(HA1, view, [], NOW, RETRY).available


def test_down_without_a_clock_is_unavailable() -> None:
    view = MemberView(HA1, MemberState.DOWN, None, DownReason.BEFORE_LOG, False)
    a = availability(HA1, view, [], None, RETRY)
    assert not a.available and a.retry_in is None


def test_max_connections_in_the_view_makes_it_unavailable() -> None:
    view = MemberView(HA1, MemberState.UP, None, None, True)
    a = availability(HA1, view, [], NOW, RETRY)
    assert not a.available and a.why == "MaxConnections reached"


def test_max_connections_in_the_requests_status_line_makes_it_unavailable() -> None:
    a = availability(HA1, up(HA1), [status(HA1, 25, max_conn=True)], NOW, RETRY)
    assert not a.available
    assert a.why == "MaxConnections reached" and a.status_line == 25


def test_status_line_marked_down_overrides_an_up_view() -> None:
    a = availability(HA1, up(HA1), [status(HA1, 76, marked_down=True, retry_in=60)], NOW, RETRY)
    assert not a.available
    assert a.retry_in == 60 and a.status_line == 76
    assert a.why == "marked down, retry in 60 s"
    assert a.disagreement is None  # the view was up: the log is simply newer than the view


def test_status_line_of_another_member_is_ignored() -> None:
    a = availability(HA1, up(HA1), [status(HA2, 76, marked_down=True)], NOW, RETRY)
    assert a.available and a.status_line is None


def test_the_latest_status_line_of_the_member_counts() -> None:
    lines = [status(HA1, 25, marked_down=True, retry_in=5), status(HA1, 40)]
    a = availability(HA1, down(HA1, 55), lines, NOW, RETRY)
    assert a.available and a.status_line == 40


def test_premature_retry_is_available_with_a_pk28197_disagreement() -> None:
    # the process says retryNow 1 only 10 s after the mark-down: it is the process's own statement
    # (the member *was* tried), but it contradicts RetryInterval 60
    a = availability(HA1, down(HA1, 10), [status(HA1, 159, marked_down=True, retry_now=True)], NOW, RETRY)
    assert a.available
    assert a.status_line == 159
    assert a.disagreement is not None
    assert "PK28197" in a.disagreement and "50 s before" in a.disagreement


def test_retry_now_after_the_interval_is_no_disagreement() -> None:
    a = availability(HA1, down(HA1, 62), [status(HA1, 159, marked_down=True, retry_now=True)], NOW, RETRY)
    assert a.available and a.disagreement is None


def test_kept_down_after_the_interval_is_a_disagreement() -> None:
    a = availability(HA1, down(HA1, 90), [status(HA1, 76, marked_down=True, retry_now=False)], NOW, RETRY)
    assert not a.available
    assert a.disagreement is not None and "retry interval of 60 s had passed" in a.disagreement


# ---------------------------------------------------------------- expect: affinity


def test_affinity_to_the_first_clone_member_when_it_is_up() -> None:
    e = expect(THREE, [C1, C2], views(up(HA1), up(HA2)), [], NOW)
    assert e.kind is ExpectKind.AFFINITY
    assert (e.member, e.clone_id, e.candidates) == (HA1, C1, (HA1,))
    assert e.skipped == () and e.unknown_clones == ()
    assert e.accepts(HA1) and not e.accepts(HA2) and not e.accepts(None)


def test_rb51_ex_9_8_first_clone_down_goes_to_the_next_clone_member() -> None:
    # Ex. 9-8: u307p2vq matches HAClusterServer1, marked down, `retry in 58`; the plug-in tries the next
    # clone ID u307p62u from the start of the primary list
    e = expect(THREE, [C1, C2], views(down(HA1, 2), up(HA2), up(HA3)), [], NOW)
    assert e.kind is ExpectKind.AFFINITY
    assert (e.member, e.clone_id, e.candidates) == (HA2, C2, (HA2,))
    assert [(s.member, s.available, s.retry_in) for s in e.skipped] == [(HA1, False, 58)]


def test_clones_are_tried_in_cookie_order_not_in_list_order() -> None:
    # the cookie names HA3's clone first: HA3 wins although HA1 is first in the primary list and up
    e = expect(THREE, [C3, C1], views(up(HA1), up(HA3)), [], NOW)
    assert (e.kind, e.member) == (ExpectKind.AFFINITY, HA3)


def test_each_clone_walks_the_primaries_in_list_order() -> None:
    # two members share a clone ID (a configuration problem): the first in the primary list wins
    c = cluster([member(HA1, C1), member(HA2, C1)], primary=[HA2, HA1])
    e = expect(c, [C1], {}, [], NOW)
    assert (e.kind, e.member) == (ExpectKind.AFFINITY, HA2)


def test_affinity_member_is_available_again_after_the_retry_interval() -> None:
    e = expect(THREE, [C1, C2], views(down(HA1, 61), up(HA2)), [], NOW)
    assert (e.kind, e.member) == (ExpectKind.AFFINITY, HA1)
    assert e.skipped == ()


def test_affinity_member_at_max_connections_is_skipped() -> None:
    e = expect(THREE, [C1, C2], views(up(HA1), up(HA2)), [status(HA1, 25, max_conn=True)], NOW)
    assert (e.kind, e.member) == (ExpectKind.AFFINITY, HA2)
    assert [(s.member, s.why) for s in e.skipped] == [(HA1, "MaxConnections reached")]


def test_affinity_ignores_weights() -> None:
    # "regardless of the weight" (KC-PLG): a weight-0 member still keeps its sessions
    c = cluster([member(HA1, C1, weight=0), member(HA2, C2, weight=1)])
    e = expect(c, [C1], {}, [], NOW)
    assert (e.kind, e.member) == (ExpectKind.AFFINITY, HA1)


def test_member_that_failed_earlier_in_the_request_is_excluded() -> None:
    e = expect(THREE, [C1, C2], views(up(HA1), up(HA2)), [], NOW, excluded=frozenset({HA1}))
    assert (e.kind, e.member) == (ExpectKind.AFFINITY, HA2)
    assert e.skipped[0].why == "failed earlier in this request"


def test_unknown_clones_are_listed_and_the_known_one_still_used() -> None:
    e = expect(THREE, ["v544dxxx", C2], {}, [], NOW)
    assert (e.kind, e.member) == (ExpectKind.AFFINITY, HA2)
    assert e.unknown_clones == ("v544dxxx",)


def test_only_unknown_clones_are_load_balanced() -> None:
    e = expect(THREE, ["v544dxxx"], {}, [], NOW)
    assert e.kind is ExpectKind.LOAD_BALANCE
    assert e.candidates == (HA1, HA2, HA3) and e.unknown_clones == ("v544dxxx",)


def test_cluster_without_clone_ids_ignores_the_cookie() -> None:
    # "if there are no CloneIDs, affinity is off and every request is load-balanced" (TN-V4)
    c = cluster([member(HA1, None), member(HA2, None)])
    e = expect(c, [C1], {}, [], NOW)
    assert e.kind is ExpectKind.LOAD_BALANCE and e.candidates == (HA1, HA2)
    assert e.unknown_clones == ()


# ---------------------------------------------------------------- expect: after an affinity miss


def test_every_clone_member_down_is_load_balanced_among_the_available_primaries() -> None:
    e = expect(THREE, [C1, C2], views(down(HA1, 2), down(HA2, 30), up(HA3)), [], NOW)
    assert e.kind is ExpectKind.LOAD_BALANCE
    assert e.member is None and e.candidates == (HA3,)
    assert [s.member for s in e.skipped] == [HA1, HA2]


def test_affinity_miss_load_balances_over_every_available_primary_after_pm12112() -> None:
    # round robin's pointer is not in the log: any available primary is accepted
    e = expect(THREE, [C2], views(up(HA1), down(HA2, 2), up(HA3)), [], NOW)
    assert e.kind is ExpectKind.LOAD_BALANCE
    assert e.candidates == (HA1, HA3)
    assert e.accepts(HA1) and e.accepts(HA3) and not e.accepts(HA2)


def test_affinity_miss_goes_to_the_next_primary_in_the_list_before_pm12112() -> None:
    before_fix = RoutingSettings(AffinityMiss.NEXT_IN_LIST)
    e = expect(THREE, [C2], views(up(HA1), down(HA2, 2), up(HA3)), [], NOW, settings=before_fix)
    assert e.kind is ExpectKind.LOAD_BALANCE
    assert e.member == HA3 and e.candidates == (HA3,)
    assert not e.accepts(HA1)


def test_next_in_list_wraps_around_and_skips_unavailable_members() -> None:
    before_fix = RoutingSettings(AffinityMiss.NEXT_IN_LIST)
    e = expect(THREE, [C3], views(down(HA1, 5), up(HA2), down(HA3, 2)), [], NOW, settings=before_fix)
    assert e.candidates == (HA2,)


def test_next_in_list_without_an_affinity_member_load_balances() -> None:
    before_fix = RoutingSettings(AffinityMiss.NEXT_IN_LIST)
    e = expect(THREE, [], {}, [], NOW, settings=before_fix)
    assert e.kind is ExpectKind.LOAD_BALANCE and e.candidates == (HA1, HA2, HA3)


def test_weight_zero_member_takes_no_new_requests_under_round_robin() -> None:
    c = cluster([member(HA1, C1, weight=0), member(HA2, C2, weight=1), member(HA3, C3, weight=2)])
    e = expect(c, [], {}, [], NOW)
    assert e.kind is ExpectKind.LOAD_BALANCE
    assert e.candidates == (HA2, HA3)
    assert not e.accepts(HA1)


def test_weight_zero_is_a_candidate_when_it_is_the_only_member_left() -> None:
    c = cluster([member(HA1, C1, weight=0), member(HA2, C2, weight=1)])
    e = expect(c, [], views(down(HA2, 2)), [], NOW)
    assert e.candidates == (HA1,)


def test_random_load_balancing_ignores_weights() -> None:
    # "the value specified for the LoadBalanceWeight property is ignored" (KC-PLG, Random)
    c = cluster([member(HA1, C1, weight=0), member(HA2, C2, weight=1)], load_balance=LoadBalance.RANDOM)
    e = expect(c, [], {}, [], NOW)
    assert e.candidates == (HA1, HA2)


def test_unknown_weight_is_a_candidate() -> None:
    c = cluster([member(HA1, C1, weight=None), member(HA2, C2, weight=0)])
    assert expect(c, [], {}, [], NOW).candidates == (HA1,)


# ---------------------------------------------------------------- expect: backups and nothing


BACKED = cluster(
    [member(HA1, C1), member(HA2, C2), member(B1, "u307b001"), member(B2, "u307b002")],
    primary=[HA1, HA2], backup=[B1, B2],
)


def test_backups_are_not_used_while_a_primary_is_available() -> None:
    e = expect(BACKED, [], views(down(HA1, 2)), [], NOW)
    assert e.kind is ExpectKind.LOAD_BALANCE and e.candidates == (HA2,)


def test_no_primary_available_goes_to_the_first_backup() -> None:
    e = expect(BACKED, [C1], views(down(HA1, 2), down(HA2, 3)), [], NOW)
    assert e.kind is ExpectKind.BACKUP
    assert (e.member, e.candidates) == (B1, (B1,))
    assert [s.member for s in e.skipped] == [HA1]


def test_backups_are_tried_in_list_order() -> None:
    e = expect(BACKED, [], views(down(HA1, 2), down(HA2, 3), down(B1, 4), up(B2)), [], NOW)
    assert (e.kind, e.member) == (ExpectKind.BACKUP, B2)


def test_nothing_available_expects_no_member() -> None:
    e = expect(BACKED, [C1], views(down(HA1, 2), down(HA2, 3), down(B1, 4), down(B2, 5)), [], NOW)
    assert e.kind is ExpectKind.NONE
    assert e.member is None and e.candidates == ()
    assert not e.accepts(HA1) and not e.accepts(B1)


def test_all_primaries_down_and_no_backups_expects_no_member() -> None:
    # PH46938: every member marked down and no retry due
    e = expect(THREE, [C1], views(down(HA1, 2), down(HA2, 3), down(HA3, 4)), [], NOW)
    assert e.kind is ExpectKind.NONE


def test_status_lines_of_the_request_decide_over_an_older_view() -> None:
    # the view at the start of the request says up; the request's own status line says marked down
    lines = [status(HA1, 76, marked_down=True, retry_in=60)]
    e = expect(THREE, [C1, C2], views(up(HA1), up(HA2)), lines, NOW)
    assert (e.kind, e.member) == (ExpectKind.AFFINITY, HA2)
    assert e.skipped[0].status_line == 76


def test_premature_retry_in_expect_keeps_the_affinity_and_the_disagreement() -> None:
    lines = [status(HA1, 159, marked_down=True, retry_now=True)]
    e = expect(THREE, [C1, C2], views(down(HA1, 10), up(HA2)), lines, NOW)
    assert (e.kind, e.member) == (ExpectKind.AFFINITY, HA1)
    # the disagreement is on the availability of the chosen member, not on a skipped one
    assert availability(HA1, down(HA1, 10), lines, NOW, RETRY).disagreement
