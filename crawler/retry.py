"""Retries with exponential backoff: a struggling server gets breathing room, not a burst.

Scrapy's RetryMiddleware re-schedules a failed request at once. This subclass waits
``base * 2**(n-1)`` seconds (capped) before handing back the n-th retry; the wait happens inside
the download of that request, so the site's download slot stays busy and no other request to
the same site starts meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

BACKOFF_BASE_SETTING = "PARKWATCH_RETRY_BACKOFF_BASE"
BACKOFF_MAX_SETTING = "PARKWATCH_RETRY_BACKOFF_MAX"


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware that sleeps before each retry (base 1 s, doubling, at most 60 s)."""

    base: float = 1.0
    max_delay: float = 60.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = super().from_crawler(crawler)
        middleware.base = crawler.settings.getfloat(BACKOFF_BASE_SETTING, 1.0)
        middleware.max_delay = crawler.settings.getfloat(BACKOFF_MAX_SETTING, 60.0)
        return middleware

    def delay(self, retry_times: int) -> float:
        """Seconds to wait before the ``retry_times``-th retry."""
        return min(self.base * 2 ** max(retry_times - 1, 0), self.max_delay)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:  # type: ignore[override]
        return await self._wait(request, super().process_response(request, response))

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:  # type: ignore[override]
        return await self._wait(request, super().process_exception(request, exception))

    async def _wait(self, original: Request, result: Any) -> Any:
        if isinstance(result, Request) and result is not original and self.base > 0:
            await asyncio.sleep(self.delay(int(result.meta.get("retry_times", 1))))
        return result
