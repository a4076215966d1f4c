"""Time and memory of one weekly digest on a large synthetic database.

Usage: python bench/bench_digest.py [--articles 20000] [--mentions 8] [--weeks 16]

Builds a SQLite file with `--articles` articles spread evenly over the last `--weeks` weeks (half
Chinese, half English, 30 sources), `--mentions` mentions each (parks, cities and companies of
the bundled knowledge base plus unknown companies), and one crawl run a day with a few errors;
then times each stage of the digest for the last week: gathering (SQL + Python), Markdown, the
three charts, the HTML page and the e-mail. Peak memory is the process's maximum RSS.
Target (issue 6): the digest of a year-sized database (20,000 articles) in under 10 s, 400 MB.
"""
from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from nlp.kb import KnowledgeBase  # noqa: E402
from reports.charts import digest_charts  # noqa: E402
from reports.digest import build_digest  # noqa: E402
from reports.digest_window import previous_week  # noqa: E402
from reports.mail import build_message  # noqa: E402
from reports.render_html import render_html  # noqa: E402
from reports.render_md import render_markdown  # noqa: E402
from store.db import init_schema, make_engine, session_factory, sqlite_url  # noqa: E402
from store.models import Article, CrawlError, CrawlRun, Mention  # noqa: E402
from store.repository import sync_kb  # noqa: E402


def populate(url: str, articles: int, per_article: int, weeks: int, now: datetime) -> None:
    rng = random.Random(6)
    kb = KnowledgeBase.load()
    engine = make_engine(url)
    init_schema(engine)
    with session_factory(engine).begin() as s:
        sync_kb(s, kb)
    entities = ([("PARK", p.id, p.name_zh) for p in kb.parks.values()]
                + [("CITY", c.id, c.name_zh) for c in kb.cities.values()]
                + [("COMPANY", c.id, c.name_zh) for c in kb.companies.values()]
                + [("COMPANY", None, f"未知公司{i}") for i in range(200)])
    span = timedelta(weeks=weeks).total_seconds()
    with engine.begin() as conn:
        rows = []
        for i in range(articles):
            seen = now - timedelta(seconds=span * (i + 0.5) / articles)
            rows.append(dict(id=i + 1, canonical_url=f"http://s{i % 30}.test/{i}", url=f"http://s{i % 30}.test/{i}",
                             source=f"source-{i % 30}", lang="zh" if i % 2 else "en", title=f"标题 {i}", text="正文",
                             content_hash=f"{i:064x}", published_at=seen, fetched_at=seen, first_seen_at=seen,
                             updated_at=seen))
        conn.execute(insert(Article), rows)
        mentions = []
        for i in range(articles):
            for j, (type_, kb_id, name) in enumerate(rng.sample(entities, per_article)):
                mentions.append(dict(article_id=i + 1, type=type_, text=name, start=j * 10, end=j * 10 + 4,
                                     entity_kb_id=kb_id, name_zh=name, name_en=None, sentence=name))
        conn.execute(insert(Mention), mentions)
        for day in range(weeks * 7):
            started = now - timedelta(days=day)
            stats = {f"source-{k}": {"pages_fetched": 20, "articles_new": 3, "errors": {}} for k in range(30)}
            run = conn.execute(insert(CrawlRun).values(started_at=started, finished_at=started, status="ok",
                                                       sources=list(stats), stats=stats, message=None))
            conn.execute(insert(CrawlError), [dict(run_id=run.inserted_primary_key[0], source=f"source-{day % 30}",
                                                   url="http://x.test/", kind="http", reason="404", at=started)])
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--mentions", type=int, default=8)
    parser.add_argument("--weeks", type=int, default=16)
    args = parser.parse_args()
    now = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        url = sqlite_url(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        populate(url, args.articles, args.mentions, args.weeks, now)
        print(f"database: {args.articles} articles, {args.articles * args.mentions} mentions, "
              f"built in {time.perf_counter() - t0:.1f} s")
        window = previous_week(now, "Asia/Shanghai")
        engine = make_engine(url)
        timings: list[tuple[str, float]] = []
        start = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal start
            timings.append((name, time.perf_counter() - start))
            start = time.perf_counter()

        with session_factory(engine)() as s:
            d = build_digest(s, window, planned_parks=10)
        lap("gather")
        md = render_markdown(d)
        lap("markdown")
        charts = digest_charts(d)
        lap("charts")
        html = render_html(d, charts)
        lap("html")
        msg = bytes(build_message(d, sender="bench@example.org", to="a@example.org", charts=charts))
        lap("e-mail")
        engine.dispose()
    for name, seconds in timings:
        print(f"  {name:<9} {seconds:6.2f} s")
    print(f"total {sum(s for _, s in timings):.2f} s; Markdown {len(md) // 1024} KiB, HTML {len(html) // 1024} KiB, "
          f"e-mail {len(msg) // 1024} KiB; {d.mention_count} mentions this week")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
