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
