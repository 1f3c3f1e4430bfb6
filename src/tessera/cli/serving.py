"""What ``tessera serve`` runs: the server, in one process or in several over one port (the
options are in ``tessera.cli.serve``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import fcntl
import functools
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from aiohttp import web

from tessera.api.connections import CUT_WAIT_SECONDS, Listener
from tessera.cli.runtime import blobs_url, describe_url, metadata_url, open_storage
from tessera.core.access import ensure_root_key
from tessera.core.collector import collect
from tessera.core.jobs import holder_name, run_claimable
from tessera.core.lifecycle.runs import LifecycleBusy, run_logged
from tessera.core.lifecycle.schedule import LifecycleSchedule
from tessera.core.processes import process_exists
from tessera.core.restore_policy import RestoreTiming, parse_delays
from tessera.core.storage import Storage

COLLECT_EVERY_SECONDS = 600
JOBS_EVERY_SECONDS = 1.0  # how soon a console job (Delete All) starts or is resumed
WORKER_MIN_LIFE = 2.0  # a worker that dies sooner than this after starting died "at start"
MAX_QUICK_DEATHS = 5
# Per-connection receive buffer: large enough that a streaming upload does not pause and resume
# the socket every 128 KiB, small enough that a slow disk holds back at most 512 KiB a connection.
READ_BUFFER = 256 * 1024
METRICS_PREFIX = "tessera-metrics-"  # then the server's process ID
BACKLOG = 1024
KEEPALIVE_SECONDS = 75.0  # an idle keep-alive connection is closed after this (as web.run_app did)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
KILL_AFTER_GRACE = 5.0  # a worker still running this long after its grace period is killed
LOCK_FILE = "serve.lock"  # in the data directory, while a server with SQLite metadata runs
AppFactory = Callable[[Storage], web.Application]


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sock = _bind(args.host, args.port, share=_shares_port(args))
        if _shares_port(args):
            _claim_port(args.host, sock.getsockname()[1])
        claim = _claim_data_directory(args)
    except ServeRefused as refused:
        print(f"tessera serve: {refused}", file=sys.stderr, flush=True)
        return 1
    host, port = sock.getsockname()[:2]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    if claim is not None:
        claim.record(url)
    asyncio.run(_prepare(args))
    if not _shares_port(args):
        sock.listen(BACKLOG)  # connections queue here until a worker accepts them
    sock.set_inheritable(True)

    def announce() -> None:
        print(f"Tessera listening on {url} "
              f"(data: {os.path.abspath(args.data_dir)}, metadata: {describe_url(metadata_url(args))}, "
              f"blobs: {blobs_url(args)}, "
              f"workers: {args.workers})", flush=True)

    with _metrics_directory():
        # Imported only now (see _metrics_directory), and here, so that forked workers inherit it.
        from tessera.api.server import ServerOptions, make_app
        from tessera.console.app import ConsoleOptions
        from tessera.console.sessions import SessionPolicy

        console = ConsoleOptions(
            sessions=SessionPolicy(idle_ms=int(args.console_idle_timeout * 1000),
                                   absolute_ms=int(args.console_session_lifetime * 1000)),
            lifecycle_schedule=LifecycleSchedule(args.lifecycle_at, args.lifecycle_every))
        options = ServerOptions(region=args.region, base_domain=args.domain, metrics_token=args.metrics_token or None,
                                console=console)
        app_for = functools.partial(make_app, options=options)
        if args.workers <= 1:
            announce()
            _serve_worker(args, sock, 0, app_for)
            return 0
        return _supervise(args, sock, app_for, announce)


class ServeRefused(Exception):
    """The server cannot start here; the message says why, in one line."""


def _shares_port(args: argparse.Namespace) -> bool:
    """Whether each worker listens on a socket of its own, bound to the same port
    (SO_REUSEPORT), so that the kernel spreads new connections over the workers. On one socket
    shared by all, the worker that woke first took every connection waiting: a client pool's
    eight connections, opened at once, all landed on one worker while the other idled. The
    supervisor's socket then only holds the port (bound, never listening)."""
    return args.workers > 1 and hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith("linux")


