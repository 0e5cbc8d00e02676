"""Engines: a log set's web servers rebuilt as parts, in this process or on a Dask cluster, merged here.

Theory of operation
-------------------
The plug-in keeps its state per web-server process, and the processes of different web servers are
different processes (keyed ``pid@web-server``), so a fleet's logs split cleanly by web server: each
web server's files (its rotated set) are one **part**, read, typed and rebuilt on its own by
:func:`tracelens.api.reconstruct_part`, which returns a small picklable
:class:`~tracelens.api.PartResult`. The client merges the parts in the log set's order of web servers
(:func:`tracelens.api.merge_parts`: member state, facts and clocks in log order, requests grouped into
sessions across web servers) and finishes the analysis over the whole fleet
(:func:`tracelens.api.finish`: topology, replay, findings).

The local engine runs the same two functions in this process, one part after the other; the Dask
engine runs the parts on workers and gathers them in the same order, whatever order they finish
in. Nothing else differs, so the two give the same report, byte for byte.

Workers read the files by the paths the client was given: on a cluster every worker must see the
same paths (a shared file system). Files are not shipped.
"""

from __future__ import annotations

import contextlib
import enum
import importlib.util
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracelens.api import PartOptions, PartResult, Reconstruction, merge_parts, reconstruct_part
from tracelens.errors import TracelensError
from tracelens.read.logset import LogSet, PartProgress
from tracelens.read.reader import STDIN, ReadStats, is_stream

if TYPE_CHECKING:
    from distributed import Client

#: what to run for the Dask engine: dask and distributed are an extra
FLEET_EXTRA = "pip install 'tracelens[fleet]'"
#: a part whose task fails (an exception on the worker) is run again this many times; a worker that dies
#: is another matter: the scheduler gives its tasks to the other workers (``distributed.scheduler.allowed-failures``)
RETRIES = 2
_TOPIC = "tracelens-progress"


class Engine(str, enum.Enum):
    """Where the parts of a log set are rebuilt."""

    LOCAL = "local"  # in this process, one web server after the other
    DASK = "dask"  # on the workers of a Dask cluster: a LocalCluster started here, or a running scheduler


class EngineError(TracelensError):
    """The engine cannot be used: not installed, or its scheduler cannot be reached."""


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """``--engine``, ``--scheduler`` and ``--workers``."""

    engine: Engine = Engine.LOCAL
    scheduler: str | None = None  # a running scheduler's address; None: a LocalCluster on this machine
    workers: int | None = None  # LocalCluster: how many workers (None: one per core); a scheduler: wait for as many


#: what a caller is told while the engine runs: the parts' progress, and notes (the dashboard's address)
OnProgress = Callable[[PartProgress], None]
OnNote = Callable[[str], None]


def part_sizes(log_set: LogSet) -> dict[str, int]:
    """The bytes of each web server's files, as the parts will read them (compressed files: their size on disk)."""
    sizes: dict[str, int] = {}
    for f in log_set.files:
        try:
            size = os.path.getsize(f.path) if f.path != STDIN else 0
        except OSError:
            size = 0  # the part will say why it cannot be read
        sizes[f.web_server] = sizes.get(f.web_server, 0) + size
    return sizes


def reconstruct_fleet(log_set: LogSet, options: PartOptions, settings: EngineSettings,
                      on_progress: OnProgress | None = None, on_note: OnNote | None = None) -> Reconstruction:
    """The log set's web servers rebuilt by the engine of ``settings``, merged in the set's order."""
    if settings.engine is Engine.LOCAL:
        return merge_parts([_local_part(log_set, ws, options, on_progress) for ws in log_set.web_servers], log_set)
    return merge_parts(_dask_parts(log_set, options, settings, on_progress, on_note), log_set)


def _local_part(log_set: LogSet, web_server: str, options: PartOptions, on_progress: OnProgress | None) -> PartResult:
    total = part_sizes(log_set).get(web_server, 0)
    progress = _reporting(web_server, total, on_progress, "") if on_progress else None
    result = reconstruct_part(log_set, web_server, options, progress)
    if on_progress is not None:
        on_progress(PartProgress(web_server, total, total, "", done=True))
    return result


def _reporting(web_server: str, total: int, send: Callable[[PartProgress], None],
               worker: str) -> Callable[[ReadStats, int], None]:
    def progress(stats: ReadStats, _records: int) -> None:
        send(PartProgress(web_server, stats.bytes_read, total, worker))
    return progress


def run_part(log_set: LogSet, web_server: str, options: PartOptions, topic: str, total: int) -> PartResult:
    """On a Dask worker: rebuild one part, sending its progress to the client as events on ``topic``."""
    from distributed import get_worker

    worker = get_worker()

    def send(p: PartProgress) -> None:
        worker.log_event(topic, {"web_server": p.web_server, "bytes_read": p.bytes_read, "bytes_total": p.bytes_total,
                                 "worker": p.worker})

    send(PartProgress(web_server, 0, total, worker.address))
    return reconstruct_part(log_set, web_server, options, _reporting(web_server, total, send, worker.address))


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise EngineError(f"--engine dask needs dask and distributed: {FLEET_EXTRA}") from None
    return distributed


