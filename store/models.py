"""Typed SQLAlchemy 2.0 models.

Uniqueness constraints, not application checks, are what make a re-crawl idempotent: the same
canonical URL, the same mention span, the same park and the same alert can exist only once, so a
retried or repeated transaction cannot double anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.types import UTCDateTime, utcnow


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class Entity(Base):
    """A knowledge-base city or company (parks have their own table: they carry more state)."""

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    kb_id: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(default=list)
    city_kb_id: Mapped[str | None] = mapped_column(String(120))


class Park(Base):
    """A programme park: from the bundled knowledge base (`origin='kb'`) or found in coverage.

    `status` of a found park: `new` (a sure find, alerted), `candidate` (a doubtful find waiting
    for review, never alerted by itself: a later sure mention makes it `new`, `parks confirm`
    makes it `confirmed`, and either writes its alert), `confirmed`, or `rejected` (a false find,
    never alerted again). Why each was found is in `park_evidence`.
    """

    __tablename__ = "parks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kb_id: Mapped[str] = mapped_column(String(120), unique=True)
    name_zh: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    city_kb_id: Mapped[str | None] = mapped_column(String(120))
    company_kb_id: Mapped[str | None] = mapped_column(String(120))
    company_name: Mapped[str | None] = mapped_column(String(200))
    batch: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16))  # kb | found
    status: Mapped[str] = mapped_column(String(16))  # known | new | candidate | confirmed | rejected
    aliases: Mapped[list[str]] = mapped_column(default=list)
    first_seen_at: Mapped[datetime | None]
    first_seen_url: Mapped[str | None] = mapped_column(Text)
    first_seen_sentence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ParkEvidence(Base):
    """Why a found park is new, per article that named it: the sentence, the extractor's evidence
    tags (structure, programme context, batch …) and its confidence.

    One row per (park, article), the article's first mention of the park; a park's confidence is
    the highest of its rows.
    """

    __tablename__ = "park_evidence"
    __table_args__ = (UniqueConstraint("park_id", "article_id", name="uq_evidence_park_article"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    sentence: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    confidence: Mapped[float | None] = mapped_column(Float)
    seen_at: Mapped[datetime]  # when the article was fetched


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(1000), unique=True)
    url: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(100), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    mentions: Mapped[list[Mention]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Mention.start"
    )


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("article_id", "type", "start", "end", name="uq_mention_span"),
        Index("ix_mentions_entity", "type", "entity_kb_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(300))
    start: Mapped[int]
    end: Mapped[int]
    entity_kb_id: Mapped[str | None] = mapped_column(String(120))
    name_zh: Mapped[str | None] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    sentence: Mapped[str] = mapped_column(Text, default="")

    article: Mapped[Article] = relationship(back_populates="mentions")


class AlertNotice(Base):
    """Outbox row: one message per notice (the article that named the parks), written in the same
    transaction as the finding and delivered afterwards, once per channel (`AlertDelivery`).

    `idempotency_key` travels in every message so a receiver can drop a copy re-sent after a
    crash between sending and recording it.
    """

    __tablename__ = "alert_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    alerts: Mapped[list[Alert]] = relationship(back_populates="notice", order_by="Alert.id")
    deliveries: Mapped[list[AlertDelivery]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="AlertDelivery.id"
    )


class Alert(Base):
    """One finding (a park newly named): unique per (kind, park), so no park is alerted twice.

    Findings of one article share one `AlertNotice`, the message actually delivered.
    """

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("kind", "park_id", name="uq_alert_kind_park"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("alert_notices.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | dismissed
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    park: Mapped[Park] = relationship()
    notice: Mapped[AlertNotice | None] = relationship(back_populates="alerts")


class AlertDelivery(Base):
    """Outbox state of one notice on one channel.

    `channel` is a hash of the channel URL and `channel_name` its redacted form: the URL holds
    secrets and lives only in the environment. Status: pending → sending (claimed, lease until
    `lease_until`, committed *before* the send) → sent | failed (retried at `next_attempt_at`) |
    uncertain (a crash left a claim whose send may or may not have happened, held for a person).
    """

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "channel", name="uq_delivery_notice_channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("alert_notices.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))
    channel_name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    notice: Mapped[AlertNotice] = relationship(back_populates="deliveries")


class AlertScan(Base):
    """How far the optional alert triggers have read `articles` (by id). The first scan only sets
    this baseline, so turning a trigger on does not alert on everything already stored."""

    __tablename__ = "alert_scans"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_article_id: Mapped[int] = mapped_column(Integer)
    scanned_at: Mapped[datetime] = mapped_column(default=utcnow)


class SourceLock(Base):
    """Who crawls a source right now, so two scheduler processes never crawl it at once.

    A lock expires at `expires_at` (the crawl's time budget plus grace), so a process killed
    while holding it cannot block the source for ever.
    """

    __tablename__ = "source_locks"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|errors|failed
    sources: Mapped[list[str]] = mapped_column(default=list)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)


class CrawlError(Base):
    __tablename__ = "crawl_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(100), index=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlPage(Base):
    """Crawl state of one URL between runs (store/crawlstate.py): what a re-crawl may skip.

    Listing, feed and sitemap pages keep a digest of their links so an unchanged page is known
    without walking on; articles keep when to look at them again (adaptive revisit).
    """

    __tablename__ = "crawl_pages"

    url: Mapped[str] = mapped_column(String(1000), primary_key=True)  # canonical URL
    source: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # listing | feed | sitemap | article | attachment
    digest: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    fetched_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]
    unchanged_checks: Mapped[int] = mapped_column(Integer, default=0)


class ArticleFingerprint(Base):
    """SimHash of an article's text, and the earlier article it nearly duplicates, if any.

    A story syndicated to five portals is stored five times (five URLs), but only the first
    copy has `duplicate_of_id` NULL, so counts can take originals only; alerts need nothing: a
    park is alerted once however many copies name it (`uq_alert_kind_park`).
    """

    __tablename__ = "article_fingerprints"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    simhash: Mapped[str] = mapped_column(String(16), index=True)  # 64-bit, hex
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
