"""Text normalisation for matching, with a map back to the original offsets.

News text writes the same name many ways: full-width ``５Ｇ＋`` and ``（珠海）``, spaces around
``+``, curly quotes around "5G+工业互联网", traditional characters (格力電器). Matching runs on a
normalised copy; mentions must still point into the text the caller passed in, so every
normalised character remembers the index of the original character it came from.

The same function is applied to KB names before they are compiled into patterns, so text and
patterns always agree (e.g. OpenCC maps 乾 to 干 in both).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from opencc import OpenCC

_T2S = OpenCC("t2s")

# Characters NFKC leaves alone but that we still want folded.
_EXTRA = {
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u300c": '"', "\u300d": '"',
    "\u300e": '"', "\u300f": '"', "\ufe41": '"', "\ufe42": '"', "\ufe43": '"', "\ufe44": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u3000": " ", "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2009": " ",
}

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Horizontal whitespace that carries no meaning for matching: around "+", or next to a CJK
# character (Chinese typesetting often puts a space between 格力电器 and 5G).
_H_SPACE = r"[ \t]+"
_DROP_SPACE_RE = re.compile(
    rf"(?<=\+){_H_SPACE}|{_H_SPACE}(?=\+)"
    rf"|(?<=[\u3400-\u4dbf\u4e00-\u9fff]){_H_SPACE}(?=\S)"
    rf"|(?<=\S){_H_SPACE}(?=[\u3400-\u4dbf\u4e00-\u9fff])"
)
# Quotes around the programme's slogan: 格力电器“5G+工业互联网”应用示范园区.
_DROP_QUOTE_RE = re.compile(r"[\"'](?=5G\+工业互联网)|(?<=工业互联网)[\"'](?=应用|示范)")


@lru_cache(maxsize=8192)
def fold_char(ch: str) -> str:
    """One character in, exactly one character out (so offsets stay aligned)."""
    if ch in _EXTRA:
        return _EXTRA[ch]
    if ch.isascii():
        return ch
    n = unicodedata.normalize("NFKC", ch)
    if len(n) != 1:
        n = ch
    if _CJK_RE.match(n):
        s = _T2S.convert(n)
        if len(s) == 1:
            n = s
    return n


@dataclass(frozen=True)
class Normalized:
    """``text`` is the normalised string; ``index[i]`` is the original offset of ``text[i]``."""

    text: str
    index: tuple[int, ...]
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the normalised span ``text[start:end]`` (end > start)."""
        return self.index[start], self.index[end - 1] + 1

    def pos(self, i: int) -> int:
        """Original offset of normalised position ``i`` (``len(text)`` maps to the end)."""
        return self.index[i] if i < len(self.index) else self.original_length


def _delete(chars: list[str], index: list[int], pattern: re.Pattern[str]) -> tuple[list[str], list[int]]:
    s = "".join(chars)
    drop: set[int] = set()
    for m in pattern.finditer(s):
        drop.update(range(m.start(), m.end()))
    if not drop:
        return chars, index
    keep = [i for i in range(len(chars)) if i not in drop]
    return [chars[i] for i in keep], [index[i] for i in keep]


def normalize(text: str) -> Normalized:
    """Fold width/quotes/traditional characters 1:1, then drop meaningless spaces and slogan quotes."""
    chars = [fold_char(c) for c in text]
    index = list(range(len(text)))
    chars, index = _delete(chars, index, _DROP_SPACE_RE)
    chars, index = _delete(chars, index, _DROP_QUOTE_RE)
    return Normalized("".join(chars), tuple(index), len(text))


def norm(text: str) -> str:
    """Just the normalised string (used for KB names and lookups)."""
    return normalize(text).text


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None
