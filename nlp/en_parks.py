"""English park forms: formal names, lists that separate parks from companies, possessives.

English coverage names a park three ways:

* the formal name, "<Company> 5G + Industrial Internet (Application) Demonstration Park (City)";
* a list after a sentence about the parks: "They are: X and Y in Guangzhou; Z in Shenzhen",
  "The parks are led by X in Dongguan and Y in Foshan", "a park in Dongguan led by
  precision-parts maker X";
* a possessive, "X's 5G industrial internet park in Yangjiang", "X's park in Meizhou".

Every scanner here finds a fixed anchor first (the suffix, "in <City>", "led by", "'s … park")
and then walks words outwards with plain loops, so nothing can backtrack: a 5 MB run of letters
costs one pass (the old single regex with a repeated word prefix took minutes on 80 kB).
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .kb import City, Company

#: The formal suffix; ``demo`` marks the programme's own wording.
FORMAL_RE = re.compile(
    r"5G ?(?P<plus>\+ ?)?(?i:industrial\s+internet(?:\s+application)?(?P<demo>\s+demonstration)?\s+park)"
    r"(?![A-Za-z])")
#: Informal "5G industrial internet park" / "5G park" after a possessive.
POSSESSIVE_RE = re.compile(
    r"(?:'s|s')\s+(?:(?:5G\s*\+?|industrial\s+internet|demonstration|pilot|showcase|flagship"
    r"|[a-z]+chemical)\s+){0,4}park(?![A-Za-z])")
#: Anchors of lists that separate parks from their companies.
LIST_ANCHOR_RE = re.compile(
    r"(?i:\bthey\s+are\b:?|\bthe\s+(?:\w+\s+){0,3}parks?\s+(?:are|is)\s+(?:led|run|headed|anchored)\s+by"
    r"|\b(?:are|is)\s+led\s+by|\bled\s+by|\bnamely\b:?|\binclud(?:e|es|ing)\b:?|\bcomprising\b"
    r"|\bwent\s+to\b|\bare\b:)")
#: A sentence about the programme's parks: where lists of companies name parks.
PROGRAMME_RE = re.compile(
    r"(?i:demonstration\s+parks?|5G\s*\+?\s*industrial\s+internet|industrial\s+internet\s+parks?"
    r"|\bparks?\b.{0,80}\b(?:batch|round)\b|\b(?:batch|round)\b.{0,80}\bparks?\b)", re.S)
#: Lower-case words that may stand between "led by" and the name ("precision-parts maker").
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9&.'\-]*")
STOP_WORDS = {
    "The", "A", "An", "This", "That", "Its", "Their", "Our", "Each", "Every", "New", "First",
    "Second", "Third", "Guangdong", "Guangdong's", "Provincial", "Province", "China", "Chinese",
    "In", "At", "Of", "And", "Another", "Other", "Latest", "Batch", "They", "These", "Those",
    "Both", "While", "When", "Separately", "It", "He", "She", "We", "Led", "Park", "Parks",
}
_MAX_WORDS = 6


@dataclass
class EnSlot:
    """A lead name found by one of the forms (normalised offsets)."""

    start: int
    end: int            # end of the lead name
    tail_end: int       # end of the whole park expression
    name: str
    city: City | None = None
    company: Company | None = None
    formal: bool = False
    features: set[str] = field(default_factory=set)


class EnParkForms:
    def __init__(self, *, company_named: Callable[[str], Company | None],
                 city_named: Callable[[str], City | None]) -> None:
        self._company = company_named
        self._city_named = city_named

    def _city(self, name: str) -> City | None:
        """A Guangdong city, also in the possessive ("in Foshan's Shunde District")."""
        return self._city_named(name.removesuffix("'s").removesuffix("'"))

    # ------------------------------------------------------------------ lead names

    def name_before(self, s: str, end: int, floor: int = 0) -> tuple[int, Company | None] | None:
        """The lead name ending at ``end``: a known company, else a run of capitalised words
        (after the last stop word such as "The" or "Guangdong's"). Returns its start and the
        company, or None when no name stands there."""
        words: list[tuple[int, int]] = []
        i = end
        while len(words) < _MAX_WORDS and i > floor:
            j = i
            while j > floor and s[j - 1] in " \t":
                j -= 1
            k = j
            while k > floor and s[k - 1].isascii() and (s[k - 1].isalnum() or s[k - 1] in "&.'-"):
                k -= 1
            if k == j:
                break
            words.insert(0, (k, j))
            i = k
        if not words:
            return None
        for n in range(len(words)):      # a known company wins ("China Construction Steel Structure")
            co = self._company(s[words[n][0]:end].strip())
            if co is not None:
                return words[n][0], co
        n = len(words)
        while n > 0 and (s[words[n - 1][0]].isupper() or s[words[n - 1][0]].isdigit()):
            n -= 1
        run = words[n:]
        while run and s[run[0][0]:run[0][1]] in STOP_WORDS:
            run = run[1:]
        if not run or not any(s[a].isupper() for a, _ in run):
            return None
        return run[0][0], None

    def _city_after(self, s: str, pos: int) -> tuple[City | None, int]:
        """"(City)" or ", in City" / " in City" right after ``pos``."""
        m = re.compile(r"[ \t]*\((?P<a>[A-Z][A-Za-z' ]{1,20})\)|,?[ \t]+in[ \t]+(?P<b>[A-Z][A-Za-z']+)").match(s, pos)
        if not m:
            return None, pos
        c = self._city(m.group("a") or m.group("b"))
        return (c, m.end()) if c else (None, pos)

    # ------------------------------------------------------------------ forms

    def formal(self, s: str) -> list[EnSlot]:
        out: list[EnSlot] = []
        floor = 0
        for m in FORMAL_RE.finditer(s):
            j = m.start()
            while j > floor and s[j - 1] in " \t":
                j -= 1
            poss = s[j - 2:j] == "'s"
            name_end = j - 2 if poss else j
            got = self.name_before(s, name_end, floor)
            city, tail = self._city_after(s, m.end())
            floor = m.end()
            if got is None:
                continue
            start, co = got
            slot = EnSlot(start, name_end, tail, s[start:name_end], city, co,
                          formal=bool(m.group("demo") and m.group("plus")) and not poss)
            if city is not None:
                slot.features.add("city-slot")
            if slot.formal:
                slot.features.add("formal-name")
            out.append(slot)
        return out

    def possessive(self, s: str) -> list[EnSlot]:
        out: list[EnSlot] = []
        for m in POSSESSIVE_RE.finditer(s):
            name_end = m.start() + (1 if m.group().startswith("s'") else 0)
            got = self.name_before(s, name_end)
            if got is None:
                continue
            start, co = got
            city, tail = self._city_after(s, m.end())
            if city is None and re.match(r",?[ \t]+in[ \t]+[A-Z]", s[m.end():m.end() + 6]):
                continue        # "Gree's park in Wuhan": not a park of this programme
            slot = EnSlot(start, name_end, tail, s[start:name_end], city, co)
            if city is not None:
                slot.features.add("row-city")
            out.append(slot)
        return out

    def lists(self, s: str, sentences: list[tuple[int, int]]) -> list[EnSlot]:
        """Companies named as parks' leads, in programme context: this paragraph or the two
        before it speak of the programme (PROGRAMME_RE)."""
        out: list[EnSlot] = []
        context = _ProgrammeContext(s)
        for a, b in sentences:
            here = s[a:b]
            anchor = LIST_ANCHOR_RE.search(here)
            if not (context.within(a, b) or (anchor is not None and re.search(r"(?i)\bparks?\b", here))):
                continue
            if anchor is not None:
                out += self._items(s, a + anchor.end(), b)
            elif _PARKISH_RE.search(here):
                out += self._items(s, a, b)          # "four are outside …: X in A, Y in B"
            out += self._led_by(s, a, b)
        return out

    def _items(self, s: str, a: int, b: int) -> list[EnSlot]:
        """"X and Y in Guangzhou; Z in Shenzhen" between ``a`` and ``b``: every name that
        stands before "in <City>" (directly, in a chain joined by "and" / commas, or with an
        apposition: "X, a stone-processing group in Yunfu")."""
        out: list[EnSlot] = []
        for m in re.finditer(r"\bin[ \t]+([A-Z][A-Za-z']+)", s[a:b]):
            city = self._city(m.group(1))
            if city is None:
                continue
            chain: list[EnSlot] = []
            end = a + m.start()
            while True:
                pe = end
                while pe > a and s[pe - 1] in " \t":
                    pe -= 1
                apposition = _APPOSITION_RE.search(s, max(a, pe - 90), pe)
                if apposition:
                    pe = apposition.start()
                led = _POSSESSIVE_TAIL_RE.search(s, max(a, pe - 60), pe)
                if led:
                    pe = led.start() + (1 if led.group().startswith("s'") else 0)
                got = self.name_before(s, pe, a)
                if got is None or self._city(s[got[0]:pe]) is not None:
                    break       # "… in Yangjiang and X in Qingyuan": a city ends the chain
                start, co = got
                chain.insert(0, EnSlot(start, pe, pe, s[start:pe], city, co, features={"en-list", "row-city"}))
                j = _CHAIN_BEFORE_RE.search(s, max(a, start - 6), start)
                if not j:
                    break
                end = j.start()
            out += chain
        for m in _CITY_FIRST_RE.finditer(s, a, b):     # "in Qingyuan, one anchored by X; in Huizhou, Y"
            city = self._city(m.group("city"))
            if city is None or not (m.group("led") or s[m.end():m.end() + 1].isupper()):
                continue
            for ns, ne in _names_after(s, m.end(), b, chain=False):
                out.append(EnSlot(ns, ne, ne, s[ns:ne], city, self._company(s[ns:ne]),
                                  features={"en-list", "row-city"}))
        return out

    def _led_by(self, s: str, a: int, b: int) -> list[EnSlot]:
        """"a park in Dongguan led by precision-parts maker X", "the Jieyang park led by mould
        maker X", "a textile park in Jieyang anchored by X", "two sites in Guangzhou, anchored by
        equipment maker X and spindle maker Y", "the Gree-led park in Zhuhai"."""
        out: list[EnSlot] = []
        for pattern, chain in ((_LED_BY_RE, False), (_SITES_LED_BY_RE, True)):
            for m in pattern.finditer(s, a, b):
                city = self._city(m.group("c1") or "") or self._city(m.group("c2") or "")
                if city is None:
                    continue
                for ns, ne in _names_after(s, m.end(), b, chain):
                    out.append(EnSlot(ns, ne, ne, s[ns:ne], city, self._company(s[ns:ne]),
                                      features={"en-list", "row-city"}))
        for m in _RESPECTIVELY_RE.finditer(s, a, b):   # "parks in A and B are led by X and Y, respectively"
            cities = [self._city(c) for c in re.findall(r"[A-Z][a-z']+", m.group("cities"))]
            names = _names_after(s, m.end(), b, chain=True)
            if (names and None not in cities and len(names) == len(cities)
                    and re.match(r",?[ \t]+respectively", s[names[-1][1]:names[-1][1] + 16])):
                for (ns, ne), city in zip(names, cities):
                    out.append(EnSlot(ns, ne, ne, s[ns:ne], city, self._company(s[ns:ne]),
                                      features={"en-list", "row-city"}))
        for m in _DASH_LED_RE.finditer(s, a, b):
            city = self._city(m.group("city"))
            got = self.name_before(s, m.start(), a)
            if city is None or got is None:
                continue
            out.append(EnSlot(got[0], m.start(), m.end(), s[got[0]:m.start()], city, got[1],
                              features={"en-list", "row-city"}))
        return out


