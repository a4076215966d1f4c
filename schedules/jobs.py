"""Scheduled job bodies. Module-level functions with plain arguments, because APScheduler's
persistent job store pickles a reference to the function and its arguments."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import multiprocessing
import os
import signal
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from crawler.settings import CrawlSettings
from crawler.sources import load_sources
from schedules import locks
from schedules.config import AlertsConfig
from schedules.crawl import run_crawl_job
from store.db import make_engine, session_factory
from store.models import CrawlRun
from store.types import utcnow
from schedules.config import load_config
from schedules.digest_job import run_weekly

log = logging.getLogger("parkwatch.jobs")


#: Real database URLs by their password-masked form: the job store (a table in that database) keeps
#: only the masked form; the scheduler process registers the real one before it starts.
_DATABASES: dict[str, str] = {}


def job_db_url(db_url: str) -> str:
    """The form of `db_url` stored with a job: its password (if any) masked, registered here."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.password is None:
        return db_url
    masked = url.render_as_string(hide_password=True)
    _DATABASES[masked] = db_url
    return masked


def resolve_db(db_url: str) -> str:
    """The real URL for a stored one (unchanged when it had no password)."""
    return _DATABASES.get(db_url, db_url)


def crawl_job(db_url: str, sources: str, contact: str = "", download_delay: float = 0.5,
              priority: str | None = None, budget_seconds: float | None = None,
              kill_grace_seconds: float = 120.0, alerts: dict[str, Any] | None = None,
              workers: int | None = None, kb_dir: str | None = None) -> str:
    """Crawl the sources no other process is crawling, within a time budget, then deliver alerts.

    Sources are locked in the database first (see schedules/locks.py); the crawl runs in a child
    process of its own process group, stopped by Scrapy at `budget_seconds` and killed, with its
    own crawl child, at budget + grace if it has not finished by then.
    """
    db_url = resolve_db(db_url)
    names = [s.name for s in load_sources(sources) if s.enabled and (priority is None or s.priority == priority)]
    if not names:
        return _say("crawl: no enabled sources" + (f" of priority {priority}" if priority else ""))
    deadline = (budget_seconds + kill_grace_seconds) if budget_seconds else None
    ttl = timedelta(seconds=(deadline or 24 * 3600) + 60)
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    holder = locks.new_holder()
    try:
        taken_over: list[str] = []
        got = locks.acquire(sessions, names, holder, ttl, taken_over=taken_over)
        busy = [n for n in names if n not in got]
        if not got:
            return _say(f"crawl skipped: {', '.join(busy)} being crawled by another process")
        _fail_abandoned_runs(sessions, got, taken_over, ttl)
        settings = CrawlSettings(contact=contact, download_delay=download_delay, log_level="ERROR",
                                 time_budget_seconds=budget_seconds, workers=workers)
        started = utcnow()
        outcome = _run_guarded(db_url, sources, settings, got, alerts, deadline, kb_dir)
        if outcome is None:
            _fail_running(sessions, got, started, f"killed after its time budget of {budget_seconds:.0f} s "
                                                  f"plus {kill_grace_seconds:.0f} s grace")
            outcome = f"crawl of {', '.join(got)} killed after {deadline:.0f} s"
        if busy:
            outcome += f"; skipped {', '.join(busy)} (being crawled by another process)"
        return _say(outcome)
    finally:
        locks.release(sessions, names, holder)
        engine.dispose()


def deliver_alerts_job(db_url: str, alerts: dict[str, Any] | None = None) -> str:
    """Deliver alerts that are due: new ones a crawl could not send, and failed ones after backoff.

    Channel URLs are read from PARKWATCH_ALERT_URLS now, never stored with the job.
    """
    from schedules.alerts_cmd import deliver

    report = deliver(resolve_db(db_url), AlertsConfig(**(alerts or {})))
    return _say(report.summary())


def _say(message: str) -> str:
    log.warning("%s", message)
    return message


