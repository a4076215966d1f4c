"""Unit-of-work functions over a caller-owned session.

None of these commit: the caller wraps one article (article, mentions, new parks, their evidence
and their alert rows) in one transaction, so a crash leaves either all of it or none of it.

A new-park mention the extractor is sure of makes a found park (`status='new'`) and its alert; a
doubtful one (``candidate=True``) makes a found park with `status='candidate'` and no alert. A
candidate is left out of the knowledge base the extractor is built from (`found_parks`), so later
mentions of it keep coming as new: the first sure one promotes it to `new` and writes its alert
in that article's transaction; `parkwatch parks confirm` does the same (`alert_confirmed_park`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, Sequence

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from nlp import kb as kbmod
from nlp.found import found_park_aliases, found_park_id
from nlp.xling import same_park_names
from store.models import Alert, AlertNotice, Article, CrawlError, CrawlRun, Entity, Mention, Park, ParkEvidence


class MentionLike(Protocol):
    """What the store needs of an extracted mention (nlp.extract.EntityMention fits)."""

    type: str
    text: str
    start: int
    end: int
    id: str | None
    name_zh: str | None
    name_en: str | None
    new: bool
    sentence: str
    city: str | None
    company: str | None
    company_name: str | None
    batch: int | None
    candidate: bool                 # a doubtful new park: stored as a candidate, not alerted
    confidence: float | None        # how sure the extractor is, 0..1
    evidence: tuple[str, ...]       # why it is new (structure, programme context, batch …)


@dataclass
class SaveResult:
    status: str  # new | changed | unchanged
    article_id: int
    new_parks: list[Park] = field(default_factory=list)  # alerted in this article (found, or promoted)
    candidates: list[Park] = field(default_factory=list)  # first found in this article as candidates


def content_hash(title: str | None, text: str) -> str:
    normalised = " ".join(((title or "") + "\n" + text).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def found_park_kb_id(name_zh: str | None, name_en: str | None = None) -> str:
    """A stable id for a park found in coverage, so two spellings of one name meet in one row.

    From the Chinese name when known (unchanged for rows stored earlier), else from the English
    name: a park first named in English gets an id too (nlp.found.found_park_id).
    """
    return found_park_id(name_zh, name_en)


def sync_kb(session: Session, kb: kbmod.KnowledgeBase) -> tuple[int, int]:
    """Upsert the bundled knowledge base; parks found in coverage are left as they are."""
    entities = {e.kb_id: e for e in session.scalars(select(Entity))}
    for kind, items in (("CITY", kb.cities.values()), ("COMPANY", kb.companies.values())):
        for item in items:
            row = entities.get(item.id) or Entity(kb_id=item.id, type=kind)
            row.name_zh, row.name_en, row.aliases = item.name_zh, item.name_en, list(item.aliases)
            row.city_kb_id = getattr(item, "city", None)
            session.add(row)
    parks = {p.kb_id: p for p in session.scalars(select(Park).where(Park.origin == "kb"))}
    for park in kb.parks.values():
        row = parks.get(park.id) or Park(kb_id=park.id, origin="kb", status="known")
        row.name_zh, row.name_en = park.name_zh, park.name_en
        row.city_kb_id, row.company_kb_id, row.batch = park.city, park.company, park.batch
        row.aliases = list(park.aliases)
        session.add(row)
    return len(kb.cities) + len(kb.companies), len(kb.parks)


def found_parks_entry(row: Park) -> kbmod.Park:
    """A stored park as a knowledge-base entry the extractor can match.

    The short forms (…示范园区, the English name without its city) are derived again here, so
    parks stored before they were kept as aliases link their short forms as well. A park known
    only in English has ``name_zh`` "".
    """
    derived = found_park_aliases(row.name_zh or None, row.name_en) if row.origin == "found" else ()
    return kbmod.Park(
        id=row.kb_id,
        name_zh=row.name_zh or "",
        name_en=row.name_en,
        city=row.city_kb_id,
        company=row.company_kb_id,
        batch=row.batch,
        aliases=tuple(dict.fromkeys([*(row.aliases or ()), *derived])),
    )


def found_parks(session: Session) -> list[kbmod.Park]:
    """Parks found in earlier runs, for the extractor's knowledge base: rejected ones too (so a
    dismissed find stays quiet), candidates not (so a later sure mention comes as new and
    promotes them)."""
    rows = session.scalars(
        select(Park).where(Park.origin == "found", Park.status != "candidate").order_by(Park.id))
    return [found_parks_entry(row) for row in rows]


def save_article(
    session: Session,
    *,
    source: str,
    url: str,
    canonical_url: str,
    lang: str,
    title: str | None,
    text: str,
    published_at: datetime | None,
    fetched_at: datetime,
    mentions: Sequence[MentionLike],
) -> SaveResult:
    """Store one article and its mentions; create any new park, its evidence and its alert in the
    same session (a candidate gets no alert; a sure mention of a candidate promotes it and alerts).

    The article row and its mentions are written with Core statements (compiled once, no ORM
    unit of work): they are what every crawled page costs, and the ORM's bookkeeping for a
    dozen mention objects took longer than SQLite's writes. Parks and alerts, which few articles
    create, go through the ORM.
    """
    digest = content_hash(title, text)
    connection = session.connection()  # Core statements run on it directly, past the ORM
    row = connection.execute(_ARTICLE_BY_URL, {"url": canonical_url}).first()
    if row is not None and row.content_hash == digest:
        return SaveResult("unchanged", row.id)
    values = {
        "url": url,
        "source": source,
        "lang": lang,
        "title": title,
        "text": text,
        "content_hash": digest,
        "published_at": published_at,
        "fetched_at": fetched_at,
        "updated_at": fetched_at,
    }
    if row is None:
        status = "new"
        article_id = connection.execute(
            _INSERT_ARTICLE, {**values, "canonical_url": canonical_url, "first_seen_at": fetched_at}
        ).scalar_one()
    else:
        status = "changed"  # its mentions are replaced, never doubled
        article_id = row.id
        connection.execute(_DELETE_MENTIONS, {"article_id": article_id})
        connection.execute(_UPDATE_ARTICLE.values(**values), {"article_id": article_id})
    article: Article | None = None  # the ORM row, loaded only if a new park needs it

    result = SaveResult(status, article_id)
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, int, int]] = set()
    evidenced: set[int] | None = None  # parks with an evidence row from this article
    sentences: dict[int, str] = {}  # park id -> the sentence of this article that alerts it
    for m in mentions:
        key = (m.type, m.start, m.end)
        if key in seen:
            continue
        seen.add(key)
        entity_kb_id = m.id
        if m.type == "PARK" and m.new and (m.name_zh or m.name_en):
            article = article or session.get(Article, article_id)
            assert article is not None
            park, event = _found_park(session, m, article)
            entity_kb_id = park.kb_id
            if event in ("new", "promoted") and park.id not in sentences:
                result.new_parks.append(park)
                sentences[park.id] = m.sentence
            elif event == "candidate":
                result.candidates.append(park)
            if evidenced is None:
                evidenced = set(session.scalars(
                    select(ParkEvidence.park_id).where(ParkEvidence.article_id == article_id)))
            if park.id not in evidenced:  # the article's first mention of the park is its evidence
                evidenced.add(park.id)
                session.add(_evidence(park, article_id, m, fetched_at))
        rows.append(
            {
                "article_id": article_id,
                "type": m.type,
                "text": m.text[:300],
                "start": m.start,
                "end": m.end,
                "entity_kb_id": entity_kb_id,
                "name_zh": m.name_zh,
                "name_en": m.name_en,
                "sentence": m.sentence,
            }
        )
    if rows:
        connection.execute(_INSERT_MENTION, rows)
    if result.new_parks:
        assert article is not None
        create_alerts(session, article, result.new_parks, sentences)
    return result


def _evidence(park: Park, article_id: int, m: MentionLike, seen_at: datetime) -> ParkEvidence:
    return ParkEvidence(
        park_id=park.id,
        article_id=article_id,
        sentence=m.sentence or "",
        tags=list(m.evidence),
        confidence=m.confidence,
        seen_at=seen_at,
    )


_ARTICLE_BY_URL = select(Article.id, Article.content_hash).where(Article.canonical_url == bindparam("url"))
_INSERT_ARTICLE = insert(Article.__table__).returning(Article.__table__.c.id)
_UPDATE_ARTICLE = update(Article.__table__).where(Article.__table__.c.id == bindparam("article_id"))
_DELETE_MENTIONS = delete(Mention.__table__).where(Mention.__table__.c.article_id == bindparam("article_id"))
_INSERT_MENTION = insert(Mention.__table__)


def create_alerts(session: Session, article: Article, new_parks: Sequence[Park],
                  sentences: dict[int, str] | None = None) -> AlertNotice | None:
    """The outbox for parks first found in this article, written in the article's transaction.

    One `AlertNotice` per article lists every park it newly named (one message for a notice that
    names eight parks, not eight); one `Alert` per park, unique on (kind, park), so the database
    refuses to alert a park twice whatever happens to the crawl. Names of the city and the lead
    company are resolved now, so the message shows the evidence as it was when found.
    ``sentences`` (park id -> sentence) gives the evidence from this article where it is not the
    park's first-seen sentence (a candidate promoted by a later article).
    """
    sentences = sentences or {}
    if not new_parks:
        return None
    names = {
        e.kb_id: (e.name_zh, e.name_en)
        for e in session.scalars(
            select(Entity).where(Entity.kb_id.in_({p.city_kb_id for p in new_parks} | {p.company_kb_id for p in new_parks}))
        )
    }
    published = article.published_at.isoformat() if article.published_at else None
    parks = [alert_park_payload(park, names) for park in new_parks]
    for park, entry in zip(new_parks, parks):
        entry["sentence"] = sentences.get(park.id) or entry["sentence"]
    key_source = "new_park\n" + "\n".join(sorted(p.kb_id for p in new_parks))
    notice = AlertNotice(
        kind="new_park",
        article_id=article.id,
        idempotency_key="pw-" + hashlib.sha256(key_source.encode("utf-8")).hexdigest()[:32],
        payload={
            "kind": "new_park",
            "parks": parks,
            "source": article.source,
            "lang": article.lang,
            "url": article.url,
            "title": article.title,
            "published_at": published,
            "fetched_at": article.fetched_at.isoformat(),
        },
    )
    session.add(notice)
    session.flush()
    for park, entry in zip(new_parks, parks):
        session.add(
            Alert(
                kind="new_park",
                park_id=park.id,
                article_id=article.id,
                notice_id=notice.id,
                status="pending",
                payload={
                    "park": {"name_zh": park.name_zh, "name_en": park.name_en, "kb_id": park.kb_id},
                    "city": park.city_kb_id,
                    "city_name": entry["city_name"],
                    "company": park.company_kb_id,
                    "company_name": entry["company_name"],
                    "batch": park.batch,
                    "sentence": entry["sentence"],
                    "source": article.source,
                    "url": article.url,
                    "title": article.title,
                    "published_at": published,
                },
            )
        )
    session.flush()
    return notice


def alert_park_payload(park: Park, names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    city = names.get(park.city_kb_id or "")
    company = names.get(park.company_kb_id or "")
    return {
        "kb_id": park.kb_id,
        "name_zh": park.name_zh,
        "name_en": park.name_en,
        "city": park.city_kb_id,
        "city_name": {"zh": city[0], "en": city[1]} if city else None,
        "company": park.company_kb_id,
        "company_name": park.company_name or (company[0] if company else None),
        "company_name_en": company[1] if company else None,
        "batch": park.batch,
        "sentence": park.first_seen_sentence,
    }


def alert_confirmed_park(session: Session, park: Park) -> AlertNotice | None:
    """The alert of a park an analyst confirmed that was never alerted (a candidate, or one
    rejected while still a candidate): written now, for the first article that named it.

    None when the park already has its new-park alert (kept, whatever its state) or no stored
    article names it.
    """
    done = session.scalar(select(Alert.id).where(Alert.kind == "new_park", Alert.park_id == park.id).limit(1))
    if done is not None:
        return None
    first = session.execute(
        select(ParkEvidence.article_id, ParkEvidence.sentence).where(ParkEvidence.park_id == park.id)
        .order_by(ParkEvidence.seen_at, ParkEvidence.id).limit(1)
    ).first()
    article = session.get(Article, first.article_id) if first is not None else None
    if article is None and park.first_seen_url:
        article = session.scalar(select(Article).where(
            (Article.url == park.first_seen_url) | (Article.canonical_url == park.first_seen_url)).limit(1))
    if article is None:
        return None
    sentence = (first.sentence if first is not None else None) or park.first_seen_sentence or ""
    return create_alerts(session, article, [park], {park.id: sentence})


def _found_park(session: Session, m: MentionLike, article: Article) -> tuple[Park, str | None]:
    """The found park a new-park mention names, and what this mention did to it: ``"new"``
    (created by a sure mention: alert it), ``"candidate"`` (created by a doubtful one),
    ``"promoted"`` (a candidate a sure mention makes new: alert it), or None."""
    candidate = m.candidate
    park, created = _get_or_create_found_park(session, m, article)
    if created:
        return park, "candidate" if candidate else "new"
    if park.status == "candidate" and not candidate:
        park.status = "new"
        # A candidate often lacked what made the later mention sure (its batch, its city …).
        for attr, value in (("batch", m.batch), ("city_kb_id", m.city), ("company_kb_id", m.company),
                            ("company_name", m.company_name), ("name_en", m.name_en)):
            if getattr(park, attr) is None and value is not None:
                setattr(park, attr, value)
        if not park.name_zh and m.name_zh:
            park.name_zh = m.name_zh
        park.aliases = list(dict.fromkeys([*(park.aliases or ()), *found_park_aliases(m.name_zh, m.name_en)]))
        session.flush()
        return park, "promoted"
    return park, None


def _get_or_create_found_park(session: Session, m: MentionLike, article: Article) -> tuple[Park, bool]:
    """The row of a newly named park, created on first sight with its short-form aliases.

    Keyed by the Chinese name, or by the English one when that is all the text gives; then
    ``name_zh`` is stored as "" (the column is required) until a Chinese mention links to it.
    A doubtful mention (``candidate``) creates it with status ``candidate``.
    """
    if not (m.name_zh or m.name_en):
        raise ValueError("a new park mention needs a Chinese or an English name")
    kb_id = found_park_kb_id(m.name_zh, m.name_en)
    park = session.scalar(select(Park).where(Park.kb_id == kb_id))
    if park is None:
        found = session.scalars(select(Park).where(Park.origin == "found").order_by(Park.id)).all()
        park = _found_park_by_name(found, m) or _same_park_other_language(found, m)
    if park is not None:
        return park, False
    park = Park(
        kb_id=kb_id,
        name_zh=m.name_zh or "",
        name_en=m.name_en,
        city_kb_id=m.city,
        company_kb_id=m.company,
        company_name=m.company_name,
        batch=m.batch,
        origin="found",
        status="candidate" if m.candidate else "new",
        aliases=list(found_park_aliases(m.name_zh, m.name_en)),
        first_seen_at=article.fetched_at,
        first_seen_url=article.url,
        first_seen_sentence=m.sentence,
    )
    session.add(park)
    session.flush()
    return park, True


def _found_park_by_name(found: Sequence[Park], m: MentionLike) -> Park | None:
    """A found park already stored under either of ``m``'s names.

    A row's id comes from the name it was first stored under: a park first named in English and
    later given its Chinese name keeps its English-derived id, so a later Chinese mention must be
    matched by name, not by id, or it would become a second park.
    """
    wanted = {found_park_kb_id(m.name_zh)} if m.name_zh else set()
    if m.name_en:
        wanted.add(found_park_kb_id(None, m.name_en))
    for row in found:
        names = {found_park_kb_id(row.name_zh)} if row.name_zh else set()
        if row.name_en:
            names.add(found_park_kb_id(None, row.name_en))
        if names & wanted:
            return row
    return None


def _same_park_other_language(found: Sequence[Park], m: MentionLike) -> Park | None:
    """A found park of the same city that ``m`` names in the other language, if exactly one.

    The extractor links such mentions itself once it knows the park; this catches a mention
    extracted before the park was stored (e.g. by a worker in the same crawl), so the park is
    still created once.
    """
    hits = []
    for row in found:
        if m.city and row.city_kb_id and m.city != row.city_kb_id:
            continue
        if (m.name_zh and not row.name_zh and row.name_en and same_park_names(m.name_zh, row.name_en)) or (
                m.name_en and not m.name_zh and row.name_zh and same_park_names(row.name_zh, m.name_en)):
            hits.append(row)
    if len(hits) != 1:
        return None
    row = hits[0]
    row.name_zh = row.name_zh or m.name_zh or ""
    row.name_en = row.name_en or m.name_en
    row.aliases = list(dict.fromkeys([*(row.aliases or ()), *found_park_aliases(m.name_zh, m.name_en)]))
    return row


def record_error(session: Session, *, run_id: int | None, source: str, url: str, kind: str, reason: str) -> None:
    session.add(CrawlError(run_id=run_id, source=source, url=url, kind=kind, reason=reason[:2000]))


def list_parks(session: Session, status: str | None = None) -> list[Park]:
    query = select(Park).order_by(Park.origin.desc(), Park.id)
    if status is not None:
        query = query.where(Park.status == status)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Evidence:
    """One article's evidence that a found park is new (a `park_evidence` row with its URL)."""

    url: str
    sentence: str
    tags: tuple[str, ...]
    confidence: float | None
    seen_at: datetime


