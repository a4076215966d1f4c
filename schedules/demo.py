"""`parkwatch demo`: the whole pipeline, offline, on the bundled sample site.

The story it tells is the one users buy the tool for: the site is crawled before the second batch
is announced (first-batch parks only, nothing alerted), crawled again (nothing doubles), then the
announcement appears and the next crawl catches exactly the new parks, and their alert is
delivered once to a webhook on 127.0.0.1 (never to channels configured in the environment); a last
crawl shows nothing is repeated. Then the digest is written, in Markdown and HTML.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import func, select

from crawler.settings import CrawlSettings
from schedules.alerts_cmd import deliver
from schedules.config import AlertsConfig
from schedules.crawl import CrawlReport, run_crawl_job
from schedules.database import init_database
from schedules.demo_server import DEMO_SITE, DemoServer, WebhookReceiver
from schedules.digest_job import write_digest
from store.db import open_store, sqlite_url
from store.models import Alert, Article, Mention
from store.repository import list_alerts


def write_sources(base_url: str, target: Path) -> Path:
    template = (DEMO_SITE / "sources.yaml").read_text(encoding="utf-8")
    target.write_text(template.replace("{base}", base_url), encoding="utf-8")
    return target


def _fresh_database(directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (directory / f"parkwatch.db{suffix}").unlink(missing_ok=True)
    return sqlite_url(directory / "parkwatch.db")


def _counts(db_url: str) -> tuple[int, int, int]:
    with open_store(db_url) as sessions, sessions() as s:
        counts = tuple(s.scalar(select(func.count()).select_from(m)) or 0 for m in (Article, Mention, Alert))
    return counts  # type: ignore[return-value]


def _step(label: str, report: CrawlReport, db_url: str, hook: WebhookReceiver, channel: dict[str, str]) -> None:
    delivery = deliver(db_url, AlertsConfig(), env=channel)
    articles, mentions, alerts = _counts(db_url)
    print(
        f"{label}: {report.total('requests')} requests, {report.total('articles_new')} new article(s), "
        f"{report.total('skipped_known')} known link(s) skipped, {len(report.new_parks)} new park(s), "
        f"{delivery.sent} alert message(s) sent"
    )
    print(f"   database: {articles} articles, {mentions} mentions, {alerts} park alerts; "
          f"webhook has received {len(hook.received)} message(s)")
    for name, url in report.new_parks:
        print(f"    NEW PARK  {name}  first seen at {url}")


def run_demo(directory: Path, *, verbose: bool = False) -> int:
    started = time.monotonic()
    directory = directory.resolve()
    db_url = _fresh_database(directory)
    kb = init_database(db_url)
    settings = CrawlSettings(download_delay=0.0, autothrottle=False, contact="parkwatch demo",
                             log_level="INFO" if verbose else "CRITICAL")
    with DemoServer() as server, WebhookReceiver() as hook:
        channel = {"PARKWATCH_ALERT_URLS": hook.channel_url}
        sources = write_sources(server.base_url, directory / "sources.yaml")
        print(f"parkwatch demo: sample site served at {server.base_url}/ (offline, loopback only)")
        print(f"knowledge base: {len(kb.parks)} first-batch parks, {len(kb.cities)} cities, "
              f"{len(kb.companies)} companies; alert channel: a JSON webhook on 127.0.0.1")
        steps = ["1. crawl before the second batch", "2. same site again", None,
                 "3. crawl after the announcement", "4. same site again"]
        for label in steps:
            if label is None:
                server.set_phase(2)
                print("   ... the second-batch announcement is published ...")
                continue
            _step(label, run_crawl_job(db_url, sources, settings), db_url, hook, channel)
    digest_path, html_path = directory / "digest.md", directory / "digest.html"
    write_digest(db_url, out=digest_path)
    write_digest(db_url, out=html_path, fmt="html")
    print(f"webhook messages received: {len(hook.received)}")
    for body in hook.received:
        message = json.loads(body)
        print(f"    {message.get('title', '')}")
    with open_store(db_url) as sessions, sessions() as session:
        alerts = list_alerts(session)
        print(f"park alerts: {len(alerts)}, each in the outbox once:")
        for alert in alerts:
            p = alert.payload
            print(f"    #{alert.id} {p['park']['name_zh']}  city={p['city']}  batch={p['batch']}  <{p['url']}>")
    print(f"database: {directory / 'parkwatch.db'}")
    print(f"digest:   {digest_path} and {html_path}")
    print(f"sources:  {sources}")
    print(f"try: parkwatch --db {directory / 'parkwatch.db'} parks")
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0
