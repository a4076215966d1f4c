"""The weekly digest: what was found in a time window, gathered once and rendered as Markdown.

Gathering (`build_digest`) and rendering (`render_markdown`) are apart so the HTML and e-mail
renderers to come share one set of numbers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reports.text import md_escape
from store.models import Article, Mention, Park
from store.repository import entity_names


@dataclass
class NewPark:
    name_zh: str
    name_en: str | None
    city: str | None
    company: str | None
    batch: int | None
    first_seen_at: datetime | None
    url: str | None
    sentence: str | None


@dataclass
class Digest:
    since: datetime
    until: datetime
    planned_parks: int
    parks_named: int
    new_parks: list[NewPark] = field(default_factory=list)
    mentions: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # type → (name, count)
    articles_per_source: list[tuple[str, int]] = field(default_factory=list)

    @property
    def article_count(self) -> int:
        return sum(n for _, n in self.articles_per_source)


def build_digest(session: Session, *, until: datetime, days: int = 7, planned_parks: int = 10) -> Digest:
    since = until - timedelta(days=days)
    names = entity_names(session)

    def label(kb_id: str | None) -> str | None:
        if kb_id is None:
            return None
        zh, en = names.get(kb_id, (kb_id, None))
        return f"{zh} ({en})" if en and en != zh else zh

    named = session.scalar(select(func.count()).select_from(Park).where(Park.status != "rejected")) or 0
    digest = Digest(since=since, until=until, planned_parks=planned_parks, parks_named=named)
    new_rows = session.scalars(
        select(Park)
        .where(Park.origin == "found", Park.status != "rejected")
        .where(Park.first_seen_at >= since, Park.first_seen_at < until)
        .order_by(Park.first_seen_at, Park.id)
    )
    for p in new_rows:
        digest.new_parks.append(
            NewPark(p.name_zh, p.name_en, label(p.city_kb_id), label(p.company_kb_id) or p.company_name,
                    p.batch, p.first_seen_at, p.first_seen_url, p.first_seen_sentence)
        )
    in_window = (Article.first_seen_at >= since) & (Article.first_seen_at < until)
    rows = session.execute(
        select(Mention.type, Mention.entity_kb_id, Mention.name_zh, Mention.text)
        .join(Article, Mention.article_id == Article.id)
        .where(in_window)
    )
    counts: dict[str, Counter[str]] = {"PARK": Counter(), "CITY": Counter(), "COMPANY": Counter()}
    for type_, kb_id, name_zh, text in rows:
        counts.setdefault(type_, Counter())[label(kb_id) or name_zh or text] += 1
    digest.mentions = {t: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for t, c in counts.items()}
    per_source = session.execute(
        select(Article.source, func.count()).where(in_window).group_by(Article.source).order_by(Article.source)
    )
    digest.articles_per_source = [(src, int(n)) for src, n in per_source]
    return digest


def render_markdown(d: Digest) -> str:
    day = "%Y-%m-%d"
    lines = [
        f"# parkwatch weekly digest: {d.since.strftime(day)} to {d.until.strftime(day)}",
        "",
        f"Programme progress: {d.parks_named} of {d.planned_parks} planned parks named. "
        f"{d.article_count} new article(s) this period.",
        "",
        "## New parks",
        "",
    ]
    if not d.new_parks:
        lines.append("No new parks were named this period.")
    for p in d.new_parks:
        title = md_escape(p.name_zh) + (f" / {md_escape(p.name_en)}" if p.name_en else "")
        facts = [
            f"city: {md_escape(p.city or 'unknown')}",
            f"lead company: {md_escape(p.company or 'unknown')}",
            f"batch: {p.batch if p.batch is not None else 'not stated'}",
        ]
        if p.first_seen_at:
            facts.append(f"first seen: {p.first_seen_at.strftime('%Y-%m-%d %H:%M')} UTC")
        lines.append(f"- **{title}** ({'; '.join(facts)})")
        if p.url:
            lines.append(f"  - source: <{p.url}>")
        if p.sentence:
            lines.append(f"  - evidence: “{md_escape(p.sentence)}”")
    for type_, heading in (("PARK", "Mentions per park"), ("CITY", "Mentions per city"),
                           ("COMPANY", "Mentions per company")):
        lines += ["", f"## {heading}", ""]
        items = d.mentions.get(type_) or []
        if not items:
            lines.append("None this period.")
            continue
        lines += ["| name | mentions |", "|---|---:|"]
        lines += [f"| {md_escape(name)} | {n} |" for name, n in items]
    lines += ["", "## Articles per source", ""]
    if not d.articles_per_source:
        lines.append("No new articles this period.")
    else:
        lines += ["| source | articles |", "|---|---:|"]
        lines += [f"| {md_escape(src)} | {n} |" for src, n in d.articles_per_source]
    return "\n".join(lines) + "\n"
