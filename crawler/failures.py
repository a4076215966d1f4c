"""Map failed requests to the error kinds recorded in the sink and in SourceStats.

Kinds are short stable strings because the store keeps them in ``crawl_errors`` and reports
group by them; ``reason`` carries the human detail. Scrapy and Twisted are imported only by
:func:`classify_failure`: extraction workers import the kinds and never load Scrapy (~0.3 s and
tens of MB per worker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twisted.python.failure import Failure

UNREACHABLE = "unreachable"  # DNS failure, connection refused/reset before a response
TIMEOUT = "timeout"  # no complete response within DOWNLOAD_TIMEOUT
TOO_LARGE = "too_large"  # body larger than DOWNLOAD_MAXSIZE
ROBOTS = "robots"  # forbidden by robots.txt (request never sent)
NO_TEXT = "no_text"  # page fetched but extraction found no main text
BAD_FEED = "bad_feed"  # feed body is not parseable RSS/Atom
STORE = "store"  # the sink raised while storing an article
TOO_MANY_REDIRECTS = "too_many_redirects"  # redirect loop / chain longer than allowed
TRUNCATED = "truncated"  # connection closed before the announced body length arrived
FETCH = "fetch"  # any other download failure
EXTRACT_ERROR = "extract_error"  # extraction raised (a bug or a pathological page)
ATTACHMENT = "attachment"  # an attachment could not be downloaded or read (notice kept)
BAD_SITEMAP = "bad_sitemap"  # sitemap body is not a parseable sitemap / sitemap index


def http_kind(status: int) -> str:
    """Kind for an HTTP error status, e.g. ``http_404``."""
    return f"http_{status}"


def classify_failure(failure: Failure) -> tuple[str, str]:
    """Return ``(kind, reason)`` for a request errback ``failure``."""
    from scrapy.exceptions import (
        CannotResolveHostError,
        DownloadCancelledError,
        DownloadConnectionRefusedError,
        DownloadTimeoutError,
        IgnoreRequest,
        ResponseDataLossError,
    )
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import error as twisted_error
    from twisted.internet.defer import TimeoutError as DeferTimeoutError
    from twisted.web._newclient import ResponseNeverReceived

    exc: Any = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        return http_kind(response.status), f"HTTP {response.status} for {response.url}"
    if isinstance(exc, IgnoreRequest):
        message = str(exc) or type(exc).__name__
        if "robots" in message.lower():
            return ROBOTS, message
        if "redirect" in message.lower():
            return TOO_MANY_REDIRECTS, message
        return FETCH, message
    reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
    if isinstance(exc, (DownloadTimeoutError, DeferTimeoutError, twisted_error.TimeoutError)):
        return TIMEOUT, reason
    if isinstance(
        exc,
        (
            DownloadConnectionRefusedError,
            CannotResolveHostError,
            twisted_error.DNSLookupError,
            twisted_error.ConnectionRefusedError,
            twisted_error.ConnectError,
            twisted_error.NoRouteError,
        ),
    ):
        return UNREACHABLE, reason
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download only for DOWNLOAD_MAXSIZE; when the size was not known up
        # front (no Content-Length) the message does not say so, hence the explicit reason.
        if "max size" not in str(exc):
            reason = f"download cancelled while streaming, body over the size limit ({reason})"
        return TOO_LARGE, reason
    if isinstance(exc, ResponseDataLossError):
        return TRUNCATED, "connection closed before the announced Content-Length arrived"
    if isinstance(exc, (ResponseNeverReceived, twisted_error.ConnectionLost)):
        return UNREACHABLE, reason
    return FETCH, reason
