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
from schedules.errors import UserError


def run_eval(parts: list[str], corpus_dir: Path | None, as_json: bool, check: bool) -> int:
    """Evaluate ``parts``; return 0, or 1 when ``check`` and a target is missed."""
    try:
        reports = [evaluate(load_corpus(p, corpus_dir)) for p in parts]
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
    p.add_argument("--part", choices=[*PARTS, "all"], default="all", help="corpus part (default all)")
    p.add_argument("--corpus", type=Path, help="directory with tuning.yaml/heldout.yaml (default: bundled)")
    p.add_argument("--json", action="store_true", help="one JSON object per part")
    p.add_argument("--check", action="store_true", help="exit 1 when a quality target is missed")


def cmd_eval(args: argparse.Namespace, cfg: object) -> int:
    parts = list(PARTS) if args.part == "all" else [args.part]
    return run_eval(parts, args.corpus, args.json, args.check)
