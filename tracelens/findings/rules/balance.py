"""Findings stage: the load-balance rule (TL2xx, ``balance.*``): requests per member against weights."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from tracelens.config.topology import ClusterModel
from tracelens.findings.base import Context, Finding, Rule, Severity
from tracelens.routing.replay import Verdict


def _weight(cluster: ClusterModel | None, member: str) -> int:
    """A member's normalised weight, 1 where neither the configuration nor the trace says."""
    model = cluster.member(member) if cluster is not None else None
    return (model.weight if model is not None else None) or 1


@dataclass(frozen=True, slots=True)
class _Why:
    """What the log shows in one process that can explain an uneven balance."""

    downs: list[str]  # members marked down in the process at some time
    max_connections: bool  # some member reached MaxConnections in the process
    affinity: bool  # the process had requests with clone IDs
    processes: int  # web-server processes in the whole log


class UnevenBalance(Rule):
    """Load-balanced requests per member deviate from the configured weights beyond a tolerance.

    What it finds:
    Per web-server process, the requests the plug-in load balanced (no session, unusable session,
    unknown clone) counted per member, compared with the share the weights give each member; or, at
    LogLevel Stats, the non-affinity requests of the STATS counters (total minus affinity). Reported
    when a member with at least 5 expected requests got less than half or more than one and a half
    times its share, out of at least 20 requests.

    Why it matters:
    The plug-in only balances non-affinity requests, per process, with its own round-robin pointer;
    affinity requests do not lower weights by default (IgnoreAffinityRequests=true). An uneven load
    is often expected behaviour, but it can also reveal a member that was marked down part of the
    time, or weights that are not what you think.

    Example:
    Three members of equal weight; one receives 20 of 30 new sessions in process 1a2c.

    What to do:
    Read the explanation: members marked down during the period, MaxConnections hits, long-lived
    sessions. Compare the STATS lines of one process at a time (IBM technote "not load balancing
    evenly"). Consider IgnoreAffinityRequests=false if affinity traffic should count.
    """

    code, name, severity = "TL201", "balance.uneven", Severity.INFO

    MIN_REQUESTS = 20
    MIN_EXPECTED = 5

    def check(self, ctx: Context) -> Iterator[Finding]:
        lb = {Verdict.NEW_SESSION, Verdict.LOAD_BALANCED, Verdict.CLONE_UNKNOWN}
        per_pid: dict[str, Counter[str]] = defaultdict(Counter)
        first_line: dict[str, tuple[str, int]] = {}
        for v in ctx.verdicts:
            r = ctx.requests[v.index]
            if v.verdict in lb and v.routed_to:
                per_pid[r.pid][v.routed_to] += 1
                first_line.setdefault(r.pid, (r.file, r.first_line))
        source = "load-balanced requests in the trace"
        if not per_pid:
            source = "non-affinity requests of the STATS counters (total - affinity)"
            for (pid, member), rec in ctx.tracker.members.items():
                if rec.counters:
                    last = rec.counters[-1]
                    per_pid[pid][member] = last.total - last.affinity
                    first_line.setdefault(pid, (ctx.stats.files[0] if ctx.stats.files else "", last.line))
        if not per_pid:
            return
        # what explains an uneven share, gathered once for every process: asked per process, each
        # question rescanned every interval and request (quadratic in the processes of a prefork server)
        downs: dict[str, set[str]] = defaultdict(set)
        for iv in ctx.tracker.intervals():
            downs[iv.pid].add(iv.member)
        at_max = {p for (p, _), rec in ctx.tracker.members.items() if rec.max_connections_lines}
        with_affinity = {r.pid for r in ctx.requests if r.cookie is not None and r.cookie.clone_ids}
        processes = len({r.pid for r in ctx.requests} | {p for p, _ in ctx.tracker.members})
        for pid, counts in sorted(per_pid.items()):
            why = _Why(sorted(downs.get(pid, ())), pid in at_max, pid in with_affinity, processes)
            yield from self._judge(ctx, pid, counts, source, first_line.get(pid), why)

    def _judge(self, ctx: Context, pid: str, counts: Counter[str], source: str,
               where: tuple[str, int] | None, why: _Why) -> Iterator[Finding]:
        n = sum(counts.values())
        if n < self.MIN_REQUESTS:
            return
        cluster = ctx.topology.cluster_of(next(iter(counts)))
        members = [m.name for m in cluster.members] if cluster else list(counts)
        weights = {m: _weight(cluster, m) for m in members}
        total_w = sum(weights.values()) or 1
        off = []
        for m in members:
            expected = n * weights[m] / total_w
            got = counts.get(m, 0)
            if expected >= self.MIN_EXPECTED and not (0.5 * expected <= got <= 1.5 * expected):
                off.append(f"{m} got {got} of {n} (expected about {expected:.0f})")
        if not off:
            return
        reasons = []
        if why.downs:
            reasons.append(f"{', '.join(why.downs)} marked down in this process for part of the time")
        if why.max_connections:
            reasons.append("MaxConnections was reached")
        if cluster is not None and cluster.ignore_affinity_requests and why.affinity:
            reasons.append("affinity requests do not lower weights (IgnoreAffinityRequests=true), so long sessions "
                           "are not counted")
        if why.processes > 1:
            reasons.append(f"each of the {why.processes} processes balances on its own")
        explanation = ("; likely: " + "; ".join(reasons)) if reasons else "; the log shows no reason"
        file, line = where or (None, None)
        yield self.finding(f"process {pid}, {source}: {'; '.join(off)}{explanation}", file=file, line=line, pid=pid)
