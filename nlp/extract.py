"""Entity extraction: parks, cities and companies in Chinese and English news text.

How it works, and why:

* Names are found by **character-level regex matching** over a normalised copy of the text
  (nlp.normalize), one longest-first alternation per entity type. Measured on this project,
  matching on jieba tokens missed ~5% of occurrences (names split across tokens, or nested like
  珠海 inside 珠海华发) and was 4x slower. Offsets are mapped back to the original text.
* **New parks** are recognised by the programme's standard form
  ``<企业>5G+工业互联网应用示范园区(<城市>)``. The company name before the suffix is where jieba
  pays: the run of text back to the previous delimiter is segmented by a private
  ``jieba.Tokenizer`` that knows every KB name, and everything up to the last filler/verb token
  (获批, 入选, 包括, 的 ...) is dropped. Token-level stripping keeps 美的 intact where a
  character rule would cut at 的.
* English parks in the standard form "<Company> 5G + Industrial Internet Demonstration Park
  (<City>)" are recognised when a known company or a run of up to seven capitalised words
  precedes the suffix; "The ... park" and plural "parks" (the programme in general) are not.
* A standard-form mention links to a KB park by exact name, else by lead company when exactly
  one of its parks fits; the city (slot, or a city name opening the company name) must agree.
* The batch of a new park is the one stated in its sentence; for a line of its own (a list
  item in a notice) the nearest preceding sentence about the programme that states a batch.
  Batches stated in earlier prose sentences are not borrowed.
* **spaCy** (blank English pipeline, nothing downloaded) tokenises English text: its tokens give
  sentence boundaries (abbreviations such as "Co." stay inside a sentence) and reject name
  matches that do not fall on token boundaries (Gree inside "Gree.com"). Chinese sentences end
  at characters (。！？；, newlines), so no Chinese tokenizer runs over the whole article.
* **Programme context**: only the programme's own naming (the standard forms above, in prose,
  list items or table rows) makes a *new* park; those names carry the programme's name. Other
  programmes (广东省工业互联网示范区, 5G应用标杆), high-tech zones, industrial parks and factories
  never match them. Informal English ("X's 5G + Industrial Internet park in Y") links a known
  park but never creates one.
* **Known parks by their company**: 珠海格力的示范园区, 富士康和格力电器牵头的两个示范园区, "the
  Gree park", "the parks led by Foxconn in Shenzhen and Gree in Zhuhai" link when the company
  leads exactly one known park (in the named city); otherwise nothing is guessed.
* **Districts** (顺德, 黄埔, Shunde …, ``City.districts``) are CITY mentions of their city.
* **Unknown companies** are COMPANY mentions with id None, found by their company word
  (nlp.companies); a known company's legal name is never reported as an unknown one.
* **Cross-language linking**: a standard-form park not linked by name or company is compared
  with known parks of its city named in the other language (nlp.xling: pinyin for proper
  names, a glossary for descriptive words), so 东莞松湖智造… and "Dongguan Songhu Smart
  Manufacturing …" are one park.

Nested spans rule: mentions of *one type* never overlap (longest, then leftmost, wins); mentions
of *different types* may nest. A park's formal name is reported as PARK, and the company name
and city inside it are also reported as COMPANY and CITY, because digests count mentions per city
and company. Single-character city short forms (穗, 深, 莞 ...) are only recognised inside the
parenthesised city slot of a park name, never in free text (深 occurs in 深入). A new park's
lead name (东莞松湖智造) is carried by the PARK's ``company_name``; it is a COMPANY mention only
when it is a known company or carries a company word.
"""
from __future__ import annotations

import bisect
import contextlib
import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

import jieba
import spacy

from .companies import en_company_spans, zh_company_spans
from .found import en_lead
from .jieba_dict import small_dictionary
from .kb import City, Company, KnowledgeBase, Park
from .lang import detect_lang
from .lists import clause_start
from .normalize import Normalized, has_cjk, norm, normalize
from .patterns import (
    EN_SUFFIX,
    ZH_STOP_TOKENS,
    ZH_SUFFIX,
    AliasPattern,
    alias_regex,
    find_batch,
)
from .sentences import Sentences
from .novelty import ANNOUNCE_RE, Judgement, judge
from .xling import NameMatcher
from .en_parks import EnParkForms
from .zh_parks import ZhParkForms

PARK, CITY, COMPANY = "PARK", "CITY", "COMPANY"
_PROGRAMME_RE = re.compile(r"示范园区|(?i:demonstration\s+parks?)")
_EN_PARK_AFTER_RE = re.compile(r"(?:'s)?\s+(?:(?:5G|demonstration|pilot|showcase|flagship)\s+)*park(?![A-Za-z])")
#: A membership verb, then (in the same clause) the programme's name: described membership.
_ZH_DESCRIBED_RE = re.compile(
    r"(?P<verb>成为|入选|获评|被认定为|认定为|列入|获批为?|被评为|跻身|被列为)[^，。；！？\n]{0,24}?"
    r"5G\+工业互联网(?:应用)?示范园区")
_ZH_SHORT_FORM_RE = re.compile(r"(?:示范园区?|园区)")
#: "由X有限公司牵头(建设)的(示范)园区": a park described by its unknown lead.
_ZH_LED_BY_UNKNOWN_RE = re.compile(
    r"(?P<co>[^,，。；;：:、由的\n]{4,40}?(?:有限(?:责任)?公司|股份公司|集团))牵头(?:建设|打造)?的(?:示范)?园区")
_ZH_LEGAL_FORM_RE = re.compile(r"(?:集团)?(?:股份)?有限(?:责任)?公司$|股份公司$|集团$")
ZH_PROGRAMME_NAME_RE = re.compile(r"5G\+工业互联网(?:应用)?示范园区?")
_EN_DESCRIBED_RE = re.compile(
    r"(?P<verb>\b(?:became|becomes|become|was named|were named|was picked|was selected|was designated|"
    r"joined|joins|won|was listed|is one of|was one of|ranks among|inclusion in|included in|added to|"
    r"named to|named in|(?:was |been )?confirmed (?:last \w+ )?as))\b[^.;:!?\n]{0,90}?"
    r"(?i:demonstration\s+parks?|5G\s*\+?\s*industrial\s+internet\s+(?:application\s+)?(?:demonstration\s+)?parks?)")
