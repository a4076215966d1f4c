"""Source shapes added to the sources file, crawled end to end over a real loopback server:
sitemaps (index → urlset, gzip, lastmod), selector overrides (XPath and CSS), Big5 pages,
relative dates, and notices whose attachments (DOCX, XLSX, PDF, a broken one) are followed."""

from __future__ import annotations

import functools
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.runner import run_crawl_in_subprocess
from crawler.settings import CrawlSettings
from crawler.sources import SourceConfig

try:
    from tests.conftest import JsonLinesSink, read_jsonl
    from tests.httpserver import Route, SiteServer, serve_directory
    from tests.test_attachments import PARKS, make_docx, make_pdf, make_xlsx
except ImportError:  # pragma: no cover
    from conftest import JsonLinesSink, read_jsonl  # type: ignore[no-redef]
    from httpserver import Route, SiteServer, serve_directory  # type: ignore[no-redef]
    from test_attachments import PARKS, make_docx, make_pdf, make_xlsx  # type: ignore[no-redef]

SETTINGS = CrawlSettings(download_delay=0, autothrottle=False, download_timeout=3, retry_times=0, workers=1)
PARA = "省工业和信息化厅发布通知，部署推进5G与工业互联网融合应用，要求各地市做好示范园区的培育和申报工作。"


def page(title: str, body: str, head: str = "", charset: str = "utf-8") -> str:
    return (f'<html><head><meta charset="{charset}"><title>{title}</title>{head}</head><body>'
            '<div class="nav"><a href="/">首页</a></div>'
            f'<h1>{title}</h1>{body}<div class="footer">版权所有</div></body></html>')


