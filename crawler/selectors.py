"""Where the spiders find links in listing pages and feeds.

Selectors are data: the per-source ones (``next_page``, ``title``) come from the sources
file, the generic ones live here, so the spider code has no site-specific markup in it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

# Every hyperlink of a listing page; allow/deny regexes then pick the articles.
ARTICLE_LINKS = "a[href]::attr(href)"
# Tried in order on a next_page match that is not itself a link (e.g. "li.next").
NEXT_LINK_ATTRS = ("href", "data-href")
NESTED_LINK = "a[href]::attr(href)"


def feed_entry_link(entry: Any) -> str | None:
    """The article link of a feedparser entry: ``link``, else the first alternate link."""
    link = entry.get("link")
    if link:
        return str(link).strip()
    for candidate in entry.get("links") or ():
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            return str(candidate["href"]).strip()
    return None


def feed_entry_published(entry: Any) -> datetime | None:
    """The entry's publication (or update) time as aware UTC; feedparser normalises to UTC."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=timezone.utc)
            except (TypeError, ValueError):
                continue
    return None


def feed_entry_title(entry: Any) -> str | None:
    """The entry's title, whitespace-collapsed."""
    title = " ".join(str(entry.get("title") or "").split())
    return title or None