#: The subject at a sentence's start: capitalised words before a comma or a reporting verb.
_EN_SUBJECT_RE = re.compile(
    r"[ \t\"']*(?P<name>(?:[A-Z][A-Za-z0-9&'\-]*[ \t]+){0,5}[A-Z][A-Za-z0-9&'\-]*)"
    r"(?=,|[ \t]+(?:said|says|has|had|is|was|became|joined|won|passed))")
_EN_SUBJECT_STOP = {"The", "A", "An", "This", "That", "It", "Its", "Their", "They", "He", "She", "We",
                    "Guangdong", "Guangdong's", "China", "When", "In", "Of", "And", "But", "Officials"}
#: Sentences searched backwards for a list's heading that states the batch.
_BATCH_LOOKBACK = 40
#: 珠海格力的示范园区 / 富士康和格力电器牵头的两个示范园区: what follows companies that name parks.
_ZH_SHORT_TAIL_RE = re.compile(r"(?:(?:牵头|建设|打造|运营)?的(?:[0-9两二三四五六七八九十几]+个)?|旗下的?)?"
                               r"(?:5G\+工业互联网)?(?:应用)?示范园区")
#: What names parks after a chain of lead companies on a programme page: X园区, X、Y等首批示范园区,
#: X、Y牵头的三个园区, 分别由X、Y牵头 (then the sentence must speak of 园区).
_ZH_BARE_TAIL_RE = re.compile(
    r"(?:(?:牵头|建设|打造)(?:建设)?的)?(?:等|这)?(?:首批|第[0-9一二三四五六七八九十]+批)?"
    r"(?:[0-9两二三四五六七八九十几]+个)?(?:省级)?(?:示范)?园区")
_LED_TAIL_RE = re.compile(r"牵头")

#: A line that introduces a list (名单如下：, "are as follows:"): the batch it states is the list's.
_LIST_HEADING_RE = re.compile(r"(?:如下|名单|(?i:following|list))\s*[:：]?\s*$|[:：]\s*$")
_ZH_JOINERS = {"、", "和", "与", "及", "以及"}
_ZH_LEAD_AFTER_RE = re.compile(r"\s*(?:牵头|作为牵头)")
_EN_LEAD_BEFORE_RE = re.compile(r"(?:led|run|operated|headed) by\s+(?:the\s+)?$")
_EN_LEAD_AFTER_RE = re.compile(r",?\s+(?:which|that)\s+(?:leads|runs|operates)\b")
#: Tokens after which a company name starts, beside the park-prefix stop list.
_COMPANY_STOP = {"宣布", "表示", "称", "牵头", "提供", "联合", "携手", "签约", "签署", "投资", "设立", "成立",
                 "旗下", "下属", "控股", "收购", "公告", "发布", "显示", "介绍", "透露"}
_ASCII_WORD_RE = re.compile(r"[A-Za-z]{2}")
_COMPANY_AFTER_RE = re.compile(r"(?:集团|公司|股份|牵头|旗下|(?:\s+(?:Group|Co\b|Corp|Inc|Ltd|Holdings)))")
_JOIN_BEFORE_RE = re.compile(r"(?:、|和|与|及|以及|,\s*|\s+and\s+)$")
_JOIN_AFTER_RE = re.compile(r"(?:、|和|与|及|以及|,\s*|\s+and\s+)")
#: English sentences on normalised text, for list reading (a full stop before a capital or a
#: line end; "Co., Ltd." and "Feb. 27" stay inside).
_EN_SENTENCE_RE = re.compile(r"[^\n]+?(?:[.!?](?=\s+[A-Z\"']|\s*$)|(?=\n)|$)", re.M)
_CITY_BLOCKERS_RE = re.compile(r"孙中山|中山(?:大学|路|公园|纪念|装|陵|舰|医院)")


@dataclass(frozen=True)
class EntityMention:
    type: str            # "PARK" | "CITY" | "COMPANY"
    text: str            # surface form as it appears in the text
    start: int
    end: int             # character offsets into the text passed to extract()
    id: str | None       # KB id, None when not in the KB
    name_zh: str | None
    name_en: str | None  # canonical names; for a new park the best full name
    new: bool            # True only for a PARK not in the KB
    sentence: str        # the sentence containing the mention (evidence)
    city: str | None = None          # PARK: city id
    company: str | None = None       # PARK: company id when known
    company_name: str | None = None  # PARK: lead company surface name (known or not)
    batch: int | None = None
    #: PARK with new=True: a doubtful find (programme suffix, but no batch or list context, or
    #: a lead name that is neither a known company nor company-worded). Stored as a candidate
    #: for review; never alerted by itself.
    candidate: bool = False
    #: PARK with new=True: how sure the find is, 0..1 (>= 0.7 alerts; below is a candidate)
    confidence: float | None = None
    #: PARK with new=True: why it is new, e.g. ("standard-form", "list", "batch:2", "company-word")
    evidence: tuple[str, ...] = ()


@dataclass
class _Hit:
    """A mention found on the normalised text, before it is turned into an EntityMention."""

    type: str
    nstart: int
    nend: int
    id: str | None = None
    name_zh: str | None = None
    name_en: str | None = None
    new: bool = False
    city: str | None = None
    company: str | None = None
    company_name: str | None = None
    company_span: tuple[int, int] | None = None   # normalised span of company_name
    batch: int | None = None
    features: set[str] = dataclasses.field(default_factory=set)   # new parks: the evidence
    lead_of_new: bool = False     # COMPANY: the unknown lead name of a new park (kept with it)
    judgement: Judgement | None = None


