"""State shared by all spiders of one crawl: the sink and the per-source statistics.

The architecture asks for one sink per crawl (one store session / crawl run), while Scrapy
builds pipelines and spiders per crawler (one crawler per source). This object is put into the
Scrapy settings by the runner; Scrapy deep-copies settings for every crawler, so
``__deepcopy__`` returns the same instance on purpose, making it the one place where sink and
counters live. The sink is built lazily by the first spider that opens and closed when the last
one closes, i.e. on spider signals inside the crawling process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from crawler.errors import CrawlFailed
from crawler.failures import STORE
from crawler.items import ArticleSink, FetchedArticle, SourceStats

logger = logging.getLogger(__name__)

ARTICLE_STATUSES = ("new", "changed", "unchanged")


class CrawlContext:
    """One crawl's sink, open-spider count and :class:`SourceStats` per source."""

    def __init__(self, sink_factory: Callable[[], ArticleSink], source_names: list[str]):
        self.sink_factory = sink_factory
        self.stats: dict[str, SourceStats] = {name: SourceStats() for name in source_names}
        self.sink: ArticleSink | None = None
        self.sink_failure: BaseException | None = None
        self._open_spiders = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> CrawlContext:
        return self

    # --- lifecycle, driven by the pipeline's open/close_spider -------------------------

    def open_source(self, source: str) -> None:
        """A spider opened: build the sink if it is the first one."""
        self.stats.setdefault(source, SourceStats())
        self._open_spiders += 1
        if self.sink_failure is not None:
            raise CrawlFailed(f"the article sink could not be built: {self.sink_failure!r}")
        if self.sink is None:
            try:
                self.sink = self.sink_factory()
            except Exception as exc:
                self.sink_failure = exc
                logger.error("Cannot build the article sink: %r", exc)
                raise

    def close_source(self, source: str) -> None:
        """A spider closed: close the sink after the last one."""
        self._open_spiders -= 1
        if self._open_spiders <= 0 and self.sink is not None:
            sink, self.sink = self.sink, None
            try:
                sink.close()
            except Exception:
                logger.exception("Closing the article sink failed")

    # --- events -------------------------------------------------------------------------

    def page_fetched(self, source: str) -> None:
        """Count a successfully downloaded page (listing, feed or article)."""
        self.stats.setdefault(source, SourceStats()).pages_fetched += 1

    def article(self, item: FetchedArticle) -> str | None:
        """Hand ``item`` to the sink; a sink failure becomes a ``store`` error, not a crash."""
        stats = self.stats.setdefault(item.source, SourceStats())
        if self.sink is None:
            self.error(item.source, item.url, STORE, "no sink available")
            return None
        try:
            status = self.sink.article(item)
            if status not in ARTICLE_STATUSES:
                raise ValueError(f"sink returned {status!r}, expected one of {ARTICLE_STATUSES}")
        except Exception as exc:
            logger.warning("Storing %s failed: %r", item.url, exc)
            self.error(item.source, item.url, STORE, f"{type(exc).__name__}: {exc}")
            return None
        if status == "new":
            stats.articles_new += 1
        elif status == "changed":
            stats.articles_changed += 1
        else:
            stats.articles_unchanged += 1
        return status

    def error(self, source: str, url: str, kind: str, reason: str) -> None:
        """Count the error and pass it to the sink (a failing sink is only logged)."""
        self.stats.setdefault(source, SourceStats()).add_error(kind)
        logger.info("[%s] %s %s: %s", source, kind, url, reason)
        if self.sink is None:
            return
        try:
            self.sink.error(source, url, kind, reason)
        except Exception:
            logger.exception("Recording an error in the sink failed")
