"""CPU-heavy work on a downloaded page, run in a pool of worker processes.

Scrapy's reactor runs in one thread; extracting main text (trafilatura) and attachment text,
the sink's entity extraction (parkwatch's NLP) and its database write inline would hold it up
and use one core. The crawl context hands each :class:`crawler.items.RawPage` to worker
processes instead (:mod:`crawler.workerpool`). Their template builds, once (:func:`init_worker`), a sink
for them when the crawl's sink offers a picklable ``worker_factory`` (parkwatch's store does).
That sink runs the NLP and stores each article right there, so only its status and digest
travel back. Storing from the crawl process instead (a thread beside the reactor, or a third
process the article was shipped to) cost more in GIL contention and hand-offs than the writes
themselves.

Sinks without a worker side (tests' in-memory sinks) get the article back in the crawl process.

The extraction stack (trafilatura, lxml cleaners, PDF/Office readers) is imported where it
runs, not at module level: the crawl process imports this module to hand pages to the pool and
would otherwise carry ~30 MB and 0.3 s of start-up it never uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from crawler.failures import ATTACHMENT, EXTRACT_ERROR, NO_TEXT, STORE
from crawler.items import ArticleSink, FetchedArticle, RawPage
from crawler.sources import SourceConfig
from crawler.state import digest_of

logger = logging.getLogger(__name__)

_sink: ArticleSink | None = None  # the worker's own sink, when the crawl's sink offers one


@dataclass
class Processed:
    """Result of :func:`process_page`.

    ``status`` is set when the worker's own sink stored the article; ``article`` is set when
    the crawl process's sink has to. ``digest`` (of title and text, for the crawl state) is set
    whenever a main text was extracted.
    """

    article: FetchedArticle | None
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (url, kind, reason)
    attachments: int = 0
    digest: str | None = None
    status: str | None = None


#: Imported by the workers' template process while the crawl starts up (see WorkerPool).
WORKER_MODULES = ("crawler.extract", "crawler.attachments")


def worker_modules(sink_factory: object) -> tuple[str, ...]:
    """What the workers' template imports ahead: the extraction stack and what the sink's
    worker side names in its ``preload`` attribute (parkwatch's store: the NLP)."""
    return WORKER_MODULES + tuple(getattr(sink_factory, "preload", ()))


def init_worker(sink_factory: Callable[[], ArticleSink] | None) -> Callable[[], None] | None:
    """Pool initializer, run once in the workers' template before they are forked: build the
    workers' sink when the crawl's sink offers one. Each worker closes it when it exits."""
    global _sink
    if sink_factory is not None:
        _sink = sink_factory()
        return _sink.close
    return None


def process_page(raw: RawPage, source: SourceConfig, store: bool = True) -> Processed:
    """Extract ``raw`` into a FetchedArticle (main text + attachment text) and store it when
    this worker has a sink of its own (``store`` False: extraction only)."""
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
    if store and _sink is not None:
        try:
            result.status = _sink.article(result.article)
        except Exception as exc:  # noqa: BLE001 - recorded as a store error; the crawl goes on
            logger.warning("Storing %s failed: %r", raw.url, exc)
            result.errors.append((raw.url, STORE, f"{type(exc).__name__}: {exc}"))
        result.article = None
    return result
