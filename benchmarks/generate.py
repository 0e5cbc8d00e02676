"""Generate a large, realistic plug-in trace for the benchmarks: deterministic for a seed and a line count.

Many web-server processes, each with many threads whose request records interleave line by line;
affinity requests and new sessions; now and then a member that refuses connections in one process
for a while, so that requests fail over, are retried and fail back. Every message text is one that
real traces contain (see sample_logs/README.md and tests/traces/README.md), and each request writes
the whole LogLevel Trace sequence: the route lookup, ``Handling WebSphere request``, the DETAIL
``Request is:`` line, ``websphereWriteRequestReadResponse: Enter``, then the affinity lines. Half the
processes write the 8.5 timestamp style, half the asctime style, as concatenated logs of two servers
would.

    python benchmarks/generate.py --lines 1000000 --seed 7 --out /tmp/plugin-1m.log

What it wrote goes to standard error (and with ``--summary FILE``, as JSON to FILE): the lines, the
requests written whole, and those the end of the trace cuts (begun, not ended), so that a test can
compare them with what ``tracelens analyze`` finds.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

MEMBERS = [
    ("was1node_PluginMember1", "v544d031", "app1.example.com"),
    ("was2Node_PluginMember2", "v544d0o0", "app2.example.com"),
    ("was3Node_PluginMember3", "v544d0q2", "app3.example.com"),
    ("was4Node_PluginMember4", "v544d0r7", "app4.example.com"),
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
NO_APP_SERVER = ("ERROR: ws_common: websphereWriteRequestReadResponse: "
                 "Failed to find an app server to handle this request")


#: Bumped when the trace written for a (lines, seed) changes: benchmarks/run.py keeps traces by it.
FORMAT = 2


@dataclass
class Tally:
    """What a generation wrote."""

    lines: int = 0
    requests_whole: int = 0  # every line written, `Ending the request` included
    requests_cut: int = 0  # begun, and cut by the end of the trace

    @property
    def requests(self) -> int:
        return self.requests_whole + self.requests_cut


def header(t: datetime, pid: str, tid: str, clf: bool) -> str:
    if clf:
        return f"[{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S}.{t.microsecond // 10:05d}] {pid} {tid} - "
    return f"[{DAYS[t.weekday()]} {MONTHS[t.month - 1]} {t.day:02d} {t:%H:%M:%S} {t.year}] {pid} {tid} - "


class Process:
    def __init__(self, pid: str, clf: bool) -> None:
        self.pid, self.clf = pid, clf
        self.down: dict[str, datetime] = {}  # member -> marked down at
        self.total: dict[str, int] = {m: 0 for m, _, _ in MEMBERS}
        self.affinity: dict[str, int] = {m: 0 for m, _, _ in MEMBERS}
        self.failed: dict[str, int] = {m: 0 for m, _, _ in MEMBERS}  # cumulative, like the plug-in's
        self.rr = 0


class World:
    """What every thread sees as it is now: the time of the line being written, the members refusing."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.refusing: set[str] = set()

    def elapsed(self, since: datetime) -> int:
        """Whole seconds since ``since``, as the plug-in's clock (a time_t) counts them."""
        return int((self.now.replace(microsecond=0) - since.replace(microsecond=0)).total_seconds())


def session_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(23))


