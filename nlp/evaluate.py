"""Score the extractor on the labelled corpus (nlp/corpus/*.yaml) at document level.

The question a user asks is "which parks, cities and companies does this article name, and is
any park new?", so gold and predictions are per-document *sets* of entities, not spans. Each
part is replayed like a crawl: documents in order, and a new park found in one document is
added to the extractor (exactly as the pipeline does after storing it), so a later mention in
either language must link to it instead of raising a second alert.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from opencc import OpenCC

from .extract import EntityMention, Extractor
from .found import park_from_mention
from .kb import KnowledgeBase

CORPUS_DIR = Path(__file__).with_name("corpus")
PARTS = ("tuning", "heldout")
TYPES = ("PARK", "CITY", "COMPANY")
#: Quality targets of issue 4: F1 per type; new-park recall 1.0 and no false new-park alert.
TARGETS = {"PARK": 0.95, "CITY": 0.95, "COMPANY": 0.90}

_T2S = OpenCC("t2s")
_ZH_CO_SUFFIX_RE = re.compile(r"(?:股份)?有限(?:责任)?公司$|股份公司$")
_EN_CO_WORDS = {"co", "ltd", "limited", "corporation", "corp", "inc", "holdings", "company"}


class CorpusError(ValueError):
    """The corpus file is malformed; the message names the file and the document."""


@dataclass(frozen=True)
class Doc:
    id: str
    lang: str
    kind: str
    text: str
    gold: dict[str, frozenset[str]]
    new: frozenset[str]
    batch: dict[str, int]

    @property
    def language(self) -> str:
        """zh, zh-Hant (traditional characters) or en, for reporting by language."""
        if self.lang == "zh" and _T2S.convert(self.text) != self.text:
            return "zh-Hant"
        return self.lang


@dataclass(frozen=True)
class Corpus:
    name: str
    new_parks: dict[str, tuple[str, ...]]     # label → name cores (zh and en)
    docs: tuple[Doc, ...]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: frozenset[str], pred: frozenset[str] | set[str],
            ignore: frozenset[str] = frozenset()) -> None:
        """Count ``pred`` against ``gold``; names in ``ignore`` (and not gold) count neither way."""
        pred = pred - (ignore - gold)
        self.tp += len(gold & pred)
        self.fp += len(pred - gold)
        self.fn += len(gold - pred)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    """Counts per (language, type); "all" is the sum over languages."""

    part: str
    docs: int = 0
    counts: dict[tuple[str, str], Counts] = field(default_factory=dict)
    new_gold: dict[str, int] = field(default_factory=dict)
    new_found: dict[str, int] = field(default_factory=dict)
    false_alerts: dict[str, int] = field(default_factory=dict)
    batch_right: int = 0
    batch_gold: int = 0
    errors: list[str] = field(default_factory=list)

    def c(self, lang: str, type_: str) -> Counts:
        return self.counts.setdefault((lang, type_), Counts())

    def new_recall(self, lang: str = "all") -> float:
        g = self.new_gold.get(lang, 0)
        return self.new_found.get(lang, 0) / g if g else 1.0

    def failures(self) -> list[str]:
        """Targets missed, one line each (empty when every target is met)."""
        out = [f"{self.part}: {t} F1 {self.c('all', t).f1:.3f} < {goal}"
               for t, goal in TARGETS.items() if self.c("all", t).f1 < goal]
        if self.new_recall() < 1.0:
            out.append(f"{self.part}: new-park recall {self.new_recall():.3f} < 1.0")
        if self.false_alerts.get("all", 0):
            out.append(f"{self.part}: {self.false_alerts['all']} false new-park alert(s)")
        return out


def core(name: str) -> str:
    """A park name without the programme suffix and city slot, case- and space-folded."""
    n = unicodedata.normalize("NFKC", _T2S.convert(name))
    n = re.split(r"\s*5G\s*\+", n)[0]
    return "".join(n.split()).casefold()


def company_key(name: str) -> str:
    """Unknown companies compare without legal-form words: "X Co., Ltd." = "X"; X有限公司 = X."""
    n = unicodedata.normalize("NFKC", _T2S.convert(name)).strip()
    if re.search(r"[\u4e00-\u9fff]", n):
        return _ZH_CO_SUFFIX_RE.sub("", n)
    words = [w for w in re.findall(r"[A-Za-z0-9&'-]+", n) if w.lower() not in _EN_CO_WORDS]
    return " ".join(words).casefold()


def load_corpus(part: str, directory: Path | None = None) -> Corpus:
    path = (directory or CORPUS_DIR) / f"{part}.yaml"
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path.name}: cannot read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise CorpusError(f"{path.name}: expected 'new_parks' and a 'documents' list")
    new_parks = {label: tuple(core(n) for n in names.values() if n)
                 for label, names in (data.get("new_parks") or {}).items()}
    docs = []
    for i, raw in enumerate(data["documents"], 1):
        try:
            gold = {
                "PARK": frozenset(raw.get("parks") or ()),
                "CITY": frozenset(raw.get("cities") or ()),
                "COMPANY": frozenset(c if c.startswith("company:") else "?" + company_key(c)
                                     for c in raw.get("companies") or ()),
            }
            docs.append(Doc(raw["id"], raw["lang"], raw.get("kind", ""), raw["text"], gold,
                            frozenset(raw.get("new") or ()), dict(raw.get("batch") or {})))
        except (KeyError, TypeError, AttributeError) as exc:
            raise CorpusError(f"{path.name}: document #{i}: {exc!r}") from exc
    return Corpus(part, new_parks, tuple(docs))


def evaluate(corpus: Corpus, kb: KnowledgeBase | None = None) -> Report:
    """Replay ``corpus`` through a fresh extractor and count document-level hits."""
    ex = Extractor(kb or KnowledgeBase.load())
    labels: dict[str, str] = {}          # found park id → corpus label
    report = Report(corpus.name)
    for doc in corpus.docs:
        report.docs += 1
        try:
            mentions = ex.extract(doc.text, doc.lang)
        except Exception as exc:  # noqa: BLE001 - one bad document is recorded, the evaluation goes on
            report.errors.append(f"{doc.id}: {exc!r}")
            mentions = []
        pred, new_labels = _predicted(mentions, corpus, labels)
        for lang in (doc.language, "all"):
            for t in TYPES:
                report.c(lang, t).add(doc.gold[t], pred[t])
            report.new_gold[lang] = report.new_gold.get(lang, 0) + len(doc.new)
            right = {lab for lab, _ in new_labels if lab in doc.new}
            report.new_found[lang] = report.new_found.get(lang, 0) + len(right)
            wrong = len({lab for lab, _ in new_labels} - doc.new)
            report.false_alerts[lang] = report.false_alerts.get(lang, 0) + wrong
        for lab, m in new_labels:
            if lab in doc.batch:
                report.batch_gold += 1
                report.batch_right += m.batch == doc.batch[lab]
            park = park_from_mention(m)
            labels[park.id] = lab
            ex.add_park(park)
    return report


def _predicted(mentions: list[EntityMention], corpus: Corpus, labels: dict[str, str]
               ) -> tuple[dict[str, frozenset[str]], list[tuple[str, EntityMention]]]:
    pred: dict[str, set[str]] = {t: set() for t in TYPES}
    new: dict[str, EntityMention] = {}
    for m in mentions:
        if m.type == "PARK":
            if m.new:
                lab = _label(m, corpus)
                pred["PARK"].add(f"new:{lab}")
                new.setdefault(lab, m)
            elif m.id in labels:
                pred["PARK"].add(f"new:{labels[m.id]}")
            elif m.id:
                pred["PARK"].add(m.id)
        elif m.id:
            pred[m.type].add(m.id)
        elif m.type == "COMPANY":
            pred["COMPANY"].add("?" + company_key(m.text))
    return {t: frozenset(v) for t, v in pred.items()}, list(new.items())


def _label(m: EntityMention, corpus: Corpus) -> str:
    for name in (m.name_zh, m.name_en):
        if name:
            for lab, cores in corpus.new_parks.items():
                if core(name) in cores:
                    return lab
    return "?" + (m.name_zh or m.name_en or m.text)


def format_report(reports: list[Report]) -> str:
    """A plain-text table: per part and language, P/R/F1 per type, new-park recall and false alerts."""
    lines = [f"{'part':8} {'lang':8} {'type':8} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}"]
    for r in reports:
        langs = sorted({lang for lang, _ in r.counts} - {"all"}) + ["all"]
        for lang in langs:
            for t in TYPES:
                c = r.c(lang, t)
                lines.append(f"{r.part:8} {lang:8} {t:8} {c.precision:6.3f} {c.recall:6.3f} "
                             f"{c.f1:6.3f} {c.tp:4} {c.fp:4} {c.fn:4}")
            lines.append(f"{r.part:8} {lang:8} new-park recall {r.new_recall(lang):.3f} "
                         f"({r.new_found.get(lang, 0)}/{r.new_gold.get(lang, 0)}), "
                         f"false new-park alerts {r.false_alerts.get(lang, 0)}")
        lines.append(f"{r.part:8} documents {r.docs}, batch right {r.batch_right}/{r.batch_gold}"
                     + (f", errors {len(r.errors)}" if r.errors else ""))
    return "\n".join(lines)
