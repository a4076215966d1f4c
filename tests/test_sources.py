"""Sources file validation: every problem gives one exact, actionable message."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.errors import SourcesError
from crawler.sources import SourceConfig, load_sources

GOOD = """
defaults:
  timezone: Asia/Shanghai
  download_delay: 0.5
  max_pages: 5
sources:
  - name: gdii-notices
    lang: zh
    kind: listing
    priority: high
    start_urls: [https://gdii.gd.gov.cn/zwgk/tzgg/index.html]
    allow: ['/content/post_\\d+\\.html$']
    next_page: 'a.next'
  - name: cd-feed
    lang: en
    kind: feed
    start_urls: ['{base}/feed.xml']
    timezone: UTC
    max_pages: 2
    enabled: false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_with_defaults_merged(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    sources = load_sources(path, variables={"base": "http://127.0.0.1:8000"})
    assert sources == [
        SourceConfig(
            name="gdii-notices",
            lang="zh",
            kind="listing",
            start_urls=("https://gdii.gd.gov.cn/zwgk/tzgg/index.html",),
            priority="high",
            allow=(r"/content/post_\d+\.html$",),
            deny=(),
            next_page="a.next",
            title=None,
            timezone="Asia/Shanghai",
            enabled=True,
            download_delay=0.5,
            max_pages=5,
        ),
        SourceConfig(
            name="cd-feed",
            lang="en",
            kind="feed",
            start_urls=("http://127.0.0.1:8000/feed.xml",),
            timezone="UTC",
            enabled=False,
            download_delay=0.5,
            max_pages=2,
        ),
    ]
    assert sources[0].allows("https://gdii.gd.gov.cn/content/post_12.html")
    assert not sources[0].allows("https://gdii.gd.gov.cn/about.html")


SOURCE = "  - {{name: gdii, lang: zh, kind: listing, start_urls: ['http://x.cn/'], {extra}}}\n"
FIRST = "sources:\n  - {name: first, lang: en, kind: page, start_urls: ['http://y.cn/a.html']}\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("kind: rss", "source 'gdii' (#2): kind must be one of listing, feed, sitemap, page, got 'rss'"),
        ("lang: fr", "source 'gdii' (#2): lang must be one of zh, en, auto, got 'fr'"),
        ("priority: urgent", "source 'gdii' (#2): priority must be one of high, normal, got 'urgent'"),
        ("colour: red", "source 'gdii' (#2): unknown key 'colour' (allowed: name, lang, kind, "
         "start_urls, priority, allow, deny, next_page, page_pattern, title, date, body, "
         "timezone, enabled, download_delay, concurrency, time_budget, max_pages, attachments)"),
        ("page_pattern: 'index_2.html'", "source 'gdii' (#2): page_pattern must be a relative "
         "URL containing {n} (page number) or {i} (page number - 1), e.g. 'index_{n}.html', "
         "got 'index_2.html'"),
        ("body: '//div[@class='", "source 'gdii' (#2): body is not a valid XPath expression: "
         "'//div[@class=' (Invalid expression)"),
        ("date: 'span..x'", "source 'gdii' (#2): date is not a valid CSS selector: 'span..x' "
         "(Expected ident, got <DELIM '.' at 5>)"),
        ("concurrency: 0", "source 'gdii' (#2): concurrency must be an integer >= 1, got 0"),
        ("time_budget: 0", "source 'gdii' (#2): time_budget must be a number of seconds > 0, got 0"),
        ("attachments: 1", "source 'gdii' (#2): attachments must be true or false, got 1"),
        ("allow: ['post_(\\d+']", "source 'gdii' (#2): allow[0] is not a valid regular "
         "expression: 'post_(\\\\d+' (missing ), unterminated subpattern at position 5)"),
        ("deny: '[a-'", "source 'gdii' (#2): deny[0] is not a valid regular expression: '[a-' "
         "(unterminated character set at position 0)"),
        ("start_urls: ['ftp://x.cn/']", "source 'gdii' (#2): start_urls[0] is not an http(s) "
         "URL: 'ftp://x.cn/'"),
        ("start_urls: ['/relative/path']", "source 'gdii' (#2): start_urls[0] is not an http(s) "
         "URL: '/relative/path'"),
        ("start_urls: []", "source 'gdii' (#2): start_urls must be a non-empty list of "
         "http(s) URLs"),
        ("start_urls: null", "source 'gdii' (#2): start_urls is required"),
        ("next_page: 'a[['", "source 'gdii' (#2): next_page is not a valid CSS selector: 'a[[' "
         "(Expected ident or '*', got <DELIM '[' at 2>)"),
        ("timezone: Mars/Olympus", "source 'gdii' (#2): timezone is not a known time zone: "
         "'Mars/Olympus'"),
        ("max_pages: 0", "source 'gdii' (#2): max_pages must be an integer >= 1, got 0"),
        ("download_delay: -1", "source 'gdii' (#2): download_delay must be a number of "
         "seconds >= 0, got -1"),
        ("enabled: 'yes please'", "source 'gdii' (#2): enabled must be true or false, "
         "got 'yes please'"),
        ("name: first", "source 'first' (#2): duplicate name 'first', already used by source #1"),
        ("name: 'Bad Name'", "source 'Bad Name' (#2): name must match [a-z0-9_-]+, got 'Bad Name'"),
    ],
)
def test_field_errors_name_file_source_and_field(tmp_path: Path, extra: str, message: str) -> None:
    path = write(tmp_path, FIRST + SOURCE.format(extra=extra))
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert str(info.value) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: []\n", "sources list is empty"),
        ("defaults: {}\n", "'sources:' is missing"),
        ("", "file is empty, expected a 'sources:' list"),
        ("- a\n- b\n", "top level must be a mapping with a 'sources:' list, got a list"),
        ("sources: []\nextras: 1\n", "unknown top-level key 'extras' (allowed: defaults, sources)"),
        ("sources:\n  - {name: a, kind: page, start_urls: ['http://x.cn/']}\n",
         "source 'a' (#1): lang is required"),
        ("sources:\n  - {lang: zh, kind: page, start_urls: ['http://x.cn/']}\n",
         "source #1: name is required"),
        ("sources:\n  - just-a-string\n", "source #1: must be a mapping, got a string"),
        ("defaults: {kind: rss}\nsources: []\n",
         "defaults: kind must be one of listing, feed, sitemap, page, got 'rss'"),
        ("defaults: {name: x}\nsources: []\n", "defaults: name cannot have a default"),
        ("defaults: {colour: red}\nsources: []\n", "defaults: unknown key 'colour' (allowed: "
         "lang, kind, priority, allow, deny, next_page, page_pattern, title, date, body, "
         "timezone, enabled, download_delay, concurrency, time_budget, max_pages, attachments)"),
    ],
)
def test_file_level_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert str(info.value) == f"{path}: {message}"


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - name: a\n    lang: [zh\n  - name: b\n")
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert str(info.value) == (
        f"{path}: YAML syntax error at line 4, column 9: expected ',' or ']', but got ':'"
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert str(info.value) == f"{path}: file not found"


def test_source_configs_are_frozen(tmp_path: Path) -> None:
    source = load_sources(write(tmp_path, GOOD), variables={"base": "http://h"})[0]
    with pytest.raises(AttributeError):
        source.name = "other"  # type: ignore[misc]


def test_new_fields_selectors_and_numbered_pages(tmp_path: Path) -> None:
    text = """
defaults: {attachments: true, concurrency: 1}
sources:
  - name: gd-notices
    lang: zh
    kind: listing
    start_urls: [https://www.gd.gov.cn/zwgk/tzgg/index.html]
    page_pattern: 'index_{n}.html'
    title: '//div[@class="title"]'
    date: 'span.time'
    body: 'div#zoom'
    time_budget: 600
    download_delay: 2
  - name: sm
    lang: en
    kind: sitemap
    start_urls: [https://www.example.com/sitemap.xml]
    attachments: false
"""
    listing, sitemap = load_sources(write(tmp_path, text))
    assert (listing.title, listing.date, listing.body) == ('//div[@class="title"]', "span.time", "div#zoom")
    assert listing.attachments is True and sitemap.attachments is False
    assert listing.concurrency == 1 and listing.time_budget == 600.0 and listing.download_delay == 2.0
    assert sitemap.kind == "sitemap"
    assert listing.numbered_page(listing.start_urls[0], 2) == "https://www.gd.gov.cn/zwgk/tzgg/index_2.html"
    assert listing.numbered_page(listing.start_urls[0], 1) is None
    zero_based = SourceConfig("x", "zh", "listing", ("http://a.cn/list/",), page_pattern="list_{i}.htm")
    assert zero_based.numbered_page("http://a.cn/list/", 3) == "http://a.cn/list/list_2.htm"
    assert SourceConfig("y", "zh", "listing", ("http://a.cn/",)).numbered_page("http://a.cn/", 2) is None
