"""extract_page: decoding (GBK and friends), boilerplate removal, dates to UTC, language."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from crawler.extract import decode_text, detect_lang, extract_page, looks_like_html

ZH_BODY = """
<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> <a href="/hdjl/">互动交流</a></div>
<h1>广东省公布首批5G+工业互联网应用示范园区名单</h1>
<div class="info">发布时间：2020年9月21日 10:30　来源：广东省工业和信息化厅</div>
<div class="article">
<p>近日，广东省工业和信息化厅公布首批“5G+工业互联网”应用示范园区名单，共10个园区入选。</p>
<p>入选园区将在5G网络覆盖、工业互联网平台应用和数字化转型服务等方面先行先试，形成可复制推广的经验。</p>
<p>省工业和信息化厅表示，将对示范园区给予政策支持，推动5G与工业互联网深度融合发展。</p>
</div>
<div class="sidebar"><h3>相关新闻</h3><ul>
<li><a href="/news/1.html">深圳发布智能制造三年行动计划</a></li>
<li><a href="/news/2.html">佛山召开制造业数字化转型推进大会</a></li>
<li><a href="/news/3.html">东莞工业机器人产业规模持续扩大</a></li>
<li><a href="/news/4.html">珠海举办集成电路产业对接会</a></li>
</ul></div>
<div class="comments"><h3>网友评论</h3><div class="comment"><p>网友甲：这个政策太好了，支持一下！</p></div></div>
<div class="footer"><p>版权所有：广东省工业和信息化厅　粤ICP备05070829号</p></div>
"""

KEY_SENTENCE = "共10个园区入选"
SIDEBAR = ("深圳发布智能制造三年行动计划", "佛山召开制造业数字化转型推进大会", "东莞工业机器人")
FOOTER = "粤ICP备"
NAV = "互动交流"
COMMENT = "网友甲"
ZH_DATE = datetime(2020, 9, 21, 2, 30, tzinfo=timezone.utc)  # 10:30 Asia/Shanghai


def zh_page(meta: str = "") -> str:
    return (
        f"<html><head>{meta}<title>广东省公布首批5G+工业互联网应用示范园区名单_广东省工业和信息化厅"
        f"</title></head><body>{ZH_BODY}</body></html>"
    )


def assert_clean_zh(page) -> None:
    assert page is not None
    assert KEY_SENTENCE in page.text
    for headline in SIDEBAR:
        assert headline not in page.text
    assert FOOTER not in page.text
    assert NAV not in page.text
    assert COMMENT not in page.text
    assert page.lang == "zh"
    assert page.published_at == ZH_DATE


def test_gbk_with_charset_only_in_http_header() -> None:
    body = zh_page().encode("gbk")
    assert_clean_zh(extract_page(body, "http://gd.example/a.html", http_encoding="gbk"))


def test_gbk_with_charset_only_in_meta() -> None:
    body = zh_page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gbk")
    assert_clean_zh(extract_page(body, "http://gd.example/a.html"))


def test_gbk_with_html5_meta_charset() -> None:
    body = zh_page('<meta charset="GBK">').encode("gbk")
    assert_clean_zh(extract_page(body, "http://gd.example/a.html"))


def test_gbk_without_any_declaration_is_detected() -> None:
    body = zh_page().encode("gbk")
    assert_clean_zh(extract_page(body, "http://gd.example/a.html"))


def test_gb18030_only_characters_survive() -> None:
    # "𠮷" is outside GBK; pages declared GB2312/GBK are read as GB18030 so it survives.
    body = zh_page('<meta charset="gb2312">').replace("近日", "近日𠮷").encode("gb18030")
    page = extract_page(body, "http://gd.example/a.html")
    assert page is not None and "近日𠮷" in page.text


def test_utf8_and_utf8_bom() -> None:
    html = zh_page('<meta charset="utf-8">')
    assert_clean_zh(extract_page(html.encode("utf-8"), "http://gd.example/a.html"))
    assert_clean_zh(extract_page(b"\xef\xbb\xbf" + zh_page().encode("utf-8"), "http://gd.example/a.html"))


def test_lying_http_charset_falls_back_to_what_fits() -> None:
    body = zh_page('<meta charset="gbk">').encode("gbk")
    assert_clean_zh(extract_page(body, "http://gd.example/a.html", http_encoding="utf-8"))


def test_title_from_h1_or_title_and_selector_override() -> None:
    body = zh_page().encode("utf-8")
    page = extract_page(body, "http://gd.example/a.html")
    assert page is not None and page.title and "5G+工业互联网应用示范园区" in page.title
    page = extract_page(body, "http://gd.example/a.html", title_selector="div.info")
    assert page is not None and page.title and page.title.startswith("发布时间")


EN_PAGE = """<html><head><title>Guangdong names first 5G industrial internet parks | Example News</title>
</head><body>
<nav><a href="/">Home</a> <a href="/business">Business</a> <a href="/tech">Technology</a></nav>
<article><h1>Guangdong names first 5G industrial internet parks</h1>
<p class="byline">By Staff Reporter | {date}</p>
<p>Guangdong province on Monday named its first batch of ten demonstration parks for 5G plus
industrial internet, the provincial department of industry and information technology said.</p>
<p>The parks will pilot private 5G networks in factories and shared industrial internet
platforms for small and medium-sized manufacturers across the Pearl River Delta.</p>
</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Shenzhen unveils chip fund</a></li>
<li><a href="/b">Foshan factories go digital</a></li><li><a href="/c">Port traffic rebounds</a></li></ul></aside>
<footer><p>Copyright 2020 Example News. All rights reserved.</p></footer>
</body></html>"""


@pytest.mark.parametrize(
    ("date_text", "tz", "expected"),
    [
        ("September 22, 2020", "UTC", datetime(2020, 9, 22, tzinfo=timezone.utc)),
        ("September 22, 2020 3:05 pm", "Asia/Shanghai", datetime(2020, 9, 22, 7, 5, tzinfo=timezone.utc)),
        ("22 Sept 2020", "Europe/London", datetime(2020, 9, 21, 23, 0, tzinfo=timezone.utc)),
        ("2020-09-22 08:00", "Asia/Shanghai", datetime(2020, 9, 22, 0, 0, tzinfo=timezone.utc)),
    ],
)
def test_english_page_dates_in_source_timezone(date_text: str, tz: str, expected: datetime) -> None:
    page = extract_page(EN_PAGE.format(date=date_text).encode(), "http://news.example/x", timezone=tz)
    assert page is not None
    assert "ten demonstration parks" in page.text
    assert "Shenzhen unveils chip fund" not in page.text
    assert "All rights reserved" not in page.text
    assert page.lang == "en"
    assert page.published_at == expected
    assert page.published_at.tzinfo is timezone.utc


def test_iso_meta_date_with_offset_wins() -> None:
    html = zh_page('<meta property="article:published_time" content="2020-09-21T18:00:00+08:00">')
    page = extract_page(html.encode(), "http://gd.example/a.html")
    assert page is not None and page.published_at == datetime(2020, 9, 21, 10, 0, tzinfo=timezone.utc)


def test_chinese_dash_date_and_no_date() -> None:
    html = zh_page().replace("2020年9月21日 10:30", "2020-09-21 10:30")
    page = extract_page(html.encode(), "http://gd.example/a.html")
    assert page is not None and page.published_at == ZH_DATE
    html = zh_page().replace("发布时间：2020年9月21日 10:30", "")
    page = extract_page(html.encode(), "http://gd.example/a.html")
    assert page is not None and page.published_at is None


def test_language_forced_by_source_or_detected() -> None:
    body = EN_PAGE.format(date="September 22, 2020").encode()
    page = extract_page(body, "http://news.example/x", default_lang="zh")
    assert page is not None and page.lang == "zh"
    assert detect_lang("广东省公布首批5G+工业互联网示范园区 (Guangzhou)") == "zh"
    assert detect_lang("Guangdong names parks in 广州 and 深圳") == "en"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"<html><head><title>x</title></head><body></body></html>",
        os.urandom(4096),
        b"\x00\x01\x02\x03" * 1000,
    ],
    ids=["empty", "blank", "no-body-text", "random-bytes", "control-bytes"],
)
def test_nothing_to_extract_returns_none(body: bytes) -> None:
    assert extract_page(body, "http://x.example/") is None


def test_truncated_html_still_extracts() -> None:
    html = zh_page().encode("utf-8")
    cut = html[: html.index("省工业和信息化厅表示".encode()) + 20]
    page = extract_page(cut, "http://gd.example/a.html", http_encoding="utf-8")
    assert page is not None and KEY_SENTENCE in page.text


def test_decode_text_cascade() -> None:
    text = "广东5G示范园区"
    assert decode_text(b"\xef\xbb\xbf" + text.encode()) == text
    assert decode_text(text.encode("utf-8")) == text
    assert decode_text(text.encode("gbk")) == text
    assert decode_text(text.encode("utf-16")) == text
    # Big5 byte sequences are also valid GB18030, so Big5 is only a last resort before
    # lossy UTF-8; what matters is that undecodable input never raises.
    assert isinstance(decode_text(b"\xff\xfe\xfd"[1:] + b"\x80\xff"), str)


def test_looks_like_html() -> None:
    assert looks_like_html(b"<!DOCTYPE html><html><body>x</body></html>")
    assert looks_like_html(b"\xef\xbb\xbf\n  <html lang='zh'>")
    assert looks_like_html("<meta charset='gbk'><p>正文</p>".encode("gbk"))
    assert not looks_like_html("广东省公布首批示范园区。\n第二段。".encode())
    assert not looks_like_html(b"Plain English text about 5G <parks>.")
