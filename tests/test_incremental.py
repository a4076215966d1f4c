"""Incremental re-crawls against a real loopback site and a real SQLite database.

A re-crawl fetches only what is new or changed: known articles are not requested again,
listing pages are walked only until known articles appear, a changed article is re-extracted
with its mentions replaced, and a server whose validators lie (a 304 for a changed feed) is
caught once the validators are too old to trust.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from crawler.runner import run_crawl_in_subprocess
from crawler.settings import CrawlSettings
from crawler.sources import SourceConfig
from crawler.state import TRUST_VALIDATORS_FOR
from schedules.pipeline import StoreSinkFactory
from store.db import make_engine, session_factory
from store.models import Article, CrawlPage, Mention
from store.types import utcnow

try:
    from tests.httpserver import Route, SiteServer, serve_directory
    from tests.pipeline_helpers import fresh_db
except ImportError:  # pragma: no cover
    from httpserver import Route, SiteServer, serve_directory  # type: ignore[no-redef]
    from pipeline_helpers import fresh_db  # type: ignore[no-redef]

SETTINGS = CrawlSettings(download_delay=0, autothrottle=False, download_timeout=5, retry_times=0, workers=1)
PARK_A = "京信通信5G+工业互联网应用示范园区"
PARK_B = "昊志机电5G+工业互联网应用示范园区"


def article(n: int, extra: str = "") -> str:
    body = (
        f"<p>第{n}篇报道：省工业和信息化厅近日组织专家赴各地调研，了解企业部署5G专网和工业互联网平台的进展情况。</p>"
        f"<p>调研组先后走访了{n + 2}家制造企业，听取企业关于网络改造、数据采集和设备上云的意见建议。{extra}</p>"
    )
    return (f'<html><head><meta charset="utf-8"><title>调研报道{n}</title></head><body>'
            f'<div class="nav"><a href="/">首页</a></div><h1>调研报道{n}</h1>'
            f'<div class="info">发布时间：2021-06-{n:02d} 10:00</div><div class="content">{body}</div></body></html>')


def listing(ids: list[int]) -> str:
    items = "".join(f'<li><a href="content/post_{n}.html">报道{n}</a></li>' for n in ids)
    return f'<html><head><meta charset="utf-8"></head><body><ul>{items}</ul></body></html>'


def feed(base: str, ids: list[int]) -> str:
    items = "".join(f"<item><title>Story {n}</title><link>{base}/en/s{n}.html</link></item>" for n in ids)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


def en_article(n: int) -> str:
    return (f"<html><head><title>Story {n}</title></head><body><h1>Story {n}</h1><p>Story {n}: Guangdong "
            "factories keep adding private 5G networks, and the provincial industry department said "
            "more industrial internet pilots would follow across the Pearl River Delta this year.</p></body></html>")


class LyingFeed:
    """Serves a feed whose ETag never changes, answering 304 to it even after a change."""

    def __init__(self, server: SiteServer) -> None:
        self.server, self.ids = server, [1, 2]

    def __call__(self, handler: object) -> Route:
        if getattr(handler, "headers").get("If-None-Match") == '"v1"':
            return Route(status=304, headers={"ETag": '"v1"'})
        body = feed(self.server.base, self.ids).encode()
        return Route(body=body, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[SiteServer, LyingFeed]]:
    root = tmp_path / "site"
    root.mkdir()
    with serve_directory(root) as server:
        for n in range(1, 10):
            server.write(f"/news/content/post_{n}.html", article(n, PARK_A if n == 2 else ""))
        server.write("/news/index.html", listing([9, 8, 7]))
        server.write("/news/index_2.html", listing([6, 5, 4]))
        server.write("/news/index_3.html", listing([3, 2, 1]))
        for n in (1, 2, 3):
            server.write(f"/en/s{n}.html", en_article(n))
        lying = LyingFeed(server)
        server.add_handler("/en/feed.xml", lying)
        yield server, lying


def sources(server: SiteServer) -> list[SourceConfig]:
    return [
        SourceConfig("news", "zh", "listing", (server.url("/news/index.html"),),
                     allow=(r"/content/post_\d+\.html$",), page_pattern="index_{n}.html", max_pages=10),
        SourceConfig("feed", "en", "feed", (server.url("/en/feed.xml"),)),
    ]


def crawl(server: SiteServer, db: str) -> tuple[dict[str, object], list[str]]:
    before = len(server.request_log)
    stats = run_crawl_in_subprocess(sources(server), SETTINGS, StoreSinkFactory(db))
    return stats, [p for p in server.request_log[before:] if p != "/robots.txt"]


def test_recrawl_fetches_only_new_and_changed(site: tuple[SiteServer, LyingFeed], tmp_path: Path) -> None:
    server, lying = site
    db = fresh_db(tmp_path / "pw.db")
    engine = make_engine(db)
    sessions = session_factory(engine)

    first, requested = crawl(server, db)
    assert first["news"].articles_new == 9 and first["feed"].articles_new == 2
    assert "/news/index_4.html" in requested  # numbered pages run out with a 404: not an error
    assert first["news"].errors == {} and first["feed"].errors == {}
    first_requests = len(requested)

    # Unchanged site: only the first listing page and the feed are requested (the feed with
    # its ETag, answered 304); nothing else.
    second, requested = crawl(server, db)
    assert sorted(requested) == ["/en/feed.xml", "/news/index.html"]
    assert second["news"].articles_new == second["news"].articles_unchanged == 0
    assert second["feed"].not_modified == 1
    assert len(requested) <= 0.2 * first_requests

    # A new article on page 1; article 2 edited (park A replaced by park B) and due for a
    # re-check; the feed gains an entry but its server still says 304 for the old ETag.
    server.write("/news/index.html", listing([10, 9, 8]))
    server.write("/news/content/post_10.html", article(10))
    server.write("/news/index_2.html", listing([7, 6, 5]))
    server.write("/news/content/post_2.html", article(2, PARK_B))
    lying.ids = [3, 1, 2]
    with sessions.begin() as s:
        key = server.url("/news/content/post_2.html").replace("http:", "https:")
        s.execute(update(CrawlPage).where(CrawlPage.url == key).values(next_check_at=utcnow() - timedelta(minutes=1)))
    third, requested = crawl(server, db)
    assert "/news/content/post_10.html" in requested and "/news/index_2.html" not in requested
    assert third["news"].articles_new == 1 and third["news"].articles_changed == 0
    assert "/en/s3.html" not in requested  # the 304 is still trusted: validators are fresh
    # article 2 is reached only through listing page 3, which is not walked; the re-check of a
    # due article happens when a listing links to it, so link it from page 1 and crawl again
    server.write("/news/index.html", listing([10, 9, 2]))
    fourth, requested = crawl(server, db)
    assert "/news/content/post_2.html" in requested
    assert fourth["news"].articles_changed == 1
    with sessions() as s:
        art = s.scalar(select(Article).where(Article.url == server.url("/news/content/post_2.html")))
        parks = [m.entity_kb_id for m in s.scalars(select(Mention).where(Mention.article_id == art.id, Mention.type == "PARK"))]
    assert len(parks) == 1 and parks[0] is not None and PARK_B in art.text and PARK_A not in art.text

    # Validators too old to trust: the feed is fetched without If-None-Match and compared by
    # content, so the entry hidden behind the lying 304 is found.
    with sessions.begin() as s:
        s.execute(update(CrawlPage).where(CrawlPage.kind == "feed")
                  .values(fetched_at=utcnow() - TRUST_VALIDATORS_FOR - timedelta(hours=1)))
    fifth, requested = crawl(server, db)
    assert "/en/s3.html" in requested and fifth["feed"].articles_new == 1
    assert fifth["feed"].not_modified == 0
    engine.dispose()
