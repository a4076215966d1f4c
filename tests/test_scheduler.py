"""The scheduler process, run for real with second-level cron fields."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from schedules.demo import write_sources
from schedules.demo_server import DemoServer
from store.db import sqlite_url
from tests.pipeline_helpers import fresh_db, run_cli


def test_schedule_list_shows_persistent_jobs_in_shanghai_time(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    fresh_db(db)
    sources = tmp_path / "s.yaml"
    sources.write_text("sources: []\n")
    result = run_cli("--db", str(db), "schedule", "list", "--sources", str(sources))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["nightly-crawl", "weekly-digest"] or \
        sorted(line.split()[0] for line in lines) == ["nightly-crawl", "weekly-digest"]
    assert all("+08:00" in line for line in lines)
    crawl_line = next(line for line in lines if line.startswith("nightly-crawl"))
    assert "T02:00:00+08:00" in crawl_line
    engine = create_engine(sqlite_url(db))
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from apscheduler_jobs")).scalar() == 2
    engine.dispose()


def test_bad_cron_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    fresh_db(db)
    result = run_cli("--db", str(db), "schedule", "list", "--crawl", "every night")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("parkwatch: error: invalid cron expression")


def test_scheduler_runs_crawls_without_overlap_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    db_url = fresh_db(db)
    with DemoServer() as server:
        sources = write_sources(server.base_url, tmp_path / "sources.yaml")
        proc = subprocess.Popen(
            [sys.executable, "-m", "schedules.cli", "--db", str(db), "--data-dir", str(tmp_path),
             "schedule", "--sources", str(sources), "--crawl", "*/2 * * * * *", "--digest", "*/3 * * * * *"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        engine = create_engine(db_url)
        try:
            deadline = time.monotonic() + 90
            finished = 0
            while time.monotonic() < deadline and finished < 2:
                time.sleep(1)
                with engine.connect() as conn:
                    finished = conn.execute(
                        text("select count(*) from crawl_runs where finished_at is not null")).scalar()
            assert finished >= 2, "scheduler did not complete two crawls"
            assert list((tmp_path / "digests").glob("digest-*.md"))
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        with engine.connect() as conn:
            runs = conn.execute(text("select started_at, finished_at, status from crawl_runs order by id")).all()
        engine.dispose()
    done = [r for r in runs if r.finished_at is not None]
    assert all(r.status == "ok" for r in done)
    for earlier, later in zip(runs, runs[1:]):
        assert earlier.finished_at is not None and later.started_at >= earlier.finished_at  # never overlapping
