"""Main-text and metadata extraction from one HTML page (no Scrapy needed).

Used by the spiders on downloaded responses and by the ``parkwatch extract`` CLI on files, so
it takes bytes plus what HTTP said about them and returns plain data. trafilatura does the
boilerplate removal (navigation, related-headline sidebars, footers, comments); this module
adds what Chinese government/news sites need on top: robust decoding (GBK pages that declare
their charset only in a header, only in ``<meta>``, nowhere, or wrongly) and visible-text
dates (``2020年9月21日 10:30``) interpreted in the source's time zone.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date, datetime
from datetime import timezone as dt_timezone

import lxml.html
from cssselect import GenericTranslator
from lxml import etree
from htmldate import find_date
from trafilatura import bare_extraction
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title
from trafilatura.settings import use_config
from trafilatura.utils import load_html
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, resolve_encoding

from crawler.dates import day_start_utc, find_local_dates, find_relative_date, parse_iso, to_utc

# Share of CJK among CJK + Latin letters above which "auto" language becomes "zh".
CJK_SHARE_FOR_ZH = 0.3
# Share of control/replacement characters above which a body is treated as binary junk.
MAX_JUNK_SHARE = 0.05

_TRAFILATURA_CONFIG = use_config()
# Signal-based timeouts only work in the main thread; the crawler runs callbacks elsewhere.
_TRAFILATURA_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
# Chinese is dense (one character per word): a 2-paragraph notice is ~100 characters. Below
# the default 250, trafilatura falls back to a whole-page baseline that drags navigation and
# related-headline lists into the text, which is worse than a short, clean main text.
_TRAFILATURA_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "50")

_META_DATE_SELECTORS = (
    'meta[property="article:published_time"]',
    'meta[name="article:published_time"]',
    'meta[itemprop="datePublished"]',
    'meta[name="PubDate"]',
    'meta[name="pubdate"]',
    'meta[name="publishdate"]',
    'meta[name="publish_date"]',
    'meta[name="OriginalPublicationDate"]',
    'meta[name="DC.date.issued"]',
    'meta[name="dc.date"]',
    "time[datetime]",
)


@dataclass(frozen=True)
class ExtractedPage:
    """What :func:`extract_page` found: the article's title, main text, date and language."""

    title: str | None
    text: str
    published_at: datetime | None  # timezone-aware UTC
    lang: str  # "zh" | "en"


def extract_page(
    body: bytes,
    url: str,
    *,
    http_encoding: str | None = None,
    default_lang: str = "auto",
    timezone: str = "Asia/Shanghai",
    title_selector: str | None = None,
    date_selector: str | None = None,
    body_selector: str | None = None,
    now: datetime | None = None,
) -> ExtractedPage | None:
    """Extract an article from raw HTML ``body``; ``None`` when there is no main text.

    ``http_encoding`` is the charset from the HTTP Content-Type header, if any; it wins over
    ``<meta>`` declarations unless it visibly does not fit the bytes. ``default_lang`` is the
    source's language, or ``"auto"`` to decide by the share of CJK characters. Naive dates are
    read in ``timezone``; ``published_at`` is returned in UTC. The ``*_selector`` arguments
    (CSS, or XPath when starting with ``/`` or ``(``) override what extraction would find, for
    sites whose markup defeats it; a selector that matches nothing falls back to extraction.
    Relative dates ("3小时前", "yesterday") are resolved against ``now`` (default: the current
    time), when no absolute date is found.
    """
    if not body or not body.strip():
        return None
    html = decode_html(body, http_encoding)
    if _junk_share(html) > MAX_JUNK_SHARE:
        return None
    tree = load_html(_strip_xml_declaration(html))
    if tree is None:
        return None
    _drop_link_tables(tree)

    title = _select_title(tree, title_selector)
    meta_date = _selected_date(tree, date_selector, timezone) or _meta_date(tree, timezone)
    visible = _visible_text(tree)
    selected_body = _selected_text(tree, body_selector)
    if selected_body:
        title = title or _fallback_title(tree)
        published = meta_date or _choose_date(None, visible, timezone) or find_relative_date(
            visible, now or datetime.now(dt_timezone.utc), timezone
        )
        lang = default_lang if default_lang in ("zh", "en") else detect_lang(f"{title or ''}\n{selected_body}")
        return ExtractedPage(title=title, text=selected_body, published_at=published, lang=lang)

    # fast: no second opinion from trafilatura's readability/jusText fallbacks (they ran on
    # every page and took a quarter of its time); its own baseline still catches pages where
    # the main extraction finds too little (MIN_EXTRACTED_SIZE).
    doc = bare_extraction(
        copy.deepcopy(tree),
        url=url,
        fast=True,
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        with_metadata=False,
        deduplicate=False,
        config=_TRAFILATURA_CONFIG,
    )
    if doc is None:
        return None
    text = (getattr(doc, "text", None) or "").strip()
    if not text:
        return None
    meta_title, meta_day = _title_and_day(tree, url)
    title = title or meta_title or _fallback_title(tree)
    published = meta_date or _choose_date(meta_day, visible, timezone)
    if published is None:
        published = find_relative_date(visible, now or datetime.now(dt_timezone.utc), timezone)
    lang = default_lang if default_lang in ("zh", "en") else detect_lang(f"{title or ''}\n{text}")
    return ExtractedPage(title=title, text=text, published_at=published, lang=lang)