def _run_guarded(db_url: str, sources: str, settings: CrawlSettings, only: list[str],
                 alerts: dict[str, Any] | None, deadline: float | None, kb_dir: str | None = None) -> str | None:
    """Run the crawl in a child process group; None if it had to be killed at `deadline`."""
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_guarded_child, args=(db_url, sources, settings, only, alerts, sender, os.getpid(),
                                                     kb_dir),
                        name="parkwatch-crawl-job")
    child.start()
    sender.close()
    try:
        if receiver.poll(deadline):
            try:
                return str(receiver.recv())
            except EOFError:
                child.join()
                return f"crawl process ended without a result (exit code {child.exitcode})"
        log.warning("crawl still running after %.0f s: killing it", deadline or 0)
        _kill_group(child.pid)
        return None
    finally:
        receiver.close()
        child.join(timeout=30)


def _kill_group(pid: int | None) -> None:
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)  # the child and the crawl process it started
    except ProcessLookupError:
        pass


def _guarded_child(db_url: str, sources: str, settings: CrawlSettings, only: list[str],
                   alerts: dict[str, Any] | None, sender: Any, parent: int, kb_dir: str | None = None) -> None:
    """In its own process group, so the parent can end it and its crawl child together; ends
    itself if the scheduler dies, so no orphan crawl outlives a killed scheduler."""
    os.setpgrp()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the scheduler decides when a crawl ends

    def watch_parent() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        report = run_crawl_job(db_url, Path(sources), settings, only=only,
                               alerts=AlertsConfig(**alerts) if alerts is not None else None,
                               kb_dir=Path(kb_dir) if kb_dir else None)
        message = (f"crawl run {report.run_id} {report.status}: {report.total('articles_new')} new articles, "
                   f"{len(report.new_parks)} new parks, {len(report.candidates)} candidates, "
                   f"failing sources: {', '.join(report.failing_sources()) or 'none'}")
        if report.delivery is not None:
            message += "; " + report.delivery.summary()
        sender.send(message)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as the job's outcome
        sender.send(f"crawl failed: {type(exc).__name__}: {exc}")
    finally:
        sender.close()


def _fail_running(sessions: Any, sources: list[str], since: datetime, message: str) -> None:
    with sessions.begin() as session:
        for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running", CrawlRun.started_at >= since)):
            if set(run.sources) & set(sources):
                run.status, run.message, run.finished_at = "failed", message, utcnow()


def _fail_abandoned_runs(sessions: Any, sources: list[str], taken_over: list[str], ttl: timedelta) -> None:
    """Runs left `running` by a dead process: of a source whose lock had to be taken over from a
    dead holder, or older than any crawl may live."""
    cutoff = utcnow() - ttl
    with sessions.begin() as session:
        for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running")):
            names = set(run.sources)
            if names & set(taken_over) or (names & set(sources) and run.started_at < cutoff):
                run.status, run.message, run.finished_at = "failed", "interrupted: its process died", utcnow()


def digest_job(db_url: str, digest_dir: str, config_file: str | None = None) -> str:
    """Last week's digest to files and to the configured recipients (see schedules/digest_job.py).

    SMTP and digest settings are read when the job runs (from `config_file`, else
    PARKWATCH_CONFIG), so a changed recipient list applies without re-registering the job. A
    recipient that could not be reached is a UserError naming it: `parkwatch schedule run
    weekly-digest` prints one line, and running it again sends only to whoever is missing.
    """
    from reports.digest_window import WindowError
    from reports.mail import MailError
    from schedules.errors import UserError

    cfg = replace(load_config(Path(config_file) if config_file else None), db_url=resolve_db(db_url))
    try:
        result = run_weekly(cfg, Path(digest_dir), datetime.now(timezone.utc))
    except (MailError, WindowError) as exc:
        raise UserError(f"digest: {exc}") from None
    summary = result.summary()
    log.warning("%s", summary)
    if result.failed:
        reasons = "; ".join(f"{who}: {why}" for who, why in sorted(result.failed.items()))
        raise UserError(f"{summary}; not sent to {reasons} (run 'parkwatch schedule run weekly-digest' to retry)")
    return summary
