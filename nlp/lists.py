"""List reading: where a mention sits in the page's structure.

Announcements name parks in lists — table rows (main-text extraction writes a table as lines
``| 1 | X…园区 | X有限公司 | 东莞 |``), numbered or bulleted lines (1. / （一） / ① / - / •), and long
enumerations joined by 、/和/及. That structure is the best evidence that a name is a member of
the programme rather than a phrase about it, and list markers must never leak into names
("-X…园区" and "X…园区" are one park). Everything here is linear: no pattern can backtrack.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: A list marker at the start of a line (after optional spaces), normalised text.
LIST_MARKER_RE = re.compile(
    r"[ \t]*(?:[-–—•·●○■□◆▪*]+|\d{1,3}[.、)．]|\(\d{1,3}\)|\([一二三四五六七八九十]{1,3}\)"
    r"|[①-⑳]|[一二三四五六七八九十]{1,3}[、.]|[a-zA-Z][.)]\s)[ \t]*"
)
#: Characters that open or join list items and never belong to a name.
JOINERS = ("以及", "及", "和", "与", "、", ",", "，", ";", "；")


@dataclass(frozen=True)
class Line:
    """The line around an offset and what kind of line it is."""

    start: int
    end: int
    table_row: bool      # a row of a table (cells between "|")
    list_item: bool      # starts with a list marker

    def cells(self, text: str) -> list[str]:
        row = text[self.start:self.end].strip().strip("|")
        return [c.strip() for c in re.split(r"[|\t]", row)]


#: How far a line or a clause is looked for around an offset: bounded, so a page without line
#: breaks or sentence ends costs a pass, not a pass per mention.
WINDOW = 4000


def line_at(text: str, pos: int) -> Line:
    """The line of ``text`` that holds offset ``pos`` (at most WINDOW characters either side)."""
    s = max(max(0, pos - WINDOW), text.rfind("\n", max(0, pos - WINDOW), pos) + 1)
    e = text.find("\n", pos, pos + WINDOW)
    e = min(len(text), pos + WINDOW) if e < 0 else e
    head = text[s:e].lstrip()
    row = (head.startswith("|") and head.count("|") >= 2) or head.count("\t") >= 2
    return Line(s, e, row, LIST_MARKER_RE.match(text, s, e) is not None and not row)


def strip_marker(name: str) -> str:
    """``name`` without a leading list marker or joiner (and the spaces after it); any leading
    punctuation or symbol (▌, ★, ◆ …) counts as a marker."""
    m = LIST_MARKER_RE.match(name)
    if m is None:
        k = 0
        while k < len(name) - 1 and unicodedata.category(name[k])[0] in "PSZ":
            k += 1
        name = name[k:]
        m = LIST_MARKER_RE.match(name)
    if m and m.end() < len(name):
        name = name[m.end():]
    for j in JOINERS:
        if name.startswith(j) and len(name) > len(j):
            name = name[len(j):]
            break
    return name.strip()


def clause_start(text: str, pos: int, ends: str, window: int = 400) -> int:
    """Where the clause holding ``pos`` starts: after the last of ``ends`` before it, looked for
    at most ``window`` characters back."""
    if pos <= 0:
        return 0
    lo = max(0, pos - window)
    return max(lo, max(text.rfind(c, lo, pos) for c in ends) + 1)
