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
from tracelens.config.plugin_cfg import LoadBalance, PluginConfig
from tracelens.config.topology import ClusterModel, MemberModel, Source, Topology, from_config
from tracelens.config.weblogic import WebLogicConfig
from tracelens.errors import InputError
from tracelens.records import check_not_empty, count_records, iter_events

__all__ = ["Reconstruction", "analyze", "check_not_empty", "count_records", "iter_events", "reconstruct"]
from tracelens.findings.base import Context
from tracelens.findings.rules import run_rules
from tracelens.parse import events as ev
from tracelens.parse import weblogic_parser
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
from tracelens.read.weblogic import System, read_weblogic_records, systems
from tracelens.report import Report
from tracelens.requests import assemble
from tracelens.requests import sessions as sessions_module
from tracelens.requests import weblogic as wl_requests
from tracelens.requests.assemble import Request, RequestAssembler, sort_requests
from tracelens.requests.sessions import Session, Untracked, group_sessions
from tracelens.requests.weblogic import WlDetail, replica_histories
from tracelens.routing import topology
from tracelens.routing.model import DEFAULT_SETTINGS, RoutingSettings
from tracelens.routing.replay import replay
from tracelens.routing.topology import TraceFacts, from_trace
from tracelens.routing.weblogic import FailoverMode, WebLogicView, WlSettings, failover_from_log, jvmid_servers
from tracelens.routing.weblogic import replay as wl_replay
from tracelens.state import members
from tracelens.state.clock import ClockWatch, TimeJumps
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
    system: System | str = System.AUTO,
    weblogic_failover: FailoverMode | str | None = None,
) -> Analysis:
    """The whole analysis: reconstruct, replay every request against the routing model, run the rules.

    ``paths`` is one log (``"http_plugin.log"``) or several, oldest first. ``config`` is a
    plugin-cfg.xml path (or an already loaded one); without it the topology is inferred from the
    trace and the report says which values were inferred. A WebLogic plug-in configuration
    (httpd.conf, mod_wl_ohs.conf, weblogic.conf, iisproxy.ini; told by content) is linted, and its
    MaxSkipTime and WLCookieName are what the WebLogic model replays with.

    Each file is the log of the plug-in ``system`` names, or (``auto``) the one its content shows; a
    WebLogic proxy plug-in log is replayed against the WebLogic model, whose failover era is
    ``weblogic_failover`` (``secondary`` or ``random``; None: what the log's line shape shows).
    """
    loaded = resolve_config(config)
    cfg = loaded if isinstance(loaded, PluginConfig) else None
    wl_config = loaded if isinstance(loaded, WebLogicConfig) else None
    planned = log_set if log_set is not None else plan(as_paths(paths))
    kinds = systems(planned.paths, System(system))
    if not any(kinds[p] is System.WEBLOGIC for p in planned.paths):
        rec = reconstruct(planned.paths, lenient=lenient, affinity_cookies=affinity_cookies(loaded),
                          separator=clone_separator(loaded), progress=progress, jobs=jobs, log_set=planned,
                          max_record_bytes=max_record_bytes)
        return finish(rec, loaded, settings, {p: System.WEBSPHERE.value for p in planned.paths})
    mode = FailoverMode(weblogic_failover) if weblogic_failover is not None else None
    return _analyze_with_weblogic(planned, kinds, cfg, lenient, settings, progress, jobs, max_record_bytes, mode,
                                  wl_config)


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
           settings: RoutingSettings = DEFAULT_SETTINGS, systems_read: dict[str, str] | None = None) -> Analysis:
    """The analysis over the whole reconstruction (every web server's parts merged): topology, replay, findings.

    ``systems_read`` names the plug-in whose log each file is (all WebSphere when None).
    """
    # a WebLogic plug-in configuration is linted; plugin-cfg.xml is also what the replay runs against
    cfg = loaded if isinstance(loaded, PluginConfig) else None
    wl_config = loaded if isinstance(loaded, WebLogicConfig) else None
    if systems_read is None:
        systems_read = {f.path: System.WEBSPHERE.value for f in rec.log_set.files} if rec.log_set else {}
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
        first_time=rec.first_time, last_time=rec.last_time, log_set=rec.log_set, systems=systems_read,
    )


