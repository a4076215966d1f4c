"""Companies that are not in the knowledge base, found by the words that mark a company.

A new park's lead company is usually unknown, so it cannot be found by name. Chinese legal
names end in a company word (有限公司, 股份, 集团) and English ones in Co./Ltd./Group …; a regex
finds those ends cheaply, and only there do we spend jieba on the few characters before the end
to find where the name starts (after 由, 与, 和 … and never across punctuation or a table
cell). This is the "only where it pays" rule: part-of-speech tagging the whole article would
cost four times the rest of the extractor, and it does not pay here at all: on this project's
sentences jieba's ``nt`` tag found none of the companies (广州明远精密机械有限公司 and the like)
and tagged 中山大学 instead, so it is not used.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from .normalize import Normalized

ZH_COMPANY_END_RE = re.compile(r"(?:集团)?(?:股份)?有限(?:责任)?公司|股份公司|集团(?:公司)?")
#: Capitalised words (or known lower-case brands) followed by a company word.
EN_COMPANY_RE = re.compile(
    r"(?<![A-Za-z0-9])(?P<name>(?:[A-Z][A-Za-z0-9&'\-]*[ \t]+){0,5}[A-Z][A-Za-z0-9&'\-]*)"
    r"(?P<suffix>(?:,?[ \t]+(?:Co\.,?(?:[ \t]*Ltd\.?)?|Ltd\.|Limited|Group|Corporation|Corp\.|Inc\.|Holdings|Company))+)"
)
EN_COMPANY_STOP = {
    "The", "A", "An", "This", "That", "Its", "Their", "Our", "In", "At", "Of", "And", "On", "By",
    "For", "With", "From", "Guangdong", "Guangdong's", "Both", "While", "When", "Separately",
}
#: Characters a Chinese company name cannot contain: the name starts after the last of them.
_ZH_BREAK = set("，。；：、！？,.;:!?\"'()[]{}<>《》〈〉【】「」『』…—|/\\·\n\r\t 0123456789")
_ZH_MAX = 20


def zh_company_spans(nt: Normalized, strip: Callable[[str], int | None]) -> list[tuple[int, int, int]]:
    """(start, end of the name before the company word, end) of company names, normalised offsets.

    ``strip(raw)`` returns where the name starts inside ``raw`` (after verbs and fillers such as
    由 or 与), or None when nothing name-like is left.
    """
    s = nt.text
    out: list[tuple[int, int, int]] = []
    floor = 0
    for m in ZH_COMPANY_END_RE.finditer(s):
        j = m.start()
        k = j
        while (k > floor and s[k - 1] not in _ZH_BREAK and j - k < _ZH_MAX
               and nt.index[k] - nt.index[k - 1] == 1):     # a dropped space is a cell border
            k -= 1
        floor = m.end()
        if j - k < 2:
            continue
        rel = strip(s[k:j])
        if rel is None or j - (k + rel) < 2:
            continue
        out.append((k + rel, j, m.end()))
    return out


def en_company_spans(text: str) -> list[tuple[int, int, int]]:
    """Spans of capitalised names followed by a company word ("Huizhou Brightway Electronics
    Co., Ltd.", "Yunfu Stoneworks Group"); sentence-opening words such as "The" are dropped."""
    out: list[tuple[int, int, int]] = []
    for m in EN_COMPANY_RE.finditer(text):
        words = list(re.finditer(r"\S+", m.group("name")))
        while words and words[0].group() in EN_COMPANY_STOP:
            words = words[1:]
        if not words:
            continue
        out.append((m.start("name") + words[0].start(), m.end("name"), m.end("suffix")))
    return out
