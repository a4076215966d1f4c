"""One Scrapy spider class driven by a SourceConfig (kinds listing, feed, page).

Each enabled source gets its own subclass (:meth:`SourceSpider.for_source`) so that Scrapy's
per-spider machinery (``name``, ``custom_settings`` such as the source's download delay) works
unchanged. Every request carries an errback: a failed URL is recorded through the crawl
context (sink + stats) and the crawl goes on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any, ClassVar

import feedparser
from scrapy import Request, Spider, signals
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from crawler import selectors
from crawler.context import CrawlContext
from crawler.extract import extract_page
from crawler.failures import (
    BAD_FEED,
    EXTRACT_ERROR,
    NO_TEXT,
    TOO_MANY_REDIRECTS,
    classify_failure,
)
from crawler.items import FetchedArticle
from crawler.settings import CONTEXT_SETTING
from crawler.sources import SourceConfig
from crawler.urls import canonical_url, is_http_url, same_site

logger = logging.getLogger(__name__)


class SourceSpider(Spider):
    """Crawl one source; use :meth:`for_source` to get the class for a given source."""

    name = "parkwatch-source"
    source: ClassVar[SourceConfig]

    @classmethod
    def for_source(cls, source: SourceConfig) -> type[SourceSpider]:
        """A subclass bound to ``source`` (its name, config and download delay)."""
        custom: dict[str, Any] = {}
        if source.download_delay is not None:
            custom["DOWNLOAD_DELAY"] = source.download_delay
        safe = source.name.replace("-", "_")
        return type(
            f"SourceSpider_{safe}",
            (cls,),
            {"name": source.name, "source": source, "custom_settings": custom},
        )

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SourceSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_request_dropped, signal=signals.request_dropped)
        return spider

    @property
    def context(self) -> CrawlContext:
        return self.crawler.settings[CONTEXT_SETTING]

    async def start(self) -> AsyncIterator[Request]:
        callbacks = {
            "listing": self.parse_listing,
            "feed": self.parse_feed,
            "page": self.parse_article,
        }
        for url in self.source.start_urls:
            yield Request(
                url,
                callback=callbacks[self.source.kind],
                errback=self.on_error,
                dont_filter=True,
                cb_kwargs={"page": 1} if self.source.kind == "listing" else {},
            )

    # --- listing ------------------------------------------------------------------------

    def parse_listing(self, response: Response, page: int = 1) -> Iterator[Request]:
        """Follow article links (allow/deny, same site) and the next page up to max_pages."""
        self.context.page_fetched(self.name)
        if not isinstance(response, TextResponse):
            self._error(response.url, NO_TEXT, "listing page is not HTML")
            return
        next_urls = self._next_page_urls(response)
        own = canonical_url(response.url)
        for href in response.css(selectors.ARTICLE_LINKS).getall():
            url = response.urljoin(href.strip())
            if (
                not is_http_url(url)
                or url in next_urls
                or canonical_url(url) == own
                or not same_site(url, response.url)
                or not self.source.allows(url)
            ):
                continue
            yield Request(url, callback=self.parse_article, errback=self.on_error)
        if next_urls and page < self.source.max_pages:
            yield Request(
                next_urls[0],
                callback=self.parse_listing,
                errback=self.on_error,
                cb_kwargs={"page": page + 1},
            )

    def _next_page_urls(self, response: TextResponse) -> list[str]:
        if not self.source.next_page:
            return []
        urls: list[str] = []
        for element in response.css(self.source.next_page):
            href = next(
                (element.attrib[a] for a in selectors.NEXT_LINK_ATTRS if element.attrib.get(a)),
                None,
            ) or element.css(selectors.NESTED_LINK).get()
            if href:
                url = response.urljoin(href.strip())
                if is_http_url(url) and canonical_url(url) != canonical_url(response.url):
                    urls.append(url)
        return urls

    # --- feed ---------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Request]:
        """Each RSS/Atom entry's link is an article; an unparsable body is ``bad_feed``."""
        self.context.page_fetched(self.name)
        parsed = feedparser.parse(response.body)
        if not parsed.get("version") and not parsed.entries:
            problem = parsed.get("bozo_exception") or "no RSS/Atom content"
            self._error(response.url, BAD_FEED, f"not a feed: {problem}")
            return
        for entry in parsed.entries:
            link = selectors.feed_entry_link(entry)
            if not link:
                continue
            url = response.urljoin(link)
            if not is_http_url(url) or not self.source.allows(url):
                continue
            yield Request(
                url,
                callback=self.parse_article,
                errback=self.on_error,
                cb_kwargs={
                    "feed_title": selectors.feed_entry_title(entry),
                    "feed_published": selectors.feed_entry_published(entry),
                },
            )

    # --- article ------------------------------------------------------------------------

    def parse_article(
        self,
        response: Response,
        feed_title: str | None = None,
        feed_published: datetime | None = None,
    ) -> Iterator[FetchedArticle]:
        """Extract the main text; ``no_text`` when there is none."""
        self.context.page_fetched(self.name)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        try:
            page = extract_page(
                response.body,
                response.url,
                http_encoding=http_content_type_encoding(content_type),
                default_lang=self.source.lang,
                timezone=self.source.timezone,
                title_selector=self.source.title,
            )
        except Exception as exc:
            logger.exception("Extraction failed for %s", response.url)
            self._error(response.url, EXTRACT_ERROR, f"{type(exc).__name__}: {exc}")
            return
        if page is None:
            self._error(
                response.url, NO_TEXT, f"no main text extracted ({content_type or 'no type'})"
            )
            return
        yield FetchedArticle(
            source=self.name,
            url=response.url,
            canonical_url=canonical_url(response.url),
            lang=page.lang,
            title=page.title or feed_title,
            text=page.text,
            published_at=page.published_at or feed_published,
            fetched_at=datetime.now(timezone.utc),
        )

    # --- errors -------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        """Errback of every request: classify and record, never re-raise."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind, reason = classify_failure(failure)
        self._error(url, kind, reason)

    def on_request_dropped(self, request: Request) -> None:
        """Record redirect loops that the duplicate filter swallows.

        A redirect back to an already-visited URL is dropped by the scheduler's dupefilter
        before RedirectMiddleware's max-redirect check fires, so without this the loop would
        vanish silently. Ordinary duplicates (same article linked twice) stay unrecorded.
        """
        chain = request.meta.get("redirect_urls") or []
        if chain and request.url in chain:
            origin = chain[0]
            self._error(origin, TOO_MANY_REDIRECTS, f"redirect loop back to {request.url}")

    def _error(self, url: str, kind: str, reason: str) -> None:
        self.context.error(self.name, url, kind, reason)
