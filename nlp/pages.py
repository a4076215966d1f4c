"""Score the extractor on corpora of full HTML pages with document-level gold (``gold.json``).

The format is the one of the evaluation corpus written for the project by other hands
(``nlp/corpus/pages/README.md``): ``site/<host>/<path>.html`` pages plus a ``gold.json`` with a
catalogue (parks, cities, companies, each with every alias) and, per page, the parks, new parks,
cities and companies its *main text* names. Gold names entities by catalogue key, predictions
name them by knowledge-base id or by surface, so both sides are mapped onto catalogue keys by
their names (normalised: widths, traditional characters, quotes, case, legal-form words).

Pages go through the same main-text extraction as a crawl: the caller passes ``text_of`` (this
package imports nothing of the crawler). A corpus folder may hold several writers' sets, each in
its own sub-folder with its own ``gold.json``; each set is replayed like a crawl of its own, in
the documents' ``order``: a park found in one page is known to the later pages, so linking
across pages and languages is measured, and every second row for one park counts as a
duplicate.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opencc import OpenCC

from .evaluate import Report
from .extract import EntityMention, Extractor
from .found import park_from_mention
from .kb import KnowledgeBase

TYPES = ("PARK", "CITY", "COMPANY")
_T2S = OpenCC("t2s")
_ZH_LEGAL_RE = re.compile(r"(?:集团)?(?:股份)?有限(?:责任)?公司$|股份公司$|(?<=.{2})集团$")
_EN_LEGAL = {"co", "ltd", "limited", "corporation", "corp", "inc", "holdings", "company", "group", "the"}
_QUOTES_RE = re.compile(r"[\"'“”‘’「」『』〝〞]")

#: (page path, encoding hint) → (main text with its headline, "zh" | "en"), or None
TextOf = Callable[[Path, str | None], tuple[str, str] | None]


class PageCorpusError(ValueError):
    """A page corpus is malformed; the message names the file and the entry."""


def fold(name: str) -> str:
    """One comparable form for a name: NFKC, simplified, no quotes or spaces, case-folded."""
    n = unicodedata.normalize("NFKC", _T2S.convert(name))
    n = _QUOTES_RE.sub("", n)
    return "".join(n.split()).casefold()


def company_fold(name: str) -> str:
    """A company name without its legal-form words: 珠海格力电器股份有限公司 = 珠海格力电器,
    "Comba Telecom Co., Ltd." = "combatelecom"."""
    n = unicodedata.normalize("NFKC", _T2S.convert(name)).strip()
    if re.search(r"[\u4e00-\u9fff]", n):
        return fold(_ZH_LEGAL_RE.sub("", fold(n)) or n)
    words = [w for w in re.findall(r"[A-Za-z0-9&]+", n.replace("'s", "")) if w.lower() not in _EN_LEGAL]
    return "".join(words).casefold()


def park_fold(name: str) -> str:
    """A park name's core: no programme suffix, no city slot (京信通信5G+…(广州) → 京信通信)."""
    n = fold(name)
    n = re.split(r"5g\+|5g工业|5gindustrial", n)[0]
    return re.sub(r"[(（][^()（）]*[)）]$", "", n)


@dataclass(frozen=True)
class PageDoc:
    path: Path
    id: str
    lang: str                 # zh-Hans | zh-Hant | en
    encoding: str | None
    order: int
    classes: tuple[str, ...]
    parks: frozenset[str]
    new_parks: frozenset[str]
    cities: frozenset[str]
    cities_incidental: frozenset[str]
    companies: frozenset[str]
    batch: dict[str, int]


@dataclass
class PageSet:
    """One writer's pages and catalogue, replayed as one crawl."""

    name: str
    catalog: dict[str, dict[str, list[str]]]      # kind → key → aliases
    docs: list[PageDoc]
    index: dict[str, dict[str, set[str]]] = field(default_factory=dict)   # kind → folded name → keys

    def build_index(self) -> None:
        folders = {"parks": park_fold, "cities": fold, "companies": company_fold}
        for kind, entries in self.catalog.items():
            idx = self.index.setdefault(kind, {})
            for key, aliases in entries.items():
                for a in aliases:
                    f = folders[kind](a)
                    if f:
                        idx.setdefault(f, set()).add(key)

    def keys_for(self, kind: str, names: Iterable[str | None]) -> set[str]:
        folder = {"parks": park_fold, "cities": fold, "companies": company_fold}[kind]
        out: set[str] = set()
        for n in names:
            if n:
                f = folder(n)
                out |= self.index.get(kind, {}).get(f, set())
                if kind == "parks" and not out:    # 东莞锦拓精密… names the 锦拓精密 park
                    for city in self.index.get("cities", {}):
                        if len(city) >= 2 and f.startswith(city) and len(f) - len(city) >= 2:
                            out |= self.index["parks"].get(f[len(city):], set())
        return out


