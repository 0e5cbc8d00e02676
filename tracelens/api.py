"""The Python API: what the command line calls, usable from a notebook too."""

from __future__ import annotations

import dataclasses
import gc
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tracelens import parallel
from tracelens.config.files import load_any_config
from tracelens.config.plugin_cfg import PluginConfig
from tracelens.config.topology import from_config
from tracelens.config.weblogic import WebLogicConfig
from tracelens.errors import InputError
from tracelens.records import check_not_empty, count_records, iter_events

__all__ = ["Reconstruction", "analyze", "check_not_empty", "count_records", "iter_events", "reconstruct"]
from tracelens.findings.base import Context
from tracelens.findings.rules import run_rules
from tracelens.parse import events as ev
from tracelens.parse.bulk import BulkParser, Keep, Result, Touch
from tracelens.parse.events import Event
from tracelens.parse.parser import RecordParser
from tracelens.parse.summary import ParseSummary
from tracelens.read.logset import LogSet, plan, process_key
from tracelens.read.reader import (
    MAX_RECORD_BYTES,
    ReadStats,
    head_text,
    is_stream,
    read_blocks,
    read_records,
)
from tracelens.report import Report
from tracelens.requests import assemble
from tracelens.requests import sessions as sessions_module
from tracelens.requests.assemble import Request, RequestAssembler, sort_requests
from tracelens.requests.sessions import Session, Untracked, group_sessions
from tracelens.routing import topology
from tracelens.routing.model import DEFAULT_SETTINGS, RoutingSettings
from tracelens.routing.replay import replay
from tracelens.routing.topology import TraceFacts, from_trace
from tracelens.state import members
from tracelens.state.clock import ClockWatch
from tracelens.state.members import MemberTracker

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no stubs without pandas-stubs

PROGRESS_EVERY = 20_000
#: The event kinds the analysis reads; every other record is only counted.
READS = members.READS | assemble.READS | topology.READS | {ev.Unparsed}


