"""Routing stage: replay every request against the reference model and give it a verdict.

Each attempt of a request is compared with what the model expects at that point: the first with the
process's view when the request began, the next ones with the members that failed earlier in the
request excluded (the plug-in marks them down and "will try another one"). The verdict says what
happened to the session; ``disagreements`` say where the log and the model differ.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from tracelens.config.topology import ClusterModel, Source, Topology
from tracelens.requests.assemble import AttemptOutcome, Partial, Request
from tracelens.requests.cookies import CookieOutcome
from tracelens.routing.model import DEFAULT_SETTINGS, Availability, Expectation, ExpectKind, RoutingSettings, expect
from tracelens.state.members import FAILURE_PHRASES, MemberState


class Verdict(str, enum.Enum):
    KEPT = "kept"  # the session stayed on its member
    FAILOVER = "failover"  # the affinity member was unavailable in this process: another member took it
    FAILBACK = "failback"  # the session returned to its original member after the retry interval
    NEW_SESSION = "new_session"  # no session yet: load balanced, and the member created one
    LOAD_BALANCED = "load_balanced"  # no usable session ID: load balanced
    CLONE_UNKNOWN = "clone_unknown"  # the cookie's clone IDs match no member
    NO_MEMBER = "no_member"  # no member could take it: the client got an error
    UNEXPLAINED = "unexplained"  # the plug-in's choice differs from the model and nothing explains it
    INCOMPLETE = "incomplete"  # the log shows no routing decision (cut by its start or end)
    # WebLogic only (tracelens.routing.weblogic)
    SECONDARY_USED = "secondary_used"  # the primary was unavailable: the cookie's secondary took it
    JVMID_STALE = "jvmid_stale"  # the plug-in could not map the cookie's JVMIDs: affinity lost


@dataclass(frozen=True, slots=True)
class RequestVerdict:
    index: int
    verdict: Verdict
    reason: str
    routed_to: str | None
    expected: tuple[str, ...]  # what the model accepted for the final attempt
    home: str | None  # the member of the first known clone ID of the cookie
    previous: str | None  # who served this session's previous request in the log
    skipped: tuple[Availability, ...]  # affinity members passed over, and why
    failed_attempts: tuple[tuple[str | None, AttemptOutcome, int | None], ...]
    unknown_clones: tuple[str, ...]
    disagreements: tuple[str, ...]
    evidence: tuple[tuple[str, int], ...]  # (file, line)
    cluster: str | None


def _cluster_for(topology: Topology, r: Request) -> ClusterModel | None:
    names = [a.member for a in r.attempts if a.member] + [m for m, _ in r.clone_matches]
    for name in names:
        c = topology.cluster_of(name)
        if c is not None:
            return c
    if r.cookie is not None:
        for cid in r.cookie.clone_ids:
            m = topology.by_clone(cid)
            if m is not None:
                return topology.cluster_of(m.name)
    return topology.clusters[0] if topology.clusters else None


def _describe_failure(outcome: AttemptOutcome) -> str:
    return FAILURE_PHRASES.get(outcome.value, "it failed")


def judge(
    index: int,
    r: Request,
    topology: Topology,
    previous: str | None,
    settings: RoutingSettings = DEFAULT_SETTINGS,
    previous_here: str | None = None,
    shared: dict[object, object] | None = None,
) -> RequestVerdict:
    """The verdict for one request.

    ``previous`` served the session's previous request (in any process), ``previous_here`` its
    previous request in this request's process. Reasons and expectations equal to one in ``shared``
    are that one (a replay keeps a verdict per request; most say what many others say).
    """
    cluster = _cluster_for(topology, r)
    routed = r.attempts[-1].member if r.attempts else None
    valid_cookie = r.cookie is not None and r.cookie.valid
    clones = r.cookie.clone_ids if valid_cookie and r.cookie is not None else ()
    views = {v.member: v for v in r.state_at_begin}
    failed = tuple((a.member, a.outcome, a.outcome_line) for a in r.attempts if a.outcome.failed)
    disagreements: list[str] = []
    expectations: list[Expectation] = []
    excluded: set[str] = set()
    if cluster is not None:
        for a in r.attempts or ():
            statuses = [s for s in r.status_checks if s.line <= a.line]
            seen = {v.member: v for v in a.state} if a.state else views
            exp = expect(cluster, clones, seen, statuses, a.time or r.begin, frozenset(excluded), settings)
            expectations.append(exp)
            if a.member is not None and not exp.accepts(a.member) and exp.kind is not ExpectKind.NONE:
                disagreements.append(_mismatch(a.member, exp))
            if a.outcome.failed and a.member:
                excluded.add(a.member)
        if not r.attempts:
            expectations.append(expect(cluster, clones, views, r.status_checks, r.begin, frozenset(), settings))
    first = expectations[0] if expectations else None
    last = expectations[-1] if expectations else None
    skipped = tuple(av for e in expectations for av in e.skipped)
    for av in skipped:
        if av.disagreement and av.disagreement not in disagreements:
            disagreements.append(av.disagreement)
    home = None
    if cluster is not None:
        for cid in clones:
            m = cluster.by_clone(cid)
            if m is not None:
                home = m.name
                break
    unknown = first.unknown_clones if first else ()

    def verdict(v: Verdict, reason: str) -> RequestVerdict:
        expected = last.candidates if last else ()
        if shared is not None:
            reason = shared.setdefault(reason, reason)  # type: ignore[assignment]
            expected = shared.setdefault(expected, expected)  # type: ignore[assignment]
        return RequestVerdict(
            index=index, verdict=v, reason=reason, routed_to=routed, expected=expected,
            home=home, previous=previous, skipped=skipped, failed_attempts=failed, unknown_clones=unknown,
            disagreements=tuple(disagreements), evidence=r.evidence, cluster=cluster.name if cluster else None,
        )

    if r.no_member_line is not None or (r.attempts and all(a.outcome.failed for a in r.attempts) and
                                        last is not None and last.kind is ExpectKind.NONE):
        why = "; ".join(f"{a.member}: {a.why}" for a in skipped if a.why) or "every member was unavailable"
        if failed:
            why = "; ".join(f"{m}: {_describe_failure(o)}" for m, o, _ in failed) + ("; " + why if skipped else "")
        return verdict(Verdict.NO_MEMBER, f"no member could take the request ({why}); the client got an error")
    if r.attempts and all(a.outcome.failed for a in r.attempts) and Partial.END_MISSING in r.partial:
        return verdict(Verdict.INCOMPLETE, f"{routed} failed and the log ends before the request was routed again")
    if not r.attempts or routed is None:
        return verdict(Verdict.INCOMPLETE, "the log shows no routing decision for this request")
    if not clones:
        if r.cookie is not None and not r.cookie.valid:
            base = (Verdict.LOAD_BALANCED, f"the session cookie is malformed ({r.cookie.malformed}): load balanced")
        elif r.cookie_outcome is CookieOutcome.NEW_SESSION:
            base = (Verdict.NEW_SESSION, f"no session yet: load balanced to {routed}, which created one")
        elif r.cookie is not None:
            base = (Verdict.LOAD_BALANCED, "the session ID carries no clone ID: load balanced")
        else:
            base = (Verdict.LOAD_BALANCED, f"no session ID: load balanced to {routed}")
        if disagreements:
            return verdict(Verdict.UNEXPLAINED, f"{base[1]}; but {disagreements[0]}")
        return verdict(*base)
    if home is None and r.attempts[-1].by_affinity and cluster is not None and not _clones_complete(cluster):
        # the plug-in logged an affinity match; only the inferred topology lacks that member's clone ID
        return verdict(Verdict.KEPT, f"affinity to {routed} (its clone ID is not in the trace's configuration load)")
    if home is None and cluster is not None and cluster.has_clone_ids:
        ids = ", ".join(clones)
        return verdict(Verdict.CLONE_UNKNOWN, f"no member has the cookie's clone ID(s) {ids}: load balanced to "
                                              f"{routed}")
    routed_ok = last is not None and last.accepts(routed)
    if not routed_ok:
        return verdict(Verdict.UNEXPLAINED, disagreements[-1] if disagreements else
                       f"routed to {routed}, which the model does not explain")
    if failed:
        failed_member, outcome, line = failed[0]
        survived = _survival(r)
        return verdict(Verdict.FAILOVER, f"{failed_member} failed in process {r.pid} ({_describe_failure(outcome)}, "
                                         f"{r.cite(line) if line is not None else 'line None'}): "
                                         f"the request went to {routed}; {survived}")
    if routed == home:
        # a failback is a return in *this* process: another process sending the session home is divergence
        if previous_here is not None and previous_here != routed:
            return verdict(Verdict.FAILBACK, f"back on {routed} in process {r.pid} after being served by "
                                             f"{previous_here}")
        retried = any(s.member == routed and s.marked_down and s.retry_now for s in r.status_checks)
        was_down = routed in views and views[routed].state in (MemberState.DOWN, MemberState.RETRY_DUE)
        if retried or was_down:
            return verdict(Verdict.FAILBACK, f"{routed} was retried in process {r.pid} after its retry interval "
                                             "and took the session back")
        if previous is not None and previous != routed:
            return verdict(Verdict.KEPT, f"stayed on {routed} in process {r.pid} (another process had sent the "
                                         f"session to {previous})")
        return verdict(Verdict.KEPT, f"stayed on {routed}")
    # routed to a later clone of the cookie, or load balanced after every clone member was unavailable
    why = "; ".join(f"{a.member}: {a.why}" for a in skipped if a.why) or f"{home} unavailable"
    if first is not None and first.kind is ExpectKind.AFFINITY and first.member == routed and previous == routed:
        return verdict(Verdict.FAILOVER, f"still on {routed} because {why} in process {r.pid}")
    return verdict(Verdict.FAILOVER, f"{why} in process {r.pid}: the request went to {routed}; {_survival(r)}")


def _clones_complete(cluster: ClusterModel) -> bool:
    """Whether every member's clone ID is known (always, with plugin-cfg.xml)."""
    return cluster.source is Source.CONFIG or all(m.clone_id for m in cluster.members)


