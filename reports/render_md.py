"""The digest as Markdown: the plain-text part of the e-mail and a file one can diff week to week.

Every crawled string goes through `md_escape`, so a title with `<script>` or `|` is shown, never
interpreted, by whatever renders the Markdown.
"""

from __future__ import annotations

from datetime import datetime

from reports.digest_model import Digest, Mover
from reports.text import md_escape, number, plural, signed

SECTIONS = (("PARK", "Parks"), ("CITY", "Cities"), ("COMPANY", "Companies"))


def period_word(d: Digest) -> str:
    return "week" if round(d.window.days) == 7 else "period"


def local(d: Digest, moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return d.window.local(moment).strftime(fmt)


def headline(d: Digest) -> str:
    """The one sentence the digest opens with: a new batch, an empty period, or the counts."""
    word = period_word(d)
    if d.new_batches:
        batches = "; ".join(f"batch {b}: {plural(n, 'park')} named" for b, n in d.new_batches)
        return f"New this {word}: {batches}."
    if d.is_empty:
        return f"Nothing new this {word}: no new parks, no new articles, no mentions."
    if d.new_parks:
        return f"New this {word}: {plural(len(d.new_parks), 'park')} named (batch not stated)."
    return f"No new parks this {word}; {plural(d.article_count, 'new article')} and {plural(d.mention_count, 'mention')}."


def render_markdown(d: Digest) -> str:
    w = d.window
    span = f"{local(d, w.since, '%Y-%m-%d')} to {local(d, w.last_moment, '%Y-%m-%d')} ({w.tz})"
    lines = [f"# parkwatch weekly digest: {w.label}", "", f"{span}", "", f"**{headline(d)}**", ""]
    lines += _new_parks(d) + _candidates(d) + _progress(d) + _movers(d) + _articles(d) + _new_entities(d) + _health(d)
    return "\n".join(lines).rstrip() + "\n"


def _new_parks(d: Digest) -> list[str]:
    lines = ["## New parks", ""]
    if not d.new_parks:
        return lines + [f"No new parks were named this {period_word(d)}.", ""]
    for p in d.new_parks:
        title = md_escape(p.name_zh) + (f" / {md_escape(p.name_en)}" if p.name_en else "")
        batch = f"batch {p.batch}" if p.batch is not None else "batch not stated"
        lines.append(f"- **{title}**")
        lines.append(f"  - {batch}; city: {md_escape(p.city or 'unknown')}; "
                     f"lead company: {md_escape(p.company or 'unknown')}")
        first = f"first seen {local(d, p.first_seen_at)}" if p.first_seen_at else "first seen: unknown"
        where = f" in {md_escape(p.source)}" if p.source else ""
        lines.append(f"  - {first}{where}" + (f": <{p.url}>" if p.url else ""))
        if p.sentence:
            lines.append(f"  - evidence: “{md_escape(p.sentence)}”")
    return lines + [""]


def confidence(value: float | None) -> str:
    return "not stated" if value is None else f"{value:.2f}"


def _candidates(d: Digest) -> list[str]:
    """Doubtful finds, never alerted by themselves; no section at all when there are none."""
    if not d.candidates:
        return []
    lines = ["## Candidates waiting for review", "",
             "Possible new parks the extractor is not sure of; not alerted. Confirm one with "
             "`parkwatch parks confirm ID` (that alerts it) or dismiss it with `parkwatch parks reject ID`.", ""]
    for c in d.candidates:
        title = md_escape(c.name_zh or c.name_en or c.id) + (
            f" / {md_escape(c.name_en)}" if c.name_zh and c.name_en else "")
        lines.append(f"- **{title}**")
        tags = f"; evidence: {md_escape(', '.join(c.tags))}" if c.tags else ""
        lines.append(f"  - city: {md_escape(c.city or 'unknown')}; confidence: {confidence(c.confidence)}{tags}")
        first = f"first seen {local(d, c.first_seen_at)}" if c.first_seen_at else "first seen: unknown"
        lines.append(f"  - {first}" + (f": <{c.url}>" if c.url else ""))
        if c.sentence:
            lines.append(f"  - evidence: “{md_escape(c.sentence)}”")
        lines.append(f"  - ID: `{c.id}`")
    return lines + [""]


def _progress(d: Digest) -> list[str]:
    left = max(d.planned_parks - d.parks_named, 0)
    summary = (f"{d.parks_named} of {d.planned_parks} planned parks named ({len(d.new_parks)} this "
               f"{period_word(d)}, {left} to go).")
    lines = ["## Programme progress", "", summary, ""]
    named = [c for c in d.cities if c.parks]
    if named:
        lines += ["| city | parks named | new |", "|---|---:|---:|"]
        lines += [f"| {md_escape(c.name_zh)} ({md_escape(c.name_en)}) | {c.parks} | {c.new or ''} |" for c in named]
        lines.append("")
    missing = d.cities_without_parks
    if missing:
        names = ", ".join(f"{md_escape(c.name_zh)} ({md_escape(c.name_en)})" for c in missing)
        cities = "city" if len(missing) == 1 else "cities"
        lines += [f"No park named yet in {len(missing)} {cities}: {names}.", ""]
    return lines


def _mover_row(m: Mover) -> str:
    return f"| {md_escape(m.name)} | {m.this_period} | {number(m.previous_avg)} | {signed(m.delta)} |"


def _movers(d: Digest) -> list[str]:
    word = period_word(d)
    lines = [f"## Mentions this {word} vs the previous four", ""]
    for type_, heading in SECTIONS:
        lines += [f"### {heading}", ""]
        movers = d.movers.get(type_) or []
        if not movers:
            lines += [f"No mentions this {word} or in the previous four.", ""]
            continue
        lines += [f"| name | this {word} | average before | change |", "|---|---:|---:|---:|"]
        lines += [_mover_row(m) for m in movers] + [""]
    return lines


def _articles(d: Digest) -> list[str]:
    lines = ["## Top articles", ""]
    for lang, heading in (("zh", "Chinese"), ("en", "English")):
        lines += [f"### {heading}", ""]
        items = d.top_articles.get(lang) or []
        if not items:
            lines += [f"None this {period_word(d)}.", ""]
            continue
        for i, a in enumerate(items, 1):
            about = ", ".join(md_escape(e) for e in a.entities)
            lines.append(f"{i}. {md_escape(a.title)} ({md_escape(a.source)}, {local(d, a.date, '%Y-%m-%d')}; "
                         f"relevance {a.score}) <{a.url}>")
            if about:
                lines.append(f"   - mentions: {about}")
        lines.append("")
    return lines


def _new_entities(d: Digest) -> list[str]:
    lines = ["## New companies and cities in programme context", ""]
    if not d.new_entities:
        return lines + [f"None this {period_word(d)}.", ""]
    for e in d.new_entities:
        kind = "company" if e.type == "COMPANY" else "city"
        lines.append(f"- {kind}: **{md_escape(e.name)}**, first in “{md_escape(e.title)}” <{e.url}>")
    return lines + [""]


def _health(d: Digest) -> list[str]:
    lines = ["## Source health", ""]
    if not d.sources:
        return lines + [f"No crawl runs and no articles this {period_word(d)}.", ""]
    lines += ["| source | runs | pages | new articles | errors |", "|---|---:|---:|---:|---|"]
    for s in d.sources:
        errors = ", ".join(f"{md_escape(k)} ×{n}" for k, n in s.errors.items()) or "none"
        lines.append(f"| {md_escape(s.source)} | {s.runs} | {s.pages} | {s.articles_new} | {errors} |")
    silent = [s for s in d.sources if s.silent]
    lines.append("")
    if silent:
        lines += ["Silent sources:", ""] + [f"- {md_escape(s.source)}: {s.silent}" for s in silent] + [""]
    return lines
