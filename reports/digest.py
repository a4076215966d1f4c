"""The weekly digest's numbers, gathered once from the database.

Gathering lives here and rendering in `render_md`, `render_html` and `mail`, so the Markdown file,
the HTML page and the e-mail can never disagree. Every list is ordered deterministically (count,
then name) so the same database always gives the same digest.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reports.digest_activity import gather_activity
from reports.digest_health import gather_health
from reports.digest_model import Candidate, CityProgress, Digest, NewPark, label_of
from reports.digest_window import Window
from store.dedup import is_original
from store.models import Article, Entity, Park
from store.repository import Evidence, entity_names, max_confidence, park_evidence

__all__ = ["Digest", "build_digest"]


def build_digest(session: Session, window: Window, *, planned_parks: int, top_movers: int = 10,
                 top_articles: int = 5, chart_weeks: int = 12, chart_series: int = 6) -> Digest:
    names = entity_names(session)
    every = list(session.scalars(select(Park).order_by(Park.id)))
    # Candidates are not parks of the programme until confirmed (or named again, surely).
    parks = [p for p in every if p.status not in ("rejected", "candidate")]
    named = [p for p in parks if p.origin == "kb" or (p.first_seen_at is not None and p.first_seen_at < window.until)]
    digest = Digest(window=window, planned_parks=planned_parks, parks_named=len(named))
    fresh = [p for p in named if p.origin == "found" and p.first_seen_at is not None and p.first_seen_at >= window.since]
    fresh.sort(key=lambda p: (p.first_seen_at, p.id))
    digest.new_parks = [_new_park(session, names, p) for p in fresh]
    digest.candidates = _candidates(session, names, [
        p for p in every if p.status == "candidate" and p.first_seen_at is not None and p.first_seen_at < window.until])
    digest.cities = _city_progress(session, named, {p.id for p in fresh})
    in_window = (Article.first_seen_at >= window.since) & (Article.first_seen_at < window.until)
    digest.article_count = session.scalar(
        select(func.count()).select_from(Article).where(in_window, is_original())) or 0
    activity = gather_activity(session, window, names, top_movers=top_movers, top_articles=top_articles,
                               chart_weeks=chart_weeks, chart_series=chart_series)
    digest.movers, digest.top_articles, digest.new_entities = activity.movers, activity.top_articles, activity.new_entities
    digest.trend, digest.mention_count = activity.trend, activity.mention_count
    digest.sources = gather_health(session, window)
    return digest


def _new_park(session: Session, names: dict[str, tuple[str, str | None]], p: Park) -> NewPark:
    source = None
    if p.first_seen_url:
        source = session.scalar(
            select(Article.source).where((Article.url == p.first_seen_url) | (Article.canonical_url == p.first_seen_url))
        )
    return NewPark(p.name_zh, p.name_en, label_of(names, p.city_kb_id), label_of(names, p.company_kb_id) or p.company_name,
                   p.batch, p.first_seen_at, p.first_seen_url, source, p.first_seen_sentence)


def _candidates(session: Session, names: dict[str, tuple[str, str | None]], parks: list[Park]) -> list[Candidate]:
    """Candidates seen by the end of the period, surest first; URL and sentence of the first article
    that named each."""
    if not parks:
        return []
    evidence = park_evidence(session, [p.id for p in parks])
    out = []
    for p in parks:
        found: list[Evidence] = evidence.get(p.id, [])
        first = found[0] if found else None
        tags = tuple(dict.fromkeys(t for e in found for t in e.tags))
        out.append(Candidate(p.kb_id, p.name_zh, p.name_en, label_of(names, p.city_kb_id), max_confidence(found), tags,
                             p.first_seen_at, first.url if first else p.first_seen_url,
                             first.sentence if first else p.first_seen_sentence))
    out.sort(key=lambda c: (-(c.confidence or 0.0), c.first_seen_at.timestamp() if c.first_seen_at else 0.0, c.id))
    return out


def _city_progress(session: Session, named: list[Park], fresh_ids: set[int]) -> list[CityProgress]:
    cities = session.scalars(select(Entity).where(Entity.type == "CITY").order_by(Entity.kb_id))
    rows = []
    for c in cities:
        mine = [p for p in named if p.city_kb_id == c.kb_id]
        rows.append(CityProgress(c.kb_id, c.name_zh, c.name_en, len(mine), sum(p.id in fresh_ids for p in mine)))
    rows.sort(key=lambda c: (-c.parks, c.name_en))
    return rows