def _records(paths: Sequence[str], stats: ReadStats, lenient: bool, wanted: frozenset[type[Event]],
             opens: frozenset[type[Event]], touch: Touch, keep: Keep | None = None,
             unread: Counter[type[Event]] | None = None, qualifiers: dict[str, str] | None = None,
             max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[tuple[str, Iterator[tuple[Result, int]]]]:
    """Per block of input, its file and its records: ``(event or (class, pid, tid), line)``.

    With ``qualifiers`` (several web servers), each event's pid is its process key, ``pid@web-server``.
    """
    if qualifiers:
        touch = _qualified_touch(touch, qualifiers)
    if lenient:
        parser = RecordParser(lenient=True)
        for raw in read_records(paths, stats, lenient=True, max_record_bytes=max_record_bytes):
            records = iter(((parser.parse_or_open(raw, wanted, opens, touch), raw.line),))
            yield raw.file, _qualified(records, qualifiers[raw.file]) if qualifiers else records
        return
    bulk = BulkParser()
    for block in read_blocks(paths, stats, max_record_bytes=max_record_bytes):
        records = bulk.records(block, wanted, stats, opens, touch, keep=keep, unread=unread)
        yield block.file, _qualified(records, qualifiers[block.file]) if qualifiers else records


def _qualified_touch(touch: Touch, qualifiers: dict[str, str]) -> Touch:
    def qualified(pid: str | None, tid: str | None, line: int, file: str) -> bool:
        return touch(process_key(qualifiers[file], pid) if pid is not None else None, tid, line, file)
    return qualified


def _qualified(records: Iterator[tuple[Result, int]], web_server: str) -> Iterator[tuple[Result, int]]:
    """The records of one web server's file, each event's pid made its process key."""
    # NOTE: the pid is qualified here, as the events enter the analysis, rather than in the parse stage:
    # every later stage keys processes by the event's pid, so that state, requests, sessions, replay and
    # findings keep processes of different web servers apart without knowing web servers at all
    for result, line in records:
        if isinstance(result, tuple) or result.pid is None:
            yield result, line
        else:
            yield ev.with_pid(result, process_key(web_server, result.pid)), line


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the duration; its previous state restored after.

    NOTE: the analysis keeps every request, verdict and finding until the end, and each of the
    collector's full collections walks every object kept so far: on the benchmark's million-line
    trace it ran eleven of them, found nothing, and took a fifth of the run. What the analysis builds
    is trees of frozen records, not cycles, and reference counting still frees every event as soon as
    it is consumed (the peak memory is the same with the collector paused; tests/test_collector.py).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class Reconstruction:
    """Per-process member state, requests and sessions rebuilt from the logs."""

    stats: ReadStats
    summary: ParseSummary
    tracker: MemberTracker
    facts: TraceFacts
    requests: list[Request] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    first_time: datetime | None = None
    last_time: datetime | None = None
    clock: ClockWatch = field(default_factory=ClockWatch)
    untracked: Untracked = field(default_factory=Untracked)
    log_set: LogSet | None = None


@dataclass(slots=True)
class _Part:
    """What one part of the analysis rebuilt: the processes it owns (all of them with one part)."""

    stats: ReadStats
    summary: ParseSummary
    tracker: MemberTracker
    facts: TraceFacts
    clock: ClockWatch
    requests: list[Request]
    not_kept: int
    first_time: datetime | None
    last_time: datetime | None


def _reconstruct_part(log_set: LogSet, affinity_cookies: Sequence[str], separator: str, part: int, parts: int,
                      assigned: dict[str, int], progress: Callable[[ReadStats, int], None] | None = None,
                      lenient: bool = False, max_record_bytes: int = MAX_RECORD_BYTES) -> _Part:
    """One pass over every record, rebuilding the processes of ``part`` (of ``parts``)."""
    paths = log_set.paths
    stats = ReadStats()
    summary = ParseSummary()
    tracker = MemberTracker()
    facts = TraceFacts()
    clock = ClockWatch()
    assembler = RequestAssembler(tracker.snapshot, affinity_cookies=affinity_cookies, separator=separator,
                                 continues=log_set.continues)
    keep = parallel.ProcessParts(parts, assigned).keeper(part) if parts > 1 else None
    requests: list[Request] = []
    request_limit, not_kept = sessions_module.REQUEST_LIMIT, 0
    first_time = last_time = None
    count = 0
    # the hot loop: bound methods and the counts per class in locals, summed into the summary per block
    feed, on_state, on_fact, on_clock = assembler.feed, tracker.on_event, facts.on_event, clock.on_event
    fact_kinds = topology.READS
    unread: Counter[type[Event]] = Counter()
    built: Counter[type[Event]] = Counter()
    for file, records in _records(paths, stats, lenient, READS, assemble.MAY_OPEN, assembler.touch, keep, unread,
                                  log_set.qualifiers(), max_record_bytes):
        for event, _line in records:
            if isinstance(event, tuple):
                unread[event[0]] += 1  # a record nothing downstream reads: counted, never built
                continue
            cls = type(event)
            if cls is ev.Unparsed:
                summary.add(event)
            else:
                built[cls] += 1
            # the request opens (and snapshots its process's view) before the event changes that view
            for done in feed(event):
                if len(requests) < request_limit:
                    requests.append(done)
                else:
                    not_kept += 1
            on_state(event)
            if cls in fact_kinds:
                on_fact(event)
            on_clock(event)
            time = event.time
            if time is not None:
                # the earliest and latest, not the first and last written: a clock may go backwards
                if first_time is None or time < first_time:
                    first_time = time
                if last_time is None or time > last_time:
                    last_time = time
        for counted in (unread, built):
            for cls, n in counted.items():
                summary.kinds[cls.kind] += n
                summary.records_by_file[file] += n
            counted.clear()
        if progress is not None:
            seen = summary.records
            if seen - count >= PROGRESS_EVERY:
                count = seen
                progress(stats, count)
    for done in assembler.finish():
        if len(requests) < request_limit:
            requests.append(done)
        else:
            not_kept += 1
    return _Part(stats, summary, tracker, facts, clock, requests, not_kept, first_time, last_time)


#: what the API takes as its logs: one path, or several, as text or :class:`os.PathLike`
Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def as_paths(paths: Paths) -> list[str]:
    """``paths`` as a list of path strings: one path (a ``str`` is a path, not a sequence of letters) or several."""
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


@collector_paused()
def reconstruct(
    paths: Paths,
    *,
    lenient: bool = False,
    affinity_cookies: Sequence[str] = ("JSESSIONID",),
    separator: str = ":",
    progress: Callable[[ReadStats, int], None] | None = None,
    jobs: int = 1,
    log_set: LogSet | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> Reconstruction:
    """Read, parse, and rebuild what each process believed and what each request did, in one pass.

    ``paths`` are read as the log set :func:`tracelens.read.logset.plan` makes of them (each web
    server's files oldest first, duplicates once), or as ``log_set`` when it is given.

    ``progress`` is called with the read statistics and the records read so far, every few thousand.
    With ``jobs`` > 1 and a large input (not standard input, not lenient), the web-server processes
    are shared among worker processes, each reading every line and rebuilding its own processes; the
    parts are merged in log order, so that the result is the one of a single pass (below the request
    limit, which each part applies to its own requests). A line longer than ``max_record_bytes`` is an
    unparsed record (``line too long``).

    Each web server is rebuilt on its own (:func:`reconstruct_part`) and the parts merged
    (:func:`merge_parts`): the same two functions that ``--engine dask`` runs on its workers and its
    client, so that both engines give the same answer.
    """
    if log_set is None:
        log_set = plan(as_paths(paths))
    options = PartOptions(tuple(affinity_cookies), separator, lenient, jobs, max_record_bytes)
    done = [reconstruct_part(log_set, web_server, options, progress) for web_server in log_set.web_servers]
    return merge_parts(done, log_set)


@dataclass(frozen=True, slots=True)
class PartOptions:
    """How every part of a log set is read: the same for each, wherever it runs."""

    affinity_cookies: tuple[str, ...] = ("JSESSIONID",)
    separator: str = ":"
    lenient: bool = False
    jobs: int = 1
    max_record_bytes: int = MAX_RECORD_BYTES


@dataclass(frozen=True, slots=True)
class PartResult:
    """What one web server's files rebuilt (its processes, requests, counts), before the merge.

    It crosses from a worker to the client, so it holds only picklable data; ``failure`` says why a
    part could not be read (the other parts are analysed without it).
    """

    web_server: str
    paths: tuple[str, ...]
    rebuilt: _Part | None
    failure: str | None = None


@collector_paused()
def reconstruct_part(log_set: LogSet, web_server: str, options: PartOptions,
                     progress: Callable[[ReadStats, int], None] | None = None) -> PartResult:
    """Rebuild one web server's part of ``log_set``: its files read in order, its processes keyed as in the set.

    An input error (a file that is no longer there, binary data, a gzip file that cannot be read) is the
    part's ``failure``; :func:`merge_parts` decides whether it ends the analysis.
    """
    part = log_set.part(web_server)
    paths = part.paths
    try:
        parts = _parts(paths, options.jobs, options.lenient)
        assigned = parallel.plan_parts(head_text(paths[0], _PLAN_BYTES), parts) if parts > 1 else {}
        tasks = [(part, options.affinity_cookies, options.separator, k, parts, assigned,
                  progress if k == 0 else None, options.lenient, options.max_record_bytes) for k in range(parts)]
        done = parallel.run_tasks(_reconstruct_part, tasks, parts)
    except InputError as exc:
        return PartResult(web_server, paths, None, str(exc))
    if len(done) > 1:
        return PartResult(web_server, paths, _merged(done))
    one = done[0]
    one.requests = sort_requests(one.requests, one.stats.files)
    return PartResult(web_server, paths, one)


def _merged(done: Sequence[_Part]) -> _Part:
    """Parts fed disjoint processes of the same files, or disjoint files, as one part."""
    stats = (done[0].stats if all(p.stats.files == done[0].stats.files for p in done)  # every part read every line
             else ReadStats.merge([p.stats for p in done]))
    files = stats.files
    firsts = [p.first_time for p in done if p.first_time is not None]
    lasts = [p.last_time for p in done if p.last_time is not None]
    requests = sort_requests([r for p in done for r in p.requests], files)
    return _Part(stats, ParseSummary.merge([p.summary for p in done], files),
                 MemberTracker.merge([p.tracker for p in done], files),
                 TraceFacts.merge([p.facts for p in done], files),
                 ClockWatch.merge([p.clock for p in done], files), requests, sum(p.not_kept for p in done),
                 min(firsts, default=None), max(lasts, default=None))


def merge_parts(parts: Sequence[PartResult], log_set: LogSet) -> Reconstruction:
    """The reconstruction of the whole log set from its web servers' parts (in the set's order of web servers).

    Processes of different web servers are disjoint (keyed ``pid@web-server``), so member state, facts
    and clocks merge in log order; requests are put in log order and grouped into sessions across
    web servers here, on the whole set. A part that could not be read is an ``input.damaged`` note for
    its web server, as long as another part was read; with one web server, or none read, its input
    error ends the analysis as it would have without parts.
    """
    read = [p.rebuilt for p in parts if p.rebuilt is not None]
    failed = [p for p in parts if p.rebuilt is None]
    if failed and (not read or not log_set.several):
        raise InputError(failed[0].failure or f"{failed[0].web_server}: could not be read")
    one = read[0] if len(read) == 1 and not failed else _merged(read)
    stats = one.stats
    for p in failed:
        stats.damage.append(f"{p.failure} (web server {p.web_server} not analysed: {len(p.paths)} file(s); "
                            "the other web servers were)")
    one.tracker.finish(last_file=log_set.last_of)
    requests, not_kept = one.requests, one.not_kept
    limit = sessions_module.REQUEST_LIMIT
    if len(requests) > limit:  # each part kept up to the limit: the whole keeps the first ones in log order
        requests, not_kept = requests[:limit], not_kept + len(requests) - limit
    sessions, untracked = group_sessions(requests)
    if not_kept:
        untracked = dataclasses.replace(untracked, requests_not_kept=not_kept, request_limit=limit)
    return Reconstruction(stats, one.summary, one.tracker, one.facts, requests, sessions, one.first_time,
                          one.last_time, one.clock, untracked, log_set)


_PLAN_BYTES = 8 << 20  # the start of the log that decides how processes are shared among parts


def _parts(paths: Sequence[str], jobs: int, lenient: bool) -> int:
    """How many parts the analysis is split into: one unless the input is large and may be read again.

    A file given twice is read by one process: its records could not be put back in order by file
    and line (both readings carry the same name and numbers); so is standard input or a FIFO, which
    can be read only once.
    """
    if jobs < 2 or lenient or any(is_stream(p) for p in paths) or len(set(paths)) != len(paths):
        return 1
    size = sum(os.path.getsize(p) for p in paths if os.path.isfile(p))
    return jobs if size >= parallel.MIN_SPLIT_BYTES else 1


@collector_paused()
def analyze(
    paths: Paths,
    config: str | os.PathLike[str] | PluginConfig | WebLogicConfig | None = None,
    *,
    lenient: bool = False,
    settings: RoutingSettings = DEFAULT_SETTINGS,
    progress: Callable[[ReadStats, int], None] | None = None,
    jobs: int = 1,
    log_set: LogSet | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> Analysis:
    """The whole analysis: reconstruct, replay every request against the routing model, run the rules.

    ``paths`` is one log (``"http_plugin.log"``) or several, oldest first. ``config`` is a
    plugin-cfg.xml path (or an already loaded one); without it the topology is inferred from the
    trace and the report says which values were inferred. A WebLogic plug-in configuration
    (httpd.conf, mod_wl_ohs.conf, weblogic.conf, iisproxy.ini; told by content) is linted.
    """
    loaded = resolve_config(config)
    rec = reconstruct(paths, lenient=lenient, affinity_cookies=affinity_cookies(loaded),
                      separator=clone_separator(loaded), progress=progress, jobs=jobs, log_set=log_set,
                      max_record_bytes=max_record_bytes)
    return finish(rec, loaded, settings)


def resolve_config(config: str | os.PathLike[str] | PluginConfig | WebLogicConfig | None,
                   ) -> PluginConfig | WebLogicConfig | None:
    """A configuration path loaded (plugin-cfg.xml or WebLogic, told by content), or a loaded one as it is."""
    return load_any_config(os.fspath(config)) if isinstance(config, str | os.PathLike) else config


def affinity_cookies(loaded: PluginConfig | WebLogicConfig | None) -> tuple[str, ...]:
    """The cookies the requests are read with: plugin-cfg.xml's, else the plug-in's default."""
    return tuple(sorted(loaded.affinity_cookie_names())) if isinstance(loaded, PluginConfig) else ("JSESSIONID",)


def clone_separator(loaded: PluginConfig | WebLogicConfig | None) -> str:
    """The clone ID separator: ``+`` where plugin-cfg.xml changes it (z/OS), else ``:``."""
    if isinstance(loaded, PluginConfig) and any(c.clone_separator_change for c in loaded.clusters):
        return "+"
    return ":"


@collector_paused()
def finish(rec: Reconstruction, loaded: PluginConfig | WebLogicConfig | None,
           settings: RoutingSettings = DEFAULT_SETTINGS) -> Analysis:
    """The analysis over the whole reconstruction (every web server's parts merged): topology, replay, findings."""
    # a WebLogic plug-in configuration is linted; plugin-cfg.xml is also what the replay runs against
    cfg = loaded if isinstance(loaded, PluginConfig) else None
    wl_config = loaded if isinstance(loaded, WebLogicConfig) else None
    check_not_empty(rec.stats)
    intervals = rec.tracker.intervals()
    topology = from_config(cfg) if cfg else from_trace(rec.facts, intervals, rec.requests)
    verdicts = replay(rec.requests, topology, settings)
    ctx = Context(rec.stats, rec.summary, rec.tracker, rec.requests, rec.sessions, verdicts, topology, cfg,
                  trace_clones=rec.facts.logged_clones, time_jumps=tuple(rec.clock.jumps), untracked=rec.untracked,
                  weblogic_config=wl_config)
    return Analysis(
        stats=rec.stats, summary=rec.summary, tracker=rec.tracker, requests=rec.requests, sessions=rec.sessions,
        topology=topology, verdicts=verdicts, findings=run_rules(ctx), config=cfg, settings=settings,
        first_time=rec.first_time, last_time=rec.last_time, log_set=rec.log_set,
    )


@dataclass(frozen=True, slots=True)
class Analysis(Report):
    """The report :func:`analyze` returns: the data of :class:`~tracelens.report.Report`, and its tables.

    NOTE: the tables are here, on the API, and not on the report, so that the report stays data that
    the reporters render (frames are one of them) and never imports a reporter. The import is lazy so
    that pandas loads only when a table is asked for.
    """

    def requests_frame(self) -> pd.DataFrame:
        """One row per request with its verdict and reason (columns: tracelens.reporters.frames)."""
        from tracelens.reporters import frames

        return frames.table_frame(self, "requests")

    def sessions_frame(self) -> pd.DataFrame:
        """One row per request of each session: when, where, who served it, and its verdict."""
        from tracelens.reporters import frames

        return frames.table_frame(self, "sessions")

    def findings_frame(self) -> pd.DataFrame:
        """One row per finding: code, name, severity, message, where, evidence lines."""
        from tracelens.reporters import frames

        return frames.table_frame(self, "findings")

    def members_frame(self) -> pd.DataFrame:
        """One row per (pid, member, down interval); a member never marked down has one row."""
        from tracelens.reporters import frames

        return frames.table_frame(self, "members")
