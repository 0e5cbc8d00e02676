"""Findings stage: what a finding is, what a rule is, and the context rules read.

Every rule has a stable code (``TL`` + 3 digits, never reused), a dotted name, a severity and a
docstring whose first line is its summary and whose sections (What it finds, Why it matters, Example,
What to do) are the documentation ``tracelens explain`` prints: written once, here, beside the code.
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from tracelens.config.plugin_cfg import PluginConfig
from tracelens.config.topology import Topology
from tracelens.config.weblogic import WebLogicConfig
from tracelens.parse.summary import ParseSummary
from tracelens.read.reader import ReadStats
from tracelens.requests.assemble import Request
from tracelens.requests.sessions import Session, Untracked
from tracelens.routing.replay import RequestVerdict
from tracelens.routing.weblogic import WebLogicView
from tracelens.state.clock import TimeJumps
from tracelens.state.members import MemberTracker


class Severity(str, enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    pid: str | None = None
    member: str | None = None
    session: str | None = None
    evidence: tuple[tuple[str, int], ...] = ()  # (file, line) of each line the finding rests on


@dataclass(frozen=True, slots=True)
class Context:
    """Everything the rules may read; built once per analysis."""

    stats: ReadStats
    summary: ParseSummary
    tracker: MemberTracker
    requests: Sequence[Request]
    sessions: Sequence[Session]
    verdicts: Sequence[RequestVerdict]
    topology: Topology
    config: PluginConfig | None
    trace_clones: Mapping[str, str] = field(default_factory=dict)  # member -> clone ID the trace's config load logs
    time_jumps: Sequence[TimeJumps] = ()  # where a process's clock went backwards, per file
    untracked: Untracked = field(default_factory=Untracked)  # sessions beyond the limit
    weblogic_config: WebLogicConfig | None = None  # --config given a WebLogic plug-in configuration
    weblogic: WebLogicView | None = None  # the WebLogic requests' own details, when the logs hold any

    def is_weblogic(self, index: int) -> bool:
        """Whether request ``index`` came from a WebLogic proxy plug-in log."""
        return self.weblogic is not None and index in self.weblogic.details


SECTIONS = ("What it finds", "Why it matters", "Example", "What to do")


class Rule:
    """Base of every rule; subclasses set the class variables and implement :meth:`check`."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]

    def check(self, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError

    def finding(self, message: str, **where: object) -> Finding:
        severity = where.pop("severity", None) or self.severity
        return Finding(self.code, self.name, severity, message, **where)  # type: ignore[arg-type]

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls.doc().splitlines()[0] if cls.doc() else ""

    @classmethod
    def sections(cls) -> dict[str, str]:
        """The documentation's sections by title (each starts with ``Title:`` on a line of its own)."""
        text = cls.doc()
        parts = re.split(r"^(" + "|".join(SECTIONS) + r"):\s*$", text, flags=re.MULTILINE)
        return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