def decode_html(body: bytes, http_encoding: str | None = None) -> str:
    """Decode HTML bytes like a browser: BOM, HTTP charset, ``<meta>``, then detection.

    Follows :func:`w3lib.encoding.html_to_unicode` (which also reads GBK/GB2312 as GB18030).
    When the chosen charset leaves many U+FFFD replacement characters (a server that lies
    about its charset is common), the other candidates are tried and the cleanest wins.
    """
    content_type = f"text/html; charset={http_encoding}" if http_encoding else None
    encoding, text = html_to_unicode(content_type, body, auto_detect_fun=_detect_encoding)
    if _replacement_share(text) <= 0.001:
        return text
    best, best_share = text, _replacement_share(text)
    for candidate in (html_body_declared_encoding(body), _detect_encoding(body), "gb18030"):
        if not candidate or resolve_encoding(candidate) == resolve_encoding(encoding):
            continue
        _, other = html_to_unicode(f"text/html; charset={candidate}", body)
        share = _replacement_share(other)
        if share < best_share:
            best, best_share = other, share
    return best


def decode_text(data: bytes) -> str:
    """Decode a plain-text file: BOM, else UTF-8, else GB18030, else Big5 (else lossy UTF-8)."""
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    for codec in ("utf-8", "gb18030", "big5"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


_HTML_START_RE = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I)