def _analyze_with_weblogic(log_set: LogSet, kinds: dict[str, System], cfg: PluginConfig | None, lenient: bool,
                           settings: RoutingSettings, progress: Callable[[ReadStats, int], None] | None, jobs: int,
                           max_record_bytes: int, mode: FailoverMode | None,
                           wl_config: WebLogicConfig | None = None) -> Analysis:
    """A log set with WebLogic logs: its WebSphere files as ever, its WebLogic files by their own model, one report.

    NOTE: the two systems share no session, process or server, so each part is rebuilt and replayed on its
    own and the parts are joined: the WebSphere requests first, then the WebLogic ones (their verdicts'
    indexes shifted), the read statistics and counts added, one set of rules run over both.
    """
    systems_read = {p: kinds[p].value for p in log_set.paths}
    websphere = tuple(f for f in log_set.files if kinds[f.path] is System.WEBSPHERE)
    stats, summary = ReadStats(), ParseSummary()
    tracker, requests, verdicts = MemberTracker(), [], []
    topology = Topology((), ())
    first = last = None
    trace_clones: dict[str, str] = {}
    jumps: list[TimeJumps] = []
    if websphere:
        sub = LogSet(websphere, log_set.given, log_set.order, log_set.duplicates)
        rec = reconstruct(sub.paths, lenient=lenient, affinity_cookies=affinity_cookies(cfg),
                          separator=clone_separator(cfg), progress=progress, jobs=jobs, log_set=sub,
                          max_record_bytes=max_record_bytes)
        part = finish(rec, cfg, settings, {})
        stats = ReadStats.merge([part.stats])
        summary = ParseSummary.merge([part.summary], part.stats.files)
        tracker, requests, verdicts, topology = part.tracker, list(part.requests), list(part.verdicts), part.topology
        first, last = part.first_time, part.last_time
    weblogic = tuple(f for f in log_set.files if kinds[f.path] is System.WEBLOGIC)
    wl_stats = ReadStats()
    cookie_name = wl_config.settings[0].cookie_name.value if wl_config is not None and wl_config.settings \
        else wl_requests.DEFAULT_COOKIE_NAME
    events: list[Event] = []
    pairs: list[tuple[Request, WlDetail]] = []
    for web_server in dict.fromkeys(f.web_server for f in weblogic):
        files = [f.path for f in weblogic if f.web_server == web_server]
        own = list(weblogic_parser.parse_records(read_weblogic_records(files, wl_stats,
                                                                       max_record_bytes=max_record_bytes)))
        events.extend(own)
        process = process_key(web_server if log_set.several else None, wl_requests.WLPROXY_PROCESS)
        pairs.extend(wl_requests.assemble(own, cookie_name=cookie_name, process=process))
    check_not_empty(wl_stats) if not websphere else None
    wl_summary = ParseSummary()
    for e in events:
        wl_summary.add(e)
        if e.time is not None:
            first = e.time if first is None or e.time < first else first
            last = e.time if last is None or e.time > last else last
    stats = ReadStats.merge([stats, wl_stats])
    summary = ParseSummary.merge([summary, wl_summary], stats.files)
    offset = len(requests)
    details = {offset + i: d for i, (_, d) in enumerate(pairs)}
    requests.extend(r for r, _ in pairs)
    wl_settings = WlSettings(
        failover=mode or failover_from_log(list(details.values())),
        failover_source="option" if mode is not None else "log")
    if wl_config is not None and wl_config.settings:
        # the plug-in configuration given with --config: its (first location's) MaxSkipTime and WLCookieName
        located = wl_config.settings[0]
        wl_settings = dataclasses.replace(wl_settings, max_skip_time=located.max_skip_time.value,
                                          max_skip_time_source="config", cookie_name=located.cookie_name.value)
    servers = jvmid_servers(list(details.values()))
    verdicts.extend(wl_replay(requests, details, wl_settings))
    verdicts.sort(key=lambda v: v.index)
    sessions, untracked = group_sessions(requests)
    view = WebLogicView(details, tuple(replica_histories(requests, details, servers)), wl_settings, servers,
                        systems_read)
    topology = _with_weblogic_servers(topology, details, servers, wl_settings)
    ctx = Context(stats, summary, tracker, requests, sessions, verdicts, topology, cfg, trace_clones=trace_clones,
                  time_jumps=tuple(jumps), untracked=untracked, weblogic=view, weblogic_config=wl_config)
    return Analysis(
        stats=stats, summary=summary, tracker=tracker, requests=requests, sessions=sessions, topology=topology,
        verdicts=verdicts, findings=run_rules(ctx), config=cfg, settings=settings, first_time=first, last_time=last,
        log_set=log_set, systems=systems_read, weblogic=view,
    )


def _with_weblogic_servers(topology: Topology, details: dict[int, WlDetail], servers: dict[str, str],
                           settings: WlSettings) -> Topology:
    """The topology with one cluster of the WebLogic servers the log names, each with the JVMID it ties to it."""
    names: dict[str, None] = {}
    for d in details.values():
        for server in (d.found_primary, d.found_secondary, *(a.server for a in d.attempts),
                       *(s for s, _, _ in d.marked_bad)):
            if server is not None:
                names.setdefault(server, None)
    jvmid_of = {server: jvmid for jvmid, server in servers.items()}
    cluster_name = "WebLogicCluster"
    members = tuple(MemberModel(n, jvmid_of.get(n), None, None, cluster_name, Source.TRACE) for n in names)
    cluster = ClusterModel(
        name=cluster_name, members=members, primary=tuple(names), backup=(), retry_interval=settings.max_skip_time,
        retry_interval_source=Source.DEFAULT, load_balance=LoadBalance.ROUND_ROBIN, ignore_affinity_requests=False,
        separator="!", source=Source.TRACE)
    note = (f"WebLogic: the servers from the log, the JVMID of each as the log ties it; MaxSkipTime "
            f"{settings.max_skip_time} s ({settings.max_skip_time_source}); failover {settings.failover.value} "
            f"({'--weblogic-failover' if settings.failover_source == 'option' else 'from the log line shape'})")
    return Topology((*topology.clusters, cluster), (*topology.notes, note))


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
