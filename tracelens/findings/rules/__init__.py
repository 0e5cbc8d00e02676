"""Findings stage: the rules, one module per theme, registered here in one list (:data:`RULES`)."""

from __future__ import annotations

from tracelens.findings.base import Context, Finding, Rule
from tracelens.findings.rules.affinity import (
    AffinityFailback,
    AffinityFailover,
    CloneUnknown,
    ProcessDivergence,
    SessionLost,
    Unexplained,
)
from tracelens.findings.rules.availability import MemberDown, NoMemberAvailable
from tracelens.findings.rules.balance import UnevenBalance
from tracelens.findings.rules.config import (
    ConfigProblem,
    EqualWeights,
    NoCloneId,
    RetryIntervalCheck,
    SingleMemberDown,
    TraceMismatch,
)
from tracelens.findings.rules.cookie import CookieMalformed, CookieMultiple
from tracelens.findings.rules.input import Damaged, LimitReached, PartialRequest, TimeBackwards, Unparsed
from tracelens.findings.rules.state import Contradiction
from tracelens.findings.rules.weblogic import (
    CookieName,
    JvmidStale,
    PostOver64k,
    SecondarySameHost,
    SingleCopy,
    WlSessionLost,
)
from tracelens.findings.rules.weblogic_config import (
    WebLogicConfigProblem,
    WebLogicDebug,
    WebLogicDuplicateServer,
    WebLogicIoTimeout,
    WebLogicMaxSkipTime,
    WebLogicSingleHost,
    WebLogicStaticSingleServer,
    WebLogicUnknownDirective,
)

__all__ = ["RULES", "find_rule", "run_rules"]

# NOTE: the registry is written out, not discovered: its order is the order of `tracelens rules` and of
# the rules' runs, and a rule module that is not listed here does not run
#: Every rule, in code order. A code is never reused: a retired rule's code is not given to another rule.
RULES: tuple[type[Rule], ...] = (
    AffinityFailover, AffinityFailback, SessionLost, CloneUnknown, ProcessDivergence, Unexplained,
    MemberDown, NoMemberAvailable,
    UnevenBalance,
    CookieMalformed, CookieMultiple,
    Unparsed, PartialRequest, Damaged, TimeBackwards, LimitReached,
    Contradiction,
    NoCloneId, RetryIntervalCheck, EqualWeights, SingleMemberDown, ConfigProblem, TraceMismatch,
    WebLogicConfigProblem, WebLogicIoTimeout, WebLogicStaticSingleServer, WebLogicSingleHost, WebLogicDuplicateServer,
    WebLogicDebug, WebLogicMaxSkipTime, WebLogicUnknownDirective,
    JvmidStale, SingleCopy, SecondarySameHost, WlSessionLost, CookieName, PostOver64k,
)


def find_rule(code_or_name: str) -> type[Rule] | None:
    key = code_or_name.strip().lower()
    return next((r for r in RULES if r.code.lower() == key or r.name == key), None)


def run_rules(ctx: Context) -> list[Finding]:
    findings = [f for rule in RULES for f in rule().check(ctx)]
    findings.sort(key=lambda f: (-f.severity.rank, f.code, f.file or "", f.line or 0))
    return findings
