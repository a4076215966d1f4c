"""`parkwatch eval` on page corpora: full HTML pages through the crawl's own main-text extraction.

The scorer lives in nlp.pages and knows nothing of the crawler; this module wires the two: each
page is decoded and extracted exactly as a crawl would (crawler.extract.extract_page), its
headline and main text joined, and the result handed to the extractor.
"""
from __future__ import annotations

import json
from pathlib import Path

from crawler.extract import extract_page
from nlp.kb import KnowledgeBase
from nlp.pages import PageCorpusError, PageReport, evaluate_pages, format_report, load_pages
from schedules.errors import UserError

#: The bundled page corpus: ``dev`` is tuned on, ``blind`` never read by whoever tunes rules.
PAGES_DIR = Path(__file__).resolve().parent.parent / "nlp" / "corpus" / "pages"
PAGE_PARTS = ("dev", "blind")


def page_text(path: Path, encoding: str | None) -> tuple[str, str] | None:
    """Headline + main text of a saved page, as the crawl extracts it (the gold's "main text")."""
    page = extract_page(path.read_bytes(), "https://" + path.as_posix().split("/site/", 1)[-1])
    if page is None:
        return None
    title = page.title or ""
    text = page.text if title and page.text.startswith(title) else f"{title}\n\n{page.text}".strip()
    return text, page.lang


def run_pages(parts: list[tuple[str, Path]], kb: KnowledgeBase | None, as_json: bool) -> list[str]:
    """Score each (name, folder); print the reports; return the targets missed."""
    reports: list[PageReport] = []
    for name, folder in parts:
        try:
            sets = load_pages(folder)
        except PageCorpusError as exc:
            raise UserError(f"eval: {exc}") from exc
        reports.append(evaluate_pages(name, sets, page_text, kb or KnowledgeBase.load()))
    if as_json:
        for r in reports:
            print(json.dumps({
                "part": r.part, "documents": r.docs,
                "scores": {f"{g}/{t}": {"precision": round(c.precision, 4), "recall": round(c.recall, 4),
                                        "f1": round(c.f1, 4), "tp": c.tp, "fp": c.fp, "fn": c.fn}
                           for (g, t), c in sorted(r.counts.items())},
                "new_park_recall": r.new_recall(), "false_new_parks": r.false_alerts.get("all", 0),
                "duplicate_parks": r.duplicates, "batch_right": r.batch_right, "batch_gold": r.batch_gold,
                "errors": r.errors, "failures": r.failures(),
            }, ensure_ascii=False))
    else:
        print(format_report(reports))
    return [f for r in reports for f in r.failures()]
