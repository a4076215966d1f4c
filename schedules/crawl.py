"""One crawl run: a `CrawlRun` row, the crawl in a child process, per-source stats saved after.

Each crawl runs in a spawned child because Scrapy's Twisted reactor cannot be restarted in one
process; the demo and the scheduler crawl many times per process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crawler.errors import CrawlFailed
from crawler.runner import run_crawl_in_subprocess
from crawler.settings import CrawlSettings
from crawler.sources import SourceConfig, load_sources
from nlp.kb import KnowledgeBase
from schedules.pipeline import StoreSinkFactory
from store.db import check_schema, make_engine, session_factory
from store.models import Alert, CrawlRun, Park
from store.repository import sync_kb
from store.types import utcnow

#: Error kinds that are the crawler doing its job (a robots.txt refusal), not a source failing.
QUIET_ERROR_KINDS = frozenset({"robots"})


@dataclass
class CrawlReport:
    run_id: int
    status: str
    stats: dict[str, dict[str, Any]]
    new_parks: list[tuple[str, str | None]] = field(default_factory=list)  # (name, first URL): alerted by this crawl
    candidates: list[tuple[str, str | None]] = field(default_factory=list)  # (name, first URL): doubtful finds, not alerted
    delivery: Any = None  # reports.delivery.DeliveryReport when alerts were delivered after the crawl

    def failing_sources(self) -> dict[str, dict[str, int]]:
        """Sources with errors a user should look at, with counts by kind."""
        out: dict[str, dict[str, int]] = {}
        for name, st in self.stats.items():
            loud = {k: v for k, v in (st.get("errors") or {}).items() if k not in QUIET_ERROR_KINDS}
            if loud:
                out[name] = loud
        return out

    def total(self, key: str) -> int:
        return sum(int(st.get(key, 0)) for st in self.stats.values())


def run_crawl_job(
    db_url: str,
    sources_path: Path,
    settings: CrawlSettings,
    *,
    priority: str | None = None,
    only: list[str] | None = None,
    alerts: Any = None,
    kb_dir: Path | None = None,
) -> CrawlReport:
    """Crawl the sources file into the database; raises SourcesError/StoreError/CrawlFailed, and
    KnowledgeBaseError for a bad ``kb_dir`` (the user's knowledge-base folder) before crawling."""
    sources: list[SourceConfig] = load_sources(sources_path)
    kb = KnowledgeBase.load(user_dir=kb_dir)  # an edited knowledge base takes effect at the next crawl
    if priority:
        sources = [s for s in sources if s.priority == priority]
    if only:
        sources = [s for s in sources if s.name in only]
    engine = make_engine(db_url)
    check_schema(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        sync_kb(session, kb)
        run = CrawlRun(sources=[s.name for s in sources], status="running")
        session.add(run)
        session.flush()
        run_id, started = run.id, run.started_at
    try:
        sink = StoreSinkFactory(db_url, run_id, kb_dir=str(kb_dir) if kb_dir is not None else None)
        raw = run_crawl_in_subprocess(sources, settings, sink)
    except CrawlFailed as exc:
        _finish(sessions, run_id, "failed", {}, str(exc))
        engine.dispose()
        raise
    stats = {name: asdict(st) for name, st in raw.items()}
    report = CrawlReport(run_id, "ok", stats)
    report.status = "errors" if report.failing_sources() else "ok"
    _finish(sessions, run_id, report.status, stats, None)
    with sessions() as session:
        # Alerted by this crawl: parks first found now, and candidates a sure mention promoted.
        alerted = session.scalars(
            select(Park).join(Alert, Alert.park_id == Park.id)
            .where(Alert.kind == "new_park", Alert.created_at >= started).order_by(Alert.id))
        report.new_parks = [(p.name_zh or p.name_en or p.kb_id, p.first_seen_url) for p in alerted]
        waiting = session.scalars(
            select(Park).where(Park.origin == "found", Park.status == "candidate", Park.created_at >= started)
            .order_by(Park.id))
        report.candidates = [(p.name_zh or p.name_en or p.kb_id, p.first_seen_url) for p in waiting]
    engine.dispose()
    if alerts is not None:  # an AlertsConfig: deliver what this crawl (or an earlier one) left due
        report.delivery = _deliver(db_url, alerts)
    return report


def _deliver(db_url: str, alerts: Any) -> Any:
    """Alert delivery never fails a crawl: its problems end up in the delivery report."""
    from reports.delivery import DeliveryReport
    from schedules.alerts_cmd import deliver

    try:
        return deliver(db_url, alerts)
    except Exception as exc:  # noqa: BLE001 - the crawl's own result must still be reported
        return DeliveryReport(errors=[f"delivery did not run: {exc}"])


def _finish(sessions: Any, run_id: int, status: str, stats: dict[str, Any], message: str | None) -> None:
    with sessions.begin() as session:
        run = session.get(CrawlRun, run_id)
        run.status, run.stats, run.message = status, stats, message
        run.finished_at = utcnow()

