"""Source locks: in one process against a real SQLite file, and two real crawl processes at once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from schedules import locks
from store.db import make_engine, session_factory
from store.types import utcnow
from tests.httpserver import serve_directory
from tests.pipeline_helpers import fresh_db

TTL = timedelta(minutes=5)


def test_a_locked_source_is_refused_until_released_or_expired(tmp_path: Path) -> None:
    engine = make_engine(fresh_db(tmp_path / "pw.db"))
    sessions = session_factory(engine)
    a, b = locks.new_holder(), locks.new_holder()
    assert locks.acquire(sessions, ["gdii", "newsgd"], a, TTL) == ["gdii", "newsgd"]
    assert locks.acquire(sessions, ["gdii", "southcn"], b, TTL) == ["southcn"]
    locks.release(sessions, ["gdii"], b)  # not b's lock: nothing happens
    assert locks.holders(sessions)["gdii"] == a
    locks.release(sessions, ["gdii"], a)
    assert locks.acquire(sessions, ["gdii"], b, TTL) == ["gdii"]
    later = utcnow() + TTL + timedelta(seconds=1)
    assert locks.acquire(sessions, ["newsgd"], b, TTL, now=later) == ["newsgd"]  # a's lock expired
    engine.dispose()


def test_a_lock_held_by_a_dead_process_on_this_host_is_taken_over(tmp_path: Path) -> None:
    engine = make_engine(fresh_db(tmp_path / "pw.db"))
    sessions = session_factory(engine)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = locks.new_holder().replace(f":{os.getpid()}:", f":{child.pid}:")
    assert locks.acquire(sessions, ["gdii"], dead, TTL) == ["gdii"]
    alive = locks.new_holder()
    assert locks.acquire(sessions, ["gdii"], alive, TTL) == ["gdii"]
    assert locks.holders(sessions) == {"gdii": alive}
    engine.dispose()


def test_two_processes_never_crawl_one_source_at_once(tmp_path: Path) -> None:
    """Two hourly polls at once: one crawls the high-priority source, the other finds it locked;
    the normal-priority source is left for the nightly crawl."""
    db_url = fresh_db(tmp_path / "pw.db")
    with serve_directory(tmp_path) as site:
        site.add_route("/slow.html", "<html><body><p>" + "慢页面。" * 40 + "</p></body></html>",
                       content_type="text/html; charset=utf-8", delay=6)
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"sources:\n  - name: slowsite\n    lang: zh\n    kind: page\n    priority: high\n"
                           f"    start_urls: ['{site.url('/slow.html')}']\n"
                           f"  - name: everyday\n    lang: zh\n    kind: page\n"
                           f"    start_urls: ['{site.url('/other.html')}']\n")
        cmd = [sys.executable, "-m", "schedules.cli", "--db", db_url, "schedule", "run", "hourly-poll",
               "--sources", str(sources)]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert not site.requested("/other.html")
    assert all(p.returncode == 0 for p in procs), outs
    stdout = [o for o, _ in outs]
    assert sum("crawl skipped: slowsite being crawled by another process" in o for o in stdout) == 1, stdout
    engine = create_engine(db_url)
    with engine.connect() as conn:
        runs = conn.execute(text("select status, sources from crawl_runs")).all()
        held = conn.execute(text("select count(*) from source_locks")).scalar()
    engine.dispose()
    assert len(runs) == 1 and runs[0].status in ("ok", "errors") and runs[0].sources == '["slowsite"]'
    assert held == 0  # released after the crawl
