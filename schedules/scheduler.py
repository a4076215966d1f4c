"""The long-running scheduler process: nightly crawl and weekly digest, jobs persisted in the
same database so a restart keeps their state.

Jobs have fixed ids and `replace_existing=True` (restarting never duplicates them), `coalesce`
(a machine that was off for several nights crawls once, not once per missed night),
`max_instances=1` (a slow crawl is never overlapped by the next) and a misfire grace time. Each
crawl runs in its own child process (see schedules/crawl.py).
"""

from __future__ import annotations

import logging
import signal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from schedules.errors import UserError
from schedules.config import Config
from store.db import check_schema, make_engine

log = logging.getLogger("parkwatch.scheduler")

CRAWL_JOB_ID, DIGEST_JOB_ID = "nightly-crawl", "weekly-digest"


def cron_trigger(expr: str, tz: ZoneInfo) -> CronTrigger:
    """Five cron fields (minute hour day month weekday), or six with seconds first.

    Weekdays are best written as names (mon, tue, ...): APScheduler numbers Monday 0.
    """
    fields = expr.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expr, timezone=tz)
        if len(fields) == 6:
            second, minute, hour, day, month, dow = fields
            return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                               day_of_week=dow, timezone=tz)
    except ValueError as exc:
        raise UserError(f"invalid cron expression {expr!r}: {exc}") from None
    raise UserError(f"invalid cron expression {expr!r}: expected 5 fields (or 6 with seconds first)")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown time zone {name!r}") from None


def configure(scheduler: BaseScheduler, cfg: Config) -> None:
    tz = _zone(cfg.schedule.timezone)
    crawl_trigger = cron_trigger(cfg.schedule.crawl, tz)  # both checked, even if one job is off
    digest_trigger = cron_trigger(cfg.schedule.digest, tz)
    common: dict[str, Any] = {
        "replace_existing": True,
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": cfg.schedule.misfire_grace_seconds,
    }
    if cfg.sources is not None:
        scheduler.add_job(
            "schedules.jobs:crawl_job",
            crawl_trigger,
            id=CRAWL_JOB_ID,
            name="nightly crawl",
            kwargs={"db_url": cfg.database_url, "sources": str(cfg.sources.resolve()),
                    "contact": cfg.contact, "download_delay": cfg.download_delay},
            **common,
        )
    scheduler.add_job(
        "schedules.jobs:digest_job",
        digest_trigger,
        id=DIGEST_JOB_ID,
        name="weekly digest",
        kwargs={"db_url": cfg.database_url, "digest_dir": str(cfg.digests.resolve())},
        **common,
    )


def _jobstore(cfg: Config) -> SQLAlchemyJobStore:
    engine = make_engine(cfg.database_url)
    check_schema(engine)
    return SQLAlchemyJobStore(engine=engine)


def describe_jobs(cfg: Config) -> list[str]:
    scheduler = BackgroundScheduler(jobstores={"default": _jobstore(cfg)}, timezone=_zone(cfg.schedule.timezone))
    scheduler.start(paused=True)
    try:
        configure(scheduler, cfg)
        lines = []
        for job in scheduler.get_jobs():
            next_run = job.next_run_time.isoformat() if job.next_run_time else "paused"
            lines.append(f"{job.id:<14} next run {next_run}  ({job.trigger})")
        return lines
    finally:
        scheduler.shutdown(wait=False)


def run_forever(cfg: Config) -> None:
    """Run until SIGTERM or Ctrl-C; a running job is allowed to finish first."""
    scheduler = BlockingScheduler(jobstores={"default": _jobstore(cfg)}, timezone=_zone(cfg.schedule.timezone))
    configure(scheduler, cfg)

    def stop(signum: int, _frame: Any) -> None:
        log.warning("signal %s: stopping after the running job", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    for job in scheduler.get_jobs():
        log.warning("scheduled %s: %s", job.id, job.trigger)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown(wait=True)