def _bind(host: str, port: int, *, share: bool = False) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = "the address is already in use (another server listens there)" \
            if error.errno == errno.EADDRINUSE else (error.strerror or str(error))
        raise ServeRefused(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


_port_claims: list[socket.socket] = []  # held for as long as the process runs


def _claim_port(host: str, port: int) -> None:
    """Sockets that share a port with SO_REUSEPORT let any process of the same user join them:
    a second ``tessera serve`` on this address is refused by a name only one process can hold
    (an abstract Unix socket, gone with the process however it ends)."""
    claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        claim.bind(f"\0tessera-serve {host} {port}")
    except OSError as error:
        claim.close()
        if error.errno != errno.EADDRINUSE:
            raise
        raise ServeRefused(f"cannot listen on {host}:{port}: the address is already in use "
                           "(another server listens there)") from None
    _port_claims.append(claim)


class _DataDirectoryClaim:
    """An exclusive lock on the data directory, held (and inherited by the workers) for as
    long as the server runs, and released by the system however it ends."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def record(self, url: str) -> None:
        """Say who holds it, for the message a second server prints."""
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()} {url}\n".encode(), 0)


def _claim_data_directory(args: argparse.Namespace) -> _DataDirectoryClaim | None:
    """With SQLite metadata a data directory has one server (which may have several workers):
    a second ``tessera serve`` on it is refused before it touches anything. With PostgreSQL,
    servers sharing the metadata (and the data directory) is how gateways scale: no claim."""
    if not metadata_url(args).startswith("sqlite"):
        return None
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").split()
        os.close(fd)
        who = f" (pid {holder[0]}, {holder[1]})" if len(holder) == 2 else ""
        raise ServeRefused(f"the data directory {data_dir} is in use by another tessera serve{who}; with "
                           "SQLite metadata one server serves a data directory: stop it, or give it more "
                           "--workers") from None
    return _DataDirectoryClaim(fd)


@contextlib.contextmanager
def _metrics_directory() -> Iterator[None]:
    """A fresh private PROMETHEUS_MULTIPROC_DIR for the request metrics of every worker, removed
    when the server stops; one a killed server left behind (its process ID is in the name) is
    removed when the next one starts. prometheus_client decides when it is first imported whether
    its values live in the process or in that directory's files, so nothing may import it before
    this runs: the server module (which does) is imported inside it."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set")
    _remove_orphaned_metrics_directories()
    directory = tempfile.mkdtemp(prefix=f"{METRICS_PREFIX}{os.getpid()}-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _remove_orphaned_metrics_directories() -> None:
    for leftover in Path(tempfile.gettempdir()).glob(f"{METRICS_PREFIX}*-*"):
        owner = leftover.name.removeprefix(METRICS_PREFIX).split("-")[0]
        if owner.isdigit() and not process_exists(int(owner)):
            shutil.rmtree(leftover, ignore_errors=True)


async def _prepare(args: argparse.Namespace) -> None:
    """Migrate the metadata and make sure a key exists — once, before any worker starts."""
    storage = await open_storage(args, region=args.region)
    try:
        bootstrap = await ensure_root_key(
            storage, os.environ.get("OSS_ACCESS_KEY_ID"), os.environ.get("OSS_ACCESS_KEY_SECRET")
        )
    finally:
        await storage.db.close()
    if bootstrap.generated:
        key = bootstrap.generated
        print("Generated the root access key (shown only this once):", flush=True)
        print(f"  OSS_ACCESS_KEY_ID={key.access_key_id}", flush=True)
        print(f"  OSS_ACCESS_KEY_SECRET={key.secret}", flush=True)
    elif bootstrap.imported:
        print(f"Added access key {bootstrap.imported} from OSS_ACCESS_KEY_ID.", flush=True)


def _supervise(args: argparse.Namespace, sock: socket.socket, app_for: AppFactory,
               announce: Callable[[], None]) -> int:
    """Run ``args.workers`` processes on the port and replace any that dies, until told to
    stop (SIGTERM, SIGINT): then close the socket, pass the signal on to every worker and wait
    for them to finish their requests. ``announce`` is called once every first worker listens.
    A worker that keeps dying at start (a broken configuration) stops the server."""
    from prometheus_client import multiprocess  # after _metrics_directory: see there

    log = logging.getLogger("tessera.supervisor")
    context = multiprocessing.get_context("fork")
    stopping = False
    # A signal wakes the wait below at once: its handler runs only between two waits.
    wake_up, woken = os.pipe()
    os.set_blocking(wake_up, False)
    os.set_blocking(woken, False)
    signal.set_wakeup_fd(woken)

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start(index: int, *, first: bool = False) -> Any:
        # A first worker says when it listens (the server is announced once they all do).
        ready, says_ready = context.Pipe(duplex=False) if first else (None, None)
        worker = context.Process(target=_serve_worker, args=(args, sock, index, app_for, says_ready),
                                 daemon=False)
        # Blocked across the fork, the worker unblocks them once its own handlers are in place.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            worker.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        if says_ready is not None:
            says_ready.close()
        worker.started_at = time.monotonic()
        worker.ready = ready
        return worker

    workers = {index: start(index, first=True) for index in range(args.workers)}
    listening = {w.ready for w in workers.values()}  # the pipes of first workers not listening yet
    quick_deaths = 0
    while not stopping:
        readable = multiprocessing.connection.wait(
            [w.sentinel for w in workers.values()] + [wake_up] + list(listening), timeout=1.0)
        with contextlib.suppress(BlockingIOError):
            os.read(wake_up, 512)
        for pipe in set(readable) & set(listening):
            with contextlib.suppress(EOFError):  # a worker that died before listening
                pipe.recv()
            pipe.close()
            listening.discard(pipe)
            if not listening:
                announce()
        for index, worker in list(workers.items()):
            if worker.is_alive() or stopping:
                continue
            quick_deaths = quick_deaths + 1 if time.monotonic() - worker.started_at < WORKER_MIN_LIFE else 0
            if quick_deaths > MAX_QUICK_DEATHS:
                log.error("workers keep dying at start; stopping")
                stopping = True
                break
            log.warning("worker %d (pid %s) exited with %s; starting a new one", index, worker.pid, worker.exitcode)
            # Drops only per-process gauges; its counters stay in the directory and in the totals.
            multiprocess.mark_process_dead(worker.pid)
            workers[index] = start(index)
    sock.close()  # the workers close theirs as they start draining: then connections are refused
    for worker in workers.values():
        if worker.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
    deadline = time.monotonic() + args.shutdown_grace + KILL_AFTER_GRACE
    for worker in workers.values():
        worker.join(max(0.0, deadline - time.monotonic()))
    stuck = [worker for worker in workers.values() if worker.is_alive()]
    for worker in stuck:
        log.error("worker pid %s still runs %.0f s after the grace period; killing it", worker.pid, KILL_AFTER_GRACE)
        worker.kill()
        worker.join()
    return 1 if quick_deaths > MAX_QUICK_DEATHS or stuck else 0


def _serve_worker(args: argparse.Namespace, sock: socket.socket, index: int, app_for: AppFactory,
                  ready: Any = None) -> None:
    """Serve until SIGTERM or SIGINT, then drain (``Listener.drain``) and close the storage."""
    # A signal that arrives before the event loop listens for it still stops the server (and, in
    # a worker, is not taken for one to the supervisor, whose handlers the fork copied).
    early: list[int] = []
    signal.set_wakeup_fd(-1)
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda signum, _frame: early.append(signum))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    asyncio.run(_serve(args, sock, index, app_for, early, ready))
    for signum in STOP_SIGNALS:  # stopped: a late signal must not cut the exit short
        signal.signal(signum, signal.SIG_IGN)
    sys.stdout.flush()


