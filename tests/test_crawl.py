"""Whole crawls against a real loopback site: articles, faults, robots.txt, subprocess runs.

Twisted's reactor runs once per process, so all in-process scenarios share ONE crawl (module
fixture ``crawl``): the good sources and every fault source run side by side, which is also
the point of the fault tests (a broken source must not stop the others). The subprocess
runner is tested separately, twice in a row.
"""

from __future__ import annotations

import dataclasses
import functools
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.errors import CrawlFailed
from crawler.items import FetchedArticle, SourceStats
from crawler.runner import run_crawl, run_crawl_in_subprocess
from crawler.settings import CrawlSettings, default_user_agent, scrapy_settings
from crawler.sources import SourceConfig

try:  # tests/ as a package or as a rootdir-relative directory (pytest import modes)
    from tests.conftest import JsonLinesSink, RecordingSink, read_jsonl
    from tests.httpserver import SiteServer, serve_directory
except ImportError:  # pragma: no cover
    from conftest import JsonLinesSink, RecordingSink, read_jsonl  # type: ignore[no-redef]
    from httpserver import SiteServer, serve_directory  # type: ignore[no-redef]

TEST_SETTINGS = CrawlSettings(
    contact="tests@example.invalid",
    download_timeout=1.5,
    download_delay=0,
    retry_times=0,
    autothrottle=False,
    max_page_bytes=10 * 1024 * 1024,
    time_budget_seconds=30,
)


def article_html(title: str, paragraphs: list[str], date: str, charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head>{meta}<title>{title}</title></head><body>"
        '<div class="nav"><a href="/">首页</a> <a href="/news/index.html">新闻</a></div>'
        f'<h1>{title}</h1><div class="info">发布时间：{date}</div>'
        f'<div class="content">{body}</div>'
        '<div class="related"><ul><li><a href="/news/content/post_1.html">相关：广州示范园区</a></li>'
        '<li><a href="/news/content/post_2.html">相关：深圳示范园区</a></li></ul></div>'
        '<div class="footer">版权所有 示例新闻网</div></body></html>'
    )


def zh_paragraphs(n: int) -> list[str]:
    return [
        f"第{n}篇：广东省“5G+工业互联网”应用示范园区建设稳步推进，园区企业积极部署5G专网。",
        f"第{n}篇：示范园区将在网络覆盖、平台应用和数字化转型服务等方面先行先试，形成可复制的经验。",
    ]


def en_paragraphs(n: int) -> list[str]:
    return [
        f"Story {n}: Guangdong named new demonstration parks for 5G plus industrial internet, "
        "the provincial industry department said on Tuesday.",
        f"Story {n}: The parks will pilot private 5G networks in factories and share industrial "
        "internet platforms with small manufacturers in the Pearl River Delta.",
    ]


def listing_html(links: list[str], next_href: str | None) -> str:
    items = "".join(f'<li><a href="{href}">标题 {href}</a></li>' for href in links)
    nxt = f'<a class="next" href="{next_href}">下一页</a>' if next_href else ""
    return (
        '<html><head><meta charset="utf-8"><title>通知公告</title></head><body>'
        '<div class="nav"><a href="/">首页</a> <a href="/about.html">关于我们</a></div>'
        f'<ul class="list">{items}</ul><div class="pages">{nxt}</div></body></html>'
    )


@dataclass
class CrawlResult:
    server: SiteServer
    sink: RecordingSink
    stats: dict[str, SourceStats]
    expected_urls: dict[str, set[str]]


