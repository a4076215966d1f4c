"""Boundary types between the crawler and the rest of parkwatch (see docs/architecture.md).

``FetchedArticle`` is the only thing the crawler hands downstream; ``ArticleSink`` is the
interface downstream implements to receive articles and errors. Keeping both free of Scrapy
types lets store/ and schedules/ use them without importing Scrapy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class FetchedArticle:
    """One fetched article page, reduced to its main text and metadata."""

    source: str  # source name from the sources file
    url: str  # final URL after redirects
    canonical_url: str  # w3lib-canonicalised (fragment/tracking params dropped)
    lang: str  # "zh" | "en" (source's language, or detected when "auto")
    title: str | None
    text: str  # main text only (trafilatura), no navigation/sidebars/footers
    published_at: datetime | None  # timezone-aware UTC
    fetched_at: datetime  # timezone-aware UTC


@dataclass(frozen=True)
class Attachment:
    """A file linked from a notice (PDF, Word, Excel, WPS export), downloaded with it."""

    url: str
    body: bytes
    content_type: str = ""


@dataclass(frozen=True)
class RawPage:
    """A downloaded article page, before extraction (which runs in a worker process).

    Plain, picklable data: the spider only downloads; :mod:`crawler.work` turns this into a
    :class:`FetchedArticle` off the reactor thread.
    """

    source: str
    url: str
    canonical_url: str
    body: bytes
    http_encoding: str | None = None
    content_type: str = ""
    feed_title: str | None = None
    feed_published: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
    etag: str | None = None
    last_modified: str | None = None


@runtime_checkable
class ArticleSink(Protocol):
    """Receiver of crawl results, built once per crawl inside the crawling process."""

    def article(self, item: FetchedArticle) -> str:
        """Store or compare the article; return ``"new"``, ``"changed"`` or ``"unchanged"``."""
        ...

    def error(self, source: str, url: str, kind: str, reason: str) -> None:
        """Record a failed URL; ``kind`` is one of :mod:`crawler.failures` kinds."""
        ...

    def close(self) -> None:
        """Flush and release resources; called once when the crawl ends."""
        ...


@dataclass
class SourceStats:
    """Per-source counters returned by :func:`crawler.runner.run_crawl`.

    Plain data (picklable) so the subprocess runner can send it back to the parent.
    """

    pages_fetched: int = 0
    requests: int = 0  # every request sent (pages, 304s, attachments, failures; not robots.txt)
    not_modified: int = 0  # conditional requests answered 304
    listings_unchanged: int = 0  # listing/feed/sitemap pages whose links were the same as last run
    skipped_known: int = 0  # article links not fetched: known and not due for a re-check
    attachments: int = 0  # attachments whose text was added to their notice
    duplicates: int = 0  # articles stored as near-duplicates of an earlier one
    articles_new: int = 0
    articles_changed: int = 0
    articles_unchanged: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def articles(self) -> int:
        """Articles handed to the sink, whatever their status."""
        return self.articles_new + self.articles_changed + self.articles_unchanged

    @property
    def error_count(self) -> int:
        """Total recorded errors of every kind."""
        return sum(self.errors.values())

    def add_error(self, kind: str) -> None:
        """Count one error of ``kind``."""
        self.errors[kind] = self.errors.get(kind, 0) + 1
