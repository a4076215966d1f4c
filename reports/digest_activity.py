"""What coverage said: mention movers, top articles, first-seen entities and the 12-week trend.

One pass over the mentions of the last few months feeds all four, so the digest costs one query
whatever the size of the database's history.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.digest_model import Mover, NewEntity, TopArticle, Trend, label_of
from reports.digest_window import Window
from store.dedup import is_original
from store.models import Article, Mention, Park

PREVIOUS_PERIODS = 4
WEEK = timedelta(days=7)
# Relevance of an article to the programme: naming a new park matters most, then each distinct
# park, company and city it mentions. Raw counts would let one long article drown the rest.
WEIGHTS = {"NEW_PARK": 5, "PARK": 3, "COMPANY": 1, "CITY": 1}


@dataclass
class Activity:
    movers: dict[str, list[Mover]]
    top_articles: dict[str, list[TopArticle]]
    new_entities: list[NewEntity]
    trend: Trend
    mention_count: int


@dataclass(frozen=True)
class _Row:
    type: str
    key: str
    label: str
    article_id: int
    seen: datetime


def gather_activity(session: Session, window: Window, names: dict[str, tuple[str, str | None]], *,
                    top_movers: int, top_articles: int, chart_weeks: int, chart_series: int) -> Activity:
    period = window.until - window.since
    start = min(window.since - PREVIOUS_PERIODS * period, window.until - chart_weeks * WEEK)
    rows = []
    for type_, kb_id, name_zh, text, article_id, seen in session.execute(
        select(Mention.type, Mention.entity_kb_id, Mention.name_zh, Mention.text, Article.id, Article.first_seen_at)
        .join(Article, Mention.article_id == Article.id)
        .where(Article.first_seen_at >= start, Article.first_seen_at < window.until, is_original())
        .order_by(Mention.id)
    ):
        key = kb_id or name_zh or text
        # A park's English name is a translation of a long Chinese one: the Chinese alone reads better.
        label = names.get(kb_id, (None, None))[0] if type_ == "PARK" and kb_id else label_of(names, kb_id)
        rows.append(_Row(type_, key, label or name_zh or text, article_id, seen))
    current = [r for r in rows if r.seen >= window.since]
    return Activity(
        movers=_movers(rows, window, period, top_movers),
        top_articles=_top_articles(session, window, current, top_articles),
        new_entities=_new_entities(session, window, current),
        trend=_trend(rows, window, chart_weeks, chart_series),
        mention_count=len(current),
    )


def _movers(rows: list[_Row], window: Window, period: timedelta, limit: int) -> dict[str, list[Mover]]:
    now: dict[str, Counter[str]] = defaultdict(Counter)
    before: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        if r.seen >= window.since:
            now[r.type][r.label] += 1
        elif r.seen >= window.since - PREVIOUS_PERIODS * period:
            before[r.type][r.label] += 1
    out: dict[str, list[Mover]] = {}
    for type_ in ("PARK", "CITY", "COMPANY"):
        movers = []
        for label in set(now[type_]) | set(before[type_]):
            avg = before[type_][label] / PREVIOUS_PERIODS
            movers.append(Mover(label, now[type_][label], avg, now[type_][label] - avg))
        movers.sort(key=lambda m: (-abs(m.delta), -m.this_period, m.name))
        out[type_] = movers[:limit]
    return out


def _top_articles(session: Session, window: Window, current: list[_Row], limit: int) -> dict[str, list[TopArticle]]:
    new_park_keys = set(session.scalars(
        select(Park.kb_id).where(Park.origin == "found", Park.status.not_in(["rejected", "candidate"]),
                                 Park.first_seen_at >= window.since, Park.first_seen_at < window.until)
    ))
    seen: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in current:
        seen[r.article_id][r.type].add(r.label)
        if r.type == "PARK" and r.key in new_park_keys:
            seen[r.article_id]["NEW_PARK"].add(r.label)
    if not seen:
        return {"zh": [], "en": []}
    articles = session.scalars(select(Article).where(Article.id.in_(list(seen))))
    ranked: dict[str, list[TopArticle]] = {"zh": [], "en": []}
    for a in articles:
        kinds = seen[a.id]
        score = sum(WEIGHTS[t] * len(labels) for t, labels in kinds.items())
        entities = tuple(sorted(kinds.get("PARK", set()) | kinds.get("COMPANY", set()) | kinds.get("CITY", set())))
        ranked.setdefault(a.lang, []).append(
            TopArticle(a.title or a.url, a.url, a.source, a.lang, a.published_at or a.first_seen_at, score, entities)
        )
    for lang, items in ranked.items():
        items.sort(key=lambda t: (-t.score, -t.date.timestamp(), t.title))
        ranked[lang] = items[:limit]
    return ranked


def _new_entities(session: Session, window: Window, current: list[_Row]) -> list[NewEntity]:
    """Cities and companies mentioned for the first time ever, in an article that names a park."""
    programme_articles = {r.article_id for r in current if r.type == "PARK"}
    candidates: dict[tuple[str, str], _Row] = {}
    for r in current:
        if r.type in ("CITY", "COMPANY") and r.article_id in programme_articles:
            candidates.setdefault((r.type, r.key), r)
    if not candidates:
        return []
    keys = {k for _, k in candidates}
    earlier = set()
    for type_, kb_id, name_zh, text in session.execute(
        select(Mention.type, Mention.entity_kb_id, Mention.name_zh, Mention.text)
        .join(Article, Mention.article_id == Article.id)
        .where(Article.first_seen_at < window.since, Mention.type.in_(["CITY", "COMPANY"]))
        .where(Mention.entity_kb_id.in_(keys) | Mention.name_zh.in_(keys) | Mention.text.in_(keys))
    ):
        earlier.add((type_, kb_id or name_zh or text))
    titles = {a.id: a for a in session.scalars(
        select(Article).where(Article.id.in_({r.article_id for r in candidates.values()})))}
    out = [NewEntity(t, r.label, titles[r.article_id].title or titles[r.article_id].url, titles[r.article_id].url)
           for (t, k), r in candidates.items() if (t, k) not in earlier]
    out.sort(key=lambda e: (e.type, e.name))
    return out


def _trend(rows: list[_Row], window: Window, weeks: int, series: int) -> Trend:
    starts = tuple(window.until - (weeks - i) * WEEK for i in range(weeks))
    counts: dict[str, dict[str, list[int]]] = {"CITY": {}, "PARK": {}}
    for r in rows:
        if r.type not in counts or r.seen < starts[0]:
            continue
        index = min(int((r.seen - starts[0]) / WEEK), weeks - 1)
        counts[r.type].setdefault(r.label, [0] * weeks)[index] += 1

    def top(by_label: dict[str, list[int]]) -> dict[str, tuple[int, ...]]:
        order = sorted(by_label.items(), key=lambda kv: (-sum(kv[1]), kv[0]))[:series]
        return {label: tuple(values) for label, values in order}

    return Trend(starts, top(counts["CITY"]), top(counts["PARK"]))
