"""CPU-heavy work on a downloaded page, run in processes of its own.

Scrapy's reactor runs in one thread; extracting main text (trafilatura), attachment text, the
sink's preparation (parkwatch's NLP) and the sink's database writes inline would hold it up and
use one core. The crawl context hands the work to two kinds of processes instead:

* extraction workers (a pool): :func:`process_page` turns a :class:`crawler.items.RawPage` into
  a :class:`FetchedArticle` and runs the sink's *preparer* on it (built once per worker by
  :func:`init_worker`, e.g. loading the NLP pipelines);
* one writer process, for a sink that offers a picklable ``writer_factory``: it builds its own
  sink once (:func:`init_writer`) and stores every article (:func:`store_article`), one at a
  time, in the order they come. Storing from a thread of the crawl process instead made that
  thread and the reactor contend for the GIL on every SQLite call, which cost the crawl more
  than the writes themselves. Sinks without one (tests' in-memory sinks) are called from a
  thread of the crawl process.

The extraction stack (trafilatura, lxml cleaners, PDF/Office readers) is imported where it
runs, not at module level: the crawl process and the writer import this module too and would
otherwise carry ~30 MB and 0.3 s of start-up they never use.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from crawler.failures import ATTACHMENT, EXTRACT_ERROR, NO_TEXT
from crawler.items import ArticleSink, FetchedArticle, RawPage
from crawler.sources import SourceConfig
from crawler.state import digest_of

logger = logging.getLogger(__name__)

Preparer = Callable[[FetchedArticle], Any]
_preparer: Preparer | None = None  # in an extraction worker
_sink: ArticleSink | None = None  # in the writer process


@dataclass
class Processed:
    """Result of :func:`process_page`: the article (or None), its prepared payload, its content
    digest (for the crawl state), errors."""

    article: FetchedArticle | None
    prepared: Any = None
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (url, kind, reason)
    attachments: int = 0
    digest: str | None = None


def init_worker(preparer_factory: Callable[[], Preparer] | None) -> None:
    """Extraction-pool initializer: build the sink's preparer once per worker."""
    global _preparer
    _preparer = preparer_factory() if preparer_factory is not None else None


def init_writer(sink_factory: Callable[[], ArticleSink]) -> None:
    """Writer-process initializer: build the sink that stores every article of the crawl."""
    global _sink
    _sink = sink_factory()
    atexit.register(_sink.close)


def ready() -> None:
    """A no-op task: submitting it makes a pool spawn (and initialise) its process now."""


def store_article(item: FetchedArticle, prepared: Any = None) -> str:
    """In the writer process: store ``item`` with the sink built by :func:`init_writer`."""
    if _sink is None:
        raise RuntimeError("the writer process has no sink (init_writer did not run)")
    if prepared is None:
        return _sink.article(item)
    return _sink.article(item, prepared)  # type: ignore[call-arg]


def process_page(raw: RawPage, source: SourceConfig, prepare: bool = True) -> Processed:
    """Extract ``raw`` into a FetchedArticle (main text + attachment text), then prepare it."""
    from crawler.attachments import AttachmentError, attachment_name, attachment_text
    from crawler.extract import extract_page

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
    result.digest = digest_of([result.article.title or "", result.article.text])
    if prepare and _preparer is not None:
        try:
            result.prepared = _preparer(result.article)
        except Exception as exc:  # noqa: BLE001 - the sink prepares again when it stores
            logger.warning("Preparing %s in the worker failed: %r", raw.url, exc)
    return result