def build_site(server: SiteServer, closed_port: int) -> tuple[list[SourceConfig], dict[str, set[str]]]:
    """Write the fixture site, register fault routes; return sources and expected article URLs."""
    u = server.url
    # --- listing: 3 pages walked (max_pages=3), a 4th that must not be fetched -------------
    server.write("/news/index.html", listing_html(
        ["content/post_1.html", "content/post_2.html", "content/post_1.html#comments",
         "content/post_2.html?print=1", "/about.html", "http://other.example/news/content/post_9.html"],
        "index_2.html"))
    server.write("/news/index_2.html", listing_html(["content/post_3.html"], "index_3.html"))
    server.write("/news/index_3.html", listing_html(["content/post_4.html?utm_source=list"], "index_4.html"))
    server.write("/news/index_4.html", listing_html(["content/post_5.html"], None))
    for n in range(1, 6):
        charset = "gbk" if n % 2 else "utf-8"
        html = article_html(f"示范园区新闻{n}", zh_paragraphs(n), f"2020年9月2{n}日 10:30", charset)
        server.write(f"/news/content/post_{n}.html", html, encoding=charset)
    server.write("/about.html", article_html("关于我们", zh_paragraphs(0), "2020年1月1日"))
    # --- feed: RSS with two English articles (one with a tracking parameter) --------------
    server.write("/en/feed.xml", f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Example News</title><link>{u('/en/')}</link>
<item><title>Parks named</title><link>{u('/en/a1.html?utm_source=rss&amp;id=1')}</link>
<pubDate>Tue, 22 Sep 2020 08:00:00 +0000</pubDate></item>
<item><title>Parks expand</title><link>/en/a2.html</link></item>
<item><title>Skipped</title><link>{u('/en/video/v1.html')}</link></item>
</channel></rss>""")
    server.write("/en/a1.html", article_html("Parks named", en_paragraphs(1), "September 22, 2020"))
    server.write("/en/a2.html", article_html("Parks expand", en_paragraphs(2), "September 23, 2020"))
    # --- page ------------------------------------------------------------------------------
    server.write("/page/notice.html", article_html("第二批示范园区名单公示", zh_paragraphs(7), "2021-06-01 09:00"))

    # --- faults ----------------------------------------------------------------------------
    server.add_route("/fault/500.html", "<h1>oops</h1>", status=500)
    server.add_route("/fault/404.html", "<h1>missing</h1>", status=404)
    server.add_hang("/fault/slow.html", seconds=20)
    server.add_redirect("/fault/loop-a.html", "/fault/loop-b.html")
    server.add_redirect("/fault/loop-b.html", "/fault/loop-a.html")
    server.add_large("/fault/large.html", 11 * 1024 * 1024)
    server.add_large("/fault/large-stream.html", 11 * 1024 * 1024, send_length=False)
    # A loop reached from a listing: the dupefilter, not the redirect limit, stops it.
    server.write("/loops/index.html", listing_html(["/fault/loop-c.html"], None))
    server.add_redirect("/fault/loop-c.html", "/fault/loop-d.html")
    server.add_redirect("/fault/loop-d.html", "/fault/loop-c.html")
    server.add_route("/fault/junk.html", bytes(range(256)) * 40, content_type="text/html")
    server.add_route("/fault/empty.html", "<html><body><div></div></body></html>")
    server.add_route("/fault/notafeed.xml", "<html><body><p>Not a feed</p></body></html>",
                     content_type="application/rss+xml")
    gbk = article_html("说谎的编码", zh_paragraphs(8), "2020年10月1日 08:00", "gbk").encode("gbk")
    server.add_route("/fault/lying-charset.html", gbk, content_type="text/html; charset=utf-8")
    full = article_html("截断的页面", zh_paragraphs(9), "2020年10月2日 08:00").encode()
    server.add_route("/fault/truncated-markup.html", full[: full.index(b"</p>") + 40])
    server.add_route("/fault/data-loss.html", full, declared_length=len(full) + 5000)
    server.write("/private/secret.html", article_html("机密", zh_paragraphs(10), "2020年1月1日"))
    server.write("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    server.write("/page/boom.html", article_html("存储失败", zh_paragraphs(11), "2020年1月2日"))

    def page(name: str, *paths: str, **kw: object) -> SourceConfig:
        urls = tuple(p if p.startswith("http") else u(p) for p in paths)
        return SourceConfig(name=name, lang=str(kw.pop("lang", "zh")), kind=str(kw.pop("kind", "page")),
                            start_urls=urls, **kw)  # type: ignore[arg-type]

    sources = [
        page("listing", "/news/index.html", kind="listing", allow=(r"/content/post_\d+\.html",),
             deny=(r"print=1",), next_page="a.next", max_pages=3),
        page("feed", "/en/feed.xml", kind="feed", lang="auto", deny=(r"/video/",), timezone="UTC"),
        page("page", "/page/notice.html"),
        page("f-http", "/fault/500.html", "/fault/404.html"),
        page("f-timeout", "/fault/slow.html"),
        page("f-loop", "/fault/loop-a.html"),
        page("f-large", "/fault/large.html", "/fault/large-stream.html"),
        page("f-loop-link", "/loops/index.html", kind="listing", allow=("/fault/",)),
        page("f-notext", "/fault/junk.html", "/fault/empty.html"),
        page("f-feed", "/fault/notafeed.xml", kind="feed"),
        page("f-charset", "/fault/lying-charset.html"),
        page("f-truncated", "/fault/truncated-markup.html", "/fault/data-loss.html"),
        page("f-robots", "/private/secret.html"),
        page("f-unreachable", f"http://127.0.0.1:{closed_port}/nothing.html"),
        page("f-store", "/page/boom.html"),
        page("disabled", "/page/notice.html", enabled=False),
    ]
    expected = {
        "listing": {u(f"/news/content/post_{n}.html") for n in (1, 2, 3)}
        | {u("/news/content/post_4.html?utm_source=list")},
        "feed": {u("/en/a1.html?utm_source=rss&id=1"), u("/en/a2.html")},
        "page": {u("/page/notice.html")},
        "f-charset": {u("/fault/lying-charset.html")},
        "f-truncated": {u("/fault/truncated-markup.html")},
    }
    return sources, expected


def free_closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawlResult]:
    root = tmp_path_factory.mktemp("site")
    with serve_directory(root) as server:
        sources, expected = build_site(server, free_closed_port())
        sink = RecordingSink(fail_on=("/page/boom.html",))
        stats = run_crawl(sources, TEST_SETTINGS, lambda: sink)
        yield CrawlResult(server, sink, stats, expected)


def test_exactly_the_expected_articles_arrive(crawl: CrawlResult) -> None:
    got: dict[str, set[str]] = {}
    for article in crawl.sink.articles:
        got.setdefault(article.source, set()).add(article.url)
    assert got == crawl.expected_urls
    assert len(crawl.sink.articles) == sum(len(v) for v in crawl.expected_urls.values())


def test_listing_pagination_stops_at_max_pages(crawl: CrawlResult) -> None:
    assert crawl.server.requested("/news/index_3.html")
    assert not crawl.server.requested("/news/index_4.html")
    assert not crawl.server.requested("/news/content/post_5.html")
    assert not crawl.server.requested("/about.html")  # not matching allow
    assert "/news/content/post_2.html?print=1" not in crawl.server.request_log  # deny
    assert crawl.stats["listing"].pages_fetched == 3 + 4


def test_article_fields(crawl: CrawlResult) -> None:
    by_url = {a.url: a for a in crawl.sink.articles}
    u = crawl.server.url
    post1 = by_url[u("/news/content/post_1.html")]  # GBK page
    assert post1.lang == "zh"
    assert post1.title == "示范园区新闻1"
    assert "第1篇：广东省“5G+工业互联网”应用示范园区建设稳步推进" in post1.text
    assert "相关：深圳示范园区" not in post1.text and "版权所有" not in post1.text
    assert post1.published_at == datetime(2020, 9, 21, 2, 30, tzinfo=timezone.utc)
    assert post1.fetched_at.tzinfo is timezone.utc

    post4 = by_url[u("/news/content/post_4.html?utm_source=list")]
    assert post4.canonical_url == u("/news/content/post_4.html").replace("http:", "https:")

    a1 = by_url[u("/en/a1.html?utm_source=rss&id=1")]
    assert a1.canonical_url == u("/en/a1.html?id=1").replace("http:", "https:")
    assert a1.lang == "en"  # detected: source lang is auto
    assert a1.published_at == datetime(2020, 9, 22, 0, 0, tzinfo=timezone.utc)  # visible, UTC zone

    charset = by_url[u("/fault/lying-charset.html")]
    assert "第8篇" in charset.text and "\ufffd" not in charset.text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("f-http", {("http_500", "/fault/500.html"), ("http_404", "/fault/404.html")}),
        ("f-timeout", {("timeout", "/fault/slow.html")}),
        ("f-loop", {("too_many_redirects", "/fault/loop-a.html")}),
        ("f-loop-link", {("too_many_redirects", "/fault/loop-c.html")}),
        ("f-large", {("too_large", "/fault/large.html"), ("too_large", "/fault/large-stream.html")}),
        ("f-notext", {("no_text", "/fault/junk.html"), ("no_text", "/fault/empty.html")}),
        ("f-feed", {("bad_feed", "/fault/notafeed.xml")}),
        ("f-truncated", {("truncated", "/fault/data-loss.html")}),
        ("f-robots", {("robots", "/private/secret.html")}),
        ("f-store", {("store", "/page/boom.html")}),
    ],
)
def test_fault_recorded_against_its_source(
    crawl: CrawlResult, source: str, expected: set[tuple[str, str]]
) -> None:
    recorded = {(kind, url.replace(crawl.server.base, "")) for kind, url in crawl.sink.errors_of(source)}
    assert recorded == expected
    counts: dict[str, int] = {}
    for kind, _ in expected:
        counts[kind] = counts.get(kind, 0) + 1
    assert crawl.stats[source].errors == counts


def test_unreachable_host(crawl: CrawlResult) -> None:
    assert [kind for kind, _ in crawl.sink.errors_of("f-unreachable")] == ["unreachable"]


def test_good_sources_have_no_errors_and_counts(crawl: CrawlResult) -> None:
    for name in ("listing", "feed", "page", "f-charset"):
        assert crawl.stats[name].errors == {}, name
    assert crawl.stats["listing"].articles_new == 4
    assert crawl.stats["feed"].articles_new == 2
    assert crawl.stats["page"].articles_new == 1
    assert "disabled" not in crawl.stats
    assert crawl.sink.closed == 1  # one sink per crawl, closed once


def test_robots_forbidden_path_never_requested(crawl: CrawlResult) -> None:
    assert crawl.server.requested("/robots.txt")
    assert not crawl.server.requested("/private/secret.html")


def test_second_in_process_crawl_fails_clearly(crawl: CrawlResult) -> None:
    with pytest.raises(CrawlFailed, match="run_crawl_in_subprocess"):
        run_crawl([SourceConfig("x", "zh", "page", (crawl.server.url("/page/notice.html"),))],
                  TEST_SETTINGS, RecordingSink)


def test_scrapy_settings_from_crawl_settings() -> None:
    source = SourceConfig("a", "zh", "page", ("http://a.example/x",))
    cfg = scrapy_settings(CrawlSettings(contact="ops@example.org", time_budget_seconds=600), [source])
    assert cfg["USER_AGENT"] == default_user_agent("ops@example.org")
    assert "contact: ops@example.org" in cfg["USER_AGENT"]
    assert "set PARKWATCH_CONTACT" in CrawlSettings().effective_user_agent
    assert cfg["ROBOTSTXT_OBEY"] is True
    assert cfg["DOWNLOAD_MAXSIZE"] == 10 * 1024 * 1024
    assert cfg["CLOSESPIDER_TIMEOUT"] == 600
    assert cfg["TELNETCONSOLE_ENABLED"] is False
    assert cfg["HTTPCACHE_ENABLED"] is False
    assert cfg["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2


def test_run_crawl_in_subprocess_twice(site_server: SiteServer, tmp_path: Path) -> None:
    site_server.write("/a.html", article_html("第一篇", zh_paragraphs(1), "2020年9月21日 10:30", "gbk"), "gbk")
    site_server.write("/b.html", article_html("Second", en_paragraphs(2), "September 22, 2020"))
    site_server.add_route("/gone.html", "gone", status=410)
    sources = [
        SourceConfig("pages", "auto", "page", tuple(site_server.url(p) for p in ("/a.html", "/b.html"))),
        SourceConfig("broken", "zh", "page", (site_server.url("/gone.html"),)),
    ]
    out = tmp_path / "sink.jsonl"
    factory = functools.partial(JsonLinesSink, str(out))

    first = run_crawl_in_subprocess(sources, TEST_SETTINGS, factory)
    assert first["pages"].articles_new == 2 and first["pages"].pages_fetched == 2
    assert first["broken"].errors == {"http_410": 1}

    second = run_crawl_in_subprocess(sources, TEST_SETTINGS, factory)
    assert second["pages"].articles_unchanged == 2 and second["pages"].articles_new == 0

    records = read_jsonl(out)
    articles = [r for r in records if r["type"] == "article"]
    assert [r["status"] for r in articles].count("new") == 2
    assert {r["lang"] for r in articles} == {"zh", "en"}
    assert [r["type"] for r in records].count("close") == 2
    assert [r["kind"] for r in records if r["type"] == "error"] == ["http_410", "http_410"]


def _exploding_factory() -> RecordingSink:
    raise RuntimeError("database is locked")


def test_subprocess_failure_raises_crawl_failed(site_server: SiteServer) -> None:
    site_server.write("/a.html", article_html("第一篇", zh_paragraphs(1), "2020年9月21日"))
    sources = [SourceConfig("pages", "zh", "page", (site_server.url("/a.html"),))]
    with pytest.raises(CrawlFailed, match="database is locked"):
        run_crawl_in_subprocess(sources, TEST_SETTINGS, _exploding_factory)
    with pytest.raises(CrawlFailed, match="picklable"):
        run_crawl_in_subprocess(sources, TEST_SETTINGS, lambda: RecordingSink())


class CrashingWorkerSink(JsonLinesSink):
    """A sink with a worker side, like parkwatch's store: articles are stored in the crawl's
    workers, and the worker that stores a page named ``crash…`` dies on the spot (as a crash
    in a C extension or the out-of-memory killer would end it)."""

    def __init__(self, path: str, in_worker: bool = False) -> None:
        super().__init__(path)
        if not in_worker:
            self.worker_factory = functools.partial(CrashingWorkerSink, path, True)

    def article(self, item: FetchedArticle) -> str:
        if "/crash" in item.url:
            import os

            os._exit(9)
        return super().article(item)


def test_a_worker_that_dies_fails_only_its_page_and_the_crawl_goes_on(site_server: SiteServer, tmp_path: Path) -> None:
    names = ["/a.html", "/crash.html", "/b.html", "/c.html", "/d.html"]
    for n, name in enumerate(names):
        site_server.write(name, article_html(f"第{n}篇", zh_paragraphs(n), "2020年9月21日 10:30"))
    sources = [SourceConfig("pages", "zh", "page", tuple(site_server.url(p) for p in names))]
    out = tmp_path / "sink.jsonl"
    settings = dataclasses.replace(TEST_SETTINGS, workers=1)  # one worker: the others queue behind the crash

    stats = run_crawl_in_subprocess(sources, settings, functools.partial(CrashingWorkerSink, str(out)))["pages"]

    assert stats.pages_fetched == 5 and stats.articles_new == 4 and stats.errors == {"extract_error": 1}
    records = read_jsonl(out)
    stored = {str(r["url"]).replace(site_server.base, "") for r in records if r["type"] == "article"}
    assert stored == {"/a.html", "/b.html", "/c.html", "/d.html"}
    [error] = [r for r in records if r["type"] == "error"]
    assert str(error["url"]).endswith("/crash.html") and "worker process" in str(error["reason"])
