"""Crawl-wide settings and their translation into Scrapy settings.

``CrawlSettings`` is what parkwatch's config exposes; Scrapy's many knobs are derived from it
in one place so the politeness policy (robots.txt, identifying User-Agent, delays, size and
time limits) cannot be forgotten by a caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crawler.sources import SourceConfig

PROJECT_URL = "https://github.com/parkwatch/parkwatch"
CONTACT_PLACEHOLDER = "set PARKWATCH_CONTACT"
CONTEXT_SETTING = "PARKWATCH_CONTEXT"  # shared crawl context (sink + stats), see crawler.context


def default_user_agent(contact: str | None = None) -> str:
    """Identifying User-Agent; site operators should be able to reach whoever runs the crawl."""
    return f"parkwatch/0.1 (+{PROJECT_URL}; contact: {contact or CONTACT_PLACEHOLDER})"


@dataclass(frozen=True)
class CrawlSettings:
    """Crawl-wide behaviour. ``user_agent=None`` means :func:`default_user_agent` (contact).

    ``time_budget_seconds`` maps to Scrapy's CLOSESPIDER_TIMEOUT: after it no new request is
    started, but downloads already in flight finish or time out, so the worst-case wall time
    is about ``time_budget_seconds + download_timeout``. A source's own ``time_budget``
    (sources file) applies to that source alone.
    """

    user_agent: str | None = None
    contact: str | None = None
    obey_robots: bool = True
    download_timeout: float = 20
    download_delay: float = 0.5
    concurrent_per_domain: int = 2
    max_page_bytes: int = 10 * 1024 * 1024
    retry_times: int = 2
    retry_backoff: float = 1.0  # seconds before the first retry, doubling for each next one
    autothrottle: bool = True
    log_level: str = "WARNING"
    time_budget_seconds: float | None = None
    workers: int | None = None  # extraction processes; None = one per CPU, 0 = inline

    @property
    def effective_user_agent(self) -> str:
        """The User-Agent actually sent."""
        return self.user_agent or default_user_agent(self.contact)


def scrapy_settings(settings: CrawlSettings, sources: Sequence[SourceConfig]) -> dict[str, Any]:
    """Scrapy settings dict for one crawl of ``sources`` (per-source overrides live in
    the spider's ``custom_settings``)."""
    per_domain = max(1, settings.concurrent_per_domain)
    return {
        "BOT_NAME": "parkwatch",
        "USER_AGENT": settings.effective_user_agent,
        "ROBOTSTXT_OBEY": settings.obey_robots,
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        "DNS_TIMEOUT": settings.download_timeout,
        "DOWNLOAD_DELAY": settings.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        # Each source runs in its own Scrapy crawler (own downloader), so this is per source.
        # Kept short on purpose: requests handed to the downloader are finished even after the
        # time budget ends, so a long queue would overrun the budget.
        "CONCURRENT_REQUESTS": per_domain * 2,
        "DOWNLOAD_MAXSIZE": settings.max_page_bytes,
        "DOWNLOAD_WARNSIZE": max(1, settings.max_page_bytes // 2),
        "RETRY_ENABLED": settings.retry_times > 0,
        "RETRY_TIMES": settings.retry_times,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.retry.BackoffRetryMiddleware": 550,
        },
        "PARKWATCH_RETRY_BACKOFF_BASE": settings.retry_backoff,
        "AUTOTHROTTLE_ENABLED": settings.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(settings.download_delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": max(30.0, settings.download_timeout),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(per_domain),
        "CLOSESPIDER_TIMEOUT": settings.time_budget_seconds or 0,
        "REDIRECT_MAX_TIMES": 10,
        "TELNETCONSOLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": settings.log_level,
        "ITEM_PIPELINES": {"crawler.pipelines.SinkPipeline": 300},
        # Scrapy starts this many asyncio tasks for EVERY callback's output; a page yields one
        # article or a listing's ~20 links, so the default 100 only burns the reactor's CPU.
        "CONCURRENT_ITEMS": 8,
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 500_000,
        "FEED_EXPORTERS": {},
        "FEEDS": {},
    }
