"""One Scrapy spider class driven by a SourceConfig (kinds listing, feed, sitemap, page).

Each enabled source gets its own subclass (:meth:`SourceSpider.for_source`) so that Scrapy's
per-spider machinery (``name``, ``custom_settings`` such as the source's download delay,
concurrency and time budget) works unchanged. Every request carries an errback: a failed URL
is recorded through the crawl context (sink + stats) and the crawl goes on.

Spiders only crawl: they decide what to request from the crawl state of earlier runs (see
:mod:`crawler.state`) and yield :class:`crawler.items.RawPage` items; extraction happens in
worker processes (:mod:`crawler.work`).
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any, ClassVar

import feedparser
from scrapy import Request, Spider, signals
from scrapy.http import Response, TextResponse
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from crawler import selectors
from crawler.attachments import MAX_ATTACHMENTS, is_attachment_url
from crawler.context import CrawlContext
from crawler.dates import parse_iso
from crawler.failures import ATTACHMENT, BAD_FEED, BAD_SITEMAP, NO_TEXT, TOO_MANY_REDIRECTS, classify_failure
from crawler.items import Attachment, RawPage
from crawler.settings import CONTEXT_SETTING
from crawler.sources import SourceConfig, is_xpath
from crawler.state import PageState, digest_of, utcnow
from crawler.urls import canonical_url, is_http_url, same_site

logger = logging.getLogger(__name__)

NOT_MODIFIED = 304
NOT_FOUND = 404


class SourceSpider(Spider):
    """Crawl one source; use :meth:`for_source` to get the class for a given source."""

    name = "parkwatch-source"
    source: ClassVar[SourceConfig]

    @classmethod
    def for_source(cls, source: SourceConfig) -> type[SourceSpider]:
        """A subclass bound to ``source`` (its name, config, rate limits and time budget)."""
        custom: dict[str, Any] = {}
        if source.download_delay is not None:
            custom["DOWNLOAD_DELAY"] = source.download_delay
        if source.concurrency is not None:
            custom["CONCURRENT_REQUESTS_PER_DOMAIN"] = source.concurrency
            custom["CONCURRENT_REQUESTS"] = source.concurrency * 2
            custom["AUTOTHROTTLE_TARGET_CONCURRENCY"] = float(source.concurrency)
        if source.time_budget is not None:
            custom["CLOSESPIDER_TIMEOUT"] = source.time_budget
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
        crawler.signals.connect(spider.on_request_scheduled, signal=signals.request_reached_downloader)
        return spider

    @property
    def context(self) -> CrawlContext:
        return self.crawler.settings[CONTEXT_SETTING]

    async def start(self) -> AsyncIterator[Request]:
        self.context.ensure_sink()
        callbacks = {
            "listing": self.parse_listing,
            "feed": self.parse_feed,
            "sitemap": self.parse_sitemap,
        }
        for url in self.source.start_urls:
            if self.source.kind == "page":
                request = self._article_request(url, force=False)
                if request is not None:
                    yield request
                continue
            kwargs: dict[str, Any] = {"start_url": url}
            if self.source.kind == "listing":
                kwargs["page"] = 1
            yield self._index_request(url, callbacks[self.source.kind], kwargs)

    # --- requests -----------------------------------------------------------------------

    def _index_request(self, url: str, callback: Any, kwargs: dict[str, Any]) -> Request:
        """A listing/feed/sitemap page, conditional while its validators may be trusted."""
        known = self.context.state(canonical_url(url))
        headers = known.conditional_headers(utcnow()) if known else {}
        return Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=True,
            headers=headers,
            meta={"handle_httpstatus_list": [NOT_MODIFIED]},
            cb_kwargs=kwargs,
        )

    def _article_request(self, url: str, force: bool = False, **kwargs: Any) -> Request | None:
        """Request an article unless an earlier run stored it and it is not due for a re-check."""
        known = self.context.state(canonical_url(url))
        now = utcnow()
        if known is not None and not force and not known.due(now):
            self.context.count(self.name, "skipped_known")
            return None
        headers = known.conditional_headers(now) if known else {}
        self.context.start_workers()  # an article is coming: let the workers load meanwhile
        return Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            headers=headers,
            meta={"handle_httpstatus_list": [NOT_MODIFIED]},
            cb_kwargs=kwargs,
        )

    def _index_seen(self, response: Response, kind: str, links: list[str]) -> bool:
        """Remember an index page by its links; True when they are the same as last run."""
        key = canonical_url(response.url)
        old = self.context.state(key) or PageState(key, self.name, kind)
        digest = digest_of(links)
        unchanged = old.digest == digest
        if unchanged:
            self.context.count(self.name, "listings_unchanged")
        self.context.remember(
            old.after_check(
                utcnow(),
                changed=not unchanged,
                digest=digest,
                etag=_header(response, b"ETag"),
                last_modified=_header(response, b"Last-Modified"),
            )
        )
        return unchanged

    def _not_modified(self, response: Response, kind: str) -> bool:
        """Handle a 304: the page is as last seen; count it and refresh its state."""
        if response.status != NOT_MODIFIED:
            return False
        key = canonical_url(response.url)
        self.context.count(self.name, "not_modified")
        old = self.context.state(key) or PageState(key, self.name, kind)
        self.context.remember(old.after_check(utcnow(), changed=False, full=False))
        if kind != "article":
            self.context.count(self.name, "listings_unchanged")
        return True

    # --- listing ------------------------------------------------------------------------

    def parse_listing(self, response: Response, page: int = 1, start_url: str = "") -> Iterator[Request]:
        """Follow new article links, and the next page only while no known article appears."""
        if self._not_modified(response, "listing") or response.status == NOT_FOUND:
            return
        self.context.page_fetched(self.name)
        if not isinstance(response, TextResponse):
            self._error(response.url, NO_TEXT, "listing page is not HTML")
            return
        next_urls = self._next_page_urls(response, start_url or response.url, page)
        own = canonical_url(response.url)
        links: list[str] = []
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
            links.append(url)
        unchanged = self._index_seen(response, "listing", [canonical_url(u) for u in links])
        known = 0
        for url in links:
            if self.context.state(canonical_url(url)) is not None:
                known += 1
            request = self._article_request(url)
            if request is not None:
                yield request
        # Newest first: once a page links to articles an earlier run stored, later pages
        # hold only older ones. The first run (nothing known) walks up to max_pages.
        if next_urls and links and page < self.source.max_pages and not unchanged and not known:
            numbered = self.source.page_pattern is not None
            yield Request(
                next_urls[0],
                callback=self.parse_listing,
                errback=self.on_error,
                # numbered pages run out without a sign: the 404 after the last is the end
                meta={"handle_httpstatus_list": [NOT_FOUND]} if numbered else {},
                cb_kwargs={"page": page + 1, "start_url": start_url},
            )

    def _next_page_urls(self, response: TextResponse, start_url: str, page: int) -> list[str]:
        numbered = self.source.numbered_page(start_url, page + 1)
        if numbered:
            return [numbered]
        if not self.source.next_page:
            return []
        urls: list[str] = []
        select = response.xpath if is_xpath(self.source.next_page) else response.css
        for element in select(self.source.next_page):
            attrib = getattr(element, "attrib", {})
            href = next(
                (attrib[a] for a in selectors.NEXT_LINK_ATTRS if attrib.get(a)),
                None,
            ) or element.css(selectors.NESTED_LINK).get()
            if href:
                url = response.urljoin(href.strip())
                if is_http_url(url) and canonical_url(url) != canonical_url(response.url):
                    urls.append(url)
        return urls

    # --- feed ---------------------------------------------------------------------------

    def parse_feed(self, response: Response, start_url: str = "") -> Iterator[Request]:
        """Each RSS/Atom entry's link is an article; an unparsable body is ``bad_feed``."""
        if self._not_modified(response, "feed"):
            return
        self.context.page_fetched(self.name)
        parsed = feedparser.parse(response.body)
        if not parsed.get("version") and not parsed.entries:
            problem = parsed.get("bozo_exception") or "no RSS/Atom content"
            self._error(response.url, BAD_FEED, f"not a feed: {problem}")
            return
        entries = []
        for entry in parsed.entries:
            link = selectors.feed_entry_link(entry)
            if not link:
                continue
            url = response.urljoin(link)
            if is_http_url(url) and self.source.allows(url):
                entries.append((url, entry))
        self._index_seen(response, "feed", [canonical_url(u) for u, _ in entries])
        for url, entry in entries:
            request = self._article_request(
                url,
                feed_title=selectors.feed_entry_title(entry),
                feed_published=selectors.feed_entry_published(entry),
            )
            if request is not None:
                yield request

    # --- sitemap ------------------------------------------------------------------------

    def parse_sitemap(self, response: Response, start_url: str = "", depth: int = 1) -> Iterator[Request]:
        """Sitemap index → sitemaps (up to max_pages); urlset → articles, re-fetched when
        ``lastmod`` is newer than the last download."""
        if self._not_modified(response, "sitemap"):
            return
        self.context.page_fetched(self.name)
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gzip.decompress(body)
            except OSError as exc:
                self._error(response.url, BAD_SITEMAP, f"bad gzip data: {exc}")
                return
        try:
            sitemap = Sitemap(body)
            entries = list(sitemap)
        except Exception as exc:  # noqa: BLE001 - lxml raises several kinds on junk
            self._error(response.url, BAD_SITEMAP, f"not a sitemap: {type(exc).__name__}: {exc}")
            return
        if sitemap.type not in ("sitemapindex", "urlset"):
            self._error(response.url, BAD_SITEMAP, f"not a sitemap (root element {sitemap.type!r})")
            return
        locs = [(response.urljoin(e["loc"].strip()), e.get("lastmod")) for e in entries if e.get("loc")]
        self._index_seen(response, "sitemap", [canonical_url(u) + "|" + (m or "") for u, m in locs])
        if sitemap.type == "sitemapindex":
            for url, _ in locs[: max(0, self.source.max_pages - depth)]:
                yield self._index_request(url, self.parse_sitemap, {"start_url": start_url, "depth": depth + 1})
            return
        for url, lastmod in locs:
            if not self.source.allows(url):
                continue
            known = self.context.state(canonical_url(url))
            modified = parse_iso(lastmod.strip(), "UTC") if lastmod else None
            force = bool(known and known.fetched_at and modified and modified > known.fetched_at)
            request = self._article_request(url, force=force)
            if request is not None:
                yield request

    # --- article ------------------------------------------------------------------------

    def parse_article(
        self,
        response: Response,
        feed_title: str | None = None,
        feed_published: datetime | None = None,
    ) -> Iterator[Any]:
        """Hand the page to the workers, after fetching its attachments when the source asks."""
        if self._not_modified(response, "article"):
            return
        self.context.page_fetched(self.name)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        raw = RawPage(
            source=self.name,
            url=response.url,
            canonical_url=canonical_url(response.url),
            body=response.body,
            http_encoding=http_content_type_encoding(content_type),
            content_type=content_type,
            feed_title=feed_title,
            feed_published=feed_published,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
        )
        pending = self._attachment_urls(response) if self.source.attachments else []
        yield from self._next_attachment(raw, pending)

    def _attachment_urls(self, response: Response) -> list[str]:
        if not isinstance(response, TextResponse):
            return []
        urls: list[str] = []
        for href in response.css(selectors.ARTICLE_LINKS).getall():
            url = response.urljoin(href.strip())
            if is_http_url(url) and is_attachment_url(url) and url not in urls:
                urls.append(url)
        return urls[:MAX_ATTACHMENTS]

    def _next_attachment(self, raw: RawPage, pending: list[str]) -> Iterator[Any]:
        """Fetch attachments one after another, then yield the page with all of them."""
        if not pending:
            yield raw
            return
        url, rest = pending[0], pending[1:]
        yield Request(
            url,
            callback=self.parse_attachment,
            errback=self.on_attachment_error,
            dont_filter=True,
            cb_kwargs={"raw": raw, "rest": rest},
        )

    def parse_attachment(self, response: Response, raw: RawPage, rest: list[str]) -> Iterator[Any]:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        attachment = Attachment(response.url, response.body, content_type)
        raw = RawPage(**{**raw.__dict__, "attachments": raw.attachments + (attachment,)})
        yield from self._next_attachment(raw, rest)

    def on_attachment_error(self, failure: Failure) -> Iterator[Any]:
        """A failed attachment is recorded; the notice goes on with the others."""
        request = failure.request  # type: ignore[attr-defined]
        kind, reason = classify_failure(failure)
        self._error(request.url, ATTACHMENT, f"{kind}: {reason}")
        yield from self._next_attachment(request.cb_kwargs["raw"], request.cb_kwargs["rest"])

    # --- errors -------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        """Errback of every request: classify and record, never re-raise."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind, reason = classify_failure(failure)
        self._error(url, kind, reason)

    def on_request_scheduled(self, request: Request, spider: Spider) -> None:
        """Count every request that reaches the downloader (robots.txt excluded)."""
        if spider is self and not request.url.endswith("/robots.txt"):
            self.context.count(self.name, "requests")

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


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
