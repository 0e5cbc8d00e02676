"""Report stage: one object holding the whole analysis, which every reporter renders.

NOTE: the report is data only; it imports no reporter, nor pandas, rich or click (an import-linter
contract in pyproject.toml keeps it so). Its tables as DataFrames are a reporter's
(:mod:`tracelens.reporters.frames`), offered on the Python API's :class:`tracelens.api.Analysis`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tracelens.config.plugin_cfg import PluginConfig
from tracelens.config.topology import Topology
from tracelens.findings.base import Finding, Severity
from tracelens.parse.summary import Accounting, ParseSummary
from tracelens.read.logset import LogSet
from tracelens.read.reader import ReadStats
from tracelens.requests.assemble import Request
from tracelens.requests.sessions import Session
from tracelens.routing.model import RoutingSettings
from tracelens.routing.replay import RequestVerdict, Verdict
from tracelens.routing.weblogic import WebLogicView
from tracelens.state.members import MemberTracker

SCHEMA_VERSION = 2


@dataclass(frozen=True, slots=True)
class Report:
    stats: ReadStats
    summary: ParseSummary
    tracker: MemberTracker
    requests: list[Request]
    sessions: list[Session]
    topology: Topology
    verdicts: list[RequestVerdict]
    findings: list[Finding]
    config: PluginConfig | None
    settings: RoutingSettings
    first_time: datetime | None
    last_time: datetime | None
    log_set: LogSet | None = None  # the files as read: their order, web servers, duplicates
    systems: Mapping[str, str] = field(default_factory=dict)  # per input: "websphere" or "weblogic"
    weblogic: WebLogicView | None = None  # the WebLogic requests' own details, sessions' copies, model settings

    @property
    def system(self) -> str:
        """``websphere``, ``weblogic``, or both (``websphere+weblogic``) for a mixed set."""
        found = set(self.systems.values()) or {"websphere"}
        return "+".join(s for s in ("websphere", "weblogic") if s in found)

    @property
    def accounting(self) -> Accounting:
        return self.summary.accounting(self.stats)

    def verdict_counts(self) -> dict[str, int]:
        counts = Counter(v.verdict.value for v in self.verdicts)
        return {v.value: counts.get(v.value, 0) for v in Verdict}

    def severity_counts(self) -> dict[str, int]:
        counts = Counter(f.severity.value for f in self.findings)
        return {s.value: counts.get(s.value, 0) for s in Severity}

    @property
    def processes(self) -> list[str]:
        pids = {p for p, _ in self.tracker.members} | {r.pid for r in self.requests}
        return sorted(pids)

    def session(self, session_id: str) -> Session | None:
        """A session by its ID; the cache ID prefix of a full cookie value is ignored, clone IDs too."""
        wanted = session_id.split(":")[0].split("+")[0]
        for s in self.sessions:
            if s.session_id in (wanted, wanted[4:]):
                return s
        return None

    def changed_sessions(self) -> list[Session]:
        return [s for s in self.sessions if s.switches or len(s.members) > 1]