def _survival(r: Request) -> str:
    return {
        CookieOutcome.CLONE_APPENDED: "the session survived (same session ID, the new member's clone ID appended)",
        CookieOutcome.SAME_SESSION: "the session survived (same session ID)",
        CookieOutcome.NEW_SESSION: "the member issued a NEW session ID: the session was lost",
        CookieOutcome.NONE: "no Set-Cookie in the response",
    }[r.cookie_outcome]


def _mismatch(member: str, exp: Expectation) -> str:
    if exp.kind is ExpectKind.AFFINITY:
        return f"the model expected the affinity member {exp.member} (clone {exp.clone_id}), the plug-in chose {member}"
    if exp.kind is ExpectKind.BACKUP:
        return f"the model expected the backup {exp.member}, the plug-in chose {member}"
    return f"the model expected one of {', '.join(exp.candidates)}, the plug-in chose {member}"


def replay(requests: Sequence[Request], topology: Topology,
           settings: RoutingSettings = DEFAULT_SETTINGS) -> list[RequestVerdict]:
    """A verdict per request, in request order; a session's previous member is tracked across processes."""
    last_served: dict[str, str] = {}
    last_here: dict[tuple[str, str], str] = {}
    order = sorted(range(len(requests)), key=lambda i: (requests[i].begin is None, requests[i].begin or 0, i))
    out: dict[int, RequestVerdict] = {}
    shared: dict[object, object] = {}
    for i in order:
        r = requests[i]
        sid = r.session_id
        out[i] = judge(i, r, topology, last_served.get(sid) if sid else None, settings,
                       last_here.get((sid, r.pid)) if sid else None, shared)
        if sid and r.served_by:
            ids = [sid]
            if r.set_cookie is not None and r.set_cookie.valid and r.set_cookie.session_id != sid:
                ids.append(r.set_cookie.session_id)
            for x in ids:
                last_served[x] = r.served_by
                last_here[(x, r.pid)] = r.served_by
    return [out[i] for i in range(len(requests))]