def park_evidence(session: Session, park_ids: Sequence[int] | None = None) -> dict[int, list[Evidence]]:
    """park id -> its evidence, first seen first (parks without any are absent)."""
    query = (select(ParkEvidence, Article.url).join(Article, ParkEvidence.article_id == Article.id)
             .order_by(ParkEvidence.park_id, ParkEvidence.seen_at, ParkEvidence.id))
    if park_ids is not None:
        query = query.where(ParkEvidence.park_id.in_(list(park_ids)))
    out: dict[int, list[Evidence]] = {}
    for row, url in session.execute(query):
        out.setdefault(row.park_id, []).append(
            Evidence(url, row.sentence, tuple(row.tags or ()), row.confidence, row.seen_at))
    return out


def max_confidence(evidence: Sequence[Evidence]) -> float | None:
    values = [e.confidence for e in evidence if e.confidence is not None]
    return max(values) if values else None


def list_alerts(session: Session) -> list[Alert]:
    return list(session.scalars(select(Alert).order_by(Alert.id)))


def list_runs(session: Session, limit: int = 20) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))


def run_errors(session: Session, run_id: int) -> list[CrawlError]:
    return list(session.scalars(select(CrawlError).where(CrawlError.run_id == run_id).order_by(CrawlError.id)))


def entity_names(session: Session) -> dict[str, tuple[str, str | None]]:
    """kb id → (name_zh, name_en) for every city, company and park, for reports."""
    names: dict[str, tuple[str, str | None]] = {
        e.kb_id: (e.name_zh, e.name_en) for e in session.scalars(select(Entity))
    }
    names.update({p.kb_id: (p.name_zh, p.name_en) for p in session.scalars(select(Park))})
    return names
