"""The Markdown digest, checked for exact content on a fixed fixture database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from nlp.kb import KnowledgeBase
from reports.digest import build_digest, render_markdown
from store import repository
from store.db import init_schema, make_engine, session_factory, sqlite_url
from tests.factories import NEW_PARK, M, new_park_mention

UNTIL = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(sqlite_url(tmp_path / "digest.db"))
    init_schema(engine)
    factory = session_factory(engine)
    with factory.begin() as s:
        repository.sync_kb(s, KnowledgeBase.load())
    yield factory
    engine.dispose()


def add(s: Session, url: str, source: str, title: str, mentions: list[M], fetched: datetime) -> None:
    repository.save_article(s, source=source, url=url, canonical_url=url, lang="zh", title=title,
                            text="正文" + url, published_at=None, fetched_at=fetched, mentions=mentions)


def test_digest_exact_markdown(sessions: sessionmaker[Session]) -> None:
    zhuhai = M("CITY", "珠海", 0, 2, "city:zhuhai", "珠海", "Zhuhai")
    gree = M("COMPANY", "格力电器", 3, 7, "company:gree", "格力电器", "Gree Electric")
    with sessions.begin() as s:
        add(s, "http://gdii.test/post_1.html", "gdii", "第二批", [new_park_mention()], UNTIL - timedelta(days=1))
        add(s, "http://scn.test/a.htm", "southcn", "<script>alert(1)</script> | x",
            [zhuhai, gree, M("CITY", "珠海", 9, 11, "city:zhuhai", "珠海", "Zhuhai")], UNTIL - timedelta(days=2))
        add(s, "http://scn.test/old.htm", "southcn", "旧闻", [zhuhai], UNTIL - timedelta(days=9))
    with sessions() as s:
        text = render_markdown(build_digest(s, until=UNTIL, days=7, planned_parks=10))
    assert text == f"""\
# parkwatch weekly digest: 2026-11-16 to 2026-11-23

Programme progress: 9 of 10 planned parks named. 2 new article(s) this period.

## New parks

- **{NEW_PARK}** (city: 东莞 (Dongguan); lead company: 东莞松湖智造; batch: 2; first seen: 2026-11-22 00:00 UTC)
  - source: <http://gdii.test/post_1.html>
  - evidence: “第二批名单包括{NEW_PARK}（东莞）。”

## Mentions per park

| name | mentions |
|---|---:|
| {NEW_PARK} | 1 |

## Mentions per city

| name | mentions |
|---|---:|
| 珠海 (Zhuhai) | 2 |

## Mentions per company

| name | mentions |
|---|---:|
| 格力电器 (Gree Electric) | 1 |

## Articles per source

| source | articles |
|---|---:|
| gdii | 1 |
| southcn | 1 |
"""


def test_empty_week_says_so(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        text = render_markdown(build_digest(s, until=UNTIL, days=7, planned_parks=10))
    assert "No new parks were named this period." in text
    assert "No new articles this period." in text
    assert "8 of 10 planned parks named" in text


def test_crawled_strings_are_escaped(sessions: sessionmaker[Session]) -> None:
    hostile = M("PARK", "x", 0, 1, None, "<script>alert(1)</script>|园区", None, True, "<b>证据</b>")
    with sessions.begin() as s:
        add(s, "http://scn.test/h.htm", "southcn", "t", [hostile], UNTIL - timedelta(hours=1))
    with sessions() as s:
        text = render_markdown(build_digest(s, until=UNTIL, days=7, planned_parks=10))
    assert "<script>" not in text and "<b>" not in text
    assert r"\<script\>alert(1)\</script\>\|园区" in text
