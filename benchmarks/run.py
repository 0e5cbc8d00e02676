"""Benchmark: tracelens parse --summary and analyze against a bare regex loop on the same trace.

    python benchmarks/run.py --lines 1000000            # generates the trace once, then measures

For each command it prints wall time, lines per second, MB per second, peak resident memory and
the ratio to the yardstick: a compiled-regex loop that only splits each line's header, measured in
the same run on the same file — "as fast as Python can read it". Commands run as separate
processes, as a user runs them, so start-up is included; each runs with the default ``--jobs``
(every core) and with ``--jobs 1``. Peak memory is that of all the command's processes together:
their proportional set size, sampled from /proc every 20 ms, so that pages a forked worker shares
with its parent count once (where there is no /proc: the largest single process's peak RSS). With
``--repeat N`` the yardstick and the commands take turns N times and the best of each is kept, so
that a machine whose speed drifts during the run weighs on both sides of the ratio. The last lines
compare the figures with the targets of the "Performance" issue. With ``--growth`` the analysis also
runs on a trace four times as long (same seed), and the growth of its peak memory is compared with the
target (at most 20% more); ``--growth-lines N ...`` chooses the longer traces instead (for example
4,000,000 and 16,000,000 lines, about 2 GB).

Where lnav is installed (Debian's package ``lnav``), its time and memory to index the same file with
the plug-in log format in ``benchmarks/lnav/`` and count its lines with SQL are printed too, so that
the gap to the fastest generic log tool stands beside the figures. It runs with a scratch home
directory (nothing of the user's lnav configuration is read or written), and its count of the trace's
lines must equal the file's, or the run stops.

    python benchmarks/run.py --lines 1000000 --repeat 3 --growth
    python benchmarks/run.py --lines 1000000 --repeat 3 --growth-lines 4000000 16000000
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = re.compile(r"\[([^\]]+)\] (\w+) (\w+) - ")


def yardstick(path: Path) -> float:
    start = time.perf_counter()
    matched = 0
    with path.open(encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if HEADER.match(line):
                matched += 1
    return time.perf_counter() - start


def _tree_rss_kib(pid: int) -> int:
    """Memory of ``pid`` and its descendants, KiB (0 where /proc is not readable).

    The proportional set size (Pss): a page that forked workers share with their parent counts once,
    split between them, instead of once per process as resident sizes would count it.
    """
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup", encoding="ascii") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
            with open(f"/proc/{p}/task/{p}/children", encoding="ascii") as f:
                todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def measure(args: list[str], env: dict[str, str] | None = None,
            stdout: int | None = subprocess.DEVNULL) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB, all its processes together) of one command, run alone."""
    start = time.perf_counter()
    # as a user's installation runs it: with its bytecode cached (a development shell that sets
    # PYTHONDONTWRITEBYTECODE would compile every module at every start)
    env = env or {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.Popen(args, stdout=stdout, stderr=subprocess.PIPE, env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _tree_rss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    # NOTE: only 0: a command that failed at once (1 is also what `python -m` gives for a module that
    # is not installed) would otherwise be measured as the fastest run of all
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        raise SystemExit(f"{' '.join(args)} failed (exit {os.waitstatus_to_exitcode(status)}): {err}")
    return wall, peak or usage.ru_maxrss


LNAV_FORMATS = HERE / "lnav"
LNAV_COUNT = ";SELECT count(*) AS lines FROM websphere_plugin_log"


def lnav(path: Path, lines: int) -> tuple[float, int] | None:
    """lnav's wall seconds and peak memory to index ``path`` and count its messages, or None without lnav.

    ``lines`` is the number of headered lines in ``path``: lnav folds a line without a header into the
    message before it.
    """
    exe = shutil.which("lnav")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="tracelens-lnav-") as home:
        # NOTE: a scratch HOME: lnav keeps its configuration and index state there, and a user's own
        # formats must not change what is measured
        env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "TERM": "dumb"}
        args = [exe, "-n", "-I", str(LNAV_FORMATS), "-c", LNAV_COUNT, str(path)]
        with tempfile.TemporaryFile() as out:
            run = measure(args, env=env, stdout=out.fileno())
            out.seek(0)
            text = out.read().decode(errors="replace")
    counted = [int(word) for word in text.split() if word.isdigit()]
    if counted != [lines]:
        raise SystemExit(f"lnav did not read the trace as the plug-in log format ({lines:,} headered lines): "
                         f"{text.strip()!r}")
    return run


def trace(lines: int, seed: int, data: Path) -> Path:
    """The generated trace of ``lines`` lines for ``seed``, generated the first time it is asked for."""
    # NOTE: the generator's format in the name: a trace kept from an older generator is not reused
    from generate import FORMAT  # benchmarks/ is the script's directory: on sys.path

    path = data / f"tracelens-bench-v{FORMAT}-{lines}-{seed}.log"
    if not path.exists():
        print(f"generating {path} ({lines:,} lines) ...", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--lines", str(lines), "--seed",
                        str(seed), "--out", str(path)], check=True)
    return path


