"""The scheduler process, run for real with second-level cron fields."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import json
from dataclasses import dataclass

from sqlalchemy import create_engine, text

from schedules.demo import write_sources
from schedules.demo_server import DemoServer
from store.db import sqlite_url
from tests.httpserver import serve_directory
from tests.pipeline_helpers import SECOND_BATCH, fresh_db, run_cli
from tests.test_delivery import Receiver, _Handler


def test_schedule_list_shows_persistent_jobs_in_shanghai_time(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    fresh_db(db)
    sources = tmp_path / "s.yaml"
    sources.write_text("sources: []\n")
    result = run_cli("--db", str(db), "schedule", "list", "--sources", str(sources))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sorted(line.split()[0] for line in lines) == ["alerts-retry", "hourly-poll", "nightly-crawl", "weekly-digest"]
    assert all("+08:00" in line for line in lines)
    by_id = {line.split()[0]: line for line in lines}
    assert "T02:00:00+08:00" in by_id["nightly-crawl"]
    assert ":00:00+08:00" in by_id["hourly-poll"] and "minute='0'" in by_id["hourly-poll"]
    assert "minute='*/10'" in by_id["alerts-retry"]
    engine = create_engine(sqlite_url(db))
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from apscheduler_jobs")).scalar() == 4
    engine.dispose()


def test_bad_cron_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    fresh_db(db)
    result = run_cli("--db", str(db), "schedule", "list", "--crawl", "every night")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("parkwatch: error: invalid cron expression")


def test_scheduler_runs_crawls_without_overlap_alerts_once_and_stops_on_sigterm(tmp_path: Path) -> None:
    """Crawls every 2 s of the sample site after the second-batch notice: one alert, delivered once
    (after the first crawl), never again; SIGTERM during a crawl lets that crawl finish."""
    db = tmp_path / "pw.db"
    db_url = fresh_db(db)
    receiver = Receiver()
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    hook.receiver = receiver  # type: ignore[attr-defined]
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    env = {**os.environ, "PARKWATCH_ALERT_URLS": f"json://127.0.0.1:{hook.server_address[1]}/hook"}
    with DemoServer() as server:
        server.set_phase(2)
        sources = write_sources(server.base_url, tmp_path / "sources.yaml")
        proc = subprocess.Popen(
            [sys.executable, "-m", "schedules.cli", "--db", str(db), "--data-dir", str(tmp_path),
             "schedule", "--sources", str(sources), "--crawl", "*/2 * * * * *", "--digest", "*/3 * * * * *"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        try:
            assert _wait(lambda: sum(r.finished_at is not None for r in _runs(db_url)) >= 2, 120), \
                "scheduler did not complete two crawls"
            assert list((tmp_path / "digests").glob("digest-*.md"))
            assert _wait(lambda: _runs(db_url)[-1].status == "running", 30)
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            out, err = proc.communicate(timeout=120)
    hook.shutdown()
    hook.server_close()
    assert proc.returncode == 0, err
    runs = _runs(db_url)
    assert len(runs) >= 3 and all(r.status == "ok" and r.finished_at is not None for r in runs)  # the last finished
    for earlier, later in zip(runs, runs[1:]):
        assert earlier.finished_at is not None and later.started_at >= earlier.finished_at  # never overlapping
    [message] = receiver.requests  # one notice names both parks; later crawls send nothing
    assert {p["name_zh"] for p in message.json()["parkwatch"]["parks"]} == SECOND_BATCH


# --------------------------------------------------------------------------- helpers for the tests below


def _start(db: Path, data: Path, sources: Path, *args: str, config: Path | None = None,
           env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "schedules.cli", "--db", str(db), "--data-dir", str(data)]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += ["schedule", "--sources", str(sources), "--digest", "0 0 1 1 *", "--poll", "0 0 1 1 *", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@dataclass
class Run:
    started_at: datetime
    finished_at: datetime | None
    status: str
    message: str | None
    sources: list[str]


def _runs(db_url: str) -> list[Run]:
    def utc(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc) if value else None

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("select started_at, finished_at, status, message, sources from crawl_runs order by id")).all()
    engine.dispose()
    return [Run(utc(r.started_at), utc(r.finished_at), r.status, r.message, json.loads(r.sources))  # type: ignore[arg-type]
            for r in rows]


def _wait(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


def _marked_processes(mark: str) -> list[int]:
    """Processes (ours) whose environment carries `mark`: a scheduler's children included."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _one_page_site(root: Path, site: Any, delay: float = 0.0) -> Path:
    site.add_route("/notice.html", "<html><body><p>" + "珠海发布工业互联网通知。" * 20 + "</p></body></html>",
                   content_type="text/html; charset=utf-8", delay=delay)
    sources = root / "sources.yaml"
    sources.write_text(f"sources:\n  - name: onepage\n    lang: zh\n    kind: page\n    priority: high\n"
                       f"    start_urls: ['{site.url('/notice.html')}']\n")
    return sources


# --------------------------------------------------------------------------- budgets, kills, catch-up


