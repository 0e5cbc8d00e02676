"""A fleet on Dask: a real scheduler and workers as separate processes on loopback, no mocks.

Three web servers' logs whose pids coincide, built from whole Trace requests (the route lookup,
``Handling WebSphere request``, ``Request is:``, ``Enter``, the affinity lines, ``Ending the request``,
threads interleaved; tests/plugin_requests.py), analysed with ``--engine dask --scheduler ...`` must give
the report of ``--engine local`` byte for byte; so must a run during which a worker is killed. Every
process started here is bounded in time and stopped at the end.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.plugin_requests import TRACE, Shape, config_block, interleave, request

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and process groups")
distributed = pytest.importorskip("distributed")

PIDS = ("00001a2c", "00001b40")  # the same pids on every web server
HOP = "HopSe55ionAcr0ssIHSxyzQ"  # one session that two web servers send to different members
SECONDS = 25  # no step of a test waits longer


def _env() -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    env.pop("TRACELENS_DEBUG", None)
    return env


def web_server_log(index: int) -> str:
    """One web server's trace: two processes (the pids of every web server) with three threads of whole
    requests each, interleaved; the first two web servers also serve :data:`HOP`, the second one failing it
    over to the other member."""
    rnd = random.Random(100 + index)
    t0 = datetime(2004, 6, 7, 10, 15, 1, 12345) + timedelta(milliseconds=7 * index)
    head = config_block(t0, PIDS[0], "00000e78", clf=False) + config_block(
        t0 + timedelta(milliseconds=5), PIDS[1], "00000c20", clf=False)
    shapes = (Shape.KEPT, Shape.NEW, Shape.KEPT, Shape.FAILOVER, Shape.NEW, Shape.KEPT)
    written = []
    for n, shape in enumerate(shapes):
        pid, tid = PIDS[n % 2], f"0000{0xe78 + 0x10 * (n % 3):04x}"
        session = f"S{index}x{n}" + "abcdefghijKLMNOPQRSTUVW"[: 23 - len(f"S{index}x{n}")]
        written.append(request(pid, tid, TRACE, shape, session, f"/shop/{shape.value}/{n}"))
    if index < 2:
        written.append(request(PIDS[0], "00001100", TRACE, Shape.KEPT if index == 0 else Shape.FAILOVER, HOP,
                               "/shop/cart"))
    lines, _ = interleave(written, rnd, clf=False, start=t0 + timedelta(seconds=1))
    return "\n".join(head + lines) + "\n"


def fleet(tmp_path: Path, count: int = 3) -> list[str]:
    paths = []
    for i in range(count):
        path = tmp_path / f"ihs{i + 1}" / "http_plugin.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(web_server_log(i), encoding="utf-8")
        paths.append(str(path))
    return paths


def generated_fleet(tmp_path: Path, lines: int) -> list[str]:
    """Three web servers of the benchmark's generator (its processes' pids coincide between them)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    paths = []
    for i in range(3):
        path = tmp_path / f"web{i + 1}" / "http_plugin.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(generate(lines, seed=5 + i)) + "\n", encoding="utf-8")
        paths.append(str(path))
    return paths


class Cluster:
    """A scheduler and workers, each its own process (``dask scheduler``, ``dask worker --no-nanny``)."""

    def __init__(self, folder: Path, workers: int) -> None:
        self.folder = folder
        self.file = folder / "scheduler.json"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.scheduler = self._start("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                     "--no-dashboard", "--scheduler-file", str(self.file))
        deadline = time.monotonic() + SECONDS
        while not (self.file.exists() and self.file.stat().st_size):
            assert time.monotonic() < deadline and self.scheduler.poll() is None, "the scheduler did not start"
            time.sleep(0.05)
        self.address: str = json.loads(self.file.read_text(encoding="utf-8"))["address"]
        assert self.address.startswith("tcp://127.0.0.1:")
        self.workers = [self._start("distributed.cli.dask_worker", "--scheduler-file", str(self.file), "--host",
                                    "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard")
                        for _ in range(workers)]
        with self.client() as client:
            client.wait_for_workers(workers, timeout=SECONDS)

    def _start(self, module: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{module.rsplit('.', 1)[1]}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=log, stderr=subprocess.STDOUT,
                                   env=_env(), cwd=self.folder)
        log.close()
        self.processes.append(process)
        return process

    def client(self) -> distributed.Client:
        return distributed.Client(self.address, timeout=SECONDS, set_as_default=False)

    def stop(self) -> None:
        # the workers first: a worker whose scheduler is gone waits for it before it ends
        for group in (self.workers, [self.scheduler]):
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("dask"), workers=2)
    try:
        yield running
    finally:
        running.stop()