def _dask_parts(log_set: LogSet, options: PartOptions, settings: EngineSettings, on_progress: OnProgress | None,
                on_note: OnNote | None) -> list[PartResult]:
    distributed = _import_distributed()
    streams = [p for p in log_set.paths if is_stream(p)]
    if streams:
        name = "standard input" if streams[0] == STDIN else streams[0]
        raise EngineError(f"--engine dask: {name} can be read only here, not by a worker; give files, or use "
                          "--engine local")
    sizes = part_sizes(log_set)
    # NOTE: the parts' own --jobs split is off on the workers: the parts are the parallelism there
    options = PartOptions(options.affinity_cookies, options.separator, options.lenient, 1, options.max_record_bytes)
    with _client(distributed, settings, on_note) as client:
        topic = f"{_TOPIC}-{uuid.uuid4().hex}"
        if on_progress is not None:
            def received(event: tuple[float, dict[str, Any]]) -> None:
                msg = event[1]
                on_progress(PartProgress(msg["web_server"], msg["bytes_read"], msg["bytes_total"], msg["worker"]))
            client.subscribe_topic(topic, received)  # type: ignore[no-untyped-call]
        run = f"tracelens-{uuid.uuid4().hex[:8]}"
        futures = [client.submit(run_part, log_set, ws, options, topic, sizes.get(ws, 0), key=f"{run}-part-{i}",
                                 retries=RETRIES, pure=False)
                   for i, ws in enumerate(log_set.web_servers)]
        by_key = {f.key: ws for f, ws in zip(futures, log_set.web_servers, strict=True)}
        for future in distributed.as_completed(futures, loop=client.loop):
            if on_progress is not None and future.status == "finished":
                ws = by_key[future.key]
                on_progress(PartProgress(ws, sizes.get(ws, 0), sizes.get(ws, 0), done=True))
        # the parts in the log set's order of web servers, whatever order they finished in
        try:
            results: list[PartResult] = client.gather(futures)  # type: ignore[no-untyped-call]
        except distributed.KilledWorker as exc:
            raise EngineError(f"the workers that ran a part died one after another; the scheduler gave up "
                              f"({_reason(exc)})") from None
        if on_progress is not None:
            client.unsubscribe_topic(topic)  # type: ignore[no-untyped-call]
        return results


@contextlib.contextmanager
def _client(distributed: Any, settings: EngineSettings, on_note: OnNote | None) -> Iterator[Client]:
    """A client of the running scheduler of ``settings``, or of a LocalCluster started here and closed after.

    NOTE: leaving the block closes the cluster it started also on Ctrl-C (KeyboardInterrupt) and on an
    error: its worker processes end with it, none is left behind.
    """
    # NOTE: the scheduler's and workers' log lines are theirs, not the user's: a part that fails comes back
    # as its exception, a worker that dies is rescheduled; and while the cluster started here closes (at the
    # end, or on Ctrl-C) its workers log, with tracebacks, that the scheduler went away first
    # (the scheduler logs a client that went away at CRITICAL, with its traceback: hence above CRITICAL)
    logging.getLogger("distributed").setLevel(_QUIET)
    # NOTE: how long to wait for the scheduler, and for --workers N to join it, is Dask's own setting
    # (distributed.comm.timeouts.connect, 30 s unless configured: DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s)
    import dask

    wait = dask.config.get("distributed.comm.timeouts.connect")
    with contextlib.ExitStack() as stack:
        if settings.scheduler:
            try:
                client = stack.enter_context(distributed.Client(settings.scheduler, timeout=wait,
                                                                set_as_default=False))
            except (OSError, TimeoutError, ValueError) as exc:
                raise EngineError(f"--scheduler {settings.scheduler}: cannot connect ({_reason(exc)})") from None
            if settings.workers:
                try:
                    client.wait_for_workers(settings.workers, timeout=wait)
                except (OSError, TimeoutError) as exc:
                    raise EngineError(f"--scheduler {settings.scheduler}: fewer than {settings.workers} worker(s) "
                                      f"joined in {wait} ({_reason(exc)})") from None
        else:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=settings.workers or _cores(), threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=_QUIET))
            client = stack.enter_context(distributed.Client(cluster, set_as_default=False))
            if on_note is not None:
                on_note(dashboard_note(client))
        yield client


#: a log level above every level distributed logs at
_QUIET = logging.CRITICAL + 1


def dashboard_note(client: Client) -> str:
    """Where the Dask dashboard of the cluster started is, or why there is none."""
    # NOTE: the dashboard needs bokeh, which tracelens does not pull in (it is large); Dask runs without it
    if importlib.util.find_spec("bokeh") is None:
        return "Dask dashboard: not available (it needs bokeh: pip install bokeh)"
    return f"Dask dashboard: {client.dashboard_link}"


def _cores() -> int:
    from tracelens import parallel

    return parallel.available_cores()


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__