def test_a_hanging_crawl_is_killed_at_its_time_budget(tmp_path: Path) -> None:
    db_url = fresh_db(tmp_path / "pw.db")
    config = tmp_path / "pw.yaml"
    config.write_text("schedule:\n  crawl_budget_seconds: 4\n  kill_grace_seconds: 2\n")
    with serve_directory(tmp_path) as site:
        site.add_hang("/notice.html", seconds=120)
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"sources:\n  - name: hanging\n    lang: zh\n    kind: page\n"
                           f"    start_urls: ['{site.url('/notice.html')}']\n")
        started = time.monotonic()
        result = run_cli("--db", db_url, "--config", str(config), "schedule", "run", "nightly-crawl",
                         "--sources", str(sources), timeout=90)
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "killed after 6 s" in result.stdout
    assert elapsed < 40  # not the 120 s the page hangs for, nor Scrapy's 20 s download timeout on top
    [run] = _runs(db_url)
    assert run.status == "failed" and "time budget of 4 s" in run.message
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from source_locks")).scalar() == 0
    engine.dispose()


def test_sigkilled_scheduler_leaves_no_crawl_behind_and_a_restart_recovers(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    db_url = fresh_db(db)
    mark = f"PARKWATCH_TEST_MARK_{os.getpid()}_{time.monotonic_ns()}"
    with serve_directory(tmp_path) as site:
        sources = _one_page_site(tmp_path, site, delay=4)
        first = _start(db, tmp_path, sources, "--crawl", "*/2 * * * * *", env={**os.environ, mark: "1"})
        try:
            assert _wait(lambda: any(r.status == "running" for r in _runs(db_url)), 60), "no crawl started"
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)
        # the crawl's own processes notice their scheduler is gone and end themselves
        assert _wait(lambda: not _marked_processes(mark), 15), _marked_processes(mark)
        restarted_at = datetime.now(timezone.utc)
        second = _start(db, tmp_path, sources, "--crawl", "*/2 * * * * *")
        try:
            assert _wait(lambda: any(r.status == "ok" for r in _runs(db_url)), 90), _runs(db_url)
        finally:
            second.send_signal(signal.SIGTERM)
            out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    runs = _runs(db_url)
    killed = runs[0]
    assert killed.status == "failed" and killed.message == "interrupted: its process died"
    after = runs[1:]
    assert after and all(r.status == "ok" for r in after)
    assert all(r.started_at >= restarted_at for r in after)
    for earlier, later in zip(after, after[1:]):
        assert later.started_at >= earlier.finished_at  # never overlapping


def test_runs_missed_while_down_are_caught_up_once(tmp_path: Path) -> None:
    """Jobs stored (as `schedule list` or a running scheduler stores them), then the machine is off
    while three runs fall due: the next start runs the job once, not three times."""
    db = tmp_path / "pw.db"
    db_url = fresh_db(db)
    with serve_directory(tmp_path) as site:
        sources = _one_page_site(tmp_path, site)
        base = datetime.now(timezone.utc) + timedelta(seconds=10)
        seconds = sorted({(base + timedelta(seconds=i)).second for i in range(3)})
        cron = f"{','.join(map(str, seconds))} * * * * *"  # three runs in a row, then none for a minute
        listed = run_cli("--db", str(db), "--data-dir", str(tmp_path), "schedule", "list", "--sources", str(sources),
                         "--crawl", cron, "--digest", "0 0 1 1 *", "--poll", "0 0 1 1 *")
        assert listed.returncode == 0, listed.stderr
        assert datetime.now(timezone.utc) < base, "the machine was too slow to store the jobs in time"
        time.sleep(max(0.0, (base - datetime.now(timezone.utc)).total_seconds()) + 3.5)
        assert _runs(db_url) == []  # nothing ran while it was down
        second = _start(db, tmp_path, sources, "--crawl", cron)
        try:
            assert _wait(lambda: any(r.finished_at for r in _runs(db_url)), 60)
            time.sleep(3)  # room for any further (wrong) catch-up runs
        finally:
            second.send_signal(signal.SIGTERM)
            second.communicate(timeout=120)
    runs = _runs(db_url)
    assert len(runs) == 1 and runs[0].status == "ok"  # three missed runs, one catch-up


def test_job_store_never_holds_a_database_password(tmp_path: Path) -> None:
    from schedules.config import Config
    from schedules.jobs import resolve_db
    from schedules.scheduler import job_specs

    real = "postgresql+psycopg://watch:S3cretPw@db.internal/parkwatch"
    specs = job_specs(Config(db_url=real, sources=tmp_path / "s.yaml", data_dir=tmp_path))
    mine = [s for s in specs if s.func != "schedules.jobs:digest_job"]
    assert {s.id for s in mine} == {"nightly-crawl", "hourly-poll", "alerts-retry"}
    for spec in mine:
        assert "S3cretPw" not in repr(spec.kwargs)
        assert resolve_db(spec.kwargs["db_url"]) == real  # the scheduler process still knows it


def test_digest_job_reads_the_same_config_file_and_stores_no_db_password(tmp_path: Path) -> None:
    from dataclasses import replace

    from schedules.config import load_config
    from schedules.scheduler import job_specs

    f = tmp_path / "pw.yaml"
    f.write_text("digest:\n  recipients: [analyst@example.org]\n", encoding="utf-8")
    cfg = replace(load_config(f, env={}), db_url="postgresql://pw:s3cret@db.internal/parkwatch")
    specs = {s.id: s for s in job_specs(cfg)}
    digest = specs["weekly-digest"].kwargs
    assert digest["config_file"] == str(f.resolve())
    assert all("s3cret" not in str(spec.kwargs) for spec in specs.values())