def tracelens_missing() -> str | None:
    """Why the benchmarks cannot run tracelens with this Python, or None."""
    if importlib.util.find_spec("tracelens") is not None:
        return None
    return (f"tracelens is not installed for {sys.executable}: run it from the project's virtual environment "
            "(README: pip install -e '.[test]')")


def trace_arguments(description: str) -> argparse.ArgumentParser:
    """A parser with the options that choose the trace: --lines and --seed, or --file; --data."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--file", type=Path, help="an existing trace instead of a generated one")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")),
                        help="where generated traces are kept between runs")
    return parser


def main() -> None:
    parser = trace_arguments(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per command; the best is reported")
    parser.add_argument("--growth", action="store_true",
                        help="also analyze a generated trace of 4x --lines and compare the peak memory")
    parser.add_argument("--growth-lines", type=int, nargs="+", metavar="N",
                        help="the growth run's longer traces instead of 4x --lines (implies --growth)")
    args = parser.parse_args()
    growth = args.growth_lines or ([4 * args.lines] if args.growth else [])
    if growth and args.file is not None:
        parser.error("--growth compares generated traces: give --lines, not --file")

    if why := tracelens_missing():  # the commands run `python -m tracelens` with this Python
        parser.error(why)
    path = args.file or trace(args.lines, args.seed, args.data)
    size_mb = path.stat().st_size / 1e6
    with path.open("rb") as f:
        lines = headered = 0
        for line in f:
            lines += 1
            headered += line.startswith(b"[")
    tracelens = [sys.executable, "-m", "tracelens"]
    commands = (("parse --summary", ["parse", "--summary"]),
                ("parse --summary --jobs 1", ["parse", "--summary", "-j1"]),
                ("analyze", ["analyze", "--format", "json"]),
                ("analyze --jobs 1", ["analyze", "--format", "json", "-j1"]))
    base = float("inf")
    best: dict[str, tuple[float, int]] = {}
    for _ in range(max(args.repeat, 1)):
        base = min(base, yardstick(path))
        for name, cmd in commands:
            run = measure([*tracelens, *cmd, str(path)])
            best[name] = min(best.get(name, run), run)
        if (indexed := lnav(path, headered)) is not None:
            best["lnav"] = min(best.get("lnav", indexed), indexed)
    rows = [("yardstick (regex header split)", base, 0)] + [(name, *best[name]) for name, _ in commands]
    if "lnav" in best:
        rows.append((f"lnav {lnav_version()} (index + count)", *best["lnav"]))
    print(f"{path}: {lines:,} lines, {size_mb:.1f} MB; {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    print(f"{'':32} {'seconds':>8} {'lines/s':>11} {'MB/s':>7} {'peak RSS':>9} {'x yardstick':>11}")
    for name, wall, rss in rows:
        peak = f"{rss / 1024:.0f} MB" if rss else "-"
        print(f"{name:32} {wall:8.2f} {lines / wall:11,.0f} {size_mb / wall:7.1f} {peak:>9} {wall / base:11.1f}")
    found = {name: (wall, rss) for name, wall, rss in rows}
    print("targets (the columnar-core issue, on a 1,000,000-line trace):")
    for name, limit in (("parse --summary", 3.0), ("analyze", 5.0)):
        ratio = found[name][0] / base
        print(f"  {name} within {limit:.0f}x the yardstick: {ratio:.1f}x  {'met' if ratio <= limit else 'NOT MET'}")
    rss = max(found["analyze"][1], found["parse --summary"][1]) / 1024
    print(f"  peak memory at most 250 MB: {rss:.0f} MB  {'met' if rss <= 250 else 'NOT MET'}")
    if "lnav" not in best:
        print("  lnav: not installed (Debian package lnav), not measured")
    for size in growth:
        longer = trace(size, args.seed, args.data)
        wall, peak = measure([*tracelens, "analyze", "--format", "json", str(longer)])
        small = found["analyze"][1]
        grew = peak / small - 1 if small else float("nan")
        print(f"  analyze on {size:,} lines: {wall:.1f} s, {peak / 1024:.0f} MB; peak memory "
              f"{grew:+.0%} from {args.lines:,} lines (at most +20%): {'met' if grew <= 0.2 else 'NOT MET'}")


def lnav_version() -> str:
    exe = shutil.which("lnav")
    out = subprocess.run([exe or "lnav", "-V"], capture_output=True, text=True, check=False).stdout.split()
    return out[-1] if out else "?"


if __name__ == "__main__":
    main()