@dataclass
class Crawled:
    server: SiteServer
    articles: dict[str, dict[str, object]]
    errors: list[tuple[str, str, str]]
    stats: dict[str, object]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    root = tmp_path_factory.mktemp("shapes")
    with serve_directory(root) as server:
        u = server.url
        # sitemap index → a gzipped urlset and a plain one
        server.write("/sitemap.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{u('/sm/a.xml.gz')}</loc></sitemap><sitemap><loc>{u('/sm/b.xml')}</loc></sitemap>
</sitemapindex>""")
        urlset = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>"""
        server.write("/sm/a.xml.gz", gzip.compress(urlset.format(
            f"<url><loc>{u('/sm/p1.html')}</loc><lastmod>2021-06-01</lastmod></url>").encode()))
        server.write("/sm/b.xml", urlset.format(
            f"<url><loc>{u('/sm/p2.html')}</loc></url><url><loc>{u('/other/skip.html')}</loc></url>"))
        server.write("/sm/p1.html", page("站点地图文章一", f"<p>{PARA}</p><p>一、{PARA}</p>"))
        server.write("/sm/p2.html", page("站点地图文章二", f"<p>{PARA}</p><p>二、{PARA}</p>"))
        server.write("/sm/bad.xml", "<html><body>not a sitemap</body></html>")
        # selector overrides: the body sits in an odd container, the date in a span
        server.write("/sel/a.html", page("页面标题", (
            '<div class="crumbs">首页 &gt; 通知</div><div class="ttl">选择器指定的标题</div>'
            '<span class="when">2021年6月18日 16:45</span>'
            f'<div id="zoom"><p>正文第一段：{PARA}</p><p>正文第二段：{PARA}</p></div>'
            '<div class="side"><p>侧栏：佛山示范园区建设新闻</p></div>')))
        # Big5 without any charset declaration, traditional characters
        big5 = page("廣東公佈示範園區", "<p>廣東省工業和信息化廳公佈第二批「5G+工業互聯網」應用示範園區名單，"
                    "東莞與江門各有一個園區入選，兩地將加快推進園區網絡建設和平台應用。</p>"
                    "<p>業內人士表示，示範園區將帶動更多中小企業參與數字化轉型。</p>").replace(
            '<meta charset="utf-8">', "").replace("首页", "首頁").replace("版权所有", "版權所有")
        server.write("/big5/a.html", big5.encode("big5"))
        # relative date only
        server.write("/rel/a.html", page("快讯", f'<span>3小时前</span><p>{PARA}</p><p>三、{PARA}</p>'))
        # a notice with attachments: DOCX, XLSX, PDF, a broken PDF, a missing one
        server.write("/att/notice.html", page("关于公布第二批示范园区名单的通知", (
            f"<p>{PARA}</p><p>附件：</p>"
            '<a href="files/list.docx">名单.docx</a> <a href="files/list.xlsx">名单.xlsx</a> '
            '<a href="files/list.pdf">名单.pdf</a> <a href="files/broken.pdf">损坏.pdf</a> '
            '<a href="files/missing.doc">缺失.doc</a>')))
        server.write("/att/files/list.docx", make_docx())
        server.write("/att/files/list.xlsx", make_xlsx())
        server.write("/att/files/list.pdf", make_pdf())
        server.write("/att/files/broken.pdf", b"%PDF-1.7\nthis file was cut short")
        server.write("/att/plain.html", page("不跟随附件的通知", f'<p>{PARA}</p><a href="files/list.docx">名单</a>'))

        sources = [
            SourceConfig("sitemap", "zh", "sitemap", (u("/sitemap.xml"),), allow=("/sm/",)),
            SourceConfig("bad-sitemap", "zh", "sitemap", (u("/sm/bad.xml"),)),
            SourceConfig("selectors", "zh", "page", (u("/sel/a.html"),), title="//div[@class='ttl']",
                         date="span.when", body="div#zoom"),
            SourceConfig("big5", "auto", "page", (u("/big5/a.html"),)),
            SourceConfig("relative", "zh", "page", (u("/rel/a.html"),)),
            SourceConfig("notices", "zh", "page", (u("/att/notice.html"),), attachments=True),
            SourceConfig("no-attachments", "zh", "page", (u("/att/plain.html"),)),
        ]
        out = root.parent / "shapes.jsonl"
        stats = run_crawl_in_subprocess(sources, SETTINGS, functools.partial(JsonLinesSink, str(out)))
        records = read_jsonl(out)
        articles = {str(r["url"]).replace(server.base, ""): r for r in records if r["type"] == "article"}
        errors = [(str(r["source"]), str(r["kind"]), str(r["url"]).replace(server.base, ""))
                  for r in records if r["type"] == "error"]
        yield Crawled(server, articles, errors, stats)


def test_sitemap_index_gzip_and_allow(crawled: Crawled) -> None:
    assert {"/sm/p1.html", "/sm/p2.html"} <= set(crawled.articles)
    assert not crawled.server.requested("/other/skip.html")
    assert crawled.stats["sitemap"].errors == {}
    assert [(k, url) for s, k, url in crawled.errors if s == "bad-sitemap"] == [("bad_sitemap", "/sm/bad.xml")]


def test_selector_overrides(crawled: Crawled) -> None:
    article = crawled.articles["/sel/a.html"]
    assert article["title"] == "选择器指定的标题"
    assert article["published_at"] == "2021-06-18T08:45:00+00:00"
    text = str(article["text"])
    assert text.startswith("正文第一段") and "正文第二段" in text
    assert "侧栏" not in text and "首页" not in text


def test_big5_undeclared_keeps_traditional_text(crawled: Crawled) -> None:
    article = crawled.articles["/big5/a.html"]
    assert article["lang"] == "zh"
    assert "廣東省工業和信息化廳公佈第二批" in str(article["text"])
    assert article["title"] == "廣東公佈示範園區"


def test_relative_date_resolved_at_fetch_time(crawled: Crawled) -> None:
    from datetime import datetime, timedelta

    article = crawled.articles["/rel/a.html"]
    published = datetime.fromisoformat(str(article["published_at"]))
    fetched = datetime.fromisoformat(str(article["fetched_at"]))
    assert timedelta(hours=2, minutes=59) < fetched - published < timedelta(hours=3, minutes=1)


def test_attachments_become_part_of_the_notice(crawled: Crawled) -> None:
    text = str(crawled.articles["/att/notice.html"]["text"])
    assert text.count(PARKS[0]) == 3  # DOCX, XLSX and PDF
    assert "附件：list.docx" in text and "附件：list.pdf" in text
    notice_errors = {(k, url) for s, k, url in crawled.errors if s == "notices"}
    assert notice_errors == {("attachment", "/att/files/broken.pdf"), ("attachment", "/att/files/missing.doc")}
    assert crawled.stats["notices"].attachments == 3
    assert crawled.stats["notices"].articles_new == 1


def test_attachments_only_when_the_source_asks(crawled: Crawled) -> None:
    assert PARKS[0] not in str(crawled.articles["/att/plain.html"]["text"])
    assert crawled.stats["no-attachments"].requests == 1


def test_retries_back_off_then_succeed(site_server: SiteServer, tmp_path: Path) -> None:
    import time

    hits: list[float] = []

    def flaky(handler: object) -> Route:
        hits.append(time.monotonic())
        if len(hits) <= 2:
            return Route(status=503, body=b"busy")
        return Route(body=page("重试后成功", f"<p>{PARA}</p><p>{PARA}</p>").encode())

    site_server.add_handler("/flaky.html", flaky)
    out = tmp_path / "retry.jsonl"
    settings = CrawlSettings(download_delay=0, autothrottle=False, download_timeout=3, retry_times=2,
                             retry_backoff=0.4, workers=0)
    stats = run_crawl_in_subprocess([SourceConfig("flaky", "zh", "page", (site_server.url("/flaky.html"),))],
                                    settings, functools.partial(JsonLinesSink, str(out)))
    assert stats["flaky"].articles_new == 1 and stats["flaky"].errors == {}
    assert len(hits) == 3
    assert hits[1] - hits[0] >= 0.4 and hits[2] - hits[1] >= 0.8  # 0.4 s, then doubled


def test_per_source_time_budget_stops_only_that_source(site_server: SiteServer, tmp_path: Path) -> None:
    links = "".join(f'<a href="/slow/{n}.html">慢速页面{n}</a>' for n in range(8))
    site_server.write("/slow/index.html", f"<html><body>{links}</body></html>")
    for n in range(8):
        site_server.add_route(f"/slow/{n}.html", page(f"慢速页面{n}", f"<p>{PARA}</p><p>{PARA}</p>"), delay=0.5)
    site_server.write("/quick.html", page("快速页面", f"<p>{PARA}</p><p>{PARA}</p>"))
    sources = [
        SourceConfig("slow", "zh", "listing", (site_server.url("/slow/index.html"),), allow=("/slow/\\d",),
                     concurrency=1, time_budget=1.0),
        SourceConfig("quick", "zh", "page", (site_server.url("/quick.html"),)),
    ]
    out = tmp_path / "budget.jsonl"
    stats = run_crawl_in_subprocess(sources, SETTINGS, functools.partial(JsonLinesSink, str(out)))
    assert 1 <= stats["slow"].articles_new < 8  # one request at a time, stopped after ~1 s
    assert stats["quick"].articles_new == 1
