"""The long-running scheduler process: nightly crawl, hourly poll of high-priority sources, weekly
digest and alert delivery retries, jobs persisted in the same database so a restart keeps their
state (including a run missed while the machine was off: it is caught up once).

Jobs have fixed ids and `replace_existing=True` (restarting never duplicates them), `coalesce`
(a machine that was off for several nights crawls once, not once per missed night),
`max_instances=1` (a slow crawl is never overlapped by the next) and a misfire grace time. Each
crawl locks its sources in the database and runs in a child process group that is killed at its
time budget plus grace (see schedules/jobs.py and schedules/locks.py).
"""

from __future__ import annotations

import importlib
import logging
import pickle
import signal
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from schedules.errors import UserError
from schedules.config import Config
from schedules.jobs import job_db_url
from store.db import check_schema, make_engine

log = logging.getLogger("parkwatch.scheduler")

CRAWL_JOB_ID, POLL_JOB_ID, DIGEST_JOB_ID, ALERTS_JOB_ID = "nightly-crawl", "hourly-poll", "weekly-digest", "alerts-retry"
JOB_IDS = (CRAWL_JOB_ID, POLL_JOB_ID, DIGEST_JOB_ID, ALERTS_JOB_ID)


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


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", what the job store keeps
    name: str
    trigger: CronTrigger
    kwargs: dict[str, Any]


def validate(cfg: Config) -> None:
    """Check the time zone and every cron expression up front (a UserError names the bad one)."""
    tz = _zone(cfg.schedule.timezone)
    for key in ("crawl", "poll", "digest", "alerts_retry"):
        cron_trigger(getattr(cfg.schedule, key), tz)


def job_specs(cfg: Config) -> list[JobSpec]:
    """Every scheduled job, from the configuration (all cron expressions are checked)."""
    tz = _zone(cfg.schedule.timezone)
    sc = cfg.schedule
    triggers = {key: cron_trigger(getattr(sc, key), tz) for key in ("crawl", "poll", "digest", "alerts_retry")}
    alerts = asdict(cfg.alerts)
    db_url = job_db_url(cfg.database_url)  # no database password in the job store
    specs: list[JobSpec] = []
    if cfg.sources is not None:
        crawl = {"db_url": db_url, "sources": str(cfg.sources.resolve()), "contact": cfg.contact,
                 "download_delay": cfg.download_delay, "kill_grace_seconds": float(sc.kill_grace_seconds),
                 "alerts": alerts, "workers": cfg.workers}
        if cfg.kb_dir is not None:  # only when set: jobs stored before the setting existed stay unchanged
            crawl["kb_dir"] = str(cfg.kb_dir.expanduser().resolve())
        specs.append(JobSpec(CRAWL_JOB_ID, "schedules.jobs:crawl_job", "nightly crawl", triggers["crawl"],
                             {**crawl, "budget_seconds": float(sc.crawl_budget_seconds)}))
        specs.append(JobSpec(POLL_JOB_ID, "schedules.jobs:crawl_job", "high-priority poll", triggers["poll"],
                             {**crawl, "priority": "high", "budget_seconds": float(sc.poll_budget_seconds)}))
    specs.append(JobSpec(DIGEST_JOB_ID, "schedules.jobs:digest_job", "weekly digest", triggers["digest"],
                         {"db_url": db_url, "digest_dir": str(cfg.digests.resolve()),
                          "config_file": str(cfg.config_file) if cfg.config_file else None}))
    specs.append(JobSpec(ALERTS_JOB_ID, "schedules.jobs:deliver_alerts_job", "alert delivery retries",
                         triggers["alerts_retry"], {"db_url": db_url, "alerts": alerts}))
    return specs


def configure(scheduler: BaseScheduler, cfg: Config, kept: dict[str, datetime] | None = None) -> None:
    """Add every job. `kept` holds the stored next run time of jobs whose definition did not change:
    re-adding a job would otherwise move it to its next *future* time and lose a run missed while
    the machine was off, instead of catching it up once."""
    common: dict[str, Any] = {
        "replace_existing": True,
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": cfg.schedule.misfire_grace_seconds,
    }
    for spec in job_specs(cfg):
        extra = {"next_run_time": kept[spec.id]} if kept and spec.id in kept else {}
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, name=spec.name, kwargs=spec.kwargs, **common, **extra)


def _kept_run_times(engine: Any, cfg: Config) -> dict[str, datetime]:
    """Stored next run times of jobs whose function, trigger and arguments are unchanged."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("select id, job_state from apscheduler_jobs")).all()
    except SQLAlchemyError:
        return {}  # first start: no job table yet
    specs = {spec.id: spec for spec in job_specs(cfg)}
    kept: dict[str, datetime] = {}
    for job_id, blob in rows:
        spec = specs.get(job_id)
        try:
            state = pickle.loads(blob)
        except Exception:  # noqa: BLE001 - a job stored by another version is simply replaced
            continue
        if spec is None or state.get("next_run_time") is None:
            continue
        if (state.get("func"), repr(state.get("trigger")), state.get("kwargs")) == (
                spec.func, repr(spec.trigger), spec.kwargs):
            kept[job_id] = state["next_run_time"]
    return kept


def _jobstore(cfg: Config) -> tuple[SQLAlchemyJobStore, dict[str, datetime]]:
    engine = make_engine(cfg.database_url)
    check_schema(engine)
    return SQLAlchemyJobStore(engine=engine), _kept_run_times(engine, cfg)


def describe_jobs(cfg: Config) -> list[str]:
    store, kept = _jobstore(cfg)
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=_zone(cfg.schedule.timezone))
    scheduler.start(paused=True)
    try:
        configure(scheduler, cfg, kept)
        lines = []
        for job in scheduler.get_jobs():
            next_run = job.next_run_time.isoformat() if job.next_run_time else "paused"
            lines.append(f"{job.id:<14} next run {next_run}  ({job.trigger})")
        return lines
    finally:
        scheduler.shutdown(wait=False)


def run_job_now(cfg: Config, job_id: str) -> str:
    """Run one job in this process, now, with the arguments the scheduler would give it."""
    specs = {spec.id: spec for spec in job_specs(cfg)}
    if job_id not in specs:
        known = ", ".join(JOB_IDS)
        hint = " (crawl jobs need --sources or 'sources' in the config)" if job_id in JOB_IDS else ""
        raise UserError(f"unknown job {job_id!r}{hint}; jobs: {known}")
    spec = specs[job_id]
    module, _, name = spec.func.partition(":")
    func = getattr(importlib.import_module(module), name)
    result = func(**spec.kwargs)
    return result if isinstance(result, str) else f"{job_id}: done"


def run_forever(cfg: Config) -> None:
    """Run until SIGTERM or Ctrl-C; a running job is allowed to finish first."""
    store, kept = _jobstore(cfg)
    scheduler = BlockingScheduler(jobstores={"default": store}, timezone=_zone(cfg.schedule.timezone))
    configure(scheduler, cfg, kept)

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