class Extractor:
    """Find PARK / CITY / COMPANY mentions. Build once (loads jieba's dictionary and spaCy's
    English tokenizer), call many times."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        with _quiet_jieba():
            # private: never touch jieba's global dictionary; reduced: see nlp/jieba_dict.py
            self._jieba = jieba.Tokenizer(small_dictionary() or jieba.DEFAULT_DICT)
            self._jieba.initialize()
        # English only: its tokens give sentence ends ("Co." stays inside a sentence) and word
        # edges. Chinese sentence ends are characters; spaCy's Chinese tokenizer (jieba over
        # the whole article) took a third of the run time and its tokens were used for nothing
        # else, so jieba runs only where it pays: on the few characters before a park or
        # company suffix.
        self._en = spacy.blank("en")
        # a blank pipeline only tokenises (no parser or NER needing ~1 GB per 100k characters):
        # spaCy's 1,000,000-character guard would refuse long articles for nothing
        self._en.max_length = 100_000_000
        self._xling = NameMatcher()
        self._words: set[str] = set()
        self._en_forms = EnParkForms(company_named=lambda n: self._company_by_name.get(norm(n)),
                                     city_named=lambda n: self._city_free.get(norm(n)))
        self._zh_forms = ZhParkForms(self._jieba, company_in=self._company_in, slot_city=self._slot_city,
                                     city_named=lambda n: self._city_free.get(norm(n)))
        self._index_cities_companies()
        self._index_parks()

    # ------------------------------------------------------------------ indexes

    def _add_words(self, names: Iterable[str], tag: str = "nt") -> None:
        """Make names single words for jieba, tagged (nt organisation, ns place) so the park
        forms' left-edge rules never cut inside them."""
        tags = {}
        for n in names:
            if has_cjk(n) and len(n) > 1 and n not in self._words:
                self._words.add(n)
                self._jieba.add_word(n)
                tags[n] = tag
        self._zh_forms.add_words(tags)

    def _index_cities_companies(self) -> None:
        self._city_free: dict[str, City] = {}   # names safe in free text
        self._city_slot: dict[str, City] = {}   # + single-character short forms
        for c in self.kb.cities.values():
            for n in (c.name_zh, c.name_en, *c.aliases, *c.districts):
                key = norm(n)
                self._city_slot.setdefault(key, c)
                if len(key) > 1:
                    self._city_free.setdefault(key, c)
        self._city_prefixes = sorted((k for k in self._city_free if has_cjk(k) or k[:1].isupper()),
                                     key=len, reverse=True)
        # one longest-first alternation: a loop over the ~200 names cost a fifth of the run time
        self._city_prefix_re = re.compile(
            "(?:" + "|".join(re.escape(k) for k in self._city_prefixes) + ")(?=.)", re.S)
        self._company_by_name: dict[str, Company] = {}
        for co in self.kb.companies.values():
            for n in (co.name_zh, co.name_en, *co.aliases):
                self._company_by_name.setdefault(norm(n), co)
        self._city_re = alias_regex(self._city_free)
        # a city with 市 inside a run before a company word: where a legal name starts
        self._legal_city_re = re.compile("(?:广东省)?(?:" + "|".join(
            sorted((norm(c.name_zh) for c in self.kb.cities.values()), key=len, reverse=True)) + ")市")
        self._company_re = alias_regex(self._company_by_name)
        # short forms that are ordinary words (美的, 海天, 联通): matched only in company context
        self._ambiguous: dict[str, Company] = {}
        for co in self.kb.companies.values():
            for n in co.ambiguous:
                if norm(n) not in self._company_by_name:
                    self._ambiguous.setdefault(norm(n), co)
        self._ambiguous_re = alias_regex(self._ambiguous)
        co_alt = self._company_re.pattern if self._company_re else "(?!)"
        # "the parks led by Foxconn in Shenzhen and Gree in Zhuhai"
        self._en_split_re = re.compile(
            r"(?i:parks?)\s+(?:led|run|headed|operated|anchored|built)\s+by\s+"
            rf"(?P<list>(?:{co_alt})\s+in\s+[A-Z][A-Za-z']+(?:(?:,\s*|,?\s+and\s+)(?:{co_alt})\s+in\s+[A-Z][A-Za-z']+)*)")
        # "the Gree park", "Foxconn's 5G + Industrial Internet park in Shenzhen"
        self._en_short_re = re.compile(
            rf"(?P<co>{co_alt})(?P<park>(?:'s)?\s+(?:(?:5G|demonstration|pilot|showcase|flagship)\s+)*park)(?![A-Za-z])"
            r"(?:\s+in\s+(?P<city>[A-Z][A-Za-z']+))?")

        self._add_words(self._city_free, "ns")
        self._add_words(self._company_by_name)

    def _index_parks(self) -> None:
        self._park_by_name: dict[str, Park] = {}
        self._parks_by_company: dict[str, list[Park]] = {}
        for p in self.kb.parks.values():
            for n in (p.name_zh, p.name_en, *p.aliases):
                if n:
                    self._park_by_name[norm(n)] = p
            if p.company:
                self._parks_by_company.setdefault(p.company, []).append(p)
            if p.name_zh.endswith(ZH_SUFFIX):
                core = p.name_zh[: -len(ZH_SUFFIX)]
                self._add_words([core])
                city, rest = self._leading_city(norm(core))
                if city is not None and len(rest) >= 3:   # 东莞松湖智造 → 松湖智造(5G+…)示范园区
                    self._park_by_name.setdefault(rest + "示范园区", p)
                    self._park_by_name.setdefault(rest + ZH_SUFFIX, p)
        self._park_re = alias_regex(self._park_by_name)
        # lead names of found parks (no KB company): reported as companies from then on
        self._lead_by_name: dict[str, Park] = {}
        for p in self.kb.parks.values():
            if p.company is None and p.id.startswith("park:found:"):
                for lead in _found_leads(p):
                    if lead not in self._company_by_name and self._city_free.get(lead) is None:
                        self._lead_by_name.setdefault(lead, p)
        self._lead_re = alias_regex(self._lead_by_name)
        self._add_words(self._park_by_name)

    def add_park(self, park: Park) -> None:
        """Make ``park`` known: later mentions of its names link to it (``new`` False)."""
        self.kb = self.kb.with_parks([park])
        self._index_parks()

    # ------------------------------------------------------------------ public API

    def extract(self, text: str, lang: str | None = None) -> list[EntityMention]:
        """All mentions in ``text``, sorted by start offset. ``lang`` defaults to detect_lang(text)."""
        if not text or not text.strip():
            return []
        lang = lang if lang in ("zh", "en") else detect_lang(text)
        nt = normalize(text)
        doc = self._en(text) if lang == "en" else None
        sents = Sentences(doc if doc is not None else text)

        hits: list[_Hit] = []
        std = self._zh_standard_parks(nt) + self._en_standard_parks(nt)
        hits += std
        taken = {i for h in std if h.type == PARK for i in range(h.nstart, h.nend)}
        for m in _finditer(self._park_re, nt.text):
            if any(i in taken for i in range(m.start(), m.end())):
                continue   # already covered by a standard-form hit (with its city slot)
            p = self._park_by_name[m.group()]
            hits.append(self._known_park_hit(p, m.start(), m.end(), lang))
        companies = list(_finditer(self._company_re, nt.text))
        companies += self._ambiguous_in_context(nt.text, companies)
        for m in _finditer(self._lead_re, nt.text):
            lead = m.group()
            hits.append(_Hit(COMPANY, m.start(), m.end(), None,
                             lead if has_cjk(lead) else None, None if has_cjk(lead) else lead))
        hits += self._company_named_parks(nt.text, lang, taken, companies)
        hits += self._described_parks(nt.text, lang, taken, companies)
        if lang != "en":
            hits += self._led_by_unknown(nt.text, taken)
            hits += self._short_forms_of_english_parks(nt.text, taken)
        hits += self._unknown_companies(nt, text, lang)
        blocked = {i for m in _CITY_BLOCKERS_RE.finditer(nt.text) for i in range(*m.span())}
        for m in _finditer(self._city_re, nt.text):
            if m.start() in blocked and m.end() - 1 in blocked:
                continue   # 中山 in 中山大学 / 孙中山
            c = self._city_free[m.group()]
            hits.append(_Hit(CITY, m.start(), m.end(), c.id, c.name_zh, c.name_en))
        for m in companies:
            co = self._company_by_name.get(m.group()) or self._ambiguous[m.group()]
            hits.append(_Hit(COMPANY, m.start(), m.end(), co.id, co.name_zh, co.name_en,
                             city=co.city))

        out: list[EntityMention] = []
        dropped: set[tuple[int, int]] = set()     # lead-name spans of finds judged no park
        kept = _resolve_overlaps(hits)
        for h in kept:
            if h.type != PARK or not h.new:
                continue
            start, _end = nt.span(h.nstart, h.nend)
            batch = h.batch if h.batch is not None else self._context_batch(sents, start)
            features = set(h.features)
            if ANNOUNCE_RE.search(sents.around(start)):
                features.add("announcement")
            j = judge(features, batch)
            if j is None:
                dropped.add(h.company_span or (h.nstart, h.nend))
                h.type = "DROP"
                continue
            h.batch, h.judgement = batch, j
        _same_park_in_page([h for h in kept if h.type == PARK and h.new])
        for h in kept:
            if h.type == "DROP" or (h.lead_of_new and (h.nstart, h.nend) in dropped):
                continue
            start, end = nt.span(h.nstart, h.nend)
            if doc is not None and not has_cjk(text[start:end]) and doc.char_span(start, end) is None:
                continue   # not on token boundaries, e.g. "Gree" in "Gree.com"
            company_name = h.company_name
            if h.company_span is not None:
                cs, ce = nt.span(*h.company_span)
                company_name = text[cs:ce]
            j = h.judgement
            out.append(EntityMention(
                type=h.type, text=text[start:end], start=start, end=end, id=h.id,
                name_zh=h.name_zh, name_en=h.name_en, new=h.new, sentence=sents.around(start),
                city=h.city if h.type == PARK else None,
                company=h.company if h.type == PARK else None,
                company_name=company_name if h.type == PARK else None, batch=h.batch,
                candidate=j.candidate if j else False, confidence=j.confidence if j else None,
                evidence=j.evidence if j else (),
            ))
        out.sort(key=lambda m: (m.start, -m.end, m.type))
        return self._lead_companies(out, sents)

    @staticmethod
    def _lead_companies(ms: list[EntityMention], sents: Sentences) -> list[EntityMention]:
        """A new park led by no known company takes as ``company_name`` the unknown company its
        sentence says leads it (X牵头, "led by X", "X, which leads") or the only company in
        its table row; otherwise it keeps the name it carries (东莞松湖智造)."""
        parks = [(m.start, m.end) for m in ms if m.type == PARK]             # ms is sorted by start
        park_starts = [p[0] for p in parks]

        def in_a_park(c: EntityMention) -> bool:    # a park's own lead is no other park's company
            k = bisect.bisect_right(park_starts, c.start) - 1
            return k >= 0 and parks[k][0] <= c.start < parks[k][1]

        unknown = [m for m in ms if m.type == COMPANY and m.id is None and not in_a_park(m)]
        if not unknown:
            return ms
        starts = [c.start for c in unknown]
        out = []
        for m in ms:
            if m.type == PARK and m.new and m.company is None:
                s, e = sents.span(m.start)
                cands = unknown[bisect.bisect_left(starts, s):bisect.bisect_left(starts, e)]
                lead = [c for c in cands if _ZH_LEAD_AFTER_RE.match(sents.text, c.end)
                        or _EN_LEAD_BEFORE_RE.search(sents.text[max(s, c.start - 14):c.start])
                        or _EN_LEAD_AFTER_RE.match(sents.text, c.end)]
                row = "\t" in sents.text[s:e] and len(cands) == 1
                pick = lead[0] if len(lead) == 1 else cands[0] if row else None
                if pick is not None:
                    m = dataclasses.replace(m, company_name=pick.text)
            out.append(m)
        return out

    # ------------------------------------------------------------------ parks

    def _only_park_of(self, co: Company, city: str | None) -> Park | None:
        """The one known park ``co`` leads (in ``city`` when given), else None. A unit that
        leads none speaks for its group's park (工业富联 → the Foxconn park)."""
        parks = self._parks_by_company.get(co.id) or (
            self._parks_by_company.get(co.parent, []) if co.parent else [])
        cands = [p for p in parks if city is None or p.city is None or p.city == city]
        return cands[0] if len(cands) == 1 else None

    def _described_parks(self, s: str, lang: str, taken: set[int],
                         companies: list[re.Match[str]]) -> list[_Hit]:
        """Membership by description: "湛江钢铁…成为全省首批'5G+工业互联网应用示范园区'", "When
        Zhanjiang Iron and Steel became one of the province's first … demonstration parks". The
        subject of a membership verb before the programme's name, in the same sentence, names
        its park when it leads exactly one known park (a found park's lead counts too)."""
        anchors = [m for m in (_ZH_DESCRIBED_RE if lang != "en" else _EN_DESCRIBED_RE).finditer(s)
                   if m.start() not in taken]
        if not anchors:
            return []
        leads = sorted(companies + list(_finditer(self._lead_re, s)), key=lambda m: m.start())
        starts = [c.start() for c in leads]
        hits: list[_Hit] = []
        for a in anchors:
            start = clause_start(s, a.start(), "。！？!?\n")
            if lang == "en":
                start = max(start, s.rfind(". ", start, a.start()) + 1)
            verb = a.start("verb")
            before = leads[bisect.bisect_left(starts, start):bisect.bisect_left(starts, verb)]
            for c in reversed([c for c in before if c.end() <= verb]):
                if any(i in taken for i in range(c.start(), c.end())):
                    continue
                co = self._company_by_name.get(c.group()) or self._ambiguous.get(c.group())
                p = self._only_park_of(co, None) if co is not None else self._lead_by_name.get(c.group())
                if p is not None:
                    hits.append(self._known_park_hit(p, c.start(), c.end(), lang,
                                                     company_span=(c.start(), c.end())))
                    taken.update(range(c.start(), c.end()))
                break                 # the nearest company before the verb is the subject
            else:
                if lang == "en":
                    hits += self._unknown_subject_park(s, start, verb)
        return hits

    def _unknown_subject_park(self, s: str, start: int, verb: int) -> list[_Hit]:
        """"Heyuan Yuanxin Optoelectronics, a display maker, said its campus had passed review for
        inclusion in the third batch of … demonstration parks": the sentence's subject, a name no
        KB knows, leads a new park (English only; sure when the batch is stated)."""
        m = _EN_SUBJECT_RE.match(s, start, verb)
        if m is None or m.group("name").split()[0] in _EN_SUBJECT_STOP:
            return []
        name = m.group("name")
        city, rest = self._leading_city(name)
        rest = rest.strip()
        if not rest or self._city_free.get(name) or self._company_by_name.get(rest):
            return []
        ns = m.start("name") + len(name) - len(rest)
        en = f"{rest} {EN_SUFFIX}" + (f" ({city.name_en})" if city else "")
        return [_Hit(PARK, ns, m.end("name"), None, None, en, True, city.id if city else None, None, rest,
                     (ns, m.end("name")), None, features={"described", "industry-word"}),
                _Hit(COMPANY, ns, m.end("name"), None, None, rest, lead_of_new=True)]

    def _short_forms_of_english_parks(self, s: str, taken: set[int]) -> list[_Hit]:
        """翔运汽配示范园区 on a programme page, for a park so far named only in English ("Xiangyun
        Auto Parts …"): the lead before 示范园区/园区 rendered by pinyin and glossary (nlp.xling)."""
        if not _PROGRAMME_RE.search(s) or not any(not p.name_zh and p.name_en for p in self.kb.parks.values()):
            return []
        hits: list[_Hit] = []
        floor = 0
        for m in _ZH_SHORT_FORM_RE.finditer(s):
            got = self._zh_forms.lead_before(s, m.start(), floor)
            floor = m.end()
            if got is None or any(i in taken for i in range(got[0], m.end())):
                continue
            city, rest = self._leading_city(got[1])
            p = self._xlink_zh(rest, city.id if city else None)
            if p is not None:
                hits.append(self._known_park_hit(p, got[0], m.end(), "zh", company_span=(got[0], m.start())))
                hits.append(_Hit(COMPANY, got[0], m.start(), None, got[1], None))
                taken.update(range(got[0], m.end()))
        return hits

    def _led_by_unknown(self, s: str, taken: set[int]) -> list[_Hit]:
        """"(由)肇庆市肇宇金属材料股份有限公司牵头建设的园区位列其中" where the sentence (or the one
        before) names the programme and a selection: an unknown company's park, new. Its name is
        the company's short name as the page uses it (肇宇金属), else the legal name without its
        city and legal form."""
        hits: list[_Hit] = []
        for m in _ZH_LED_BY_UNKNOWN_RE.finditer(s):
            rel = self._company_start(m.group("co"))       # after 名单/公布…, at the legal name's city
            if rel is None or m.start("co") + rel in taken or self._company_by_name.get(m.group("co")[rel:]):
                continue
            start = clause_start(s, clause_start(s, m.start(), "。！？\n") - 1, "。！？\n")
            context = s[start:m.end() + 60]
            if not (_ZH_DESCRIBED_RE.search(context) or ZH_PROGRAMME_NAME_RE.search(context)) \
                    or not ANNOUNCE_RE.search(context):
                continue
            legal = m.group("co")[rel:]
            city, rest = self._leading_city(legal.removeprefix("广东省"))
            core = _ZH_LEGAL_FORM_RE.sub("", rest.removeprefix("市")) or rest
            short = next((core[:n] for n in range(len(core) - 1, 2, -1)
                          if s.count(core[:n]) > s.count(core)), core)
            if len(short) < 2 or self._company_by_name.get(short):
                continue
            cs, ce = m.start("co") + rel, m.end("co")
            hits.append(_Hit(PARK, cs, m.end(), None, short + ZH_SUFFIX, None, True,
                             city.id if city else None, None, short, (cs, ce), None,
                             features={"described", "company-word"}))
            taken.update(range(cs, ce))
        return hits

    def _company_named_parks(self, s: str, lang: str, taken: set[int],
                             companies: list[re.Match[str]]) -> list[_Hit]:
        """Parks named by their lead company: 珠海格力的示范园区, 富士康和格力电器牵头的两个示范园区,
        "the Gree park", "the parks led by Foxconn in Shenzhen and Gree in Zhuhai".

        Only companies with exactly one known park (in the named city) link; a company's other
        parks, factories and industrial parks are never guessed.
        """
        hits: list[_Hit] = []

        def add(name: str, cs: int, ce: int, end: int, city: str | None) -> None:
            if any(i in taken for i in range(cs, end)):
                return
            co = self._company_by_name.get(name) or self._ambiguous.get(name)
            p = self._only_park_of(co, city) if co is not None else self._lead_by_name.get(name)
            if p is not None:
                hits.append(self._known_park_hit(p, cs, end, lang, company_span=(cs, ce)))

        assert self._company_re is not None
        # found parks' lead names name their parks too (韩江卫浴园区, 擎岚动力、铭鑫不锈钢两个园区)
        companies = sorted(companies + list(_finditer(self._lead_re, s)), key=lambda m: m.start())
        programme = _PROGRAMME_RE.search(s) is not None
        i = 0
        while i < len(companies):    # a chain of companies joined by 、/和/与, then 的…示范园区
            j = i
            while (j + 1 < len(companies)
                   and s[companies[j].end():companies[j + 1].start()] in _ZH_JOINERS):
                j += 1
            tail = _ZH_SHORT_TAIL_RE.match(s, companies[j].end())
            if tail is None and programme:      # "X园区" / "X、Y等园区" where the page is about the programme
                tail = _ZH_BARE_TAIL_RE.match(s, companies[j].end()) or self._led_parks(s, companies[i],
                                                                                       companies[j])
            if tail is not None:
                first = companies[i].start()
                lead = self._city_free.get(s[max(0, first - 3):first]) or self._city_free.get(
                    s[max(0, first - 2):first])
                for c in companies[i:j + 1]:
                    end = tail.end() if i == j else c.end()
                    add(c.group(), c.start(), c.end(), end, lead.id if lead else None)
            i = j + 1
        if lang != "en":
            return hits
        for m in self._en_split_re.finditer(s):
            for pair in re.finditer(rf"(?P<co>{self._company_re.pattern})\s+in\s+(?P<city>[A-Z][A-Za-z']+)",
                                    m.group("list")):
                city = self._city_free.get(pair.group("city"))
                base = m.start("list")
                add(pair.group("co"), base + pair.start("co"), base + pair.end("co"),
                    base + pair.end("city"), city.id if city else None)
        for m in self._en_short_re.finditer(s):
            city = self._city_free.get((m.group("city") or "").removesuffix("'s"))
            if m.group("city") and city is None:
                continue   # "Foxconn's park in Zhengzhou": not a Guangdong programme park
            add(m.group("co"), m.start("co"), m.end("co"), m.end("park"), city.id if city else None)
        for m in _finditer(self._lead_re, s):       # a found park's lead: "the Chaocai Ceramics park"
            tail = _EN_PARK_AFTER_RE.match(s, m.end())
            if tail is not None:
                add(m.group(), m.start(), m.end(), tail.end(), None)
        return hits

    def _unknown_companies(self, nt: Normalized, text: str, lang: str) -> list[_Hit]:
        """COMPANY mentions of companies not in the KB, marked by a company word (companies.py)."""
        if lang == "en":
            spans = en_company_spans(nt.text)
        else:
            spans = zh_company_spans(nt, self._company_start)
        hits = []
        for s_, n_, e_ in spans:
            name = nt.text[s_:e_]
            if self._known_company_tail(name) or self._known_company_tail(nt.text[s_:n_]):
                continue          # a known company's legal name: the KB match reports it
            hits.append(_Hit(COMPANY, s_, e_, None, name if lang != "en" else None,
                             name if lang == "en" else None))
        return hits

    def _known_company_tail(self, name: str) -> bool:
        """True when ``name`` ends with a known company's name (珠海格力电器, 引入华为技术有限公司):
        the KB match reports it, and a longer unknown span must not hide it."""
        return any(name[i:] in self._company_by_name for i in range(len(name) - 1))

    def _company_start(self, raw: str) -> int | None:
        """Where a company name starts in ``raw`` (the text before 有限公司 …): after the last
        verb or filler token (由, 与, 宣布 …), and at a city name that opens a legal name
        (配套企业韶关市…有限公司 → 韶关市…: what stands before the city is a role)."""
        tokens = self._jieba.lcut(raw)
        pos, start = 0, 0
        for t in tokens:
            pos += len(t)
            if t in ZH_STOP_TOKENS or t in _COMPANY_STOP:
                start = pos
        city = self._legal_city_re.search(raw, start + 1)
        if city is not None:
            start = city.start()
        return start if start < len(raw) else None

    def _known_park_hit(self, p: Park, s: int, e: int, lang: str, *,
                        company_span: tuple[int, int] | None = None) -> _Hit:
        co = self.kb.companies.get(p.company) if p.company else None
        name = (co.name_en if lang == "en" else co.name_zh) if co else None
        return _Hit(PARK, s, e, p.id, p.name_zh, p.name_en, False, p.city, p.company,
                    name, company_span, p.batch)

    def _link(self, names: Iterable[str], company: Company | None, city: str | None) -> Park | None:
        """The KB park a standard-form mention refers to, if any.

        By exact (normalised) name first; otherwise by lead company when exactly one known
        park of that company fits. Either way the city must fit: the same company's park in
        another city is a different, new park.
        """
        def fits(p: Park) -> bool:
            return city is None or p.city is None or p.city == city

        for n in names:
            p = self._park_by_name.get(norm(n))
            if p is not None and fits(p):
                return p
        if company is None:
            return None
        candidates = [p for p in self._parks_by_company.get(company.id, []) if fits(p)]
        return candidates[0] if len(candidates) == 1 else None

    def _slot_city(self, slot: str | None) -> tuple[City | None, int]:
        """The city named in a park's parenthesised slot and how many characters name it.

        All aliases count here, single-character short forms included: (穗) is unambiguous.
        A slot such as 佛山顺德 (city + district) resolves by its leading city name.
        """
        if not slot:
            return None, 0
        c = self._city_slot.get(slot) or self._city_slot.get(slot.removesuffix("市"))
        if c is not None:
            return c, len(slot)
        c, rest = self._leading_city(slot)
        return c, len(slot) - len(rest)

    def _leading_city(self, name: str) -> tuple[City | None, str]:
        """A city name at the start of ``name`` (东莞松湖智造 → 东莞) and the rest."""
        m = self._city_prefix_re.match(name)
        if m is None:
            return None, name
        return self._city_free[m.group()], name[m.end():]

    def _company_in(self, name: str, starts: list[int]) -> tuple[Company | None, int]:
        """A known company that ``name`` ends with, tried from the left at token ``starts``.

        Returns the company and the offset in ``name`` where the kept company name begins.
        """
        for i in starts:
            tail = name[i:]
            co = self._company_by_name.get(tail) or self._ambiguous.get(tail)   # a park's lead slot
            if co is None:                                                       # is company context
                city, rest = self._leading_city(tail)
                co = (self._company_by_name.get(rest) or self._ambiguous.get(rest)) if city else None
            if co is not None:
                return co, i
        return None, 0

    def _zh_standard_parks(self, nt: Normalized) -> list[_Hit]:
        """Standard-form Chinese park names (nlp.zh_parks), linked to a known park or new."""
        hits: list[_Hit] = []
        for slot in self._zh_forms.find(nt):
            name, pstart = slot.name, slot.start
            co = slot.company
            if co is not None:
                pstart += slot.company_cut
                name = name[slot.company_cut:]
            prefix_city, rest = self._leading_city(name)
            city_obj = slot.slot_city or slot.row_city or prefix_city
            city = city_obj.id if city_obj else None
            known = (self._link([name + ZH_SUFFIX, rest + ZH_SUFFIX], co, city)
                     or (self._xlink_zh(rest, city) or self._found_by_lead_zh(rest, city) if co is None else None))
            if known is not None:
                hits.append(self._known_park_hit(known, pstart, slot.tail_end, "zh",
                                                 company_span=(pstart, slot.end)))
                if co is None:
                    lead = rest if prefix_city is not None and len(rest) >= 2 else name
                    hits.append(_Hit(COMPANY, slot.end - len(lead), slot.end, None, lead, None))
            else:
                lead = name          # as written: 东莞松湖智造 (the city is part of some names)
                lead_start = slot.end - len(lead)
                en = None
                if co is not None:
                    en = f"{co.name_en} {EN_SUFFIX}"
                    cobj = self.kb.cities.get(city) if city else None
                    en += f" ({cobj.name_en})" if cobj else ""
                features = set(slot.features) | {"standard-form"}
                if co is not None:
                    features.add("known-company")
                if slot.row_city is not None and slot.slot_city is None:
                    features.add("row-city")
                hits.append(_Hit(PARK, lead_start, slot.tail_end, None, lead + ZH_SUFFIX, en, True, city,
                                 co.id if co else None, lead, (lead_start, slot.end), None,
                                 features=features))
                if co is None:
                    hits.append(_Hit(COMPANY, lead_start, slot.end, None, lead, None, lead_of_new=True))
                else:      # 美的 in 美的5G+…园区: a short form the slot makes a company
                    hits.append(_Hit(COMPANY, pstart, slot.end, co.id, co.name_zh, co.name_en, lead_of_new=True))
            if slot.slot_city is not None and slot.slot_span is not None:
                c = slot.slot_city
                hits.append(_Hit(CITY, *slot.slot_span, c.id, c.name_zh, c.name_en))
        return hits

    def _en_standard_parks(self, nt: Normalized) -> list[_Hit]:
        """English park forms (nlp.en_parks): formal names, lists of companies with their
        cities, possessives; each linked to a known park or judged new."""
        s = nt.text
        if not _ASCII_WORD_RE.search(s):
            return []
        sentences = [(m.start(), m.end()) for m in _EN_SENTENCE_RE.finditer(s)]
        slots = self._en_forms.formal(s)
        taken = {i for sl in slots for i in range(sl.start, sl.tail_end)}
        for sl in self._en_forms.possessive(s) + self._en_forms.lists(s, sentences):
            if sl.start in taken or sl.end - 1 in taken:
                continue
            taken.update(range(sl.start, sl.end))
            slots.append(sl)
        hits: list[_Hit] = []
        for sl in slots:
            name, co = sl.name.strip(), sl.company
            prefix_city, rest = self._leading_city(name)
            city_obj = sl.city or prefix_city
            city = city_obj.id if city_obj else None
            known = (self._link([f"{name} {EN_SUFFIX}"], co, city)
                     or (self._xlink_en(rest, city) if co is None else None))
            if known is None and co is None:
                known = self._found_by_lead(name, city)
            if known is not None:
                hits.append(self._known_park_hit(known, sl.start, sl.tail_end, "en",
                                                 company_span=(sl.start, sl.end)))
                if co is None:
                    hits.append(_Hit(COMPANY, sl.start, sl.end, None, None, name))
                continue
            if co is not None and self._parks_by_company.get(co.id):
                continue      # a lead company's other park in another city is not guessed
            features = set(sl.features) | {"english"}
            if not sl.formal and "en-list" not in features:
                features.add("informal")        # "X's 5G industrial internet park in Y"
            if co is not None:
                features.add("known-company")
            elif re.search(r"\b(?:Group|Co|Ltd|Corporation|Holdings|Company)\b", name):
                features.add("company-word")
            else:
                features.add("industry-word")     # a capitalised proper name
            if not sl.formal and "en-list" not in features and not sl.city:
                continue
            cobj = city_obj
            en = f"{co.name_en if co else name} {EN_SUFFIX}" + (f" ({cobj.name_en})" if cobj else "")
            zh = f"{co.name_zh}{ZH_SUFFIX}" if co else None
            hits.append(_Hit(PARK, sl.start, sl.tail_end, None, zh, en, True, city,
                             co.id if co else None, name, (sl.start, sl.end), None, features=features))
            if co is None:
                hits.append(_Hit(COMPANY, sl.start, sl.end, None, None, name, lead_of_new=True))
        return hits

    @staticmethod
    def _led_parks(s: str, first: re.Match[str], last: re.Match[str]) -> re.Match[str] | None:
        """"(分别)由X、Y牵头" in a sentence about 园区: the chain names the parks they lead."""
        if not s.startswith("牵头", last.end()) or not s[max(0, first.start() - 3):first.start()].endswith("由"):
            return None
        sent_start = clause_start(s, first.start(), "。！？\n")
        return _LED_TAIL_RE.match(s, last.end()) if "园区" in s[sent_start:first.start()] else None

    def _ambiguous_in_context(self, s: str, companies: list[re.Match[str]]) -> list[re.Match[str]]:
        """Short forms that are ordinary words, kept where the text treats them as companies:
        followed by a company word or role (美的集团, 海天牵头), or joined by 、/和/与/及 (or "and",
        a comma) to another company's name."""
        out: list[re.Match[str]] = []
        if self._ambiguous_re is None:
            return out
        ends = {m.end() for m in companies}
        starts = {m.start() for m in companies}
        for m in self._ambiguous_re.finditer(s):
            after = s[m.end():m.end() + 4]
            if _COMPANY_AFTER_RE.match(after):
                out.append(m)
                continue
            j = _JOIN_BEFORE_RE.search(s[max(0, m.start() - 6):m.start()])
            k = _JOIN_AFTER_RE.match(s, m.end())
            if (j and max(0, m.start() - 6) + j.start() in ends) or (k and k.end() in starts):
                out.append(m)
        return out

    def _found_by_lead(self, name: str, city: str | None) -> Park | None:
        """A found park whose lead name is ``name`` ("GAC Aion" → the GAC Aion park), or — in
        the named city, when only one fits — whose lead begins with it ("Xiangyun" → the
        Xiangyun Auto Parts park)."""
        key = norm(name).casefold()
        prefixed: list[Park] = []
        for p in self.kb.parks.values():
            if p.id.startswith("park:found:") and (city is None or p.city in (None, city)):
                lead = norm(en_lead(p.name_en or "")).casefold()
                if lead and lead == key:
                    return p
                if city is not None and p.city == city and lead.startswith(key + " "):
                    prefixed.append(p)
        return prefixed[0] if len(prefixed) == 1 else None

    def _found_by_lead_zh(self, lead: str, city: str | None) -> Park | None:
        """A found park of the same city whose Chinese lead begins with ``lead`` or is begun by
        it (源兴光电 / 源兴光电科技: a legal name's core and the short name the press uses), when
        exactly one fits: one park, one row, whatever the spelling."""
        if city is None or len(lead) < 3:
            return None
        fits = []
        for p in self.kb.parks.values():
            if p.id.startswith("park:found:") and p.city == city and p.name_zh.endswith(ZH_SUFFIX):
                _c, other = self._leading_city(norm(p.name_zh[: -len(ZH_SUFFIX)]))
                if other != lead and len(other) >= 3 and (other.startswith(lead) or lead.startswith(other)):
                    fits.append(p)
        return fits[0] if len(fits) == 1 else None

    def _xlink_en(self, core: str, city: str | None) -> Park | None:
        """The park with a Chinese name that this English name core renders (NameMatcher), if
        exactly one park of the city matches."""
        if not core:
            return None
        found: list[Park] = []
        brand: list[Park] = []
        for p in self.kb.parks.values():
            if not p.name_zh.endswith(ZH_SUFFIX) or (city and p.city and p.city != city):
                continue
            _c, zcore = self._leading_city(norm(p.name_zh[: -len(ZH_SUFFIX)]))
            if zcore and self._xling.same(zcore, core):
                found.append(p)
            elif zcore and self._xling.same_brand(zcore, core):
                brand.append(p)
        return found[0] if len(found) == 1 else brand[0] if not found and len(brand) == 1 else None

    def _xlink_zh(self, core: str, city: str | None) -> Park | None:
        """The park known only by an English name that this Chinese name core renders."""
        if not core:
            return None
        found: list[Park] = []
        brand: list[Park] = []
        for p in self.kb.parks.values():
            if p.name_zh or not p.name_en or (city and p.city and p.city != city):
                continue
            en_core = en_lead(p.name_en)
            _c, en_rest = self._leading_city(en_core)
            if en_rest and self._xling.same(core, en_rest.strip()):
                found.append(p)
            elif en_rest and self._xling.same_brand(core, en_rest.strip()):
                brand.append(p)
        return found[0] if len(found) == 1 else brand[0] if not found and len(brand) == 1 else None

    def _context_batch(self, sents: Sentences, start: int) -> int | None:
        """Batch of a new park: stated in its sentence, or — for a list item / line of its own —
        in the nearest preceding sentence about the programme or list heading (第二批名单如下：)."""
        s, e = sents.span(start)
        b = find_batch(normalize(sents.text[s:e]).text)
        if b is not None:
            return b
        if s > 0 and sents.text[s - 1] != "\n":
            return None
        i, looked = s, 0
        while i > 0 and looked < _BATCH_LOOKBACK:
            looked += 1
            ps, pe = sents.span(i - 1)
            chunk = normalize(sents.text[ps:pe]).text
            if _PROGRAMME_RE.search(chunk) or _LIST_HEADING_RE.search(chunk):
                b = find_batch(chunk)
                if b is not None:
                    return b
            i = ps
        return None