def request_lines(rng: random.Random, proc: Process, world: World,
                  sessions: list[tuple[str, list[str]]]) -> Iterator[str]:
    """The body lines of one request (without header), as the plug-in writes them.

    NOTE: every decision reads ``world`` when the line that shows it is written (this generator runs
    one line at a time, interleaved with other threads' lines): the time and state as they were when
    the request began gave countdowns of 61 s and picks of members another thread had marked down.
    """
    uri = f"/shop/page{rng.randint(1, 500)}"
    # the begin lines of LogLevel Trace (plugin-facts §1.5), in the order one request writes them
    yield ("TRACE: ws_common: websphereShouldHandleRequest: trying to match a route for: "
           f"vhost='www.example.com'; uri='{uri}'")
    yield "TRACE: ws_common: websphereHandleRequest: Handling WebSphere request"
    yield ("DETAIL: ws_common: websphereHandleRequest: Request is: host='www.example.com', "
           f"uri='{uri}', protocol='HTTP/1.1'")
    yield "TRACE: ws_common: websphereWriteRequestReadResponse: Enter"
    yield "TRACE: ws_common: websphereHandleSessionAffinity: Checking for session affinity"
    yield "TRACE: ws_common: websphereHandleSessionAffinity: Checking the cookie affinity: JSESSIONID"
    yield "TRACE: lib_htrequest: htrequestGetCookieValue: Looking for cookie: 'JSESSIONID'"
    by_name = {m: (c, h) for m, c, h in MEMBERS}
    def up() -> list[str]:
        # evaluated when the plug-in decides, as it does: other threads may have marked a member down
        return [m for m, _, _ in MEMBERS if m not in proc.down or world.elapsed(proc.down[m]) >= 60]

    chosen: str | None = None
    cookie = None
    if sessions and rng.random() < 0.85:
        sid, clones = rng.choice(sessions)
        cookie = f"000{rng.randint(0, 9)}{sid}:" + ":".join(clones)
        yield f"TRACE: lib_htrequest: htrequestGetCookieValue: name='JSESSIONID', value='{cookie}'"
        yield f"TRACE: ws_common: websphereParseCloneID: Parsing clone ids from '{cookie}'"
        for c in clones:
            yield f"TRACE: ws_common: websphereParseCloneID: Adding clone id '{c}'"
        yield "TRACE: ws_common: websphereParseCloneID: Returning list of clone ids"
        yield "TRACE: ws_server_group: serverGroupFindClone: Looking for clone"
        for c in clones:
            yield "TRACE: ws_server_group: serverGroupGetFirstPrimaryServer: getting the first primary server"
            for m, mc, _ in MEMBERS:
                yield ("TRACE: ws_server_group: serverGroupFindClone: "
                       f"Comparing curCloneID '{c}' to server clone id '{mc}'")
                if mc == c:
                    yield f"TRACE: ws_server_group: serverGroupFindClone: Match for clone '{m}'"
                    # decided when the line is written, as the plug-in decides: not after other threads ran
                    down = m in proc.down
                    usable = m in up()
                    left = 60 - world.elapsed(proc.down[m]) if down else None
                    retry_now = int(down and left is not None and left <= 0)
                    yield ("STATS: ws_server_group: serverGroupCheckServerStatus: Checking status of "
                           f"{m}, ignoreWeights 1, markedDown {int(down)}, retryNow {retry_now}, retryInSec "
                           f"{'--' if not down else max(left or 0, 0)}, wlbAllows 0 reachedMaxConnectionsLimit 0")
                    if usable:
                        if down:
                            yield f"TRACE: ws_server_group: serverGroupCheckServerStatus: Time to retry server {m}"
                        chosen = m
                    else:
                        yield (f"TRACE: ws_server_group: serverGroupCheckServerStatus: Server {m} is marked down; "
                               f"retry in {left}")
                    break
                yield "TRACE: ws_server_group: serverGroupGetNextPrimaryServer: getting the next primary server"
            if chosen:
                break
    else:
        yield "TRACE: lib_htrequest: htrequestGetCookieValue: No cookie found for: 'JSESSIONID'"
    lb = chosen is None
    if lb:
        yield "TRACE: ws_server_group: serverGroupNextRoundRobinServer: Round Robin load balancing"
        available = up()
        if not available:
            yield "ERROR: ws_server_group: serverGroupNextRoundRobinServer: Failed to find a server; all could be down"
            yield NO_APP_SERVER
            yield "ERROR: ws_common: websphereHandleRequest: Failed to handle request"
            yield "TRACE: ws_common: websphereEndRequest: Ending the request"
            return
        proc.rr = (proc.rr + 1) % len(available)
        chosen = available[proc.rr]
        yield f"TRACE: ws_server_group: lockedServerGroupUseServer: Server {chosen} picked, weight 1."
    proc.total[chosen] += 1
    yield (f"TRACE: ws_server_group: serverGroupIncrementConnectionCount: Server {chosen} picked, "
           f"pendingConnectionCount 1 totalConnectionsCount {proc.total[chosen]}.")
    if not lb:
        yield f"TRACE: ws_server_group: serverGroupFindClone: Returning next up server {chosen}"
        yield f"TRACE: ws_common: websphereHandleSessionAffinity: Setting server to {chosen}"
        proc.affinity[chosen] += 1
    clone, host = by_name[chosen]
    yield "TRACE: ws_common: websphereFindTransport: Finding the transport"
    yield f"DETAIL: ws_common: websphereFindTransport: Setting the transport(case 0): {host} on port 9080"
    yield "TRACE: ws_transport: transportStreamDequeue: Checking for existing stream from the queue"
    if chosen in world.refusing:
        yield f"ERROR: ws_common: websphereGetStream: Failed to connect to app server on host '{host}', OS err=111"
        yield "ERROR: ws_common: websphereExecute: Failed to create the stream"
        # NOTE: the process's state changes before the line that says so is written, as in the plug-in
        # (under its lock): changed after the yield, it changed only when this thread's next line was
        # written, and other threads' status checks in between said the member was up
        proc.down[chosen] = world.now
        proc.failed[chosen] += 1
        yield f"ERROR: ws_server: serverSetFailoverStatus: Marking {chosen} down"
        yield (f"STATS: ws_server: serverSetFailoverStatus: Server {chosen} : pendingRequests 0 "
               f"failedRequests {proc.failed[chosen]} "
               f"affinityRequests {proc.affinity[chosen]} totalRequests {proc.total[chosen]}.")
        yield (f"ERROR: ws_common: websphereHandleRequest: Failed to execute the transaction to '{chosen}'on host "
               f"'{host}'; will try another one")
        others = [m for m in up() if m != chosen and m not in world.refusing]
        if not others:
            yield NO_APP_SERVER
            yield "TRACE: ws_common: websphereEndRequest: Ending the request"
            return
        chosen = others[0]
        proc.total[chosen] += 1
        yield (f"TRACE: ws_server_group: serverGroupIncrementConnectionCount: Server {chosen} picked, "
               f"pendingConnectionCount 1 totalConnectionsCount {proc.total[chosen]}.")
        clone, host = by_name[chosen]
        yield f"DETAIL: ws_common: websphereFindTransport: Setting the transport(case 0): {host} on port 9080"
    yield "TRACE: lib_htrequest: htrequestWrite: Writing the request:"
    yield f"TRACE:    GET {uri} HTTP/1.1"
    yield "TRACE:    Host: www.example.com"
    if cookie:
        yield f"TRACE:    Cookie: JSESSIONID={cookie}"
    yield "TRACE: ws_common: websphereExecute: Wrote the request; reading the response"
    yield "TRACE: lib_htresponse: htresponseRead: Reading the response: b2c384"
    proc.down.pop(chosen, None)  # a response marks the member up again in this process (as it is written)
    yield "TRACE:    HTTP/1.1 200 OK"
    yield "TRACE:    Server: WebSphere Application Server/8.5"
    if cookie is None:
        sid = session_id(rng)
        sessions.append((sid, [clone]))
        if len(sessions) > 5000:
            sessions.pop(rng.randrange(len(sessions)))
        yield f"TRACE:    Set-Cookie: JSESSIONID=0000{sid}:{clone};Path=/"
    yield (f"STATS: ws_server: serverSetFailoverStatus: Server {chosen} : pendingRequests 0 "
           f"failedRequests {proc.failed[chosen]} affinityRequests {proc.affinity[chosen]} "
           f"totalRequests {proc.total[chosen]}.")
    yield "TRACE: ws_common: websphereEndRequest: Ending the request"


