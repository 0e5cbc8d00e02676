"""Findings stage: configuration rules (TL6xx, ``config.*``): plugin-cfg.xml against the trace."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from tracelens.findings.base import Context, Finding, Rule, Severity
from tracelens.state.members import DownInterval


class NoCloneId(Rule):
    """A cluster member has no CloneID: session affinity to it is impossible.

    What it finds:
    Members of a cluster with more than one member whose `<Server>` element has no CloneID attribute.

    Why it matters:
    The plug-in matches the clone IDs of the session cookie against CloneIDs; without them, "affinity
    is assumed off" and every request is load balanced (IBM technote on CloneID).

    Example:
    `<Server Name="member1" LoadBalanceWeight="2">` with no `CloneID`.

    What to do:
    Regenerate plugin-cfg.xml from the administrative console rather than editing it by hand.
    """

    code, name, severity = "TL601", "config.no-clone-id", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        for c in ctx.config.clusters:
            if len(c.members) < 2:
                continue
            for m in c.members:
                if not m.clone_id:
                    yield self.finding(f"member {m.name} of cluster {c.name} has no CloneID: requests cannot keep "
                                       "affinity to it", file=ctx.config.path, member=m.name)


class RetryIntervalCheck(Rule):
    """RetryInterval does not suit ServerIOTimeout and the cluster size.

    What it finds:
    Clusters whose RetryInterval is less than half or more than twice IBM's rule of thumb,
    (members − 1) × |ServerIOTimeout| − 1 seconds.

    Why it matters:
    Too short, and a hung member is retried (and every retry waits a full ServerIOTimeout) before the
    other members' timeouts could expire; too long, and sessions stay away from a recovered member, and
    a single-member cluster refuses requests for that long. Plug-ins before 5.1.1.13 / 6.0.2.17 /
    6.1.0.5 also retried prematurely when ServerIOTimeout was not below RetryInterval (APAR PK28197).

    Example:
    `RetryInterval="600"` for three members with `ServerIOTimeout="30"` (rule of thumb: 59 s).

    What to do:
    Set RetryInterval near the rule-of-thumb value.
    """

    code, name, severity = "TL602", "config.retry-interval", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        for c in ctx.config.clusters:
            timeouts = [abs(m.server_io_timeout) for m in c.members if m.server_io_timeout]
            if not timeouts or len(c.members) < 2:
                continue
            sio = max(timeouts)
            thumb = (len(c.members) - 1) * sio - 1
            if thumb <= 0 or thumb / 2 <= c.retry_interval <= thumb * 2:
                continue
            effect = ("a hung member is retried again before the other members' timeouts could expire"
                      if c.retry_interval < thumb else "sessions stay away from a recovered member longer than needed")
            yield self.finding(
                f"cluster {c.name}: RetryInterval {c.retry_interval} s, IBM's rule of thumb for {len(c.members)} "
                f"members and ServerIOTimeout {sio} s gives {thumb} s: {effect}", file=ctx.config.path)


class EqualWeights(Rule):
    """All members have the same LoadBalanceWeight above 1: the plug-in runs them as weight 1.

    What it finds:
    Clusters whose weights are all equal and greater than 1.

    Why it matters:
    The plug-in divides the weights by their greatest common divisor, so 20, 20, 20 run as 1, 1, 1:
    the weights reset after every round, which costs a little and surprises people reading
    `weights_need_reset` lines (IBM technote on recommended plug-in values).

    Example:
    Three members with `LoadBalanceWeight="2"`.

    What to do:
    Nothing is wrong; use different weights only if the members differ in capacity.
    """

    code, name, severity = "TL603", "config.equal-weights", Severity.INFO

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        for c in ctx.config.clusters:
            weights = {m.weight for m in c.members}
            if len(c.members) > 1 and len(weights) == 1 and next(iter(weights)) > 1:
                yield self.finding(f"cluster {c.name}: every member has weight {next(iter(weights))}, normalised "
                                   "to 1", file=ctx.config.path)


class SingleMemberDown(Rule):
    """A single-member cluster was marked down: every request failed until the retry interval passed.

    What it finds:
    Clusters with one member that the trace shows marked down in some process.

    Why it matters:
    With nowhere to fail over, the process refuses every request for that cluster for RetryInterval
    seconds after one failure (APARs PQ71608 / PQ74545).

    Example:
    A cluster with only `server1`, `Marking server1 down`, then `Failed to find an app server`.

    What to do:
    Add a member or a backup server, or lower RetryInterval for this cluster.
    """

    code, name, severity = "TL604", "config.single-member-down", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        by_member: dict[str, list[DownInterval]] = defaultdict(list)
        for iv in ctx.tracker.intervals():
            by_member[iv.member].append(iv)
        for c in ctx.topology.clusters:
            if len(c.members) != 1 or not c.members_complete:
                continue
            name = c.members[0].name
            downs = by_member.get(name)
            if downs:
                iv = downs[0]
                yield self.finding(f"cluster {c.name} has one member, {name}, and it was marked down "
                                   f"{len(downs)} time(s) (first in process {iv.pid}): no failover possible; "
                                   f"requests failed for up to {c.retry_interval} s each time", file=iv.file,
                                   line=iv.start_line, pid=iv.pid, member=name)


class ConfigProblem(Rule):
    """The plugin-cfg.xml has values the plug-in would not use as written.

    What it finds:
    Attributes with the wrong type or outside the range the plug-in documents (RetryInterval="-5", a
    negative LoadBalanceWeight, Port="70000"; each replaced by its documented default), servers
    without names, server lists naming unknown members, routes to undefined clusters, duplicate names.

    Why it matters:
    The plug-in may behave differently from what the file seems to say.

    Example:
    `RetryInterval="sixty"`.

    What to do:
    Fix the file, or regenerate it.
    """

    code, name, severity = "TL605", "config.problem", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        for problem in ctx.config.problems:
            yield self.finding(problem, file=ctx.config.path)


class TraceMismatch(Rule):
    """The trace names members or clone IDs that the given plugin-cfg.xml does not have.

    What it finds:
    Members the trace routes to, or clone IDs the trace's configuration load logs, that differ from
    `--config`.

    Why it matters:
    The web server ran with another configuration than the one given (not propagated, not reloaded,
    or simply another file): the analysis may be wrong where they differ.

    Example:
    The trace logs `Setting clone id v544d0q2` for member3, plugin-cfg.xml has no member3.

    What to do:
    Pass the plugin-cfg.xml the web server actually loaded, or propagate and reload the current one.
    """

    code, name, severity = "TL606", "config.trace-mismatch", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.config is None:
            return
        seen = {m for (_, m) in ctx.tracker.members}
        for r in ctx.requests:
            seen.update(a.member for a in r.attempts if a.member)
        for name in sorted(seen):
            if ctx.config.member(name) is None:
                yield self.finding(f"the trace routes to {name}, which {ctx.config.path} does not define",
                                   file=ctx.config.path, member=name)
        for name, clone in sorted(ctx.trace_clones.items()):
            member = ctx.config.member(name)
            if member is not None and member.clone_id != clone:
                yield self.finding(f"the trace's configuration load gives {name} the clone ID {clone}, "
                                   f"{ctx.config.path} gives {member.clone_id or 'none'}", file=ctx.config.path,
                                   member=name)
