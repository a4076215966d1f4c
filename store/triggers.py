"""Optional alert triggers, read from articles stored since the last scan.

A newly named park is always alerted, in the article's own transaction (store.repository). These
extras are switched on in the `alerts:` config section and found afterwards, one scan per
delivery run:

- `new_language`: a park already covered in one language is mentioned for the first time in
  another (a provincial list first reported in English);
- `new_source`: a park is mentioned by a source that never mentioned it before;
- `batch_announcement`: one article names at least `batch_min_parks` parks of one batch (the list
  itself), once per batch;
- `new_lead_company`: a park found in coverage is led by a company that leads no other park of
  the programme (a newcomer to the programme, not just a new site of a known leader), once per
  company.

Each is unique per (kind, park) like the new-park alert, so the database refuses a repeat.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from store.models import Alert, AlertNotice, AlertScan, Article, Entity, Mention, Park
from store.repository import alert_park_payload
from store.types import utcnow

EXTRA_TRIGGERS = ("new_language", "new_source", "batch_announcement", "new_lead_company")
_SCAN = "extra-triggers"


def scan(session: Session, enabled: Sequence[str], batch_min_parks: int = 3) -> int:
    """Create notices for the enabled triggers in articles stored since the last scan.

    The first scan records a baseline and alerts nothing: what was stored before a trigger was
    switched on is history. Returns the number of notices created.
    """
    if not enabled:
        return 0
    top = session.scalar(select(func.max(Article.id))) or 0
    mark = session.get(AlertScan, _SCAN)
    if mark is None:
        session.add(AlertScan(name=_SCAN, last_article_id=top))
        session.flush()
        return 0
    created = 0
    articles = session.scalars(
        select(Article).where(Article.id > mark.last_article_id, Article.id <= top).order_by(Article.id))
    for article in articles:
        created += _scan_article(session, article, set(enabled), batch_min_parks)
    mark.last_article_id, mark.scanned_at = top, utcnow()
    session.flush()
    return created


def _scan_article(session: Session, article: Article, enabled: set[str], batch_min_parks: int) -> int:
    first: dict[str, Mention] = {}
    for m in article.mentions:
        if m.type == "PARK" and m.entity_kb_id and m.entity_kb_id not in first:
            first[m.entity_kb_id] = m
    if not first:
        return 0
    parks = {p.kb_id: p for p in session.scalars(select(Park).where(Park.kb_id.in_(list(first))))}
    parks = {k: p for k, p in parks.items() if p.status not in ("rejected", "candidate")}  # never alerted by themselves
    created = 0
    if "new_language" in enabled:
        fresh = [k for k in parks if _covered_before(session, k, article) and
                 not _covered_before(session, k, article, Article.lang == article.lang)]
        created += _notice(session, f"new_language:{article.lang}", article, [parks[k] for k in fresh], first)
    if "new_source" in enabled:
        fresh = [k for k in parks if _covered_before(session, k, article) and
                 not _covered_before(session, k, article, Article.source == article.source)]
        created += _notice(session, f"new_source:{article.source}", article, [parks[k] for k in fresh], first)
    if "batch_announcement" in enabled:
        by_batch: dict[int, list[Park]] = {}
        for park in parks.values():
            if park.batch is not None:
                by_batch.setdefault(park.batch, []).append(park)
        for batch, members in sorted(by_batch.items()):
            if len(members) >= batch_min_parks:
                created += _notice(session, f"batch_announcement:{batch}", article, members, first)
    if "new_lead_company" in enabled:
        for park in parks.values():
            key = _new_lead(session, park)
            if key is not None:
                created += _notice(session, f"new_lead_company:{key}", article, [park], first)
    return created


def _new_lead(session: Session, park: Park) -> str | None:
    """The lead-company key of a found park whose company leads no other park and was never
    alerted as a new lead; None otherwise."""
    if park.origin != "found":
        return None
    if park.company_kb_id:
        key, same = park.company_kb_id, Park.company_kb_id == park.company_kb_id
    elif park.company_name:
        key, same = f"name:{park.company_name}", Park.company_name == park.company_name
    else:
        return None
    others = select(Park.id).where(same, Park.id != park.id).limit(1)
    if session.scalar(others) is not None:
        return None
    alerted = select(Alert.id).where(Alert.kind == f"new_lead_company:{key}").limit(1)
    return None if session.scalar(alerted) is not None else key


def _covered_before(session: Session, kb_id: str, article: Article, *where: ColumnElement[bool]) -> bool:
    """Whether an article stored before `article` mentions the park (matching `where`)."""
    query = (select(Mention.id).join(Article, Mention.article_id == Article.id)
             .where(Mention.type == "PARK", Mention.entity_kb_id == kb_id, Article.id < article.id, *where)
             .limit(1))
    return session.scalar(query) is not None


def _notice(session: Session, kind: str, article: Article, parks: Iterable[Park], first: dict[str, Mention]) -> int:
    """One notice for `parks` under `kind`, leaving out parks that already had this alert."""
    already = set(session.scalars(select(Alert.park_id).where(Alert.kind == kind)))
    chosen = [p for p in parks if p.id not in already]
    if not chosen:
        return 0
    ids = {p.city_kb_id for p in chosen} | {p.company_kb_id for p in chosen}
    names = {e.kb_id: (e.name_zh, e.name_en) for e in session.scalars(select(Entity).where(Entity.kb_id.in_(ids)))}
    entries = []
    for park in chosen:
        entry = alert_park_payload(park, names)
        entry["sentence"] = first[park.kb_id].sentence  # the evidence in *this* article
        entries.append(entry)
    trigger, _, detail = kind.partition(":")
    key_source = kind + "\n" + "\n".join(sorted(p.kb_id for p in chosen))
    notice = AlertNotice(
        kind=trigger,
        article_id=article.id,
        idempotency_key="pw-" + hashlib.sha256(key_source.encode("utf-8")).hexdigest()[:32],
        payload={
            "kind": trigger, "detail": detail, "parks": entries, "source": article.source, "lang": article.lang,
            "url": article.url, "title": article.title,
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "fetched_at": article.fetched_at.isoformat(),
        },
    )
    session.add(notice)
    session.flush()
    for park, entry in zip(chosen, entries, strict=True):
        session.add(Alert(kind=kind, park_id=park.id, article_id=article.id, notice_id=notice.id,
                          status="pending", payload={"park": {"name_zh": park.name_zh, "kb_id": park.kb_id},
                                                     "url": article.url, "sentence": entry["sentence"]}))
    session.flush()
    return 1
