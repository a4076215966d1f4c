"""URL helpers: canonical form for de-duplication and same-site checks for link following."""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that only track the click, never select content.
_TRACKING_EXACT = frozenset(
    {"gclid", "fbclid", "msclkid", "yclid", "mc_cid", "mc_eid", "spm", "share_token", "isappinstalled"}
)
# A directory's default document: /tzgg/index.html and /tzgg/ are one page.
_INDEX_RE = re.compile(r"/(?:index|default)\.(?:html?|shtml|jsp|php|aspx?)$", re.I)


@functools.lru_cache(maxsize=16384)
def canonical_url(url: str) -> str:
    """w3lib-canonical URL without fragment and without ``utm_*``/click-id parameters.

    The store keys articles on this, so the same article reached from a feed (with
    ``?utm_source=rss``) and from a listing page is recognised as one. ``http`` and ``https``
    are one page (the key always says ``https``), and so are a directory and its
    ``index.html``. It is a key, not an address: requests go to the URL as found.

    Cached: a crawl asks for the key of one URL about five times (listing link, request,
    response, crawl state), and w3lib's canonicalisation is the costliest part of handling a
    link in the crawl process.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() == "http":
        netloc = parts.netloc[:-3] if parts.netloc.endswith(":80") else parts.netloc
        parts = parts._replace(scheme="https", netloc=netloc)
    parts = parts._replace(path=_INDEX_RE.sub("/", parts.path))
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_EXACT
    ]
    cleaned = urlunsplit(parts._replace(query=urlencode(query), fragment=""))
    return canonicalize_url(cleaned, keep_fragments=False)


def site_key(url: str) -> str:
    """Host used for "same site" checks: lower-case, without port and leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on the same host (scheme, port and ``www.`` ignored)."""
    return site_key(url) == site_key(other)


def is_http_url(url: str) -> bool:
    """True for absolute http(s) URLs (filters ``mailto:``, ``javascript:`` links)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