def looks_like_html(data: bytes) -> bool:
    """Guess whether a file is HTML (vs. plain text) from its first kilobytes."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("ascii", errors="ignore")
    return bool(_HTML_START_RE.search(head)) or (head[:1] == b"<" and b">" in head)


def detect_lang(text: str) -> str:
    """``"zh"`` when CJK characters make up a clear share of the letters, else ``"en"``."""
    cjk = sum(1 for ch in text if _is_cjk(ch))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if cjk + latin == 0:
        return "en"
    return "zh" if cjk / (cjk + latin) >= CJK_SHARE_FOR_ZH else "en"


# --- helpers ---------------------------------------------------------------------------


def _detect_encoding(body: bytes) -> str | None:
    """Charset guess for undeclared pages: UTF-8 if it decodes, else GB18030 if it decodes.

    Our sources are Chinese or English; a strict-decoding cascade is more reliable on short
    Chinese pages than statistical detectors, which often call GBK text Big5 or cp1252.
    """
    sample = body[:200_000]
    fits = [codec for codec in ("utf-8", "gb18030", "big5") if _decodes(sample, codec)]
    if fits and fits[0] == "utf-8":
        return "utf-8"
    if len(fits) > 1:  # Big5 bytes also decode as GB18030 (to nonsense): keep the likelier
        return max(fits, key=lambda codec: _common_share(sample.decode(codec, errors="ignore")))
    if fits:
        return fits[0]
    try:
        from charset_normalizer import from_bytes

        match = from_bytes(sample).best()
        return match.encoding if match else None
    except ImportError:  # pragma: no cover - charset_normalizer ships with requests/scrapy deps
        return None


def _decodes(sample: bytes, codec: str) -> bool:
    try:
        sample.decode(codec)
        return True
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample boundary is not a real error.
        return exc.start >= len(sample) - 4


def _common_share(text: str) -> float:
    """Share of CJK characters that are among the 3,755 most common Chinese characters (GB2312
    level 1) once traditional forms are simplified. Real text, simplified or traditional,
    scores high; bytes decoded with the wrong double-byte codec give rare characters."""
    from opencc import OpenCC

    cjk = [ch for ch in text[:4000] if _is_cjk(ch)]
    if not cjk:
        return 0.0
    common = 0
    for ch in OpenCC("t2s").convert("".join(cjk)):
        try:
            common += 0xB0 <= ch.encode("gb2312")[0] <= 0xD7
        except UnicodeEncodeError:
            pass
    return common / len(cjk)


def _replacement_share(text: str) -> float:
    return text.count("\ufffd") / max(len(text), 1)


#: Control characters (Unicode category Cc) other than tab, newline, form feed and carriage
#: return, and U+FFFD: what binary junk decoded as text is made of.
_JUNK_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")


def _junk_share(text: str) -> float:
    sample = text[:8000]
    return len(_JUNK_RE.findall(sample)) / max(len(sample), 1)


def _strip_xml_declaration(html: str) -> str:
    # lxml refuses str input that carries an encoding declaration.
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", html, count=1)


def _drop_link_tables(tree: lxml.html.HtmlElement) -> None:
    """Remove tables that are mostly links (related-news grids), keep content tables."""
    for table in list(tree.iter("table")):
        total = len(" ".join(table.text_content().split()))
        if not total:
            continue
        linked = sum(len(" ".join(a.text_content().split())) for a in table.iter("a"))
        if linked / total > 0.5 and table.getparent() is not None:
            table.drop_tree()


def _select(tree: lxml.html.HtmlElement, selector: str) -> list[lxml.html.HtmlElement]:
    """Elements matched by a CSS selector, or an XPath when it starts with ``/`` or ``(``."""
    if selector.lstrip().startswith(("/", "(")):
        found = tree.xpath(selector)
        return [e for e in found if isinstance(e, lxml.html.HtmlElement)] if isinstance(found, list) else []
    return list(tree.cssselect(selector))


_BLOCKS = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "br", "table", "section"})


def _selected_text(tree: lxml.html.HtmlElement, selector: str | None) -> str | None:
    """Text of the elements ``selector`` matches, one line per block element."""
    if not selector:
        return None
    lines: list[str] = []
    for element in _select(tree, selector):
        element = copy.deepcopy(element)
        for junk in element.xpath(".//script|.//style"):
            junk.drop_tree()
        for block in element.iter():
            if isinstance(block.tag, str) and block.tag in _BLOCKS:
                block.tail = "\n" + (block.tail or "")
        lines.extend(" ".join(line.split()) for line in element.text_content().splitlines())
    text = "\n".join(line for line in lines if line)
    return text or None


def _selected_date(tree: lxml.html.HtmlElement, selector: str | None, tz: str) -> datetime | None:
    """Date from the element ``selector`` matches: its datetime/content attribute or its text."""
    if not selector:
        return None
    for element in _select(tree, selector):
        raw = element.get("datetime") or element.get("content")
        if raw and (value := parse_iso(raw.strip(), tz)) is not None:
            return value
        found = find_local_dates(element.text_content())
        if found:
            return to_utc(found[0][0], tz)
    return None


def _select_title(tree: lxml.html.HtmlElement, selector: str | None) -> str | None:
    if not selector:
        return None
    for element in _select(tree, selector):
        text = _clean(element.text_content())
        if text:
            return text
    return None


def _fallback_title(tree: lxml.html.HtmlElement) -> str | None:
    for xpath in ("//h1", "//title"):
        for element in tree.xpath(xpath):
            text = _clean(element.text_content())
            if text:
                return text
    return None


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    return value or None


# Compiled once: translating CSS to XPath on every page cost more than the lookups themselves.
_META_DATE_XPATHS = tuple(
    etree.XPath(GenericTranslator().css_to_xpath(selector)) for selector in _META_DATE_SELECTORS
)


def _title_and_day(tree: lxml.html.HtmlElement, url: str) -> tuple[str | None, str | None]:
    """Title and publication day the way trafilatura's metadata extraction finds them (meta
    tags, JSON-LD, then headings and <title>; the day by htmldate), without the author, site
    name, categories, tags and licence it also extracts: those took ~80% of its time, and
    their share of a crawl worker's time per page was larger than the entity extraction's."""
    metadata = examine_meta(tree)
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception:  # noqa: BLE001 - malformed JSON-LD; trafilatura ignores it the same way
        pass
    title = _clean(metadata.title) or _clean(extract_title(tree))
    day = find_date(tree, url=url, extensive_search=False, original_date=True)
    return title, day


def _meta_date(tree: lxml.html.HtmlElement, tz: str) -> datetime | None:
    """Date from explicit metadata, used only when it carries a time (more precise)."""
    for xpath in _META_DATE_XPATHS:
        for element in xpath(tree):
            raw = element.get("content") or element.get("datetime") or ""
            value = parse_iso(raw.strip(), tz)
            if value is not None and (":" in raw):
                return value
    return None


def _visible_text(tree: lxml.html.HtmlElement) -> str:
    parts: list[str] = []
    body = tree.find("body")
    root = body if body is not None else tree
    for element in root.iter():
        if element.tag in ("script", "style", "noscript", "template") or not isinstance(
            element.tag, str
        ):
            continue
        if element.text:
            parts.append(element.text)
        if element.tail and element.getparent() is not None:
            parts.append(element.tail)
    return " ".join(parts)


def _choose_date(traf_date: str | None, visible: str, tz: str) -> datetime | None:
    """trafilatura's date (day precision) refined by a visible time on that day, else the
    first visible date."""
    candidates = find_local_dates(visible)
    day: date | None = None
    if traf_date:
        try:
            day = date.fromisoformat(traf_date[:10])
        except ValueError:
            day = None
    if day is not None:
        for local, has_time in candidates:
            if has_time and local.date() == day:
                return to_utc(local, tz)
        return day_start_utc(day, tz)
    if candidates:
        return to_utc(candidates[0][0], tz)
    return None


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0xF900 <= code <= 0xFAFF
    )
