"""Quality gate on the page corpora: full HTML pages through the crawl's main-text extraction.

``nlp/corpus/pages/dev`` was written from a brief by helpers who never read ``nlp/`` and is tuned
on; ``nlp/corpus/pages/blind`` was written the same way and is never read by whoever tunes the
rules (only its scores are looked at). The floors below are the scores measured when the gate
was set, a little under them: a change that loses parks, raises false new parks or duplicates a
park fails here. Issue 11's targets (PARK F1 0.95, COMPANY 0.90, every new park, none false) are
printed by ``parkwatch eval --check``; where they are not met yet, the closing note says so.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nlp.kb import KnowledgeBase
from nlp.pages import PageReport, evaluate_pages, load_pages
from schedules.eval_pages import PAGES_DIR, page_text

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus"

#: part → (PARK F1, CITY F1, COMPANY F1, new-park recall, most false new parks, most duplicates)
FLOORS = {
    "dev": (0.96, 0.99, 0.98, 1.0, 0, 0),
    "blind": (0.86, 0.99, 0.96, 0.85, 6, 1),
    "shared": (0.98, 0.99, 0.98, 1.0, 0, 0),
}


@pytest.fixture(scope="module")
def reports() -> dict[str, PageReport]:
    kb = KnowledgeBase.load()
    out = {p: evaluate_pages(p, load_pages(PAGES_DIR / p), page_text, kb) for p in ("dev", "blind")}
    if (SHARED / "gold.json").is_file():
        out["shared"] = evaluate_pages("shared", load_pages(SHARED), page_text, kb)
    return out


def test_corpus_size_languages_and_blind_third() -> None:
    sets = {p: load_pages(PAGES_DIR / p) for p in ("dev", "blind")}
    docs = {p: [d for s in ss for d in s.docs] for p, ss in sets.items()}
    total = sum(len(d) for d in docs.values())
    assert total >= 150
    assert len(docs["blind"]) * 3 >= total - 2
    langs = {d.lang for ds in docs.values() for d in ds}
    assert langs == {"zh-Hans", "zh-Hant", "en"}
    classes = {c for ds in docs.values() for d in ds for c in d.classes}
    assert {"programme-name", "list-structure", "multi-park-list", "en-separated",
            "described-membership", "company-coverage", "hard-negative"} <= classes
    assert all(d.path.is_file() for ds in docs.values() for d in ds)


@pytest.mark.parametrize("part", ["dev", "blind", "shared"])
def test_scores_hold(reports: dict[str, PageReport], part: str) -> None:
    if part not in reports:
        pytest.skip("../shared/corpus is not beside this clone")
    r = reports[part]
    park, city, company, recall, false_new, dups = FLOORS[part]
    assert r.errors == []
    assert r.c("all", "PARK").f1 >= park
    assert r.c("all", "CITY").f1 >= city
    assert r.c("all", "COMPANY").f1 >= company
    assert r.new_recall() >= recall
    assert r.false_alerts.get("all", 0) <= false_new
    assert r.duplicates <= dups


def test_gate_fails_when_gold_is_missed(tmp_path: Path) -> None:
    """A page naming a park the extractor cannot see fails the targets: the scorer can fail."""
    site = tmp_path / "site" / "example.org"
    site.mkdir(parents=True)
    (site / "a.html").write_text("<html><body><article><h1>今天天气</h1><p>今天天气很好，我们去公园散步。"
                                 "公园里有很多人在锻炼身体，气氛很好。</p></article></body></html>", encoding="utf-8")
    (tmp_path / "gold.json").write_text("""{"catalog": {"parks": {"ghost": {"aliases": ["幽灵5G+工业互联网应用示范园区"]}},
      "cities": {"zhuhai": {"aliases": ["珠海"]}}, "companies": {}},
      "documents": {"/example.org/a.html": {"id": "a", "lang": "zh-Hans", "parks": [{"key": "ghost"}],
        "new_parks": [{"key": "ghost"}], "cities": [{"key": "zhuhai"}], "companies": []}}}""", encoding="utf-8")
    r = evaluate_pages("t", load_pages(tmp_path), page_text, KnowledgeBase.load())
    assert r.c("all", "PARK").fn == 1 and r.c("all", "CITY").recall == 0.0 and r.new_recall() == 0.0
    assert any("PARK F1" in f for f in r.failures()) and any("new-park recall" in f for f in r.failures())


def test_eval_cli_scores_a_page_corpus(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "schedules.cli", "--data-dir", str(tmp_path), "eval",
                          "--part", "blind", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert '"part": "blind"' in out.stdout and '"documents": 61' in out.stdout


def test_long_unbroken_letters_do_not_hang_extraction() -> None:
    """The English park forms walk words from fixed anchors: no pattern backtracks, so a
    400,000-letter run (a base64 blob) costs one pass (the old regex took minutes on 80,000);
    and nothing is scanned once per mention over a whole page (a 6,000-park enumeration without
    a full stop took minutes before sentences and clause look-ups were bounded)."""
    code = ("from nlp.extract import Extractor; from nlp.kb import KnowledgeBase;"
            "ex = Extractor(KnowledgeBase.load());"
            "t = 'x' * 200000 + ' 5G + Industrial Internet Demonstration Park ' + 'Ab ' * 100000;"
            "print(len(ex.extract(t, 'en')), len(ex.extract(t, 'zh')));"
            # a page-long enumeration with no sentence end, many parks and described members
            "z = '锦拓精密5G+工业互联网应用示范园区（东莞）、' * 3000 + '格力电器成为首批5G+工业互联网应用示范园区，' * 3000;"
            "print(len(ex.extract(z, 'zh')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert out.returncode == 0, out.stderr
