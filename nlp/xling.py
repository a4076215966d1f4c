"""Is a park named in Chinese the same park as one named in English?

A new park is usually first named in a Chinese notice (东莞松湖智造…) and later in English wire
copy (Dongguan Songhu Smart Manufacturing …), or the other way round. No dictionary knows
these fictional-looking names, but their parts follow two rules: proper names are written in
pinyin (松湖 → Songhu, 新会 → Xinhui) and descriptive words are translated (智造 → Smart
Manufacturing). ``NameMatcher`` aligns the two names left to right, every Chinese unit and every
English word accounted for, so a park is linked only when the whole name agrees; anything looser
would fold two different parks of one city into one and lose an alert.

pypinyin ships its dictionary inside the package: nothing is downloaded. It is imported on first
use: loading it costs ~50 MB and 0.3 s, which the crawl process (it only stores) should not pay.
"""
from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

import yaml

GLOSSARY_FILE = Path(__file__).with_name("kb") / "glossary.yaml"

_UNIT_RE = re.compile(r"[A-Za-z0-9]+|[\u3400-\u9fff]")
_EN_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'&-]*")
#: Longest Chinese segment and English phrase tried as one aligned pair.
_MAX_ZH, _MAX_EN = 4, 3


def load_glossary(path: Path = GLOSSARY_FILE) -> dict[str, frozenset[str]]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {k: frozenset(v.lower() for v in vs) for k, vs in (data.get("glossary") or {}).items()}


class NameMatcher:
    """Align a Chinese name core (no city, no programme suffix) with an English one."""

    def __init__(self, glossary: dict[str, frozenset[str]] | None = None) -> None:
        self.glossary = glossary if glossary is not None else load_glossary()

    def same(self, zh: str, en: str) -> bool:
        """True when every unit of ``zh`` and every word of ``en`` pair up in order."""
        units = _UNIT_RE.findall(zh)
        words = [w.lower() for w in _EN_WORD_RE.findall(en)]
        if not units or not words:
            return False
        return _align(tuple(units), tuple(words), self._pinyin(zh, tuple(units)), self.glossary)

    def same_brand(self, zh: str, en: str) -> bool:
        """True when the English name opens with the pinyin of the Chinese name's first two
        characters (明岚照明 / "Minglan Lighting"): the brand, which a translator never
        translates. Weaker than ``same``; callers accept it only when one park fits."""
        units = _UNIT_RE.findall(zh)
        words = [w.lower().replace("'", "").replace("-", "") for w in _EN_WORD_RE.findall(en)]
        if len(units) < 3 or not words or any(u.isascii() for u in units[:2]):
            return False
        if len(words[0]) < 4:
            return False
        from pypinyin import Style, pinyin     # every reading: 都 is du in 石都 (Shidu), dou elsewhere
        first, second = pinyin(units[0] + units[1], style=Style.NORMAL, heteronym=True)
        return any(words[0] == a + b for a in first for b in second)

    @staticmethod
    def _pinyin(zh: str, units: tuple[str, ...]) -> tuple[str, ...]:
        from pypinyin import Style, lazy_pinyin

        cjk = "".join(u for u in units if len(u) == 1 and not u.isascii())
        py = iter(lazy_pinyin(cjk, style=Style.NORMAL)) if cjk else iter(())
        return tuple(u.lower() if u.isascii() else next(py, "") for u in units)


def _align(units: tuple[str, ...], words: tuple[str, ...], pinyin: tuple[str, ...],
           glossary: dict[str, frozenset[str]]) -> bool:
    @cache
    def ok(i: int, j: int) -> bool:
        if i == len(units) and j == len(words):
            return True
        if i == len(units) or j == len(words):
            return False
        for k in range(1, min(_MAX_ZH, len(units) - i) + 1):
            seg = "".join(units[i:i + k])
            py = "".join(pinyin[i:i + k])
            gloss = glossary.get(seg, frozenset())
            for n in range(1, min(_MAX_EN, len(words) - j) + 1):
                phrase = " ".join(words[j:j + n])
                if (phrase in gloss or (n == 1 and phrase.replace("'", "").replace("-", "") == py)) \
                        and ok(i + k, j + n):
                    return True
        return False

    return ok(0, 0)


_ZH_PARK_TAIL_RE = re.compile(r"5G\+.*$", re.DOTALL)
_EN_PARK_TAIL_RE = re.compile(r"\s*5G\s*\+.*$", re.DOTALL)


@lru_cache(maxsize=1)
def _default_matcher() -> NameMatcher:
    return NameMatcher()


def same_park_names(name_zh: str, name_en: str) -> bool:
    """True when a Chinese and an English full park name name the same park (programme suffix
    and city slot ignored; a leading city must then appear in both, 东莞… / Dongguan …)."""
    zh = _ZH_PARK_TAIL_RE.sub("", name_zh)
    en = _EN_PARK_TAIL_RE.sub("", name_en)
    return bool(zh and en) and _default_matcher().same(zh, en)
