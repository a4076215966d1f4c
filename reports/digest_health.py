"""Source health for the digest: pages crawled, errors and sources that went silent.

Read from what the crawler already records (`crawl_runs.stats` per source and the `crawl_errors`
table), so the digest adds no bookkeeping of its own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reports.digest_model import SourceHealth
from reports.digest_window import Window
from store.models import Article, CrawlError, CrawlRun

PREVIOUS_PERIODS = 4


def gather_health(session: Session, window: Window) -> list[SourceHealth]:
    runs: Counter[str] = Counter()
    pages: Counter[str] = Counter()
    new: Counter[str] = Counter()
    for run in session.scalars(
        select(CrawlRun).where(CrawlRun.started_at >= window.since, CrawlRun.started_at < window.until)
    ):
        stats = run.stats if isinstance(run.stats, dict) else {}
        for name in set(run.sources or []) | set(stats):
            runs[name] += 1
            found = stats.get(name)
            st: dict[str, Any] = found if isinstance(found, dict) else {}
            pages[name] += int(st.get("pages_fetched", 0) or 0)
            new[name] += int(st.get("articles_new", 0) or 0)
    errors: dict[str, Counter[str]] = defaultdict(Counter)
    for source, kind, n in session.execute(
        select(CrawlError.source, CrawlError.kind, func.count())
        .where(CrawlError.at >= window.since, CrawlError.at < window.until)
        .group_by(CrawlError.source, CrawlError.kind)
    ):
        errors[source][kind] += int(n)
    stored_now = _articles_per_source(session, window.since, window.until)
    earlier = window.since - PREVIOUS_PERIODS * (window.until - window.since)
    stored_before = _articles_per_source(session, earlier, window.since)
    out = []
    for name in sorted(set(runs) | set(errors) | set(stored_now) | set(stored_before)):
        articles = max(new[name], stored_now[name])
        out.append(SourceHealth(name, runs[name], pages[name], articles, dict(sorted(errors[name].items())),
                                _silence(runs[name], pages[name], articles, stored_before[name])))
    return out


def _articles_per_source(session: Session, since: object, until: object) -> Counter[str]:
    rows = session.execute(
        select(Article.source, func.count())
        .where(Article.first_seen_at >= since, Article.first_seen_at < until)
        .group_by(Article.source)
    )
    return Counter({source: int(n) for source, n in rows})


def _silence(runs: int, pages: int, articles: int, before: int) -> str | None:
    if runs and not pages:
        return "crawled but no page fetched"
    if articles:
        return None
    if not runs and before:
        return f"not crawled this period ({before} article(s) in the previous {PREVIOUS_PERIODS} periods)"
    if before:
        return f"no new articles ({before} in the previous {PREVIOUS_PERIODS} periods)"
    return None
