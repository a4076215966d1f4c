"""Worker processes fed straight from the crawl's event loop.

``concurrent.futures.ProcessPoolExecutor`` moves every task through two helper threads of the
calling process (a queue feeder that pickles, a manager that unpickles results and wakes the
loop). In the crawl process those threads compete with Scrapy's reactor for the GIL on every
page: measured on the loopback benchmark, they cost the crawl process about as much CPU per page
as half of the no-op spider's whole work, and while the reactor was busy downloading they
starved, leaving the workers idle. Here each worker has one pipe; the loop pickles and sends a
task when the worker has room (at most :data:`DEPTH` in flight, so a send never waits on a full
pipe for long), and reads the result when the pipe is readable. No threads.

A worker that dies (killed, out of memory, a crash in a C extension) fails only the task it was
running, with :class:`WorkerDied`; a fresh worker takes its place, gets the tasks that were
queued behind it, and the crawl goes on.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Any

logger = logging.getLogger(__name__)

#: Tasks sent to one worker before its first result is back: one running, one waiting in the pipe.
DEPTH = 2
#: A task larger than this (pickled bytes; a notice with its attachments) goes only to an idle
#: worker that has finished loading: queued behind a running task, or sent while the worker is
#: still initialising, it could fill the pipe, and the send would then hold up the event loop
#: until the worker reads it.
SMALL_TASK = 32 * 1024
#: Seconds a worker gets to finish and exit at shutdown before it is terminated.
SHUTDOWN_GRACE = 30.0
#: Replacement workers started per pool slot before the pool gives up (workers that die at
#: once, e.g. out of memory at start-up, must not be respawned forever).
MAX_RESPAWNS = 3


class WorkerDied(Exception):
    """The worker process running a task exited before answering."""


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    pending: deque[tuple[bytes, asyncio.Future[Any]]] = field(default_factory=deque)  # sent, unanswered
    alive: bool = True
    ready: bool = False  # initialised: it said so on the pipe
    watched: asyncio.AbstractEventLoop | None = None


class WorkerPool:
    """``size`` spawned processes, each running ``initializer(*initargs)`` once, then tasks."""

    def __init__(self, size: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()):
        if size < 1:
            raise ValueError("a worker pool needs at least one process")
        self._context = multiprocessing.get_context("spawn")
        self._initializer, self._initargs = initializer, initargs
        self._queue: deque[tuple[bytes, asyncio.Future[Any]]] = deque()
        self._closed = False
        self._respawns_left = MAX_RESPAWNS * size
        # Spawned now: each spends seconds importing and loading before its first task.
        self._workers = [self._spawn() for _ in range(size)]

    def _spawn(self) -> _Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main, args=(theirs, self._initializer, self._initargs), name="parkwatch-worker", daemon=True
        )
        process.start()
        theirs.close()
        worker = _Worker(process, ours)
        try:  # hear its "initialised" even before the first task is sent
            self._watch(worker, asyncio.get_running_loop())
        except RuntimeError:  # no loop running yet: watched at the first task
            pass
        return worker

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` in a worker (``fn`` and ``args`` picklable); its result or error."""
        if self._closed:
            raise RuntimeError("the worker pool is shut down")
        data = bytes(ForkingPickler.dumps((fn, args)))
        loop = asyncio.get_running_loop()
        for worker in self._workers:  # pools built outside the loop are watched from here on
            if worker.alive:
                self._watch(worker, loop)
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((data, future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        while self._queue:
            data, future = self._queue[0]
            if future.done():  # cancelled while waiting
                self._queue.popleft()
                continue
            small = len(data) <= SMALL_TASK
            room = [
                w for w in self._workers
                if w.alive and (len(w.pending) < DEPTH if small else (w.ready and not w.pending))
            ]
            if not room:
                return
            worker = min(room, key=lambda w: len(w.pending))
            self._queue.popleft()
            try:
                worker.conn.send_bytes(data)
            except (OSError, ValueError) as exc:  # broken pipe: the worker is gone
                self._queue.appendleft((data, future))
                self._lost(worker, f"cannot send to worker: {exc!r}")
                continue  # to a live or fresh worker; with none left, _lost failed the queue
            worker.pending.append((data, future))

    def _watch(self, worker: _Worker, loop: asyncio.AbstractEventLoop) -> None:
        if worker.watched is None:
            loop.add_reader(worker.conn.fileno(), self._on_readable, worker)
            worker.watched = loop

    def _on_readable(self, worker: _Worker) -> None:
        try:
            ok, value = worker.conn.recv()
        except (EOFError, OSError) as exc:
            self._lost(worker, f"worker process exited ({worker.process.exitcode}): {exc!r}")
            self._dispatch()
            return
        if ok is None:  # "initialised"
            worker.ready = True
        elif worker.pending:
            _, future = worker.pending.popleft()
            if not future.done():
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        self._dispatch()

    def _lost(self, worker: _Worker, reason: str) -> None:
        """Fail the task the dead worker was running, put a fresh worker in its place, carry on.

        A worker answers in order, so only the first unanswered task can have been running;
        the ones queued behind it in the pipe were never started and go to the next worker."""
        worker.alive = False
        if worker.watched is not None:
            worker.watched.remove_reader(worker.conn.fileno())
        worker.conn.close()
        worker.process.join(timeout=1)
        if worker.pending:
            _, running = worker.pending.popleft()
            if not running.done():
                running.set_exception(WorkerDied(reason))
        while worker.pending:
            self._queue.appendleft(worker.pending.pop())
        if self._closed:
            return
        if self._respawns_left <= 0:
            logger.error("Crawl worker lost (%s); too many lost, giving up", reason)
            if not any(w.alive for w in self._workers):
                while self._queue:
                    future = self._queue.popleft()[1]
                    if not future.done():
                        future.set_exception(WorkerDied(f"no worker left: {reason}"))
            return
        self._respawns_left -= 1
        logger.warning("Crawl worker lost (%s); starting another", reason)
        self._workers[self._workers.index(worker)] = self._spawn()

    def shutdown(self) -> None:
        """Let the workers finish what they hold and exit (terminated after a grace period);
        tasks still queued are cancelled."""
        if self._closed:
            return
        self._closed = True
        while self._queue:
            self._queue.popleft()[1].cancel()
        for worker in self._workers:
            if worker.watched is not None and worker.alive:
                worker.watched.remove_reader(worker.conn.fileno())
            if worker.alive:
                try:
                    worker.conn.send(None)
                except (OSError, ValueError):
                    pass
        for worker in self._workers:
            worker.process.join(timeout=SHUTDOWN_GRACE)
            if worker.process.is_alive():
                logger.warning("Crawl worker %s did not exit; terminating it", worker.process.pid)
                worker.process.terminate()
                worker.process.join(timeout=5)
            worker.conn.close()
            for _, future in worker.pending:
                future.cancel()


def _worker_main(conn: Connection, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """A worker's life: initialise once, then answer tasks in order until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle; it stops us
    failure: BaseException | None = None
    if initializer is not None:
        try:
            initializer(*initargs)
        except BaseException as exc:  # noqa: BLE001 - every task will report it
            failure = RuntimeError(f"worker initialisation failed: {exc!r}")
    conn.send((None, None))  # initialised (or failed: the tasks will say so)
    while True:
        try:
            call = conn.recv()
        except (EOFError, OSError):
            return
        if call is None:
            return
        if failure is not None:
            conn.send((False, failure))
            continue
        fn, args = call
        try:
            result: tuple[bool, Any] = (True, fn(*args))
        except BaseException as exc:  # noqa: BLE001 - the caller gets it
            result = (False, exc)
        try:
            conn.send(result)
        except Exception as exc:  # noqa: BLE001 - e.g. an exception that does not pickle
            conn.send((False, RuntimeError(f"{type(result[1]).__name__}: {result[1]!r} ({exc!r})")))