async def _serve(args: argparse.Namespace, sock: socket.socket, index: int, app_for: AppFactory,
                 early: list[int], ready: Any) -> None:
    log = logging.getLogger("tessera.server")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    if early:
        stop.set()
    storage = await open_storage(args, region=args.region, migrate=False)
    storage.restore = RestoreTiming(parse_delays(args.restore_delay), args.restore_day)
    app = app_for(storage)

    async def background(app: web.Application) -> Any:
        schedule = LifecycleSchedule(args.lifecycle_at, args.lifecycle_every)
        tasks = [asyncio.create_task(_collect_forever(storage)),
                 asyncio.create_task(_lifecycle_forever(storage, schedule))] if index == 0 else []
        tasks.append(asyncio.create_task(_jobs_forever(storage)))  # in every worker: any may run a job
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await storage.drain()
        await storage.db.close()

    app.cleanup_ctx.append(background)
    # The runner starts and cleans up the application (the storage is closed last, once no
    # request runs); the listener owns the socket and the connections.
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=CUT_WAIT_SECONDS, access_log=None,
                           read_bufsize=READ_BUFFER, keepalive_timeout=KEEPALIVE_SECONDS)
    await runner.setup()
    try:
        assert runner.server is not None
        listener = Listener(runner.server)
        if _shares_port(args):
            sock = _bind(args.host, sock.getsockname()[1], share=True)  # this worker's own
            sock.listen(BACKLOG)
        await listener.listen(sock, backlog=BACKLOG)
        if ready is not None:  # tell the supervisor
            ready.send(True)
            ready.close()
        await stop.wait()
        busy = sum(not c.idle for c in listener.connections)
        log.info("stopping (pid %d): no new connections; %d busy, up to %g s to finish",
                 os.getpid(), busy, args.shutdown_grace)
        started = loop.time()
        cut = await listener.drain(args.shutdown_grace)
        if cut:
            log.warning("grace period over: cut %d connection(s) still busy", cut)
        log.info("stopped (pid %d) after %.2f s", os.getpid(), loop.time() - started)
    finally:
        await runner.cleanup()


