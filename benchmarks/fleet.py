"""Benchmark a fleet: W web servers x N lines, `analyze --engine local` against `--engine dask` with 2 workers.

Each web server's trace is the generator's for its own seed (their processes' pids coincide, as real
web servers' do), in a directory of its own (``ws1/http_plugin.log`` ...), so the log set has W web
servers. Both runs are separate processes, start-up included (the Dask run starts a LocalCluster of
``--workers`` processes); their JSON reports must be byte-identical or the run stops. Peak memory is
sampled from /proc (proportional set size): the whole tree of the local run; for the Dask run the
client (the tracelens process, which merges the parts and finishes the analysis) and each worker
process on its own. The last lines project the measured per-part cost onto 100 web servers x 1 GB.

    python benchmarks/fleet.py --web-servers 8 --lines 1000000      # the issue's size
    python benchmarks/fleet.py --web-servers 8 --lines 100000       # a small run on a shared machine
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import trace, tracelens_missing  # noqa: E402 - benchmarks/ is on the path only now


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
    except (OSError, ValueError):
        return 0


def _descendants(pid: int) -> list[int]:
    # NOTE: every thread's children: Dask's nannies start their worker processes from the event loop's thread
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        children = []
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as f:
                    children.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
        out.extend(children)
        todo.extend(children)
    return out


def measure(args: list[str]) -> tuple[float, bytes, int, dict[int, int]]:
    """Wall seconds, standard output, the peak of the process itself and the peak of each descendant (KiB)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    own, children = 0, {}
    done = threading.Event()

    def sample() -> None:
        nonlocal own
        while not done.wait(0.05):
            own = max(own, _pss_kib(proc.pid))
            for child in _descendants(proc.pid):
                children[child] = max(children.get(child, 0), _pss_kib(child))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed (exit {proc.returncode}): {err.decode(errors='replace')}")
    return wall, out, own, children


def idle_worker_kib() -> int:
    """What a worker holds before it reads anything: Python with distributed and tracelens's analysis imported."""
    code = "import sys, distributed, tracelens.api, tracelens.fleet; print(flush=True); sys.stdin.read()"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()  # imported
    kib = _pss_kib(proc.pid)
    proc.stdin.close()
    proc.wait()
    return kib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web-servers", type=int, default=8)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines per web server")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")),
                        help="where generated traces are kept between runs")
    args = parser.parse_args()
    missing = tracelens_missing()
    if missing:
        raise SystemExit(missing)
    fleet = args.data / f"tracelens-fleet-{args.web_servers}x{args.lines}"
    files = []
    for i in range(args.web_servers):
        link = fleet / f"ws{i + 1}" / "http_plugin.log"
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(trace(args.lines, 1 + i, args.data))
        files.append(str(link))
    total_mb = sum(os.path.getsize(f) for f in files) / 1e6
    part_mb = total_mb / args.web_servers
    command = [sys.executable, "-m", "tracelens", "analyze", "--format", "json", *files]
    local_s, local_out, local_own, local_children = measure([*command, "--engine", "local"])
    local_peak = local_own + sum(local_children.values())
    dask_s, dask_out, client_peak, workers = measure([*command, "--engine", "dask", "--workers", str(args.workers)])
    if dask_out != local_out:
        raise SystemExit("the reports of --engine local and --engine dask differ")
    # the worker processes are the largest descendants (the others: multiprocessing's resource tracker)
    worker_peaks = sorted(workers.values(), reverse=True)[: args.workers]
    print(f"{args.web_servers} web servers x {args.lines:,} lines, {total_mb:,.1f} MB ({part_mb:,.1f} MB a part); "
          f"{os.cpu_count()} cores")
    print("| engine | seconds | MB/s | peak memory |")
    print("|---|---:|---:|---:|")
    print(f"| `--engine local` (one process) | {local_s:.1f} | {total_mb / local_s:,.1f} | "
          f"{local_peak / 1024:,.0f} MB |")
    print(f"| `--engine dask --workers {args.workers}` (LocalCluster) | {dask_s:.1f} | {total_mb / dask_s:,.1f} | "
          f"client {client_peak / 1024:,.0f} MB; per worker "
          f"{', '.join(f'{w / 1024:,.0f}' for w in worker_peaks)} MB |")
    print("the reports are byte-identical")
    # NOTE: the local engine reads the parts one after the other in one process: its time per part is the
    # cost of a part on one core, start-up and the final merge spread over the parts (an upper bound)
    per_part_s = local_s / args.web_servers
    per_mb_s = per_part_s / part_mb
    idle_mb = idle_worker_kib() / 1024
    # what a part adds to a worker grows with the part (the requests it keeps until it sends them back)
    growth = max(0.0, max(worker_peaks) / 1024 - idle_mb) / part_mb if worker_peaks else 0.0
    print(f"per part: {per_part_s:.2f} s on one core ({per_mb_s * 1000:.1f} s per GB); a worker: {idle_mb:,.0f} MB "
          f"idle, +{growth:.2f} MB per MB of its part")
    print("projection for 100 web servers x 1 GB (parts run in waves of one per worker):")
    for w in (2, 16, 50, 100):
        waves = math.ceil(100 / w)
        print(f"  {w:>3} workers: {waves} wave(s) x {per_mb_s * 1000:,.0f} s = about "
              f"{waves * per_mb_s * 1000 / 60:,.0f} min; each worker's peak about "
              f"{idle_mb + growth * 1000:,.0f} MB")


if __name__ == "__main__":
    main()
