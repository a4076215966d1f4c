"""State shared by all spiders of one crawl: the sink, the workers, the crawl state, the stats.

The architecture asks for one sink per crawl (one store session / crawl run), while Scrapy
builds pipelines and spiders per crawler (one crawler per source). This object is put into the
Scrapy settings by the runner; Scrapy deep-copies settings for every crawler, so
``__deepcopy__`` returns the same instance on purpose, making it the one place where sink and
counters live. The sink is built lazily by the first spider that opens and closed when the last
one closes, i.e. on spider signals inside the crawling process.

Keeping the reactor free: extraction runs in worker processes
(:mod:`crawler.work`, fed by :mod:`crawler.workerpool` straight from the event loop); a sink
with a ``worker_factory`` also stores there (each worker has its own sink; each article is its
own transaction). What is left for this process's sink (crawl state in batches, errors, and the
articles of sinks without a worker side) goes through ONE writer thread. The reactor thread
only downloads and parses links.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from crawler.errors import CrawlFailed
from crawler.failures import EXTRACT_ERROR, STORE
from crawler.items import ArticleSink, FetchedArticle, RawPage, SourceStats
from crawler.sources import SourceConfig
from crawler.state import PageState, StatefulSink, utcnow
from crawler.work import Processed, init_worker, process_page, worker_modules
from crawler.workerpool import WorkerDied, WorkerPool, WorkerTemplate

logger = logging.getLogger(__name__)

ARTICLE_STATUSES = ("new", "changed", "unchanged", "duplicate")
#: Crawl-state updates are written in batches of this size (and at the end).
STATE_BATCH = 200


class CrawlContext:
    """One crawl's sink, open-spider count, workers, crawl state and :class:`SourceStats`."""

    def __init__(
        self,
        sink_factory: Callable[[], ArticleSink],
        source_names: list[str],
        workers: int | None = None,
        template: WorkerTemplate | None = None,
    ):
        self.sink_factory = sink_factory
        self.stats: dict[str, SourceStats] = {name: SourceStats() for name in source_names}
        self.sink: ArticleSink | None = None
        self.sink_failure: BaseException | None = None
        # One per core: the crawl process itself only downloads (about half a core at full
        # speed), while each worker extracts, runs the NLP and stores.
        self.workers = max(1, os.cpu_count() or 1) if workers is None else workers
        #: State as it was when the crawl started (what earlier runs saw); never changes.
        self.known: dict[str, PageState] = {}
        self._updates: list[PageState] = []
        self._pool: WorkerPool | None = None
        self._template = template  # the workers' template, when the parent process started it
        self._writer: ThreadPoolExecutor | None = None
        self._open_spiders = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> CrawlContext:
        return self

    # --- lifecycle, driven by the pipeline's open/close_spider -------------------------

    def open_source(self, source: str) -> None:
        """A spider opened: build the sink, load crawl state and start workers the first time."""
        self.stats.setdefault(source, SourceStats())
        self._open_spiders += 1
        self.ensure_sink()

    def ensure_sink(self) -> ArticleSink:
        """The crawl's sink, built (with its crawl state) on first use."""
        if self.sink_failure is not None:
            raise CrawlFailed(f"the article sink could not be built: {self.sink_failure!r}")
        if self.sink is None:
            try:
                self.sink = self.sink_factory()
            except Exception as exc:
                self.sink_failure = exc
                logger.error("Cannot build the article sink: %r", exc)
                raise
            if isinstance(self.sink, StatefulSink):
                self.known = self.sink.load_state(list(self.stats))
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="parkwatch-writer")
            self._prepare_workers()
        return self.sink

    def _prepare_workers(self) -> None:
        """Set up the worker pool around its template (the one the parent process started, or
        one spawned now), which imports the extraction and NLP modules while Scrapy starts up;
        nothing is loaded until :meth:`start_workers`."""
        if self._pool is not None or self.workers <= 0 or self.sink is None:
            return
        factory = getattr(self.sink, "worker_factory", None)
        self._pool = WorkerPool(
            self.workers, init_worker, (factory,), preload=worker_modules(factory), start=False, template=self._template
        )

    def start_workers(self) -> None:
        """Load the workers' state and fork them, if not yet: called when the first article
        request is made, so a crawl that finds nothing new (the usual nightly run) never loads
        the NLP, and one that does has its workers loading while the first articles download."""
        self._prepare_workers()
        if self._pool is not None:
            self._pool.start()

    def close_source(self, source: str) -> None:
        """A spider closed: flush state, stop workers and close the sink after the last one."""
        self._open_spiders -= 1
        if self._open_spiders <= 0:
            self.shutdown()

    def shutdown(self) -> None:
        """Flush state, stop the workers and close the sink (no-op when already done)."""
        if self.sink is None:
            return
        sink, self.sink = self.sink, None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._writer is not None:
            self._writer.submit(self._flush_state, sink)
            self._writer.shutdown(wait=True)
            self._writer = None
        try:
            sink.close()
        except Exception:
            logger.exception("Closing the article sink failed")

    # --- crawl state --------------------------------------------------------------------

    def state(self, url: str) -> PageState | None:
        """What earlier runs knew about canonical ``url`` (None: never seen)."""
        return self.known.get(url)

    def remember(self, state: PageState) -> None:
        """Queue an updated state; written by the writer thread in batches."""
        self._updates.append(state)
        if len(self._updates) >= STATE_BATCH and self._writer is not None and self.sink is not None:
            self._writer.submit(self._flush_state, self.sink)

    def _flush_state(self, sink: ArticleSink) -> None:
        batch, self._updates = self._updates, []
        if batch and isinstance(sink, StatefulSink):
            try:
                sink.save_state(batch)
            except Exception:
                logger.exception("Saving crawl state failed (the next crawl re-checks these URLs)")

    # --- events -------------------------------------------------------------------------

    def count(self, source: str, key: str, n: int = 1) -> None:
        """Add ``n`` to a :class:`SourceStats` counter of ``source``."""
        stats = self.stats.setdefault(source, SourceStats())
        setattr(stats, key, getattr(stats, key) + n)

    def page_fetched(self, source: str) -> None:
        """Count a successfully downloaded page (listing, feed or article)."""
        self.count(source, "pages_fetched")

    async def process(self, raw: RawPage, source: SourceConfig) -> str | None:
        """Extract (and, with a worker-side sink, store) ``raw`` in a worker; the status.

        Articles the workers do not store go to this process's sink through the writer thread,
        so the reactor never waits on the database.
        """
        loop = asyncio.get_running_loop()
        self.start_workers()
        if self._pool is not None:
            try:
                done: Processed = await self._pool.run(process_page, raw, source)
            except WorkerDied as exc:
                self.error(raw.source, raw.url, EXTRACT_ERROR, f"worker process died: {exc}")
                return None
            except Exception as exc:  # e.g. the worker could not initialise (database gone)
                self.error(raw.source, raw.url, EXTRACT_ERROR, f"{type(exc).__name__}: {exc}")
                return None
        else:
            done = process_page(raw, source, store=False)
        for url, kind, reason in done.errors:
            self.error(raw.source, url, kind, reason)
        if done.digest is None:
            return None  # no main text
        self.count(raw.source, "attachments", done.attachments)
        if done.article is None:  # stored by the worker (or failed there: recorded above)
            status = None if done.status is None else self._counted(raw.source, raw.url, done.status)
        elif self._writer is not None:
            status = await loop.run_in_executor(self._writer, self.article, done.article)
        else:
            status = self.article(done.article)
        if status is not None:
            old = self.state(raw.canonical_url) or PageState(raw.canonical_url, raw.source, "article")
            self.remember(
                old.after_check(
                    utcnow(),
                    changed=status in ("new", "changed", "duplicate"),
                    digest=done.digest,
                    etag=raw.etag,
                    last_modified=raw.last_modified,
                )
            )
        return status

    def article(self, item: FetchedArticle) -> str | None:
        """Hand ``item`` to the sink; a sink failure becomes a ``store`` error, not a crash."""
        if self.sink is None:
            self.error(item.source, item.url, STORE, "no sink available")
            return None
        try:
            status = self.sink.article(item)
        except Exception as exc:
            logger.warning("Storing %s failed: %r", item.url, exc)
            self.error(item.source, item.url, STORE, f"{type(exc).__name__}: {exc}")
            return None
        return self._counted(item.source, item.url, status)

    def _counted(self, source: str, url: str, status: str) -> str | None:
        """Count a sink's answer for ``url`` in the source's stats (None: not a status)."""
        if status not in ARTICLE_STATUSES:
            reason = f"sink returned {status!r}, expected one of {ARTICLE_STATUSES}"
            self.error(source, url, STORE, f"ValueError: {reason}")
            return None
        stats = self.stats.setdefault(source, SourceStats())
        if status == "new":
            stats.articles_new += 1
        elif status == "changed":
            stats.articles_changed += 1
        elif status == "duplicate":
            stats.duplicates += 1
        else:
            stats.articles_unchanged += 1
        return status

    def error(self, source: str, url: str, kind: str, reason: str) -> None:
        """Count the error and pass it to the sink (a failing sink is only logged)."""
        self.stats.setdefault(source, SourceStats()).add_error(kind)
        logger.info("[%s] %s %s: %s", source, kind, url, reason)
        sink = self.sink
        if sink is None:
            return
        if self._writer is not None:
            try:
                self._writer.submit(self._record_error, sink, source, url, kind, reason)
                return
            except RuntimeError:  # writer already shut down: record inline
                pass
        self._record_error(sink, source, url, kind, reason)

    @staticmethod
    def _record_error(sink: ArticleSink, source: str, url: str, kind: str, reason: str) -> None:
        try:
            sink.error(source, url, kind, reason)
        except Exception:
            logger.exception("Recording an error in the sink failed")
