"""Crawl state between runs (table ``crawl_pages``), read once per crawl and written in batches.

The crawler asks for the whole state at the start of a crawl (a few hundred bytes per URL) so
that spiders decide "known or not" in memory, without a query per link; updates come back in
batches from the sink's writer thread. Each function takes a caller-owned session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import CrawlPage

_COLUMNS = (
    "source",
    "kind",
    "digest",
    "etag",
    "last_modified",
    "fetched_at",
    "checked_at",
    "next_check_at",
    "unchanged_checks",
)


def load_pages(session: Session) -> list[dict[str, Any]]:
    """Every remembered URL as a plain dict (keys: ``url`` plus the columns above)."""
    rows = session.scalars(select(CrawlPage))
    return [{"url": row.url, **{c: getattr(row, c) for c in _COLUMNS}} for row in rows]


def save_pages(session: Session, pages: Sequence[Any]) -> int:
    """Insert or update ``pages`` (objects with ``url`` and the columns above) by URL.

    Within one batch the last entry for a URL wins. Returns the number of rows written.
    """
    latest = {page.url: page for page in pages}
    if not latest:
        return 0
    urls = list(latest)
    existing: dict[str, CrawlPage] = {}
    for start in range(0, len(urls), 500):  # stay under SQLite's bound-parameter limit
        chunk = urls[start : start + 500]
        existing.update((row.url, row) for row in session.scalars(select(CrawlPage).where(CrawlPage.url.in_(chunk))))
    for url, page in latest.items():
        row = existing.get(url) or CrawlPage(url=url)
        for column in _COLUMNS:
            setattr(row, column, getattr(page, column))
        session.add(row)
    session.flush()
    return len(latest)


def forget_pages(session: Session, urls: Iterable[str]) -> None:
    """Drop state for ``urls`` (their next crawl treats them as new)."""
    for row in session.scalars(select(CrawlPage).where(CrawlPage.url.in_(list(urls)))):
        session.delete(row)