def load_pages(directory: Path) -> list[PageSet]:
    """Every ``gold.json`` under ``directory`` (itself, or one per sub-folder), as page sets."""
    directory = Path(directory)
    golds = sorted(directory.glob("gold.json")) or sorted(directory.glob("*/gold.json"))
    if not golds:
        raise PageCorpusError(f"{directory}: no gold.json (in it or in its sub-folders)")
    return [_load_set(g) for g in golds]


def _keys(entries: Any, where: str) -> frozenset[str]:
    if entries is None:
        return frozenset()
    if not isinstance(entries, list):
        raise PageCorpusError(f"{where}: expected a list")
    out = set()
    for e in entries:
        key = e.get("key") if isinstance(e, dict) else e
        if not isinstance(key, str):
            raise PageCorpusError(f"{where}: entry without a key: {e!r}")
        out.add(key)
    return frozenset(out)


def _load_set(gold_path: Path) -> PageSet:
    try:
        data = json.loads(gold_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PageCorpusError(f"{gold_path}: cannot read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("documents"), dict):
        raise PageCorpusError(f"{gold_path}: expected 'catalog' and a 'documents' mapping")
    catalog: dict[str, dict[str, list[str]]] = {}
    for kind in ("parks", "cities", "companies"):
        catalog[kind] = {k: list(v.get("aliases") or []) for k, v in (data.get("catalog", {}).get(kind) or {}).items()}
    site = gold_path.parent / "site"
    docs: list[PageDoc] = []
    for n, (rel, raw) in enumerate(data["documents"].items()):
        where = f"{gold_path}: document {rel}"
        try:
            parks = _keys(raw.get("parks"), where)
            new = _keys(raw.get("new_parks"), where)
            # a document names a park its gold lists as new even if "parks" forgot it
            docs.append(PageDoc(
                path=site / rel.lstrip("/"), id=str(raw.get("id") or rel), lang=str(raw["lang"]),
                encoding=raw.get("encoding"), order=int(raw.get("order", n)),
                classes=tuple(raw.get("classes") or (raw.get("kind"),)),
                parks=parks | new, new_parks=new,
                cities=_keys(raw.get("cities"), where) | {d["city"] for d in raw.get("districts") or []
                                                          if isinstance(d, dict) and d.get("city")},
                cities_incidental=_keys(raw.get("cities_incidental"), where),
                companies=_keys(raw.get("companies"), where),
                batch={k: int(v) for k, v in (raw.get("batch") or {}).items()},
            ))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, PageCorpusError):
                raise
            raise PageCorpusError(f"{where}: {exc!r}") from exc
    docs.sort(key=lambda d: d.order)
    s = PageSet(gold_path.parent.name, catalog, docs)
    s.build_index()
    return s


# --------------------------------------------------------------------------- scoring


@dataclass
class PageReport(Report):
    """``Report`` grouped also by class ("class:list-structure"), with duplicate parks and,
    when asked for, what each page missed and got wrong."""

    duplicates: int = 0
    duplicate_keys: list[str] = field(default_factory=list)
    #: per document: what was missed and what was wrong (only kept when asked for)
    details: list[dict[str, Any]] = field(default_factory=list)

    def groups(self) -> list[str]:
        gs = {g for g, _ in self.counts}
        langs = sorted(g for g in gs if not g.startswith("class:") and g != "all")
        classes = sorted(g for g in gs if g.startswith("class:"))
        return langs + classes + ["all"]

    def failures(self) -> list[str]:
        """Issue 11's targets missed: F1 per type, every new park, none false, no duplicates."""
        out = super().failures()
        if self.duplicates:
            out.append(f"{self.part}: {self.duplicates} duplicate park(s)")
        if self.errors:
            out.append(f"{self.part}: {len(self.errors)} page(s) failed")
        return out


def evaluate_pages(part: str, sets: list[PageSet], text_of: TextOf, kb: KnowledgeBase,
                   make_extractor: Callable[[KnowledgeBase], Extractor] = Extractor,
                   details: bool = False) -> PageReport:
    """Replay every set through a fresh extractor and count document-level hits."""
    report = PageReport(part)
    for s in sets:
        _replay(s, text_of, make_extractor(kb), report, details)
    return report


def _replay(s: PageSet, text_of: TextOf, ex: Extractor, report: PageReport, details: bool) -> None:
    found_keys: dict[str, set[str]] = {}       # gold park key → found-park ids made for it
    park_names: dict[str, tuple[str | None, ...]] = {}   # KB / found park id → names
    for p in ex.kb.parks.values():
        park_names[p.id] = (p.name_zh, p.name_en, *p.aliases)
    bundled = set(park_names)
    for doc in s.docs:
        report.docs += 1
        try:
            got = text_of(doc.path, doc.encoding)
        except Exception as exc:  # noqa: BLE001 - one broken page is recorded, the rest go on
            report.errors.append(f"{s.name}/{doc.id}: {exc!r}")
            got = None
        if got is None:
            report.errors.append(f"{s.name}/{doc.id}: no main text")
            mentions: list[EntityMention] = []
        else:
            text, lang = got
            try:
                mentions = ex.extract(text, lang)
            except Exception as exc:  # noqa: BLE001
                report.errors.append(f"{s.name}/{doc.id}: {exc!r}")
                mentions = []
        pred, new_pred = _predict(mentions, s, park_names, ex.kb)
        # a new park counts as caught when the page raises it, or links it to the park an
        # earlier page raised (then it was alerted there, once)
        caught = set(new_pred) | {k for m in mentions if m.type == "PARK" and not m.new
                                  and m.id and m.id not in bundled
                                  for k in s.keys_for("parks", park_names.get(m.id, ()))}
        groups = [doc.lang, *(f"class:{c}" for c in doc.classes), "all"]
        false_new = {k for k in new_pred if k not in doc.new_parks}
        for g in groups:
            report.c(g, "PARK").add(doc.parks, pred["PARK"])
            report.c(g, "CITY").add(doc.cities, pred["CITY"], doc.cities_incidental)
            report.c(g, "COMPANY").add(doc.companies, pred["COMPANY"])
            report.new_gold[g] = report.new_gold.get(g, 0) + len(doc.new_parks)
            report.new_found[g] = report.new_found.get(g, 0) + len(doc.new_parks & caught)
            report.false_alerts[g] = report.false_alerts.get(g, 0) + len(false_new)
        for key, m in new_pred.items():
            if key in doc.batch:
                report.batch_gold += 1
                report.batch_right += m.batch == doc.batch[key]
            park = park_from_mention(m)
            if park.id not in ex.kb.parks:
                ex.add_park(park)
                park_names[park.id] = (park.name_zh, park.name_en, *park.aliases)
                if not key.startswith("?"):
                    found_keys.setdefault(key, set()).add(park.id)
        if details:
            report.details.append({
                "set": s.name, "doc": doc.id, "path": str(doc.path),
                "missed": {t: sorted(g - pred[t]) for t, g in
                           (("PARK", doc.parks), ("CITY", doc.cities), ("COMPANY", doc.companies))},
                "wrong": {t: sorted(pred[t] - g - (doc.cities_incidental if t == "CITY" else frozenset()))
                          for t, g in (("PARK", doc.parks), ("CITY", doc.cities), ("COMPANY", doc.companies))},
                "new_missed": sorted(doc.new_parks - caught),
                "new_false": sorted(false_new),
            })
    report.duplicates += sum(len(ids) - 1 for ids in found_keys.values())
    report.duplicate_keys += [f"{s.name}/{k}" for k, ids in found_keys.items() if len(ids) > 1]


def _predict(mentions: list[EntityMention], s: PageSet, park_names: dict[str, tuple[str | None, ...]],
             kb: KnowledgeBase) -> tuple[dict[str, set[str]], dict[str, EntityMention]]:
    pred: dict[str, set[str]] = {t: set() for t in TYPES}
    new: dict[str, EntityMention] = {}
    for m in mentions:
        if m.type == "PARK":
            names = park_names.get(m.id or "", ()) if not m.new else (m.name_zh, m.name_en)
            keys = s.keys_for("parks", names) or {"?" + (m.name_zh or m.name_en or m.text)}
            pred["PARK"] |= keys
            if m.new and not m.candidate:      # a candidate is kept for review, never alerted
                for k in keys:
                    new.setdefault(k, m)
        elif m.type == "CITY":
            pred["CITY"] |= s.keys_for("cities", (m.name_zh, m.name_en, m.text)) or {"?" + m.text}
        else:
            co = kb.companies.get(m.id or "")
            keys = s.keys_for("companies", (m.text, m.name_zh, m.name_en, *(co.aliases if co else ())))
            pred["COMPANY"] |= keys or {"?" + m.text}
    return pred, new


def format_report(reports: list[PageReport]) -> str:
    """A plain-text table per part and group: P/R/F1 per type, new-park recall, false and
    duplicate parks."""
    lines = [f"{'part':14} {'group':28} {'type':8} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}"]
    for r in reports:
        for g in r.groups():
            for t in TYPES:
                c = r.c(g, t)
                lines.append(f"{r.part:14} {g:28} {t:8} {c.precision:6.3f} {c.recall:6.3f} "
                             f"{c.f1:6.3f} {c.tp:4} {c.fp:4} {c.fn:4}")
            lines.append(f"{r.part:14} {g:28} new-park recall {r.new_recall(g):.3f} "
                         f"({r.new_found.get(g, 0)}/{r.new_gold.get(g, 0)}), "
                         f"false new parks {r.false_alerts.get(g, 0)}")
        lines.append(f"{r.part:14} documents {r.docs}, duplicate parks {r.duplicates}, "
                     f"batch right {r.batch_right}/{r.batch_gold}"
                     + (f", errors {len(r.errors)}" if r.errors else ""))
    return "\n".join(lines)
