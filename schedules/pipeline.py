"""The per-article unit of work: extract entities, then store article, mentions, new parks and
their alerts in one transaction.

`StoreSink` is what the crawler hands articles to. It is built inside the process that crawls
(from a picklable factory), loads the knowledge base and the NLP pipelines once, and keeps the
extractor in step with parks found earlier in the same run, so a second mention of a newly named
park links to it instead of creating a second park.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from nlp.extract import Extractor
from nlp.kb import KnowledgeBase
from store import repository
from store.db import make_engine, session_factory

if TYPE_CHECKING:
    from crawler.items import FetchedArticle

log = logging.getLogger(__name__)


def build_extractor(sessions: sessionmaker[Session], kb: KnowledgeBase | None = None) -> Extractor:
    """An extractor that knows the bundled parks and every park already found in this database."""
    bundled = kb or KnowledgeBase.load()
    with sessions() as session:
        found = repository.found_parks(session)
    return Extractor(bundled.with_parks(found))


class StoreSink:
    """ArticleSink writing to the database; one instance per crawl process."""

    def __init__(self, db_url: str, run_id: int | None = None) -> None:
        self.run_id = run_id
        self.engine = make_engine(db_url)
        self.sessions = session_factory(self.engine)
        self.extractor = build_extractor(self.sessions)

    def article(self, item: FetchedArticle) -> str:
        mentions = self.extractor.extract(item.text, item.lang)
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
                break
            except IntegrityError:
                # Another process stored the same URL or park a moment ago: the retry sees it.
                if attempt == 2:
                    raise
        for park in new_parks:
            log.info("new park found: %s (%s)", park.name_zh, item.url)
            self.extractor.add_park(park)
        return result.status

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
