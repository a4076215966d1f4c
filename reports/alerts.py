"""What an alert says: one message per notice, listing every park it newly names.

The text is plain: chat channels show it as is and Apprise escapes it for e-mail's HTML part, so
a crawled title holding markup arrives as literal text. The same facts travel as structured data
for the JSON webhook.
"""

from __future__ import annotations

from typing import Any, Iterable

from reports.channels.send import Message


def _park_lines(park: dict[str, Any]) -> list[str]:
    city = park.get("city_name") or {}
    city_text = " ".join(x for x in (city.get("zh"), city.get("en")) if x) or park.get("city") or "?"
    company = " / ".join(x for x in (park.get("company_name"), park.get("company_name_en")) if x) or "?"
    lines = [f"• {park['name_zh']}"]
    if park.get("name_en"):
        lines.append(f"  {park['name_en']}")
    lines.append(f"  城市 City: {city_text} · 牵头企业 Lead company: {company} · 批次 Batch: {park.get('batch') or '?'}")
    if park.get("sentence"):
        lines.append(f"  证据 Evidence: “{' '.join(str(park['sentence']).split())}”")
    return lines


_LANGS = {"zh": ("中文", "Chinese"), "en": ("英文", "English")}


def _title(payload: dict[str, Any], n: int) -> str:
    """What happened, in both languages: the kind of trigger decides."""
    kind, detail, s = payload.get("kind", "new_park"), str(payload.get("detail") or ""), "s" if n != 1 else ""
    if kind == "new_language":
        zh, en = _LANGS.get(detail, (detail, detail))
        return f"parkwatch: {n} 个园区首次出现{zh}报道 / first {en} coverage of {n} park{s}"
    if kind == "new_source":
        return f"parkwatch: {detail} 首次提及 {n} 个园区 / first mention of {n} park{s} by {detail}"
    if kind == "batch_announcement":
        return f"parkwatch: 第{detail}批名单（{n} 个园区）/ batch {detail} announced ({n} park{s})"
    return f"parkwatch: {n} 个新示范园区 / {n} new demonstration park{s}"


def render(payload: dict[str, Any], idempotency_key: str, parks: Iterable[dict[str, Any]] | None = None) -> Message:
    """The message for a notice; `parks` narrows it (a park rejected since is left out)."""
    chosen = list(payload.get("parks", []) if parks is None else parks)
    title = _title(payload, len(chosen))
    lines = [line for park in chosen for line in _park_lines(park)]
    title_line = " ".join(str(payload.get("title") or "").split())
    lines += [
        "",
        f"来源 Source: {payload.get('source')}" + (f" — {title_line}" if title_line else ""),
        f"链接 URL: {payload.get('url')}",
        f"发布时间 Published: {payload.get('published_at') or 'unknown'}",
        f"ref: {idempotency_key}",
    ]
    data = {**payload, "parks": chosen, "idempotency_key": idempotency_key}
    return Message(title=title, body="\n".join(lines), idempotency_key=idempotency_key, data=data)