def _names_after(s: str, k: int, b: int, chain: bool) -> list[tuple[int, int]]:
    """Capitalised names from ``k`` on, each after at most four lower-case words ("mould maker
    X"); with ``chain``, further names joined by "and" or a comma ("X and spindle maker Y")."""
    out: list[tuple[int, int]] = []
    pos = k
    while True:
        run: list[re.Match[str]] = []
        lower, last = 0, pos
        for w in _NAME_WORD_RE.finditer(s, pos, min(b, pos + 120)):
            if s[last:w.start()].strip():
                break                     # punctuation between words ends the name
            last = w.end()
            if w.group()[0].isupper():
                run.append(w)
            elif run or lower == 4 or w.group() in ("and", "by", "in", "with", "which", "that"):
                break
            else:
                lower += 1
        if not run:
            return out
        out.append((run[0].start(), run[-1].end()))
        joiner = _NAME_JOINER_RE.match(s, run[-1].end())
        if not chain or joiner is None:
            return out
        pos = joiner.end()


class _ProgrammeContext:
    """Does the paragraph of a sentence, or one of the two before it, speak of the programme?

    Asked sentence by sentence in order, so both the paragraph starts (bisect over the line
    breaks, found once) and the search (resumed where the last one stopped, less the longest
    match) stay linear: a million-character page without a line break is one pass, not one per
    sentence."""

    _OVERLAP = 200          # longer than any PROGRAMME_RE match

    def __init__(self, s: str) -> None:
        self.s = s
        self.breaks = [i for i, ch in enumerate(s) if ch == "\n"]
        self.start, self.searched, self.found = -1, -1, False

    def within(self, a: int, b: int) -> bool:
        k = bisect.bisect_left(self.breaks, a)              # breaks before a: self.breaks[:k]
        start = self.breaks[k - 3] + 1 if k >= 3 else 0     # this paragraph and the two before
        if start != self.start:
            self.start, self.searched, self.found = start, start, False
        if not self.found:
            self.found = PROGRAMME_RE.search(self.s, max(start, self.searched - self._OVERLAP), b) is not None
            self.searched = b
        return self.found


