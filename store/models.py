"""Typed SQLAlchemy 2.0 models.

Uniqueness constraints, not application checks, are what make a re-crawl idempotent: the same
canonical URL, the same mention span, the same park and the same alert can exist only once, so a
retried or repeated transaction cannot double anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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

    `status` lets a user dismiss a false find (`rejected`) so it is never alerted again.
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
    status: Mapped[str] = mapped_column(String(16))  # known | new | confirmed | rejected
    aliases: Mapped[list[str]] = mapped_column(default=list)
    first_seen_at: Mapped[datetime | None]
    first_seen_url: Mapped[str | None] = mapped_column(Text)
    first_seen_sentence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class Alert(Base):
    """Outbox row: written in the same transaction as the finding, delivered afterwards."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("kind", "park_id", name="uq_alert_kind_park"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    park: Mapped[Park] = relationship()


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
