"""Run a crawl of all enabled sources, in this process or in a spawned child.

All sources run in ONE ``CrawlerProcess`` (one spider per source) so they share the reactor,
the concurrency limits and one sink. Twisted's reactor cannot be restarted, so
:func:`run_crawl` works once per process; long-lived callers (the scheduler, the demo, tests
that crawl repeatedly) use :func:`run_crawl_in_subprocess`, which runs :func:`run_crawl` in a
fresh ``spawn`` child and sends the statistics back through a pipe.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.reactor import is_reactor_installed

from crawler.context import CrawlContext
from crawler.errors import CrawlFailed
from crawler.items import ArticleSink, SourceStats
from crawler.settings import CONTEXT_SETTING, CrawlSettings, scrapy_settings
from crawler.sources import SourceConfig
from crawler.spiders import SourceSpider
from crawler.work import worker_modules
from crawler.workerpool import SHUTDOWN_GRACE, WorkerTemplate

logger = logging.getLogger(__name__)

SinkFactory = Callable[[], ArticleSink]


def run_crawl(
    sources: Sequence[SourceConfig],
    settings: CrawlSettings,
    sink_factory: SinkFactory,
    template: WorkerTemplate | None = None,
) -> dict[str, SourceStats]:
    """Crawl every enabled source in this process; return stats keyed by source name.

    ``template``: the workers' template process, when the caller started it (see
    :func:`run_crawl_in_subprocess`); otherwise the crawl starts its own.

    Failed URLs do not raise: they are reported to the sink and counted in
    ``SourceStats.errors``. :class:`CrawlFailed` is raised only when the crawl as a whole
    cannot run (reactor already used in this process, sink factory failing, spider crash).
    """
    enabled = [source for source in sources if source.enabled]
    if not enabled:
        return {}
    _check_reactor_unused()

    context = CrawlContext(sink_factory, [source.name for source in enabled], settings.workers, template)
    try:
        # Build the sink (and start its workers, which take seconds to load the NLP) before
        # Scrapy sets up, instead of when the first spider opens.
        context.ensure_sink()
    except CrawlFailed:
        raise
    except Exception as exc:
        raise CrawlFailed(f"cannot build the article sink: {exc!r}") from exc
    config = scrapy_settings(settings, enabled)
    config[CONTEXT_SETTING] = context
    failures: list[str] = []
    try:
        process = CrawlerProcess(config)
        for source in enabled:
            deferred = process.crawl(SourceSpider.for_source(source))
            deferred.addErrback(_collect_failure, source.name, failures)
        _freeze_startup_objects()
        process.start(install_signal_handlers=threading.current_thread() is threading.main_thread())
    finally:
        context.shutdown()  # normally done when the last spider closed

    if context.sink_failure is not None:
        raise CrawlFailed(f"cannot build the article sink: {context.sink_failure!r}")
    if failures:
        raise CrawlFailed("crawl failed: " + "; ".join(failures))
    return context.stats


def run_crawl_in_subprocess(
    sources: Sequence[SourceConfig],
    settings: CrawlSettings,
    sink_factory: SinkFactory,
) -> dict[str, SourceStats]:
    """Like :func:`run_crawl`, in a ``spawn`` child process; callable any number of times.

    ``sink_factory`` must be picklable (a top-level class or ``functools.partial``): the sink is
    built inside the child. Raises :class:`CrawlFailed` if the child raises or dies.
    """
    try:
        pickle.dumps((list(sources), settings, sink_factory))
    except Exception as exc:
        raise CrawlFailed(
            f"sources, settings and sink_factory must be picklable for a subprocess crawl: {exc!r}"
        ) from exc
    mp = multiprocessing.get_context("spawn")
    receiver, sender = mp.Pipe(duplex=False)
    # The workers' template starts now, beside the crawl process: both spend their first second
    # importing, and on separate cores that second is spent once.
    template = WorkerTemplate.spawn(worker_modules(sink_factory)) if settings.workers != 0 else None
    child = mp.Process(
        target=_child_main,
        args=(list(sources), settings, sink_factory, sender, template),
        name="parkwatch-crawl",
        daemon=False,  # it starts its own extraction worker processes; the parent joins it
    )
    try:
        child.start()
    finally:
        sender.close()  # the child holds the only writer: EOF means it is gone
        if template is not None:
            template.conn.close()  # the crawl process holds it: the template exits when it is gone
    result: tuple[str, Any] | None = None
    try:
        result = receiver.recv()
    except EOFError:
        result = None
    finally:
        receiver.close()
        child.join()
        if template is not None and template.process is not None:
            template.process.join(timeout=SHUTDOWN_GRACE + 15)
            if template.process.is_alive():
                template.process.terminate()
                template.process.join(timeout=5)
    if result is None:
        raise CrawlFailed(
            f"crawl process died without a result (exit code {child.exitcode})"
        )
    status, payload = result
    if status != "ok":
        raise CrawlFailed(f"crawl process failed: {payload}")
    return payload


def _child_main(
    sources: list[SourceConfig],
    settings: CrawlSettings,
    sink_factory: SinkFactory,
    sender: Connection,
    template: WorkerTemplate | None = None,
) -> None:
    """Entry point of the spawned child: run the crawl, send ("ok", stats) or ("error", msg).

    The child then exits without the interpreter's teardown: the crawl has closed its sink and
    workers, and unloading Scrapy, Twisted and the rest took ~0.3 s that the parent waited for."""
    try:
        stats = run_crawl(sources, settings, sink_factory, template)
        sender.send(("ok", stats))
    except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
        message = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        sender.send(("error", message))
    finally:
        sender.close()
        try:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(0)


def _freeze_startup_objects() -> None:
    """Keep what start-up built (Scrapy, Twisted, the loaded crawl state) out of the garbage
    collector's full passes.

    A full collection walks every tracked object; in the crawl process it took ~100 ms and
    came every ~1.3 s on the benchmark, and while it ran the event loop fed no page to the
    workers, so each full pass left both of them idle (the no-op spider has nobody waiting on
    it). Frozen objects are never collected, which costs nothing here: start-up objects live as
    long as the crawl. Pages, requests and their reference cycles stay collectable.
    """
    gc.collect()
    gc.freeze()


def _check_reactor_unused() -> None:
    """Fail clearly instead of Twisted's ``ReactorNotRestartable`` on a second crawl."""
    if not is_reactor_installed():
        return
    from twisted.internet import reactor

    if getattr(reactor, "_startedBefore", False) or getattr(reactor, "running", False):
        raise CrawlFailed(
            "run_crawl already ran in this process and Twisted's reactor cannot restart; "
            "use crawler.runner.run_crawl_in_subprocess to crawl more than once per process"
        )


def _collect_failure(failure: Any, source: str, failures: list[str]) -> None:
    failures.append(f"{source}: {failure.getErrorMessage()}")
    logger.error("Crawl of source %s failed: %s", source, failure.getTraceback())
