"""Regexes and word lists used by the extractor, kept apart so they can be read and tuned.

Everything here operates on *normalised* text (see nlp.normalize): half-width ``+ ( )``, no
spaces around ``+`` or next to CJK, simplified characters.
"""
from __future__ import annotations

import re
from typing import Iterable

# --------------------------------------------------------------------------- alias matching


class AliasPattern:
    """Longest-first alternations over names, split by how a name starts.

    Names that start with an ASCII letter or digit need word edges ("Gree" must not fire inside
    "Greenland", but must in "Gree's" and next to Chinese characters); Chinese names get none,
    because Chinese has no spaces (珠海 inside 珠海华发 is wanted). Kept apart, each alternation
    keeps the regex engine's first-character shortcut: one mixed alternation with look-behinds
    scanned Chinese text 25x slower, a fifth of the extractor's whole run time.
    """

    def __init__(self, names: Iterable[str]) -> None:
        cjk, ascii_ = [], []
        for n in set(names):
            if n:
                (ascii_ if re.match(r"[A-Za-z0-9]", n) else cjk).append(n)
        # Each alternation is written as a trie (Gree(?: Electric(?: Appliances)?)?): at each
        # position the engine follows one branch per character instead of trying every name in
        # turn, and the deepest name whose word edge holds wins, as longest-first would. With
        # the ~1,000 names of the knowledge base a flat alternation cost half of the extractor's
        # time on English text.
        cjk_p = _trie_pattern(cjk) if cjk else None
        ascii_p = r"(?<![A-Za-z0-9])" + _trie_pattern(ascii_) if ascii_ else None
        self._cjk = re.compile(cjk_p) if cjk_p else None
        self._ascii = re.compile(r"(?=[A-Za-z0-9])" + ascii_p) if ascii_p else None
        #: the whole alternation as one pattern string, for embedding in other patterns
        self.pattern = "|".join(f"(?:{p})" for p in (ascii_p, cjk_p) if p) or "(?!)"

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None) -> list[re.Match[str]]:
        """Matches of both alternations, by start (they may overlap; callers resolve overlaps)."""
        end = len(text) if endpos is None else endpos
        out: list[re.Match[str]] = []
        if self._cjk is not None:
            out += self._cjk.finditer(text, pos, end)
        if self._ascii is not None and _ASCII_RE.search(text, pos, end):
            out += self._ascii.finditer(text, pos, end)
        out.sort(key=lambda m: m.start())
        return out


_ASCII_RE = re.compile(r"[A-Za-z0-9]")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _trie_pattern(names: list[str]) -> str:
    """One regex matching any of ``names``, longest first; a name that ends in an ASCII letter or
    digit must not run on into another one ("Gree" never matches inside "Greenland")."""
    root: dict[str, dict] = {}
    for n in names:
        node = root
        for ch in n:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict], last: str) -> str:
        alts = [re.escape(ch) + emit(child, ch) for ch, child in sorted(node.items()) if ch]
        if "" in node:                       # a name ends here: tried after every longer one
            alts.append(r"(?![A-Za-z0-9])" if last in _ALNUM else "")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    return emit(root, "")


def alias_regex(names: Iterable[str]) -> AliasPattern | None:
    """An ``AliasPattern`` over ``names``, or None when there are none."""
    names = list(names)
    return AliasPattern(names) if names else None


# --------------------------------------------------------------------------- park forms
# The park forms themselves live in nlp.zh_parks and nlp.en_parks (components of their own).

ZH_SUFFIX = "5G+工业互联网应用示范园区"
EN_SUFFIX = "5G + Industrial Internet Demonstration Park"

#: jieba tokens that cannot belong to a company name: the name starts after the last of them.
ZH_STOP_TOKENS = {
    "获批", "批准", "获准", "入选", "入围", "包括", "包含", "其中", "为", "是", "有", "的", "了", "和", "与",
    "及", "以及", "跟", "同", "将", "成功", "正式", "被", "获", "获评", "评为", "认定", "认定为", "列入",
    "纳入", "名单", "分别", "分别是", "分别为", "即", "如", "等", "还有", "共有", "确定", "公布", "公示",
    "授予", "命名", "命名为", "新增", "此外", "另外", "同时", "在", "由", "对", "向", "给", "首次", "本次",
    "此次", "这次", "今年", "去年", "已", "已经", "申报", "作为", "关于", "通知", "近日", "日前", "其",
    "拟", "并", "也", "还", "又", "就", "把", "让", "使", "从", "到", "建设", "打造", "推进", "依托",
    "牵头", "由其", "位于", "设在", "落户", "入驻", "参与", "支持", "推动", "包括了", "一是", "二是",
    "三是", "四是", "五是", "例如", "比如", "加上", "以及由", "经", "经过", "评审", "评选", "遴选", "审核",
    "专家", "组织", "现将", "如下", "附件", "建成", "已建成", "建有", "拥有", "共", "累计", "获得", "荣获", "成为", "获选", "上榜", "当选", "通过",
}
# --------------------------------------------------------------------------- batches

_ZH_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_EN_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
           "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
BATCH_RE = re.compile(
    r"第(?P<zh>[0-9一二三四五六七八九十两]+)批|(?P<first>首批)"
    r"|(?i:(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
    r"|\d+(?:st|nd|rd|th))[\s-]+batch|batch\s+(?:no\.?\s*)?(?P<bn>\d+))"
)


def _zh_number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if len(s) == 1:
        return _ZH_NUM.get(s)
    if len(s) == 2 and s[0] == "十":
        return 10 + _ZH_NUM.get(s[1], 0)
    if len(s) == 2 and s[1] == "十":
        return _ZH_NUM.get(s[0], 0) * 10
    return None


def batch_number(m: re.Match[str]) -> int | None:
    """The batch number a ``BATCH_RE`` match states."""
    if m.group("zh"):
        return _zh_number(m.group("zh"))
    if m.group("first"):
        return 1
    if m.group("ord"):
        o = m.group("ord").lower()
        return _EN_ORD.get(o) or int(re.sub(r"\D", "", o))
    if m.group("bn"):
        return int(m.group("bn"))
    return None


def find_batch(text: str) -> int | None:
    """The last batch number stated in ``text`` (the one nearest a mention that follows it)."""
    found = None
    for m in BATCH_RE.finditer(text):
        found = batch_number(m) or found
    return found
