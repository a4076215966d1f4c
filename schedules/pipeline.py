"""The per-article unit of work: extract entities, then store article, mentions, new parks and
their alerts in one transaction.

Entity extraction is CPU work: the crawler runs it in its worker processes through
`NlpPreparer` (built once per worker from the picklable `StoreSink.preparer_factory`) and hands
the mentions to `StoreSink.article`, which then only writes (from the crawl's writer thread).
The sink also keeps the crawl state between runs (store/crawlstate.py) and marks near-duplicate
articles (store/dedup.py).

`StoreSink` is what the crawler hands articles to. It is built inside the process that crawls
(from a picklable factory), loads the knowledge base and the NLP pipelines once, and keeps the
extractor in step with parks found earlier in the same run, so a second mention of a newly named
park links to it instead of creating a second park.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from nlp.kb import KnowledgeBase
from store import crawlstate, repository
from store.db import make_engine, session_factory
from store.dedup import FingerprintIndex, simhash
from store.models import Article

if TYPE_CHECKING:
    from crawler.items import FetchedArticle
    from nlp.extract import Extractor
    from crawler.state import PageState

log = logging.getLogger(__name__)


def build_extractor(sessions: sessionmaker[Session], kb: KnowledgeBase | None = None) -> Extractor:
    """An extractor that knows the bundled parks and every park already found in this database.

    nlp.extract (spaCy, jieba) is imported here, not at module level: the crawl process only
    stores, its workers extract, and the import alone costs the crawl process ~100 MB."""
    from nlp.extract import Extractor

    bundled = kb or KnowledgeBase.load()
    with sessions() as session:
        found = repository.found_parks(session)
    return Extractor(bundled.with_parks(found))


@dataclass(frozen=True)
class NlpPreparerFactory:
    """Picklable recipe for the entity extraction a crawl worker process runs per article."""

    db_url: str

    def __call__(self) -> NlpPreparer:
        engine = make_engine(self.db_url)
        try:
            return NlpPreparer(build_extractor(session_factory(engine)))
        finally:
            engine.dispose()


class NlpPreparer:
    """Entity mentions of one article (runs in a crawl worker process)."""

    def __init__(self, extractor: Extractor) -> None:
        self.extractor = extractor

    def __call__(self, item: FetchedArticle) -> Prepared:
        return Prepared(self.extractor.extract(item.text, item.lang), simhash(item.text))


@dataclass(frozen=True)
class Prepared:
    """What a worker computed for one article: its entity mentions and its SimHash."""

    mentions: list[Any]
    simhash: int


def _sqlite_crawl_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """In WAL mode, synchronous=NORMAL still survives a crash of the crawl (only a power cut can
    lose the last commits, which the next crawl fetches again); it makes a per-article commit
    several times cheaper than the default FULL, which syncs the disk on every commit."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class StoreSink:
    """ArticleSink writing to the database; one instance per crawl process."""

    def __init__(self, db_url: str, run_id: int | None = None) -> None:
        self.run_id = run_id
        self.engine = make_engine(db_url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_crawl_pragmas)
        self.sessions = session_factory(self.engine)
        self.preparer_factory = NlpPreparerFactory(db_url)
        self._extractor: Extractor | None = None  # only when a worker could not prepare
        with self.sessions() as session:
            self.fingerprints = FingerprintIndex().load(session)

    @property
    def extractor(self) -> Extractor:
        if self._extractor is None:
            self._extractor = build_extractor(self.sessions)
        return self._extractor

    def article(self, item: FetchedArticle, prepared: Prepared | None = None) -> str:
        """Store ``item`` with its mentions (``prepared`` by a worker, else extracted here).

        A new article that nearly duplicates an earlier one is stored but reported as
        ``"duplicate"`` and marked so (``article_fingerprints.duplicate_of_id``).
        """
        if prepared is None:
            prepared = Prepared(self.extractor.extract(item.text, item.lang), simhash(item.text))
        mentions = prepared.mentions
        status = "unchanged"
        for attempt in (1, 2):
            try:
                with self.sessions.begin() as session:
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
                    new_parks = [repository.found_parks_entry(p) for p in result.new_parks]
                    status = result.status
                    if status != "unchanged":
                        original = self.fingerprints.record(
                            session, result.article_id, item.text, new=status == "new", value=prepared.simhash
                        )
                        if original is not None and status == "new":
                            status = "duplicate"
                break
            except IntegrityError:
                # Another process stored the same URL or park a moment ago: the retry sees it.
                if attempt == 2:
                    raise
        for park in new_parks:
            log.info("new park found: %s (%s)", park.name_zh, item.url)
            if self._extractor is not None:
                self._extractor.add_park(park)
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
        with self.sessions.begin() as session:
            crawlstate.save_pages(session, states)

    def error(self, source: str, url: str, kind: str, reason: str) -> None:
        with self.sessions.begin() as session:
            repository.record_error(session, run_id=self.run_id, source=source, url=url, kind=kind, reason=reason)

    def close(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class StoreSinkFactory:
    """Picklable recipe for a StoreSink, so a spawned crawl process can build its own."""

    db_url: str
    run_id: int | None = None

    def __call__(self) -> StoreSink:
        return StoreSink(self.db_url, self.run_id)
