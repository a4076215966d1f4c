"""Exceptions raised by the crawler package.

They are small on purpose: callers (the CLI, the scheduler) mostly print the message, so the
message itself must carry the context (file, source, field) needed to fix the problem.
"""

from __future__ import annotations


class CrawlerError(Exception):
    """Base class so callers can catch every crawler failure with one ``except``."""


class SourcesError(CrawlerError):
    """The sources YAML file is missing, unparsable or invalid.

    The message names the file, the source (by name and/or index) and the field, e.g.
    ``sources.yaml: source 'gdii' (#2): kind must be one of listing, feed, page, got 'rss'``.
    """


class CrawlFailed(CrawlerError):
    """A crawl could not run to completion as a whole (not a single failed URL).

    Raised when the crawl child process dies, when the sink cannot be built, or when the
    in-process reactor has already been used. Single failed requests are never raised: they
    are reported to the sink as errors and the crawl goes on.
    """
