"""Shared set-up for tests that run the whole pipeline: a fresh database and the sample site."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from crawler.settings import CrawlSettings
from nlp.kb import KnowledgeBase
from store import repository
from store.db import init_schema, make_engine, session_factory, sqlite_url
from store.models import Alert, Article, Mention, Park

FAST = CrawlSettings(download_delay=0.0, autothrottle=False, download_timeout=5, retry_times=0)
SECOND_BATCH = {
    "东莞松湖智造5G+工业互联网应用示范园区",
    "江门海川机电5G+工业互联网应用示范园区",
}


def fresh_db(path: Path) -> str:
    url = sqlite_url(path)
    engine = make_engine(url)
    init_schema(engine)
    with session_factory(engine).begin() as s:
        repository.sync_kb(s, KnowledgeBase.load())
    engine.dispose()
    return url


def counts(db_url: str) -> dict[str, int]:
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        out = {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
               for m in (Article, Mention, Park, Alert)}
    engine.dispose()
    return out


def run_cli(*args: str, cwd: Path | None = None, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schedules.cli", *args], cwd=cwd, input=stdin.decode() if stdin else None,
        capture_output=True, text=True, timeout=timeout,
    )
