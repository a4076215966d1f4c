"""The digest as plain data: what every renderer (Markdown, HTML, e-mail) reads.

Kept apart from the queries that fill it so renderers and tests depend on data, not on SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reports.digest_window import Window


@dataclass(frozen=True)
class SourceHealth:
    source: str
    runs: int  # crawl runs in the period that included the source
    pages: int  # pages fetched
    articles_new: int
    errors: dict[str, int]  # kind -> count
    silent: str | None  # why the source looks silent, or None


@dataclass(frozen=True)
class NewPark:
    name_zh: str
    name_en: str | None
    city: str | None
    company: str | None
    batch: int | None
    first_seen_at: datetime | None
    url: str | None
    source: str | None
    sentence: str | None


@dataclass(frozen=True)
class Candidate:
    """A doubtful find waiting for an analyst (`parkwatch parks confirm|reject ID`)."""

    id: str  # the park's kb id, what `parks confirm` takes
    name_zh: str
    name_en: str | None
    city: str | None
    confidence: float | None  # the highest of its evidence
    tags: tuple[str, ...]  # the extractor's evidence tags, over all its articles
    first_seen_at: datetime | None
    url: str | None
    sentence: str | None


@dataclass(frozen=True)
class CityProgress:
    id: str
    name_zh: str
    name_en: str
    parks: int  # named by the end of the window
    new: int  # of which named in the window


@dataclass(frozen=True)
class Mover:
    name: str
    this_period: int
    previous_avg: float  # mean per period over the previous four
    delta: float


@dataclass(frozen=True)
class TopArticle:
    title: str
    url: str
    source: str
    lang: str
    date: datetime
    score: int
    entities: tuple[str, ...]


@dataclass(frozen=True)
class NewEntity:
    type: str
    name: str
    title: str
    url: str


@dataclass(frozen=True)
class Trend:
    """Mentions per period for the chart: `weeks` are period start times (UTC), oldest first."""

    weeks: tuple[datetime, ...]
    cities: dict[str, tuple[int, ...]]
    parks: dict[str, tuple[int, ...]]


@dataclass
class Digest:
    window: Window
    planned_parks: int
    parks_named: int
    new_parks: list[NewPark] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)  # waiting for review at the end of the period
    cities: list[CityProgress] = field(default_factory=list)
    movers: dict[str, list[Mover]] = field(default_factory=dict)  # PARK / CITY / COMPANY
    top_articles: dict[str, list[TopArticle]] = field(default_factory=dict)  # zh / en
    new_entities: list[NewEntity] = field(default_factory=list)
    sources: list[SourceHealth] = field(default_factory=list)
    trend: Trend = field(default_factory=lambda: Trend((), {}, {}))
    article_count: int = 0
    mention_count: int = 0

    @property
    def since(self) -> datetime:
        return self.window.since

    @property
    def until(self) -> datetime:
        return self.window.until

    @property
    def new_batches(self) -> list[tuple[int, int]]:
        """(batch, parks named in it this period), newest batch first: what the digest leads with."""
        counts: dict[int, int] = {}
        for p in self.new_parks:
            if p.batch is not None:
                counts[p.batch] = counts.get(p.batch, 0) + 1
        return sorted(counts.items(), reverse=True)

    @property
    def is_empty(self) -> bool:
        return not (self.new_parks or self.article_count or self.mention_count)

    @property
    def cities_without_parks(self) -> list[CityProgress]:
        return [c for c in self.cities if c.parks == 0]


def label_of(names: dict[str, tuple[str, str | None]], kb_id: str | None) -> str | None:
    if kb_id is None:
        return None
    zh, en = names.get(kb_id, (kb_id, ""))
    return f"{zh} ({en})" if en and en != zh else zh
