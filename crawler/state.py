"""What the crawler remembers between runs about each URL, and when to look at it again.

A re-crawl must fetch only what is new or changed. The crawler reads a snapshot of
:class:`PageState` rows at the start of a crawl (from the sink, see :class:`StatefulSink`) and
hands updated rows back as it goes; the store keeps them (``store/crawlstate.py``). Nothing here
touches a database, so spiders stay free of I/O beyond HTTP.

Validators (ETag, Last-Modified) are used, but not trusted alone: some servers keep an ETag
after the page changed. A 304 is believed only while the last full download of that URL is
younger than :data:`TRUST_VALIDATORS_FOR`; after that the page is fetched without validators and
compared by content (a hash of what matters: the article links of a listing, the entries of a
feed, the main text of an article).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

#: A 304 is trusted only if the page was last downloaded in full within this window.
TRUST_VALIDATORS_FOR = timedelta(days=3)
#: A known article is re-checked for changes after this long, doubling while it stays the same.
FIRST_RECHECK = timedelta(hours=12)
MAX_RECHECK = timedelta(days=14)


@dataclass(frozen=True)
class PageState:
    """One URL as last seen. ``kind`` is listing | feed | sitemap | article | attachment."""

    url: str  # canonical URL
    source: str
    kind: str
    digest: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None  # last full (200) download
    checked_at: datetime | None = None  # last request of any outcome (200 or 304)
    next_check_at: datetime | None = None  # articles: when to re-fetch to look for a change
    unchanged_checks: int = 0

    def conditional_headers(self, now: datetime) -> dict[str, str]:
        """If-None-Match / If-Modified-Since, only while validators may be trusted."""
        if self.fetched_at is None or now - self.fetched_at > TRUST_VALIDATORS_FOR:
            return {}
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def due(self, now: datetime) -> bool:
        """True when a known article should be fetched again to look for a change."""
        return self.next_check_at is None or self.next_check_at <= now

    def after_check(
        self,
        now: datetime,
        *,
        changed: bool,
        digest: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        full: bool = True,
    ) -> PageState:
        """The state after a request: a change resets the revisit interval, sameness doubles it."""
        unchanged = 0 if changed else self.unchanged_checks + 1
        interval = min(FIRST_RECHECK * (2**min(unchanged, 10)), MAX_RECHECK)
        return replace(
            self,
            digest=digest if digest is not None else self.digest,
            etag=etag if full else (etag or self.etag),
            last_modified=last_modified if full else (last_modified or self.last_modified),
            fetched_at=now if full else self.fetched_at,
            checked_at=now,
            next_check_at=now + interval,
            unchanged_checks=unchanged,
        )


def new_state(url: str, source: str, kind: str) -> PageState:
    """A URL never seen before."""
    return PageState(url=url, source=source, kind=kind)


def digest_of(parts: Iterable[str]) -> str:
    """Stable content hash of the parts that matter for a page (order kept)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@runtime_checkable
class StatefulSink(Protocol):
    """A sink that also keeps crawl state between runs (optional; see module docstring)."""

    def load_state(self, sources: list[str]) -> dict[str, PageState]:
        """Every remembered URL of ``sources``, keyed by canonical URL."""
        ...

    def save_state(self, states: list[PageState]) -> None:
        """Remember ``states`` (insert or replace by URL)."""
        ...
