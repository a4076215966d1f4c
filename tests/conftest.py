"""Shared fixtures: a loopback site server and recording sinks for crawler tests, and a fresh
SQLite store for store tests.

The sinks here are real :class:`crawler.items.ArticleSink` implementations that keep what
they receive (in memory, or as JSON lines for the subprocess crawl, whose sink lives in the
child process). They write nothing but the file they are given.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

try:  # tests/ as a package or as a rootdir-relative directory
    from tests.httpserver import SiteServer, serve_directory
except ImportError:  # pragma: no cover - depends on pytest's import mode
    from httpserver import SiteServer, serve_directory  # type: ignore[no-redef]

from crawler.items import FetchedArticle
from store.db import init_schema, make_engine, session_factory, sqlite_url


class RecordingSink:
    """In-memory sink: records articles and errors; status by canonical URL and text.

    ``fail_on`` makes ``article()`` raise for URLs containing one of its substrings, to test
    that a failing store is recorded as a ``store`` error and the crawl goes on.
    """

    def __init__(self, fail_on: tuple[str, ...] = ()) -> None:
        self.articles: list[FetchedArticle] = []
        self.errors: list[tuple[str, str, str, str]] = []
        self.closed = 0
        self.fail_on = fail_on
        self._texts: dict[str, str] = {}
        self._lock = threading.Lock()

    def article(self, item: FetchedArticle) -> str:
        if any(marker in item.url for marker in self.fail_on):
            raise RuntimeError(f"simulated store failure for {item.url}")
        with self._lock:
            self.articles.append(item)
            previous = self._texts.get(item.canonical_url)
            self._texts[item.canonical_url] = item.text
        if previous is None:
            return "new"
        return "unchanged" if previous == item.text else "changed"

    def error(self, source: str, url: str, kind: str, reason: str) -> None:
        with self._lock:
            self.errors.append((source, url, kind, reason))

    def close(self) -> None:
        self.closed += 1

    def errors_of(self, source: str) -> list[tuple[str, str]]:
        """(kind, url) pairs recorded for ``source``."""
        return [(kind, url) for s, url, kind, _ in self.errors if s == source]

    def articles_of(self, source: str) -> list[FetchedArticle]:
        return [a for a in self.articles if a.source == source]


class JsonLinesSink:
    """Picklable sink for subprocess crawls: appends JSON lines to ``path``.

    On construction it reads the lines already there, so a second crawl into the same file
    reports "unchanged" for articles seen before, like a real store would.
    """

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._seen: dict[str, str] = {}
        if self.path.exists():
            for record in read_jsonl(self.path):
                if record["type"] == "article":
                    self._seen[record["canonical_url"]] = record["text"]

    def article(self, item: FetchedArticle) -> str:
        previous = self._seen.get(item.canonical_url)
        status = "new" if previous is None else ("unchanged" if previous == item.text else "changed")
        self._seen[item.canonical_url] = item.text
        record = asdict(item)
        record.update(
            type="article",
            status=status,
            published_at=item.published_at.isoformat() if item.published_at else None,
            fetched_at=item.fetched_at.isoformat(),
        )
        self._append(record)
        return status

    def error(self, source: str, url: str, kind: str, reason: str) -> None:
        self._append({"type": "error", "source": source, "url": url, "kind": kind, "reason": reason})

    def close(self) -> None:
        self._append({"type": "close"})

    def _append(self, record: dict[str, object]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict[str, object]]:
    """Records written by :class:`JsonLinesSink`."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def site_server(tmp_path: Path) -> Iterator[SiteServer]:
    """A running loopback server on an empty tmp directory (``.url()``, ``.add_route()``)."""
    root = tmp_path / "site"
    root.mkdir()
    with serve_directory(root) as server:
        yield server


@pytest.fixture
def recording_sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh, initialised SQLite file (store tests; test_digest has its own)."""
    engine = make_engine(sqlite_url(tmp_path / "pw.db"))
    init_schema(engine)
    yield session_factory(engine)
    engine.dispose()
