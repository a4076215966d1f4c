"""Item pipeline that hands each downloaded page to the crawl's workers and ArticleSink.

The sink comes from the shared :class:`crawler.context.CrawlContext` in the crawler's
settings (built from the runner's ``sink_factory`` once per crawl); this pipeline only opens
it on ``open_spider``, feeds it and releases it on ``close_spider``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.context import CrawlContext
from crawler.items import FetchedArticle, RawPage
from crawler.settings import CONTEXT_SETTING

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class SinkPipeline:
    """Pass articles to the sink and count new/changed/unchanged per source."""

    def __init__(self, context: CrawlContext, source: str, config: Any = None):
        self.context = context
        self.source = source
        self.config = config

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        context = crawler.settings.get(CONTEXT_SETTING)
        if not isinstance(context, CrawlContext):
            raise NotConfigured(f"{CONTEXT_SETTING} is not set; use crawler.runner.run_crawl")
        return cls(context, crawler.spidercls.name, getattr(crawler.spidercls, "source", None))

    def open_spider(self) -> None:
        self.context.open_source(self.source)

    def close_spider(self) -> None:
        self.context.close_source(self.source)

    async def process_item(self, item: Any) -> Any:
        """A RawPage goes to a worker process, then to the sink; the reactor only awaits."""
        if isinstance(item, RawPage):
            await self.context.process(item, self.config)
        elif isinstance(item, FetchedArticle):
            self.context.article(item)
        return item