def generate(lines: int, seed: int, processes: int = 6, threads: int = 25,
             tally: Tally | None = None) -> Iterator[str]:
    """The trace's lines; ``tally`` (if given) counts what was written as the lines are taken."""
    tally = tally if tally is not None else Tally()
    rng = random.Random(seed)
    start = datetime(2024, 3, 11, 9, 0, 0)
    procs = [Process(f"{0x6a0000 + 0x1c * i:08x}", clf=i % 2 == 0) for i in range(processes)]
    sessions: list[tuple[str, list[str]]] = []
    # per thread at work: its process, tid, the request's lines still to write, whether one was written
    active: list[tuple[Process, str, Iterator[str], list[bool]]] = []
    now = start
    world = World(now)
    written = 0
    outage_until = start
    for proc in procs:
        for text in ("PLUGIN: Plugins loaded.", "PLUGIN: --------------------System Information-----------------------",
                     "PLUGIN: Bld version: 8.5.5.20", "PLUGIN: Webserver: IBM_HTTP_Server/8.5.5.20 (Unix)"):
            if written >= lines:
                return
            yield header(now, proc.pid, "00000001", proc.clf) + text
            written += 1
            tally.lines = written
    while written < lines:
        now += timedelta(microseconds=rng.randint(200, 4000))
        world.now = now
        if now >= outage_until:
            world.refusing = set()
            if rng.random() < 0.002:  # a member starts refusing connections for 20 to 90 s
                world.refusing = {rng.choice(MEMBERS)[0]}
                outage_until = now + timedelta(seconds=rng.randint(20, 90))
        while len(active) < processes * threads // 3:
            proc = rng.choice(procs)
            tid = f"{rng.randint(0x1000, 0x1000 + threads):08x}"
            if any(p is proc and t == tid for p, t, _, _ in active):
                continue
            active.append((proc, tid, request_lines(rng, proc, world, sessions), [False]))
        i = rng.randrange(len(active))
        proc, tid, body, begun = active[i]
        text = next(body, None)
        if text is None:  # not reached: a request's last line is `Ending the request`, and it leaves then
            active.pop(i)
            continue
        if not begun[0]:
            begun[0] = True
            tally.requests_cut += 1  # until its last line is written
        yield header(now, proc.pid, tid, proc.clf) + text
        written += 1
        tally.lines = written
        if text.endswith("websphereEndRequest: Ending the request"):
            # NOTE: counted whole at its last line, not when the thread next comes up: the trace may end first
            tally.requests_cut -= 1
            tally.requests_whole += 1
            active.pop(i)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--summary", type=Path, help="also write what was generated to this file, as JSON")
    args = parser.parse_args()
    tally = Tally()
    with args.out.open("w", encoding="utf-8", newline="\n") as out:
        for line in generate(args.lines, args.seed, tally=tally):
            out.write(line)
            out.write("\n")
    print(f"generate.py: {args.out}: {tally.lines:,} lines, {tally.requests:,} requests "
          f"({tally.requests_whole:,} whole, {tally.requests_cut:,} cut by the end of the trace)", file=sys.stderr)
    if args.summary is not None:
        args.summary.write_text(json.dumps({"format": FORMAT, "seed": args.seed, **asdict(tally),
                                            "requests": tally.requests}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
