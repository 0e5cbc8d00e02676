"""Routing stage: the topology inferred from the trace, when no plugin-cfg.xml is given.

Without ``--config`` the clusters, members, clone IDs, weights, primary/backup order and retry interval
that :func:`tracelens.config.topology.from_config` would take from plugin-cfg.xml are inferred from what
the trace shows (its events, the member state's down intervals and the assembled requests), and every
inferred value says so (``Source.TRACE``, or ``Source.DEFAULT`` where not even the trace tells):

- members and clone IDs: the configuration load (``Setting name X`` / ``Setting clone id c``) and the
  clone comparisons of requests (``Comparing curCloneID 'a' to server clone id 'c'`` then ``Match for
  clone 'X'``);
- primary and backup order: ``adding X to primary server list``, else the order members first appear;
- weights: ``weights_need_reset: X: 4 max, 0 cur.`` (the max is the normalised starting weight);
- retry interval: ``retry in N`` countdowns, counted back to the mark-down (or failed retry probe) they
  follow, in whole seconds;
- cluster name: ``assureWeightsValid: group NAME``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracelens.config.plugin_cfg import DEFAULT_RETRY_INTERVAL, LoadBalance
from tracelens.config.topology import ClusterModel, MemberModel, Source, Topology
from tracelens.parse import events as ev
from tracelens.parse.order import log_order
from tracelens.requests.assemble import Request
from tracelens.state.members import DownInterval


@dataclass(slots=True)
class TraceFacts:
    """What the trace says about the topology; fed every event in the same pass as the state."""

    order: dict[str, None] = field(default_factory=dict)  # member names in order of appearance
    clone_of: dict[str, str] = field(default_factory=dict)
    logged_clones: dict[str, str] = field(default_factory=dict)  # from the configuration load (`Setting clone id`)
    server_clones: dict[str, None] = field(default_factory=dict)  # every server clone ID compared against
    primary: dict[str, None] = field(default_factory=dict)
    backup: dict[str, None] = field(default_factory=dict)
    max_weight: dict[str, int] = field(default_factory=dict)
    cluster_name: str | None = None
    load_balance: LoadBalance | None = None
    _named: dict[tuple[str | None, str | None], str] = field(default_factory=dict)
    _compare: dict[tuple[str | None, str | None], str] = field(default_factory=dict)
    # where each fact was learnt, (file, line): the first time for the facts the first mention decides,
    # the last time for those the last one does; :meth:`merge` puts parts back in log order with them
    _at: ev.Event | None = None  # the record being learnt from (its place is taken only when it teaches)
    _where: dict[tuple[str, object], tuple[str, int]] = field(default_factory=dict)

    def on_event(self, e: ev.Event) -> None:
        handler = _FACT_HANDLERS.get(type(e))
        if handler is not None:
            self._at = e
            handler(self, e)

    def _here(self) -> tuple[str, int]:
        at = self._at
        return (at.file, at.line) if at is not None else ("", 0)

    def _first(self, name: str, key: str, value: Any = None) -> None:
        """Learn ``key`` (with ``value``) in the facts called ``name`` unless already known, and where."""
        facts: dict[str, Any] = getattr(self, name)
        if key not in facts:
            facts[key] = value
            self._where[(name, key)] = self._here()

    def _on_name(self, e: ev.Event) -> None:
        assert isinstance(e, ev.ServerName)
        self._named[(e.pid, e.tid)] = e.server
        self._first("order", e.server)

    def _on_clone_id(self, e: ev.Event) -> None:
        assert isinstance(e, ev.ServerCloneId)
        name = self._named.get((e.pid, e.tid))
        if name is not None:
            self._first("clone_of", name, e.clone_id)
            self._first("logged_clones", name, e.clone_id)

    def _on_compare(self, e: ev.Event) -> None:
        assert isinstance(e, ev.CloneCompare)
        self._compare[(e.pid, e.tid)] = e.server_clone_id
        self._first("server_clones", e.server_clone_id)

    def _on_match(self, e: ev.Event) -> None:
        # `Match for clone 'X'` follows the comparison that matched: X has that server clone ID
        assert isinstance(e, ev.CloneMatch)
        clone = self._compare.pop((e.pid, e.tid), None)
        if clone:
            self._first("clone_of", e.server, clone)
        self._first("order", e.server)

    def _on_list_add(self, e: ev.Event) -> None:
        assert isinstance(e, ev.ServerListAdd)
        if e.server_list is ev.ServerList.PRIMARY:
            self._first("primary", e.server)
        else:
            self._first("backup", e.server)
        self._first("order", e.server)

    def _on_weight(self, e: ev.Event) -> None:
        assert isinstance(e, ev.WeightState)
        self.max_weight[e.server] = e.max_weight
        self._where[("max_weight", e.server)] = self._here()
        self._first("order", e.server)

    def _on_group(self, e: ev.Event) -> None:
        assert isinstance(e, ev.WeightsCheck)
        if self.cluster_name is None and e.cluster:
            self.cluster_name = e.cluster
            self._where[("cluster_name", "")] = self._here()

    def _on_lb_mode(self, e: ev.Event) -> None:
        assert isinstance(e, ev.LoadBalanceMode)
        self.load_balance = LoadBalance(e.mode)
        self._where[("load_balance", "")] = self._here()

    def _on_member(self, e: ev.Event) -> None:
        # registered only for the event kinds that name a member (see _FACT_HANDLERS); NOTE: most of
        # the records the facts see are these, and their member is almost always known already
        server = getattr(e, "server")  # noqa: B009
        if server not in self.order:
            self._first("order", server)

    @classmethod
    def merge(cls, parts: Sequence[TraceFacts], files: Sequence[str]) -> TraceFacts:
        """The facts one pass over every record would have learnt, from parts fed disjoint processes."""
        order = log_order(files)

        def at(where: tuple[str, int]) -> tuple[int, str, int]:
            return order(*where)

        out = cls()
        firsts = ("order", "clone_of", "logged_clones", "server_clones", "primary", "backup")
        learnt = sorted(((at(part._where[(name, key)]), i, n, name, key, value)
                         for i, part in enumerate(parts) for name in firsts
                         for n, (key, value) in enumerate(getattr(part, name).items())),
                        key=lambda t: t[:3])
        # NOTE: where each fact was learnt is kept, so that a merged part merges again (a fleet's web
        # server split by --jobs, then merged with the other web servers)
        for _, i, _n, name, key, value in learnt:
            facts: dict[str, Any] = getattr(out, name)
            if key not in facts:
                facts[key] = value
                out._where[(name, key)] = parts[i]._where[(name, key)]
        weights = sorted(((at(part._where[("max_weight", key)]), key, value, part._where[("max_weight", key)])
                          for part in parts for key, value in part.max_weight.items()), key=lambda t: t[0])
        for _, key, value, where in weights:  # the last one logged wins, as in one pass
            out.max_weight[key] = value
            out._where[("max_weight", key)] = where
        named = [(at(p._where[("cluster_name", "")]), p.cluster_name, p._where[("cluster_name", "")])
                 for p in parts if p.cluster_name is not None]
        if named:
            _, out.cluster_name, out._where[("cluster_name", "")] = min(named, key=lambda t: t[0])
        modes = [(at(p._where[("load_balance", "")]), p.load_balance, p._where[("load_balance", "")])
                 for p in parts if p.load_balance is not None]
        if modes:
            _, out.load_balance, out._where[("load_balance", "")] = max(modes, key=lambda t: t[0])
        return out


_FACT_HANDLERS: dict[type[ev.Event], Callable[[TraceFacts, ev.Event], None]] = {
    ev.ServerName: TraceFacts._on_name,
    ev.ServerCloneId: TraceFacts._on_clone_id,
    ev.CloneCompare: TraceFacts._on_compare,
    ev.CloneMatch: TraceFacts._on_match,
    ev.ServerListAdd: TraceFacts._on_list_add,
    ev.WeightState: TraceFacts._on_weight,
    ev.WeightsCheck: TraceFacts._on_group,
    ev.LoadBalanceMode: TraceFacts._on_lb_mode,
    **{cls: TraceFacts._on_member for cls in (
        ev.StatusCheck, ev.MarkedDown, ev.MarkedUp, ev.ServerPicked, ev.ConnectionCount, ev.AffinityServerSet,
        ev.CloneNextUp, ev.ServerStats, ev.MarkedDownRetry, ev.RetryDue, ev.TransactionFailed,
    )},
}


#: Every event kind the topology inference reads.
READS: frozenset[type[ev.Event]] = frozenset(_FACT_HANDLERS)


def infer_retry_interval(intervals: list[DownInterval]) -> int | None:
    """The retry interval the countdowns imply: ``retry in N`` seen S seconds after the mark-down (or the
    failed retry probe that started the timer again) ⇒ N + S."""
    estimates = []
    for iv in intervals:
        for c in iv.countdowns:
            if c.after is not None and c.seconds >= 0:
                estimates.append(c.seconds + c.after)
    return round(statistics.median(estimates)) if estimates else None


def _clone_hints(facts: TraceFacts, requests: Sequence[Request]) -> dict[str, str]:
    """Clone IDs the responses reveal: the clone a member appends (or starts a session with) is its own."""
    known = dict(facts.clone_of)
    owners = {c: m for m, c in known.items()}
    for r in requests:
        if r.served_by is None or r.served_by in known or r.set_cookie is None or not r.set_cookie.valid:
            continue
        if r.set_cookie.clone_ids and r.set_cookie.clone_ids[-1] not in owners:
            clone = r.set_cookie.clone_ids[-1]
            known[r.served_by] = clone
            owners[clone] = r.served_by
    for r in requests:
        # an affinity pick for a cookie with exactly one clone nobody else owns: that clone is the member's
        by_affinity = [a for a in r.attempts if a.by_affinity and a.member]
        if not by_affinity or r.cookie is None or not r.cookie.valid:
            continue
        member = by_affinity[-1].member
        free = [c for c in r.cookie.clone_ids if c not in owners]
        if member and member not in known and len(free) == 1:
            known[member] = free[0]
            owners[free[0]] = member
    return known


def from_trace(facts: TraceFacts, intervals: list[DownInterval], requests: Sequence[Request] = ()) -> Topology:
    notes: list[str] = []
    retry = infer_retry_interval(intervals)
    if retry is not None:
        retry_source = Source.TRACE
        notes.append(f"retry interval {retry} s: inferred from the `retry in N` countdowns after mark-downs")
    else:
        retry, retry_source = DEFAULT_RETRY_INTERVAL, Source.DEFAULT
        notes.append(f"retry interval {retry} s: the plug-in's default (no countdown in the trace)")
    primary = tuple(facts.primary) or tuple(n for n in facts.order if n not in facts.backup)
    if facts.primary:
        notes.append("primary/backup order: from the configuration load in the trace")
    else:
        notes.append("primary order: the order members first appear in the trace (no configuration load logged)")
    name = facts.cluster_name or "cluster"
    clones = _clone_hints(facts, requests)
    members = tuple(
        MemberModel(n, clones.get(n), facts.max_weight.get(n), None, name, Source.TRACE)
        for n in facts.order
    )
    unknown_clones = [m.name for m in members if m.clone_id is None]
    notes.append(f"members and clone IDs: from the trace ({len(members)} members"
                 + (f"; clone ID not seen for {', '.join(unknown_clones)})" if unknown_clones else ")"))
    if facts.max_weight:
        notes.append("weights: from `weights_need_reset` lines (normalised maxima)")
    unnamed = [c for c in facts.server_clones if c not in set(clones.values())]
    if unnamed:
        notes.append(f"the trace compares against clone ID(s) {', '.join(unnamed)} of member(s) it never names")
    lb = facts.load_balance or LoadBalance.ROUND_ROBIN
    cluster = ClusterModel(
        name=name, members=members, primary=primary, backup=tuple(facts.backup), retry_interval=retry,
        retry_interval_source=retry_source, load_balance=lb, ignore_affinity_requests=True, separator=":",
        source=Source.TRACE, members_complete=not unnamed,
    )
    return Topology((cluster,), tuple(notes))