def tracelens(*args: str, timeout: float = SECONDS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracelens", *args], capture_output=True, text=True, env=_env(),
                          timeout=timeout, check=False)


def local_json(*args: str) -> str:
    result = run_cli("analyze", "--format", "json", "--engine", "local", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_three_web_servers_on_a_scheduler_and_two_workers_give_the_local_report(cluster: Cluster,
                                                                               tmp_path: Path) -> None:
    files = fleet(tmp_path)[::-1]  # given newest web server first: the log set puts them in order
    local = local_json(*files)
    data = json.loads(local)
    # what the report must hold, whichever engine wrote it: three web servers, the same pids kept apart
    assert data["input_order"]["web_servers"] == ["ihs1", "ihs2", "ihs3"]
    assert sorted((p["web_server"], p["pid"]) for p in data["processes"]) == [
        (ws, pid) for ws in ("ihs1", "ihs2", "ihs3") for pid in PIDS]
    (hop,) = [s for s in data["sessions"] if s["id"] == HOP]
    assert {r["web_server"] for r in hop["requests"]} == {"ihs1", "ihs2"}
    divergence = [f for f in data["findings"] if f["code"] == "TL005"]
    assert divergence and "@ihs1" in divergence[0]["message"] and "@ihs2" in divergence[0]["message"]
    assert data["summary"]["requests"] == 3 * 6 + 2

    # the parts finishing in whatever order on the workers: the same bytes
    got = tracelens("analyze", "--format", "json", "--engine", "dask", "--scheduler", cluster.address, *files)
    assert got.returncode == 0, got.stderr
    assert got.stdout == local
    # progress per part, from the workers' tasks: each web server's bytes read of its total
    for path in files:
        web_server = Path(path).parent.name
        assert f"tracelens: note: {web_server}: {Path(path).stat().st_size / 1000:,.1f} KB read" in got.stderr
    assert "Traceback" not in got.stderr



def test_check_export_and_report_on_the_scheduler_give_the_local_answers(cluster: Cluster, tmp_path: Path) -> None:
    files = fleet(tmp_path)
    check_local = run_cli("check", "--format", "json", *files)
    check_dask = tracelens("check", "--format", "json", "--scheduler", cluster.address, *files)
    assert (check_dask.returncode, check_dask.stdout) == (check_local.exit_code, check_local.stdout)
    export_local = run_cli("export", "--table", "requests", "--to", "-", *files)
    export_dask = tracelens("export", "--table", "requests", "--to", "-", "--engine", "dask", "--scheduler",
                            cluster.address, *files)
    assert export_dask.returncode == 0 and export_dask.stdout == export_local.stdout
    report_local = run_cli("report", *files)
    report_dask = tracelens("report", "--scheduler", cluster.address, *files)
    assert report_dask.returncode == 0 and report_dask.stdout == report_local.stdout


def test_a_web_server_that_cannot_be_read_is_damaged_input_and_the_others_are_analysed(cluster: Cluster,
                                                                                       tmp_path: Path) -> None:
    files = fleet(tmp_path)
    Path(files[2]).write_bytes(bytes(range(256)) * 64)  # ihs3's log is binary data
    local = local_json(*files)
    data = json.loads(local)
    (damaged,) = [f for f in data["findings"] if f["code"] == "TL403"]
    assert damaged["file"] == files[2]  # ihs3's, as the message says (a file-level finding has no process)
    assert damaged["message"].startswith(f"{files[2]}: binary data, not a plug-in log (web server ihs3 not analysed")
    assert sorted({p["web_server"] for p in data["processes"]}) == ["ihs1", "ihs2"]
    got = tracelens("analyze", "--format", "json", "--scheduler", cluster.address, *files)
    assert got.returncode == 0 and got.stdout == local
    # with one web server there is nothing else to analyse: the input error it always was
    alone = tracelens("analyze", "--scheduler", cluster.address, files[2])
    assert alone.returncode == 2
    assert alone.stderr.strip().splitlines()[-1] == f"tracelens: error: {files[2]}: binary data, not a plug-in log"


def test_a_worker_killed_during_the_run_still_gives_the_local_report(tmp_path: Path) -> None:
    files = generated_fleet(tmp_path, 40_000)
    own = Cluster(tmp_path, workers=2)
    try:
        run = subprocess.Popen([sys.executable, "-m", "tracelens", "analyze", "--format", "json", "--engine", "dask",
                                "--scheduler", own.address, *files], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=_env())
        killed = None
        with own.client() as watcher:
            pids: dict[str, int] = watcher.run(os.getpid)  # each worker's process, by its address
            deadline = time.monotonic() + SECONDS
            while killed is None and time.monotonic() < deadline and run.poll() is None:
                busy = [address for address, keys in watcher.processing().items() if keys]
                if busy:
                    killed = pids[busy[0]]
                    os.kill(killed, signal.SIGKILL)
                time.sleep(0.02)
        stdout, stderr = run.communicate(timeout=SECONDS * 2)
        assert killed is not None, "no worker was seen running a part"
        assert killed in {w.pid for w in own.workers if w.poll() is not None}  # it is dead, not restarted
        assert run.returncode == 0, stderr
    finally:
        own.stop()
    assert stdout == local_json(*files)


def _descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_ctrl_c_stops_the_local_cluster_it_started(tmp_path: Path) -> None:
    files = generated_fleet(tmp_path, 60_000)
    run = subprocess.Popen([sys.executable, "-m", "tracelens", "analyze", "--format", "json", "--engine", "dask",
                            "--workers", "2", *files], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=_env())
    assert run.stderr is not None
    # the dashboard line comes once the cluster is up; then its two workers are running parts
    first = run.stderr.readline()
    assert first.startswith("tracelens: note: Dask dashboard: "), first
    deadline = time.monotonic() + SECONDS
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        workers = _descendants(run.pid)
        time.sleep(0.05)
    assert len(workers) >= 2 and run.poll() is None
    time.sleep(0.5)
    os.kill(run.pid, signal.SIGINT)
    _, rest = run.communicate(timeout=SECONDS * 2)
    assert run.returncode == 130, rest
    assert "Traceback" not in rest
    deadline = time.monotonic() + SECONDS
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in workers if _alive(p)], "worker processes outlived the run"