async def _lifecycle_forever(storage: Any, schedule: LifecycleSchedule) -> None:
    """Run the lifecycle rules on the schedule. Every gateway does this; the lease in the
    metadata store lets one act at a time, and a run after another finds nothing left to do."""
    log = logging.getLogger("tessera.lifecycle")
    while True:
        await asyncio.sleep(schedule.seconds_until_next(time.time()))
        try:
            run_id, report = await run_logged(storage, now_ms=storage.clock(), trigger="schedule")
            log.info("lifecycle run %d: %d action(s), %d error(s)", run_id,
                     sum(o.matched for o in report.outcomes), len(report.errors))
        except LifecycleBusy as busy:
            log.info("lifecycle run skipped: %s", busy.message)
        except Exception:
            log.exception("lifecycle run failed; it will run again at the next scheduled time")


async def _collect_forever(storage: Any) -> None:
    log = logging.getLogger("tessera.collector")
    while True:
        try:
            await collect(storage)
        except Exception:
            log.exception("collector run failed; retrying later")
        await asyncio.sleep(COLLECT_EVERY_SECONDS)


async def _jobs_forever(storage: Any) -> None:
    """Run the console's jobs (tessera.core.jobs): new ones, and those whose holder died."""
    log = logging.getLogger("tessera.jobs")
    holder = holder_name()
    while True:
        try:
            await run_claimable(storage, holder)
        except Exception:
            log.exception("could not look for console jobs; trying again shortly")
        await asyncio.sleep(JOBS_EVERY_SECONDS)