@contextlib.contextmanager
def _quiet_jieba() -> Iterator[None]:
    """jieba logs "Building prefix dict ..." to stderr at DEBUG level on every dictionary load;
    a CLI's stderr is for errors, so hold its logger at WARNING while we load."""
    logger = logging.getLogger("jieba")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _same_park_in_page(new: list[_Hit]) -> None:
    """One page naming a new park twice, the second time shorter ("the Xiangyun Auto Parts 5G +
    Industrial Internet Demonstration Park (Zhaoqing)", then "the Xiangyun-led park in Zhaoqing";
    锦拓精密… then 锦拓…): the shorter lead, in the same city, is the longer one's park."""
    def lead(h: _Hit) -> str:
        return (h.company_name or "").strip()

    for h in new:
        for other in new:
            longer, shorter = lead(other), lead(h)
            if (other is h or len(longer) <= len(shorter) or len(shorter) < 2 or h.city != other.city
                    or not longer.startswith(shorter)
                    or (shorter.isascii() and longer[len(shorter)] != " ")):
                continue
            h.name_zh, h.name_en, h.company = other.name_zh, other.name_en, other.company
            break


def _found_leads(p: Park) -> list[str]:
    """The lead names a found park carries: its Chinese name's core, its English name's."""
    out = []
    if p.name_zh.endswith(ZH_SUFFIX) and len(p.name_zh) - len(ZH_SUFFIX) >= 2:
        out.append(norm(p.name_zh[: -len(ZH_SUFFIX)]))
    if p.name_en:
        lead = en_lead(p.name_en)
        if len(lead) >= 3:
            out.append(norm(lead))
    return out


def _finditer(pattern: AliasPattern | None, text: str) -> Iterable[re.Match[str]]:
    return pattern.finditer(text) if pattern is not None else ()


def _resolve_overlaps(hits: list[_Hit]) -> list[_Hit]:
    """Per type, keep non-overlapping hits: longest first, then leftmost.

    Kept spans of a type are disjoint, so one sorted list of starts and a look at the
    neighbours on either side answers "does this overlap?" in O(log n).
    """
    kept: list[_Hit] = []
    starts: dict[str, list[int]] = {}
    ends: dict[str, dict[int, int]] = {}
    for h in sorted(hits, key=lambda h: (-(h.nend - h.nstart), h.nstart)):
        st, en = starts.setdefault(h.type, []), ends.setdefault(h.type, {})
        i = bisect.bisect_left(st, h.nstart)
        if i < len(st) and st[i] < h.nend:
            continue            # a kept span starts inside this one
        if i > 0 and en[st[i - 1]] > h.nstart:
            continue            # the kept span before this one reaches into it
        st.insert(i, h.nstart)
        en[h.nstart] = h.nend
        kept.append(h)
    return kept
