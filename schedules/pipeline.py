"""The per-article unit of work: extract entities, then store article, mentions, new parks and
their alerts in one transaction.

Entity extraction and the write are CPU work: each of the crawler's extraction workers builds
its own `StoreSink` (from the picklable `StoreSink.worker_factory`) and stores every article it
extracts, so the crawl process only downloads. The crawl process's sink keeps the crawl state
between runs (store/crawlstate.py) and records errors; it stores articles itself only when the
crawl runs without workers. The sink marks near-duplicate articles (store/dedup.py).

A sink loads the knowledge base and the NLP pipelines once. Its extractor knows the parks stored
before the crawl began, not those found during it: a later mention of a newly found park comes
as new again and is matched to the stored row at store time (store/repository.py: by name, or
by its other-language name, which then fills the name the row lacked). That one mechanism works
across workers; an extractor that learned parks itself linked a Chinese mention to a park stored
from an English article without ever giving the park its Chinese name.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from nlp.kb import KnowledgeBase
from store import crawlstate, repository
from store.db import make_engine, session_factory
from store.dedup import FingerprintIndex, shingles, simhash
from store.models import Article

if TYPE_CHECKING:
    from crawler.items import FetchedArticle
    from nlp.extract import Extractor
    from crawler.state import PageState

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's own locking alone
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


def build_extractor(sessions: sessionmaker[Session], kb: KnowledgeBase | None = None,
                    kb_dir: str | None = None) -> Extractor:
    """An extractor that knows the bundled parks (extended by the user's ``kb_dir``) and every
    park already found in this database, except candidates: those keep coming as new mentions,
    so a sure one can promote them (store/repository.py).

    nlp.extract (spaCy, jieba) is imported here, not at module level: the crawl process only
    downloads, its workers extract, and the import alone costs ~100 MB."""
    from nlp.extract import Extractor

    bundled = kb or KnowledgeBase.load(user_dir=kb_dir)
    with sessions() as session:
        found = repository.found_parks(session)
    return Extractor(bundled.with_parks(found))


def _sqlite_crawl_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """In WAL mode, synchronous=NORMAL still survives a crash of the crawl (only a power cut can
    lose the last commits, which the next crawl fetches again); it makes a per-article commit
    several times cheaper than the default FULL, which syncs the disk on every commit.

    The crawl writes from several processes (each extraction worker stores its articles, the
    crawl process its crawl state and errors), and other crawls may run beside it, so
    transactions start with BEGIN IMMEDIATE: a transaction that read first and wrote later would
    otherwise fail at once ("database is locked", SQLITE_BUSY_SNAPSHOT) whenever another process
    committed in between, instead of waiting its turn (busy_timeout). pysqlite's own BEGIN is
    switched off for that."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class WriterLock:
    """Makes this crawl's writers to one SQLite file take turns, each woken the moment the last
    one commits.

    The crawl's workers each store their articles, one transaction per article; SQLite lets one
    write at a time, and a writer that finds the file locked polls (its busy handler sleeps 1,
    2, 5, 10 ms and longer between tries). On the benchmark each worker spent ~1.1 s of a 10 s
    crawl asleep that way. Holding an flock on a file beside the database around each write
    transaction queues them in the kernel instead. Writers outside the crawl (the digest, the
    CLI) do not take it; SQLite's own locking still keeps them all correct.

    An flock belongs to an open file description, which a fork shares and the threads of a
    process share: the file is opened once per process, after any fork, and the threads of one
    process (the crawl process's writer thread and its inline fallback) take turns on a
    thread lock first. Without fcntl (not POSIX), for another database, or when the file cannot
    be created, only the thread lock is taken.
    """

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.path = f"{database}-writer.lock" if database and database != ":memory:" and fcntl else None
        self._fd: int | None = None
        self._pid = 0
        self._threads = threading.Lock()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        fd = self._open()
        with self._threads:
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int | None:
        if self._pid != os.getpid():  # first use, or first use after a fork
            self._pid = os.getpid()
            self._threads = threading.Lock()  # one held by another thread at the fork stays held
            if self.path is None:
                return None
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                log.debug("No writer lock at %s (%s); SQLite's locking alone serialises writes", self.path, exc)
                self.path = self._fd = None
        return self._fd

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid = None, 0


class StoreSink:
    """ArticleSink writing to the database.

    The crawl process builds one for crawl state and errors; each extraction worker builds its
    own (``worker_factory``) and stores the articles it extracts. The NLP pipelines and the
    near-duplicate index are loaded on first use (at start-up in a worker), never in the crawl
    process unless it stores articles itself.
    """

    def __init__(self, db_url: str, run_id: int | None = None, worker: bool = False,
                 kb_dir: str | None = None) -> None:
        self.run_id = run_id
        self.kb_dir = kb_dir
        self.engine = make_engine(db_url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_crawl_pragmas)
            event.listen(self.engine, "begin", _begin_immediate)
        self.sessions = session_factory(self.engine)
        self.write_lock = WriterLock(self.engine)
        self.worker_factory = StoreSinkFactory(db_url, run_id, worker=True, kb_dir=kb_dir)
        self._extractor: Extractor | None = None
        self._fingerprints: FingerprintIndex | None = None
        if worker:  # load now, in the workers' template, ahead of the first page
            self.extractor, self.fingerprints  # noqa: B018
            # The workers are forked from the process that loaded this: no database connection
            # may cross a fork (two processes on one SQLite handle corrupt its locks). Each
            # worker opens its own on first use.
            self.engine.dispose()

    @property
    def extractor(self) -> Extractor:
        if self._extractor is None:
            self._extractor = build_extractor(self.sessions, kb_dir=self.kb_dir)
        return self._extractor

    @property
    def fingerprints(self) -> FingerprintIndex:
        if self._fingerprints is None:
            with self.sessions() as session:
                self._fingerprints = FingerprintIndex().load(session)
        return self._fingerprints

    def article(self, item: FetchedArticle) -> str:
        """Extract ``item``'s entities and store it with them.

        A new article that nearly duplicates an earlier one is stored but reported as
        ``"duplicate"`` and marked so (``article_fingerprints.duplicate_of_id``).
        """
        mentions = self.extractor.extract(item.text, item.lang)
        tokens = shingles(item.text)
        value = simhash(item.text, tokens)
        fingerprints = self.fingerprints
        status = "unchanged"
        for attempt in (1, 2):
            try:
                with self.write_lock(), self.sessions.begin() as session:
                    result = repository.save_article(
                        session,
                        source=item.source,
                        url=item.url,
                        canonical_url=item.canonical_url,
                        lang=item.lang,
                        title=item.title,
                        text=item.text,
                        published_at=item.published_at,
                        fetched_at=item.fetched_at,
                        mentions=mentions,
                    )
                    new_parks = result.new_parks
                    status = result.status
                    if status != "unchanged":
                        fingerprints.refresh(session)  # what other crawls stored meanwhile
                        original = fingerprints.record(
                            session, result.article_id, item.text, new=status == "new", value=value,
                            tokens=tokens,
                        )
                        if original is not None and status == "new":
                            status = "duplicate"
                break
            except IntegrityError:
                # Another process stored the same URL or park a moment ago: the retry sees it.
                if attempt == 2:
                    raise
        for park in new_parks:
            log.info("new park found: %s (%s)", park.name_zh or park.name_en, item.url)
        return status

    def load_state(self, sources: list[str]) -> dict[str, PageState]:
        """Crawl state of every URL seen before; stored articles without a state row count as
        known articles due for a re-check 12 hours after they were last updated."""
        from crawler.state import FIRST_RECHECK, PageState

        with self.sessions() as session:
            rows = crawlstate.load_pages(session)
            states = {row["url"]: PageState(**row) for row in rows}
            for url, source, updated in session.execute(
                select(Article.canonical_url, Article.source, Article.updated_at)
            ):
                if url not in states:
                    states[url] = PageState(url, source, "article", next_check_at=updated + FIRST_RECHECK)
        return states

    def save_state(self, states: list[PageState]) -> None:
        with self.write_lock(), self.sessions.begin() as session:
            crawlstate.save_pages(session, states)

    def error(self, source: str, url: str, kind: str, reason: str) -> None:
        with self.write_lock(), self.sessions.begin() as session:
            repository.record_error(session, run_id=self.run_id, source=source, url=url, kind=kind, reason=reason)

    def close(self) -> None:
        self.write_lock.close()
        self.engine.dispose()


@dataclass(frozen=True)
class StoreSinkFactory:
    """Picklable recipe for a StoreSink, so a spawned crawl process (and each of its extraction
    workers, ``worker=True``) can build its own."""

    db_url: str
    run_id: int | None = None
    worker: bool = False
    #: the user's knowledge-base folder (the ``kb_dir`` setting), None for the bundled one alone
    kb_dir: str | None = None
    #: Modules a worker-side sink needs, imported by the workers' template while the crawl
    #: starts up (crawler.workerpool), before the first article is known to be coming.
    preload: tuple[str, ...] = ("schedules.pipeline", "nlp.extract")

    def __call__(self) -> StoreSink:
        return StoreSink(self.db_url, self.run_id, worker=self.worker, kb_dir=self.kb_dir)
