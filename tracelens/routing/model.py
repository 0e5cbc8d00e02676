"""Routing stage: the reference model of the plug-in's documented routing, as pure functions.

What the plug-in should do with a request (facts §4 and §6, seeds 000 and 001):

1. Affinity. For each clone ID of the session identifier, **in cookie order**, walk the primary
   members **in list order**; the first member with that clone ID that is available gets the request,
   "regardless of the weight". A member is unavailable while it is marked down in *this* process and
   its retry interval has not passed, or when it has reached MaxConnections.
2. Otherwise, load balancing among the available primary members (weighted round robin or random).
   Which member round robin picks depends on a pointer the log does not show, so the model expects
   *one of* the available primaries, not a particular one. Version switch ``affinity_miss``: after
   APAR PM12112 (7.0.0.13, the default here) an affinity miss is load balanced; before it the request
   went to the next primary in the list after the affinity member.
3. Backups only when no primary is available, first available backup in list order, no weights.
4. Nothing available: the client gets an error ("Failed to find an app server to handle this
   request").

Availability comes from the process's state when the request began (:class:`MemberView`), corrected
by the request's own ``serverGroupCheckServerStatus`` lines, which are the process's own statement. A
status line that contradicts the retry interval is kept as a *disagreement*: the model is not bent to
fit the log.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracelens.config.plugin_cfg import LoadBalance
from tracelens.config.topology import ClusterModel
from tracelens.requests.assemble import StatusSeen
from tracelens.state.members import DownInterval, MemberState, MemberView, whole_seconds


class AffinityMiss(str, enum.Enum):
    """What happens after an affinity miss (APAR PM12112)."""

    LOAD_BALANCE = "load-balance"  # 7.0.0.13 and later: distributed among the available members
    NEXT_IN_LIST = "next-in-list"  # before: the next primary after the affinity member


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    affinity_miss: AffinityMiss = AffinityMiss.LOAD_BALANCE


DEFAULT_SETTINGS = RoutingSettings()


class ExpectKind(str, enum.Enum):
    AFFINITY = "affinity"
    LOAD_BALANCE = "load_balance"
    BACKUP = "backup"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Availability:
    member: str
    available: bool
    why: str | None  # for an unavailable member: "marked down, retry in 55 s", "MaxConnections reached"
    retry_in: int | None
    status_line: int | None  # the request's own status line that said so, if any
    disagreement: str | None  # the status line and the retry interval disagree


@dataclass(frozen=True, slots=True)
class Expectation:
    kind: ExpectKind
    member: str | None  # the affinity target, or the backup
    clone_id: str | None
    candidates: tuple[str, ...]  # every member the model accepts (one for affinity and backup)
    skipped: tuple[Availability, ...]  # affinity members passed over, and why
    unknown_clones: tuple[str, ...]  # clone IDs of the cookie that no member has

    def accepts(self, member: str | None) -> bool:
        return member is not None and member in self.candidates


def availability(
    member: str,
    view: MemberView | None,
    statuses: Sequence[StatusSeen],
    now: datetime | None,
    retry_interval: int,
) -> Availability:
    """Whether ``member`` can take a request now, in the process whose view and status lines these are.

    MaxConnections comes from the process's own statement (``reachedMaxConnectionsLimit``): the log
    does not show enough of the connection counts to judge the configured limit independently. The
    request's own status line for the member decides (the process said so when it chose); it is
    checked against the retry interval as of the line's own time.
    """
    own = [s for s in statuses if s.member == member]
    if not own:
        return _from_view(member, view, now, retry_interval)
    s = own[-1]
    # the view as of the status line's own time: a later decision of the same request is not what it
    # answered (NOTE: the requests of a busy log can spend seconds between their lines)
    from_view = _from_view(member, view, s.time if s.time is not None else now, retry_interval)
    if s.reached_max_connections:
        return Availability(member, False, "MaxConnections reached", None, s.line, None)
    if s.marked_down and not s.retry_now:
        retry = s.retry_in
        why = f"marked down, retry in {retry} s" if retry is not None else "marked down, retry not yet due"
        disagreement = None
        if from_view.available and view is not None and view.state is MemberState.DOWN:
            disagreement = (f"the process kept {member} marked down although its retry interval of "
                            f"{retry_interval} s had passed")
        return Availability(member, False, why, retry, s.line, disagreement)
    disagreement = None
    if s.marked_down and s.retry_now and not from_view.available and from_view.retry_in is not None:
        disagreement = (f"the process retried {member} {from_view.retry_in} s before its retry interval of "
                        f"{retry_interval} s had passed (premature retry, cf. APAR PK28197)")
    return Availability(member, True, None, None, s.line, disagreement)


def retry_due_at(retry_from: datetime, retry_interval: int) -> datetime:
    """When a member whose retry timer started at ``retry_from`` is due for a retry: ``retry_interval``
    seconds later as the plug-in's clock counts them, in whole seconds (:func:`whole_seconds`; facts §2.2).

    The one retry rule: ``now >= retry_due_at(retry_from, interval)`` exactly when
    ``whole_seconds(retry_from, now) >= interval``. An absurd interval (an inferred one may be) is held
    at the calendar's ends instead of overflowing.
    """
    start = retry_from.replace(microsecond=0)
    try:
        return start + timedelta(seconds=retry_interval)
    except OverflowError:
        return datetime.max if retry_interval > 0 else datetime.min


@dataclass(frozen=True, slots=True)
class RetryTimer:
    """One run of a member's retry timer in one process, as the model reads it.

    The timer starts at the mark-down (``restart`` False) or at a failed retry probe, a further mark-down
    (``restart`` True), at ``started`` on ``file:line``. The member is due for a retry at ``due``: the
    retry interval after the start (:func:`retry_due_at`), or earlier when the process logged it due
    before that (``Time to retry``, ``retryNow 1``: then ``logged``), as :func:`availability` holds a
    member available whose process says the retry is due. ``due_file:due_line`` is the logged retry due
    of this run, if the log has one.
    """

    started: datetime
    file: str
    line: int
    restart: bool
    due: datetime
    logged: bool
    due_file: str | None
    due_line: int | None


def retry_timers(iv: DownInterval, retry_interval: int) -> tuple[RetryTimer, ...]:
    """The runs of the retry timer over a down interval: from the mark-down, then from each failed retry
    probe (APAR PK28197), each with when the model holds the member due for a retry. Empty for an
    interval without a time."""
    if iv.start is None:
        return ()
    out: list[RetryTimer] = []
    started, file, line, restart = iv.start, iv.file, iv.start_line, False
    for r in iv.timer_restarts:
        if r.time is None:
            continue  # an untimed line does not restart the timer (the tracker keeps retry_from)
        out.append(_timer(started, file, line, restart, retry_interval, r.retry_due,
                          r.retry_due_file or iv.file, r.retry_due_line))
        started, file, line, restart = r.time, r.file or iv.file, r.line, True
    out.append(_timer(started, file, line, restart, retry_interval, iv.retry_due, iv.retry_due_file or iv.file,
                      iv.retry_due_line))
    return tuple(out)


def _timer(started: datetime, file: str, line: int, restart: bool, retry_interval: int, logged: datetime | None,
           logged_file: str, logged_line: int | None) -> RetryTimer:
    due = retry_due_at(started, retry_interval)
    if logged is None or logged < started:  # NOTE: a retry due before its own timer: the clock went back
        return RetryTimer(started, file, line, restart, due, False, None, None)
    return RetryTimer(started, file, line, restart, min(due, logged), logged < due, logged_file, logged_line)


def _from_view(member: str, view: MemberView | None, now: datetime | None, retry_interval: int) -> Availability:
    if view is None or view.state in (MemberState.UP, MemberState.UNKNOWN):
        if view is not None and view.reached_max_connections:
            return Availability(member, False, "MaxConnections reached", None, None, None)
        return Availability(member, True, None, None, None, None)
    if view.state is MemberState.RETRY_DUE:
        return Availability(member, True, None, None, None, None)
    # the plug-in counts the retry interval from the last failure (APAR PK28197): a failed retry probe
    # starts it again
    if view.retry_from is None or now is None:
        return Availability(member, False, "marked down", None, None, None)
    if now >= retry_due_at(view.retry_from, retry_interval):
        return Availability(member, True, None, None, None, None)
    left = int(retry_interval - whole_seconds(view.retry_from, now))
    return Availability(member, False, f"marked down, retry in {left} s", left, None, None)


def expect(
    cluster: ClusterModel,
    clone_ids: Sequence[str],
    views: Mapping[str, MemberView],
    statuses: Sequence[StatusSeen],
    now: datetime | None,
    excluded: frozenset[str] = frozenset(),
    settings: RoutingSettings = DEFAULT_SETTINGS,
) -> Expectation:
    """Where the documented algorithm sends a request carrying ``clone_ids`` (§6 ``route``)."""

    def avail(name: str) -> Availability:
        if name in excluded:
            return Availability(name, False, "failed earlier in this request", None, None, None)
        return availability(name, views.get(name), statuses, now, cluster.retry_interval)

    skipped: list[Availability] = []
    unknown: list[str] = []
    last_affinity: str | None = None
    if cluster.has_clone_ids:
        for cid in clone_ids:
            matched = False
            for name in cluster.primary:
                member = cluster.member(name)
                if member is None or member.clone_id != cid:
                    continue
                matched = True
                last_affinity = name
                a = avail(name)
                if a.available:
                    return Expectation(ExpectKind.AFFINITY, name, cid, (name,), tuple(skipped), tuple(unknown))
                skipped.append(a)
            if not matched:
                unknown.append(cid)
    up_primaries = tuple(n for n in cluster.primary if avail(n).available)
    if up_primaries:
        if settings.affinity_miss is AffinityMiss.NEXT_IN_LIST and last_affinity is not None \
                and last_affinity in cluster.primary:
            start = cluster.primary.index(last_affinity) + 1
            ring = cluster.primary[start:] + cluster.primary[:start]
            nxt = next(n for n in ring if n in up_primaries)
            return Expectation(ExpectKind.LOAD_BALANCE, nxt, None, (nxt,), tuple(skipped), tuple(unknown))
        weighted = tuple(n for n in up_primaries if _takes_new_requests(cluster, n))
        candidates = weighted or up_primaries
        return Expectation(ExpectKind.LOAD_BALANCE, None, None, candidates, tuple(skipped), tuple(unknown))
    for name in cluster.backup:
        if avail(name).available:
            return Expectation(ExpectKind.BACKUP, name, None, (name,), tuple(skipped), tuple(unknown))
    return Expectation(ExpectKind.NONE, None, None, (), tuple(skipped), tuple(unknown))


def _takes_new_requests(cluster: ClusterModel, name: str) -> bool:
    """A member with LoadBalanceWeight 0 gets no new sessions under round robin."""
    if cluster.load_balance is LoadBalance.RANDOM:
        return True
    member = cluster.member(name)
    return member is None or member.weight is None or member.weight > 0
