"""Scheduled job bodies. Module-level functions with plain arguments, because APScheduler's
persistent job store pickles a reference to the function and its arguments."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from crawler.settings import CrawlSettings
from schedules.crawl import run_crawl_job
from schedules.digest_job import write_digest

log = logging.getLogger("parkwatch.jobs")


def crawl_job(db_url: str, sources: str, contact: str = "", download_delay: float = 0.5,
              priority: str | None = None) -> None:
    settings = CrawlSettings(contact=contact, download_delay=download_delay, log_level="ERROR")
    report = run_crawl_job(db_url, Path(sources), settings, priority=priority)
    log.warning(
        "crawl run %s %s: %d new articles, %d new parks, failing sources: %s",
        report.run_id, report.status, report.total("articles_new"), len(report.new_parks),
        ", ".join(report.failing_sources()) or "none",
    )


def digest_job(db_url: str, digest_dir: str) -> None:
    out = Path(digest_dir) / f"digest-{datetime.now().strftime('%G-W%V')}.md"
    write_digest(db_url, out=out)
    log.warning("digest written to %s", out)