_PARKISH_RE = re.compile(r"(?i)\b(?:parks?|sites?|names|batch|round)\b")
_APPOSITION_RE = re.compile(r",[ \t]+(?:a|an)[ \t]+[a-z][^,;:()]{0,70}?,?[ \t]*$")
_POSSESSIVE_TAIL_RE = re.compile(r"(?:'s|s')(?:[ \t]+[a-z][a-z\-]*){0,3}[ \t]+park[ \t]*$")
_CHAIN_BEFORE_RE = re.compile(r"(?:,[ \t]*and|,|\band)[ \t]*$")
_LED_BY_RE = re.compile(
    r"\b(?:(?P<c1>[A-Z][a-z']+)[ \t]+)?(?:[a-z][a-z\-]*[ \t]+)?park[ \t]+(?:in[ \t]+(?P<c2>[A-Z][a-z']+)[ \t]+)?"
    r"(?:led|anchored|run|headed|operated)[ \t]+by[ \t]+")
_SITES_LED_BY_RE = re.compile(
    r"\b(?:sites?|parks?|ones|two|three|four|five)[ \t]+in[ \t]+(?P<c2>[A-Z][a-z']+),?[ \t]+(?P<c1>)"
    r"(?:anchored|run|led|headed)[ \t]+by[ \t]+")
_CITY_FIRST_RE = re.compile(
    r"\bin[ \t]+(?P<city>[A-Z][a-z']+),[ \t]+"
    r"(?P<led>(?:one|another|the other)[ \t]+(?:anchored|led|run|headed)[ \t]+by[ \t]+)?")
_RESPECTIVELY_RE = re.compile(
    r"\bparks?[ \t]+in[ \t]+(?P<cities>[A-Z][a-z']+(?:(?:,[ \t]*|,?[ \t]+and[ \t]+)[A-Z][a-z']+)+)[ \t]+"
    r"(?:are|were|is)[ \t]+(?:led|run|anchored|headed)[ \t]+by[ \t]+")
_NAME_JOINER_RE = re.compile(r",?[ \t]+and[ \t]+|,[ \t]+(?!(?:a|an|the|which|who)\b)")
_DASH_LED_RE = re.compile(r"-led[ \t]+(?:[a-z][a-z\-]*[ \t]+)?park[ \t]+in[ \t]+(?P<city>[A-Z][a-z']+)")
_NAME_WORD_RE = re.compile(r"[A-Za-z0-9&'\-]+")
