"""Store behaviour on real SQLite files: idempotent saves, one park and one alert per find,
atomic units of work, clear errors for unusable paths."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from nlp.kb import KnowledgeBase
from store import repository
from store.db import check_schema, make_engine, sqlite_url
from store.errors import StoreError
from store.models import Alert, Article, Mention, Park
from tests.factories import NEW_PARK, M, new_park_mention

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


def save(session: Session, url: str, text: str, mentions: list[M], fetched: datetime = T0) -> repository.SaveResult:
    return repository.save_article(
        session, source="gdii", url=url, canonical_url=url, lang="zh", title="标题", text=text,
        published_at=None, fetched_at=fetched, mentions=mentions,
    )


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_sync_kb_loads_first_batch_once(sessions: sessionmaker[Session]) -> None:
    kb = KnowledgeBase.load()
    for _ in range(2):
        with sessions.begin() as s:
            repository.sync_kb(s, kb)
    with sessions() as s:
        parks = s.scalars(select(Park)).all()
        assert len(parks) == 8
        assert {p.batch for p in parks} == {1}
        assert {p.origin for p in parks} == {"kb"}
        assert sum(1 for p in parks if p.city_kb_id == "city:guangzhou") == 2
        assert sum(1 for p in parks if p.city_kb_id == "city:huizhou") == 2


def test_resaving_same_article_is_unchanged_and_adds_nothing(sessions: sessionmaker[Session]) -> None:
    mentions = [M("CITY", "珠海", 0, 2, "city:zhuhai", "珠海", "Zhuhai")]
    with sessions.begin() as s:
        assert save(s, "http://x/a", "珠海发布", mentions).status == "new"
    with sessions.begin() as s:
        assert save(s, "http://x/a", "珠海发布", mentions, T0 + timedelta(days=1)).status == "unchanged"
    with sessions() as s:
        assert (count(s, Article), count(s, Mention)) == (1, 1)
        assert s.scalar(select(Article.fetched_at)) == T0


def test_changed_article_replaces_its_mentions(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        save(s, "http://x/a", "珠海发布", [M("CITY", "珠海", 0, 2, "city:zhuhai")])
    with sessions.begin() as s:
        result = save(s, "http://x/a", "惠州和广州发布", [M("CITY", "惠州", 0, 2, "city:huizhou"),
                                                      M("CITY", "广州", 3, 5, "city:guangzhou")])
        assert result.status == "changed"
    with sessions() as s:
        assert sorted(s.scalars(select(Mention.entity_kb_id))) == ["city:guangzhou", "city:huizhou"]
        assert count(s, Article) == 1


def test_new_park_creates_one_park_and_one_alert_across_articles(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        first = save(s, "http://x/notice", "名单", [new_park_mention()])
        assert [p.name_zh for p in first.new_parks] == [NEW_PARK]
    with sessions.begin() as s:
        second = save(s, "http://x/news", "报道", [new_park_mention(3)], T0 + timedelta(hours=2))
        assert second.new_parks == []
    with sessions() as s:
        park = s.scalars(select(Park).where(Park.origin == "found")).one()
        assert (park.batch, park.city_kb_id, park.status) == (2, "city:dongguan", "new")
        assert park.first_seen_url == "http://x/notice"
        assert park.first_seen_at == T0
        alert = s.scalars(select(Alert)).one()
        assert alert.park_id == park.id
        assert alert.payload["url"] == "http://x/notice"
        assert alert.payload["batch"] == 2
        assert set(s.scalars(select(Mention.entity_kb_id))) == {park.kb_id}


def test_found_parks_become_kb_entries(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        save(s, "http://x/notice", "名单", [new_park_mention()])
    with sessions() as s:
        (entry,) = repository.found_parks(s)
    assert entry.name_zh == NEW_PARK
    assert entry.city == "city:dongguan"
    assert entry.id == repository.found_park_kb_id(NEW_PARK)
    assert repository.found_park_kb_id(NEW_PARK) == repository.found_park_kb_id(" " + NEW_PARK.replace("+", "＋"))


def test_failed_unit_of_work_leaves_nothing(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError):
        with sessions.begin() as s:
            save(s, "http://x/notice", "名单", [new_park_mention()])
            raise RuntimeError("crash between park and commit")
    with sessions() as s:
        assert (count(s, Article), count(s, Park), count(s, Alert), count(s, Mention)) == (0, 0, 0, 0)


def test_uninitialised_database_is_refused_with_advice(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "empty.db"))
    with pytest.raises(StoreError, match="run 'parkwatch init' first"):
        check_schema(engine)
    engine.dispose()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_directory_named_in_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(StoreError, match="not writable"):
        make_engine(sqlite_url(locked / "pw.db"))


def test_database_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create database directory"):
        make_engine(sqlite_url(blocker / "sub" / "pw.db"))
