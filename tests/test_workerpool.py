"""crawler.workerpool: real spawned processes fed from an asyncio loop (no helper threads)."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from crawler.workerpool import SMALL_TASK, WorkerDied, WorkerPool

_state: dict[str, str] = {}


def _init(tag: str) -> None:
    _state["tag"] = tag


def _bad_init() -> None:
    raise OSError("database is gone")


def _echo(value: object) -> tuple[str, int, object]:
    return _state.get("tag", ""), os.getpid(), value


def _fail(message: str) -> None:
    raise ValueError(message)


def _die(code: int) -> None:
    os._exit(code)


def test_tasks_run_in_the_workers_with_their_initialiser() -> None:
    async def main() -> list[tuple[str, int, object]]:
        pool = WorkerPool(2, _init, ("ready",))
        try:
            return await asyncio.gather(*(pool.run(_echo, n) for n in range(12)))
        finally:
            pool.shutdown()

    threads = threading.active_count()
    results = asyncio.run(main())
    assert [value for _, _, value in results] == list(range(12))
    assert {tag for tag, _, _ in results} == {"ready"}
    pids = {pid for _, pid, _ in results}
    assert os.getpid() not in pids and len(pids) == 2
    assert threading.active_count() == threads  # no helper threads left behind (or started)


def test_errors_reach_the_caller_and_a_dead_worker_is_replaced() -> None:
    async def main() -> list[object]:
        pool = WorkerPool(1)
        try:
            return await asyncio.gather(
                pool.run(_echo, 1), pool.run(_fail, "bad page"), pool.run(_die, 3), pool.run(_echo, 4),
                return_exceptions=True,
            )
        finally:
            pool.shutdown()

    first, error, died, after = asyncio.run(main())
    assert isinstance(first, tuple) and first[2] == 1
    assert isinstance(error, ValueError) and str(error) == "bad page"
    assert isinstance(died, WorkerDied)
    assert isinstance(after, tuple) and after[2] == 4 and after[1] != first[1]  # a new process


def test_a_failing_initialiser_fails_each_task_clearly() -> None:
    async def main() -> object:
        pool = WorkerPool(1, _bad_init)
        try:
            return await pool.run(_echo, 1)
        finally:
            pool.shutdown()

    with pytest.raises(RuntimeError, match="worker initialisation failed: OSError"):
        asyncio.run(main())


def test_large_tasks_and_results_pass_whole() -> None:
    big = b"x" * (SMALL_TASK * 40)

    async def main() -> list[tuple[str, int, object]]:
        pool = WorkerPool(2)
        try:
            return await asyncio.gather(*(pool.run(_echo, big + bytes([n])) for n in range(5)))
        finally:
            pool.shutdown()

    assert [value[-1] for _, _, value in asyncio.run(main())] == list(range(5))  # type: ignore[index]


def test_shutdown_stops_the_processes() -> None:
    async def main() -> WorkerPool:
        pool = WorkerPool(2)
        await pool.run(_echo, 0)
        return pool

    pool = asyncio.run(main())
    pids = [w.pid for w in pool._workers]
    template = pool._template.handle.process
    assert all(pids) and template.is_alive()
    pool.shutdown()
    assert not template.is_alive()
    for pid in pids:  # exited and reaped by the template, not left as zombies
        assert not os.path.exists(f"/proc/{pid}")
    with pytest.raises(RuntimeError, match="shut down"):
        asyncio.run(pool.run(_echo, 1))


def _slow_init() -> None:
    import time

    time.sleep(1.5)


def test_a_large_task_waits_for_a_loaded_worker_without_holding_up_the_loop() -> None:
    """Sent while the worker still loads, a task larger than the pipe would block the loop."""
    big = b"y" * (SMALL_TASK * 100)

    async def main() -> tuple[object, float]:
        loop = asyncio.get_running_loop()
        pool = WorkerPool(1, _slow_init)
        gaps: list[float] = []

        async def ticker() -> None:
            last = loop.time()
            for _ in range(40):
                await asyncio.sleep(0.05)
                gaps.append(loop.time() - last)
                last = loop.time()

        try:
            ticking = asyncio.ensure_future(ticker())
            await asyncio.sleep(0.1)  # the ticker runs before the task is handed over
            result = await pool.run(_echo, big)
            await ticking
        finally:
            pool.shutdown()
        return result, max(gaps)

    result, longest_gap = asyncio.run(main())
    assert isinstance(result, tuple) and result[2] == big
    assert longest_gap < 0.5  # the loop kept running while the worker loaded


def _init_once(path: str) -> object:
    """Records the loading process; the returned callable runs in each worker as it exits."""
    with open(path, "a", encoding="ascii") as fh:
        fh.write(f"init {os.getpid()}\n")

    def finish() -> None:
        with open(path, "a", encoding="ascii") as fh:
            fh.write(f"exit {os.getpid()}\n")

    return finish


def _loaded_by(_: object) -> int:
    return os.getpid()


def test_workers_are_forked_from_one_loaded_template_and_run_its_finaliser(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "log"

    async def main() -> tuple[WorkerPool, list[int]]:
        pool = WorkerPool(3, _init_once, (str(log),))
        return pool, list(await asyncio.gather(*(pool.run(_loaded_by, n) for n in range(9))))

    pool, pids = asyncio.run(main())
    template = pool._template.handle.process.pid
    workers = {w.pid for w in pool._workers}
    pool.shutdown()
    lines = log.read_text(encoding="ascii").split("\n")
    assert lines.count(f"init {template}") == 1 and sum(line.startswith("init") for line in lines) == 1
    assert set(pids) <= workers and len(workers) == 3 and template not in workers
    assert {f"exit {pid}" for pid in workers} <= set(lines)  # each worker ran the finaliser


def test_an_unstarted_pool_loads_nothing_and_stops_at_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import time

    log = tmp_path / "log"
    pool = WorkerPool(2, _init_once, (str(log),), preload=("json",), start=False)
    template = pool._template.handle.process
    time.sleep(0.5)
    started = time.monotonic()
    pool.shutdown()
    assert time.monotonic() - started < 5
    assert not template.is_alive() and not pool._workers
    assert not log.exists()  # the initializer never ran


def _niceness(_: object) -> int:
    return os.nice(0)


def test_a_template_started_ahead_is_used_and_workers_yield_the_cpu_to_the_crawl() -> None:
    """The crawl's parent starts the template beside the crawl process (crawler.runner); the
    pool takes it over instead of spawning one, and its workers run at a lower priority."""
    from crawler.workerpool import WORKER_NICENESS, WorkerTemplate

    template = WorkerTemplate.spawn(("json",))
    assert template.process is not None

    async def main() -> tuple[WorkerPool, list[int]]:
        pool = WorkerPool(2, template=template)
        return pool, list(await asyncio.gather(*(pool.run(_niceness, n) for n in range(4))))

    pool, niceness = asyncio.run(main())
    assert pool._template.handle is template
    pool.shutdown()
    template.process.join(timeout=10)
    assert not template.process.is_alive()
    assert set(niceness) == {min(os.nice(0) + WORKER_NICENESS, 19)}


def _exit_template() -> None:
    os._exit(7)  # the template dies while loading (as if killed by the OOM killer)


def test_a_lost_template_is_replaced_and_one_that_keeps_dying_fails_tasks_instead_of_hanging() -> None:
    import signal
    import time

    async def killed_before_start() -> object:
        pool = WorkerPool(1, _init, ("again",), start=False)
        try:
            os.kill(pool._template.handle.pid, signal.SIGKILL)
            time.sleep(0.3)
            return await asyncio.wait_for(pool.run(_echo, 5), 60)
        finally:
            pool.shutdown()

    result = asyncio.run(killed_before_start())
    assert isinstance(result, tuple) and result[0] == "again" and result[2] == 5

    async def always_dying() -> list[object]:
        pool = WorkerPool(1, _exit_template)
        try:
            return [
                (await asyncio.wait_for(asyncio.gather(pool.run(_echo, n), return_exceptions=True), 60))[0]
                for n in range(6)
            ]
        finally:
            pool.shutdown()

    outcomes = asyncio.run(always_dying())
    assert all(isinstance(outcome, WorkerDied) for outcome in outcomes)
    assert "no worker left" in str(outcomes[-1])  # given up: told at once, not left waiting


def _sleep_echo(value: object) -> object:
    import time

    time.sleep(0.5)
    return value


def test_workers_and_template_end_quietly_when_the_crawl_process_dies() -> None:
    """Killed crawl process (out of memory, SIGKILL): its workers finish the page in hand, find
    nobody to answer and exit; the template reaps them and exits. No process left, no traceback."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    here = Path(__file__).resolve().parent
    script = (
        "import asyncio, os, sys\n"
        f"sys.path[:0] = [{str(here.parent)!r}, {str(here)!r}]\n"
        "from crawler.workerpool import WorkerPool\n"
        "from test_workerpool import _sleep_echo\n"
        "async def main():\n"
        "    pool = WorkerPool(2)\n"
        "    tasks = [asyncio.ensure_future(pool.run(_sleep_echo, n)) for n in range(6)]\n"
        "    while not all(w.pid for w in pool._workers):\n"
        "        await asyncio.sleep(0.05)\n"
        "    await asyncio.sleep(0.3)\n"
        "    print(pool._template.handle.pid, *(w.pid for w in pool._workers), flush=True)\n"
        "    os._exit(0)\n"
        "asyncio.run(main())\n"
    )
    crawl = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    pids = [int(p) for p in crawl.stdout.split()]
    assert len(pids) == 3, crawl.stderr

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 20
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, pids))
    assert "Traceback" not in crawl.stderr and "failed" not in crawl.stderr, crawl.stderr
