"""Find publication dates in news pages and convert them to UTC.

Chinese government and news sites rarely carry machine-readable dates; the date usually sits
in visible text such as ``发布时间：2020年9月21日 10:30`` or ``2020-09-21 10:30``. Regexes
cover those forms (and English ``September 22, 2020``) deterministically and without network;
naive times are interpreted in the source's time zone and stored as UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TIME = r"(?:[\sT,]*(?:at\s+)?(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?)?"

_PATTERNS = [
    # 2020年9月21日 10:30
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日" + _TIME, re.I),
    # 2020-09-21 10:30, 2020/9/21, 2020.09.21
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)" + _TIME, re.I),
    # September 22, 2020 / Sept. 22 2020
    re.compile(rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{{2}})\b" + _TIME, re.I),
    # 22 September 2020
    re.compile(rf"\b(?P<d>\d{{1,2}})\s+(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>(?:19|20)\d{{2}})\b" + _TIME, re.I),
]

_ISO_RE = re.compile(
    r"^\s*(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T\s]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\.\d+)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?\s*$",
    re.I,
)


def find_local_dates(text: str) -> list[tuple[datetime, bool]]:
    """Return every date in ``text`` in document order as (naive local datetime, has_time)."""
    result: list[tuple[int, datetime, bool]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            local = _local(groups)
            if local is not None:
                result.append((match.start(), local, groups.get("H") is not None))
    result.sort(key=lambda t: t[0])
    return [(local, has_time) for _, local, has_time in result]


def parse_iso(value: str, tz: str) -> datetime | None:
    """Parse an ISO-like timestamp (meta tags, feeds); naive values are in ``tz``."""
    match = _ISO_RE.match(value or "")
    if not match:
        return None
    groups = match.groupdict()
    local = _local(groups)
    if local is None:
        return None
    offset = groups.get("tz")
    if offset:
        if offset.upper() == "Z":
            return local.replace(tzinfo=timezone.utc)
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return (local - sign * delta).replace(tzinfo=timezone.utc)
    return to_utc(local, tz)


def to_utc(local: datetime, tz: str) -> datetime:
    """Interpret a naive ``local`` datetime in zone ``tz`` and return it in UTC."""
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def day_start_utc(day: date, tz: str) -> datetime:
    """Midnight of ``day`` in ``tz``, as UTC (for sources that give only a date)."""
    return to_utc(datetime(day.year, day.month, day.day), tz)


def _local(groups: dict[str, str | None]) -> datetime | None:
    try:
        year = int(groups["y"] or 0)
        month = _MONTHS[groups["mon"].lower()] if groups.get("mon") else int(groups["m"] or 0)
        day = int(groups["d"] or 0)
        hour = int(groups.get("H") or 0)
        minute = int(groups.get("M") or 0)
        second = int(groups.get("S") or 0)
        ampm = (groups.get("ampm") or "").lower().replace(".", "")
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
        if not 1990 <= year <= 2100:
            return None
        return datetime(year, month, day, hour, minute, second)
    except (ValueError, KeyError, TypeError):
        return None


# "今天/昨天/前天" and "today/yesterday" count only with a time ("昨天 10:30"): bare, they are
# prose ("昨天，省工信厅召开会议…") more often than a dateline.
_REL_ZH = re.compile(
    r"(?P<n>\d{1,3})\s*(?P<unit>秒|分钟|小时|天|日)前|(?P<now>刚刚)"
    r"|(?P<word>今天|昨天|前天)\s*(?P<H>\d{1,2})[:：](?P<M>\d{2})"
)
_REL_EN = re.compile(
    r"\b(?P<n>\d{1,3}|an?|one)\s+(?P<unit>second|minute|hour|day)s?\s+ago\b|\b(?P<now>just now)\b"
    r"|\b(?P<word>today|yesterday)\s*(?:at\s+)?(?P<H>\d{1,2}):(?P<M>\d{2})",
    re.I,
)
_UNITS = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days", "日": "days",
          "second": "seconds", "minute": "minutes", "hour": "hours", "day": "days"}
_DAYS_BACK = {"刚刚": 0, "今天": 0, "昨天": 1, "前天": 2, "just now": 0, "today": 0, "yesterday": 1}


def find_relative_date(text: str, now: datetime, tz: str) -> datetime | None:
    """The first relative date in ``text`` ("3小时前", "昨天 10:30", "2 hours ago",
    "yesterday"), resolved against ``now`` (aware) in zone ``tz``; returned in UTC.

    News portals print these on fresh stories; the crawl resolves them at fetch time.
    """
    local_now = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    found: list[tuple[int, datetime]] = []
    for pattern in (_REL_ZH, _REL_EN):
        for match in pattern.finditer(text):
            g = match.groupdict()
            if g.get("unit"):
                raw = g["n"].lower()
                n = 1 if raw in ("a", "an", "one") else int(raw)
                value = local_now - timedelta(**{_UNITS[g["unit"].lower()]: n})
            elif g.get("now"):
                value = local_now
            else:
                value = local_now - timedelta(days=_DAYS_BACK[g["word"].lower()])
                value = value.replace(hour=int(g["H"]) % 24, minute=int(g["M"]), second=0, microsecond=0)
            found.append((match.start(), value))
            break
    if not found:
        return None
    return to_utc(min(found)[1], tz)