def test_without_the_fleet_extra_the_dask_engine_is_a_one_line_error(tmp_path: Path) -> None:
    files = fleet(tmp_path, 2)
    # NOTE: a real interpreter in which distributed cannot be imported (a None entry in sys.modules)
    code = ("import sys; sys.modules['distributed'] = None; from tracelens.cli import run; "
            f"sys.argv = ['tracelens', 'analyze', '--engine', 'dask', {files[0]!r}, {files[1]!r}]; run()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=SECONDS,
                            check=False)
    assert result.returncode == 2
    assert result.stderr == ("tracelens: error: --engine dask needs dask and distributed: "
                             "pip install 'tracelens[fleet]'\n")


def test_engine_options_are_checked_before_anything_runs(tmp_path: Path) -> None:
    from tracelens.commands.options import ENGINE_CHOICES
    from tracelens.fleet import Engine

    assert tuple(e.value for e in Engine) == ENGINE_CHOICES
    files = fleet(tmp_path, 2)
    result = run_cli("analyze", "--engine", "local", "--workers", "2", *files)
    assert result.exit_code == 2 and "--workers is for --engine dask, not local" in result.stderr
    result = run_cli("export", "--table", "events", "--to", "-", "--engine", "dask", *files)
    assert result.exit_code == 2 and "--table events streams the records from here" in result.stderr
    result = run_cli("analyze", "--engine", "dask", "-", input="x")
    assert result.exit_code == 2
    assert result.stderr == ("tracelens: error: --engine dask: standard input can be read only here, not by a "
                             "worker; give files, or use --engine local\n")


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path: Path) -> None:
    files = fleet(tmp_path, 2)
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Dask's own setting bounds the wait (30 s unless configured)
    env = {**_env(), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    result = subprocess.run([sys.executable, "-m", "tracelens", "analyze", "--scheduler", f"tcp://127.0.0.1:{port}",
                             *files], capture_output=True, text=True, env=env, timeout=SECONDS, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith(f"tracelens: error: --scheduler tcp://127.0.0.1:{port}: cannot connect (")
    assert len(result.stderr.splitlines()) == 1
