"""CPU-heavy work on a downloaded page, run in a pool of worker processes.

Scrapy's reactor runs in one thread; extracting main text (trafilatura), attachment text and
the sink's own preparation (parkwatch's NLP) inline would hold it up and use one core. The
crawl context sends each :class:`crawler.items.RawPage` here through a
``ProcessPoolExecutor`` instead; each worker builds the sink's *preparer* once (e.g. loads the
NLP pipelines) in :func:`init_worker` and reuses it for every page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from crawler.attachments import AttachmentError, attachment_name, attachment_text
from crawler.extract import extract_page
from crawler.failures import ATTACHMENT, EXTRACT_ERROR, NO_TEXT
from crawler.items import FetchedArticle, RawPage
from crawler.sources import SourceConfig

logger = logging.getLogger(__name__)

Preparer = Callable[[FetchedArticle], Any]
_preparer: Preparer | None = None


@dataclass
class Processed:
    """Result of :func:`process_page`: the article (or None), its prepared payload, errors."""

    article: FetchedArticle | None
    prepared: Any = None
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (url, kind, reason)
    attachments: int = 0


def init_worker(preparer_factory: Callable[[], Preparer] | None) -> None:
    """Process-pool initializer: build the sink's preparer once per worker."""
    global _preparer
    _preparer = preparer_factory() if preparer_factory is not None else None


def process_page(raw: RawPage, source: SourceConfig, prepare: bool = True) -> Processed:
    """Extract ``raw`` into a FetchedArticle (main text + attachment text), then prepare it."""
    try:
        page = extract_page(
            raw.body,
            raw.url,
            http_encoding=raw.http_encoding,
            default_lang=source.lang,
            timezone=source.timezone,
            title_selector=source.title,
            date_selector=source.date,
            body_selector=source.body,
        )
    except Exception as exc:  # noqa: BLE001 - one pathological page must not stop the crawl
        logger.exception("Extraction failed for %s", raw.url)
        return Processed(None, errors=[(raw.url, EXTRACT_ERROR, f"{type(exc).__name__}: {exc}")])
    if page is None:
        reason = f"no main text extracted ({raw.content_type or 'no type'})"
        return Processed(None, errors=[(raw.url, NO_TEXT, reason)])
    result = Processed(None)
    texts = [page.text]
    for attachment in raw.attachments:
        try:
            body = attachment_text(attachment.body, attachment.url, attachment.content_type)
        except AttachmentError as exc:
            result.errors.append((attachment.url, ATTACHMENT, str(exc)))
            continue
        texts.append(f"附件：{attachment_name(attachment.url)}\n{body}")
        result.attachments += 1
    result.article = FetchedArticle(
        source=raw.source,
        url=raw.url,
        canonical_url=raw.canonical_url,
        lang=page.lang,
        title=page.title or raw.feed_title,
        text="\n\n".join(texts),
        published_at=page.published_at or raw.feed_published,
        fetched_at=datetime.now(timezone.utc),
    )
    if prepare and _preparer is not None:
        try:
            result.prepared = _preparer(result.article)
        except Exception as exc:  # noqa: BLE001 - the sink prepares again inline
            logger.warning("Preparing %s in the worker failed: %r", raw.url, exc)
    return result
