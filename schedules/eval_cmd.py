"""`parkwatch eval`: score the extractor on the bundled labelled corpus.

Prints per-type precision/recall/F1 at document level, new-park recall and false new-park
alerts, by language, for the tuning part and the held-out part; with ``--check`` the exit code
says whether the targets of issue 4 are met, so CI or an analyst editing the knowledge base
sees a regression at once.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from nlp.evaluate import PARTS, TYPES, CorpusError, evaluate, format_report, load_corpus
from nlp.kb import KnowledgeBase
from schedules.errors import UserError
from schedules.eval_pages import PAGE_PARTS, PAGES_DIR, run_pages


def run_eval(parts: list[str], corpus_dir: Path | None, as_json: bool, check: bool,
             kb_dir: Path | None = None) -> int:
    """Evaluate ``parts``; return 0, or 1 when ``check`` and a target is missed.

    With ``kb_dir`` (the setting) the extractor is built from the bundled knowledge base extended
    by the user's files, as a crawl would build it."""
    kb = KnowledgeBase.load(user_dir=kb_dir) if kb_dir is not None else None
    try:
        reports = [evaluate(load_corpus(p, corpus_dir), kb=kb) for p in parts]  # kb None: the bundled one
    except CorpusError as exc:
        raise UserError(f"eval: {exc}") from exc
    if as_json:
        for r in reports:
            print(json.dumps({
                "part": r.part, "documents": r.docs,
                "scores": {f"{lang}/{t}": {"precision": round(c.precision, 4), "recall": round(c.recall, 4),
                                           "f1": round(c.f1, 4), **asdict(c)}
                           for (lang, t), c in sorted(r.counts.items()) if t in TYPES},
                "new_park_recall": r.new_recall(), "false_new_park_alerts": r.false_alerts.get("all", 0),
                "batch_right": r.batch_right, "batch_gold": r.batch_gold, "errors": r.errors,
                "failures": r.failures(),
            }, ensure_ascii=False))
    else:
        print(format_report(reports))
    failures = [f for r in reports for f in r.failures()]
    if check and failures:
        for f in failures:
            print(f"parkwatch: eval: target missed: {f}", file=sys.stderr)
        return 1
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--part", choices=[*PARTS, *PAGE_PARTS, "all"], default="all",
                   help="corpus part: the sentence parts tuning/heldout or the page parts dev/blind "
                        "(default all)")
    p.add_argument("--pages", type=Path, action="append", default=[], metavar="DIR",
                   help="also score a page corpus in DIR (site/ + gold.json), e.g. ../shared/corpus")
    p.add_argument("--corpus", type=Path, help="directory with tuning.yaml/heldout.yaml (default: bundled)")
    p.add_argument("--json", action="store_true", help="one JSON object per part")
    p.add_argument("--check", action="store_true", help="exit 1 when a quality target is missed")


def cmd_eval(args: argparse.Namespace, cfg: object) -> int:
    every = list(PARTS) if args.corpus is not None else [*PARTS, *PAGE_PARTS]   # --corpus: sentences
    chosen = every if args.part == "all" else [args.part]
    kb_dir = getattr(cfg, "kb_dir", None)
    kb = KnowledgeBase.load(user_dir=kb_dir) if kb_dir is not None else None
    pages = [(p, PAGES_DIR / p) for p in chosen if p in PAGE_PARTS]
    pages += [(d.name or str(d), d) for d in args.pages]
    missed = run_pages(pages, kb, args.json) if pages else []
    sentence_parts = [p for p in chosen if p in PARTS]
    rc = run_eval(sentence_parts, args.corpus, args.json, args.check, kb_dir=kb_dir) if sentence_parts else 0
    if args.check and missed:
        for f in missed:
            print(f"parkwatch: eval: target missed: {f}", file=sys.stderr)
        return 1
    return rc
