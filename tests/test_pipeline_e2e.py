"""The whole pipeline over the sample site served on 127.0.0.1: crawl, extract, store, alert."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from schedules.crawl import run_crawl_job
from schedules.demo import write_sources
from schedules.demo_server import DemoServer
from store.db import make_engine, session_factory
from store.models import Alert, Article, Mention, Park
from tests.pipeline_helpers import FAST, SECOND_BATCH, counts, fresh_db


@pytest.fixture
def server() -> DemoServer:
    with DemoServer() as srv:
        yield srv


def test_recrawl_is_idempotent_and_second_batch_alerts_exactly_once(server: DemoServer, tmp_path: Path) -> None:
    db = fresh_db(tmp_path / "pw.db")
    sources = write_sources(server.base_url, tmp_path / "sources.yaml")

    first = run_crawl_job(db, sources, FAST)
    before = counts(db)
    assert first.total("articles_new") == before["articles"] > 0
    assert before["mentions"] > 0
    assert first.new_parks == [] and before["alerts"] == 0 and before["parks"] == 8

    again = run_crawl_job(db, sources, FAST)
    assert again.total("articles_new") == 0
    # incremental: known articles are not fetched again, only the listing and feed pages
    assert again.total("articles_changed") == 0
    assert again.total("requests") == again.total("listings_unchanged") < first.total("requests")
    assert counts(db) == before

    server.set_phase(2)
    third = run_crawl_job(db, sources, FAST)
    assert {name for name, _ in third.new_parks} == SECOND_BATCH
    after = counts(db)
    assert after["parks"] == 10 and after["alerts"] == 2
    assert after["articles"] == before["articles"] + third.total("articles_new")

    fourth = run_crawl_job(db, sources, FAST)
    assert fourth.new_parks == [] and fourth.total("articles_new") == 0
    assert counts(db) == after

    engine = make_engine(db)
    with session_factory(engine)() as s:
        found = s.scalars(select(Park).where(Park.origin == "found")).all()
        assert {p.name_zh for p in found} == SECOND_BATCH
        assert {p.city_kb_id for p in found} == {"city:dongguan", "city:jiangmen"}
        assert {p.batch for p in found} == {2}
        alerts = s.scalars(select(Alert)).all()
        assert sorted(a.park_id for a in alerts) == sorted(p.id for p in found)
        for park in found:
            # the notice and the news article both mention it, linked to the one park row
            articles = set(s.scalars(select(Mention.article_id).where(Mention.entity_kb_id == park.kb_id)))
            assert len(articles) >= 2
            # ... in both languages: the English article's mention links to the park found in Chinese
            sources = set(s.scalars(select(Article.source).where(Article.id.in_(articles))))
            assert sources == {"gdii-notices", "southcn-industry", "newsgd-feed"}
            assert park.first_seen_url is not None
            # whichever of the three articles the crawl stored first (sources are crawled side by side)
            assert any(part in park.first_seen_url for part in ("/gdii/", "/southcn/", "/newsgd/"))
        # no article comes from the robots-forbidden area
        assert not [u for u in s.scalars(select(Article.url)) if "/private/" in u]
    engine.dispose()
    assert not [p for p in server.site.requests if p.startswith("/private/")]
