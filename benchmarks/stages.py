"""Where the analysis's time and memory go, on the benchmark's trace (or any file).

    python benchmarks/stages.py --lines 1000000      # the trace benchmarks/run.py generates
    python benchmarks/stages.py --file http_plugin.log

In one process, through the Python API: the time of the reconstruction (reading, parsing, member
state, requests and sessions), of the rest of the analysis (topology, replay and rules: a whole
analysis minus a reconstruction), and of writing the JSON report; then what the report keeps until
the end, component by component: the size of each object graph (``sys.getsizeof`` over it, an object
shared with a component listed earlier counted there only) and per request. The figures in
benchmarks/README.md ("Where the time goes", "What remains") come from here.
"""

from __future__ import annotations

import enum
import io
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import trace, trace_arguments, tracelens_missing  # noqa: E402  (benchmarks/ is not a package)

if why := tracelens_missing():
    raise SystemExit(f"stages.py: {why}")

from tracelens import api  # noqa: E402
from tracelens.reporters.json_report import write_json  # noqa: E402

_ATOMS = (str, bytes, int, float, bool, type(None))


def graph_bytes(root: Any, seen: set[int]) -> int:
    """The bytes of every object reachable from ``root`` and not in ``seen`` (which it then joins)."""
    total, stack = 0, [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (type, enum.Enum)):
            continue  # classes and enum members exist whatever the log
        total += sys.getsizeof(obj)
        if isinstance(obj, _ATOMS):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        else:
            for cls in type(obj).__mro__:
                for slot in getattr(cls, "__slots__", ()):
                    if hasattr(obj, slot):
                        stack.append(getattr(obj, slot))
            if hasattr(obj, "__dict__"):
                stack.append(vars(obj))
    return total


def main() -> None:
    args = trace_arguments(__doc__.splitlines()[0]).parse_args()
    path = str(args.file or trace(args.lines, args.seed, args.data))

    start = time.perf_counter()
    rec = api.reconstruct([path])
    rebuilt = time.perf_counter() - start
    del rec
    start = time.perf_counter()
    report = api.analyze([path])
    whole = time.perf_counter() - start
    start = time.perf_counter()
    write_json(report, io.StringIO())
    written = time.perf_counter() - start

    lines, requests = report.stats.physical_lines, len(report.requests)
    print(f"{path}: {lines:,} lines, {requests:,} requests, {len(report.sessions):,} sessions, "
          f"{len(report.findings):,} findings")
    print(f"{'stage':40} {'seconds':>8}")
    for name, seconds in (("reading, parsing, state, requests", rebuilt),
                          ("topology, replay and rules", whole - rebuilt),
                          ("JSON report", written)):
        print(f"{name:40} {seconds:8.2f}")
    print(f"{'kept until the end':40} {'MB':>8} {'bytes a request':>16}")
    seen: set[int] = set()
    for name, part in (("member state", report.tracker), ("requests", report.requests),
                       ("verdicts", report.verdicts), ("sessions", report.sessions),
                       ("findings", report.findings), ("the rest of the report", report)):
        size = graph_bytes(part, seen)
        print(f"{name:40} {size / 1e6:8.1f} {size / max(requests, 1):16,.0f}")


if __name__ == "__main__":
    main()
