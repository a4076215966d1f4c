"""Throughput of the whole entity extractor beside plain ``jieba.lcut``, same text, same run.

Usage: python bench/bench_nlp.py [--chars 400000] [--rounds 3]

The text is the labelled corpus (nlp/corpus), Chinese (simplified and traditional) and English
documents apart, repeated until each language has about ``--chars`` characters, and processed
one document at a time, as a crawl does. The process is pinned to one core where the OS allows
it; jieba and the extractor run pass by pass in turn, and the best pass of each counts. Target (issue 4): the Chinese extractor at >= 50% of plain jieba's characters per second.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jieba

from nlp.evaluate import PARTS, load_corpus
from nlp.extract import Extractor, _quiet_jieba
from nlp.kb import KnowledgeBase


def documents(lang: str, chars: int) -> list[str]:
    base = [d.text for p in PARTS for d in load_corpus(p).docs if d.lang == lang]
    out: list[str] = []
    total = 0
    while total < chars:
        for t in base:
            out.append(t)
            total += len(t)
    return out


def one_pass(fn: Callable[[str], object], docs: list[str]) -> float:
    """Characters per second of one pass over ``docs``."""
    t0 = time.perf_counter()
    for d in docs:
        fn(d)
    return sum(map(len, docs)) / (time.perf_counter() - t0)


def rates(fns: list[Callable[[str], object]], docs: list[str], rounds: int) -> list[float]:
    """Best characters per second of each function over ``rounds`` passes, the functions
    interleaved pass by pass so that load from other processes hits them alike."""
    best = [0.0] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best[i] = max(best[i], one_pass(fn, docs))
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=400_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with _quiet_jieba():
        jieba.initialize()
    t0 = time.perf_counter()
    ex = Extractor(KnowledgeBase.load())
    print(f"extractor load: {time.perf_counter() - t0:.2f} s")
    for lang in ("zh", "en"):
        docs = documents(lang, args.chars)
        ex.extract(docs[0], lang)          # warm caches before timing
        jieba.lcut(docs[0])
        j, e = rates([jieba.lcut, functools.partial(ex.extract, lang=lang)], docs, args.rounds)
        print(f"{lang}: {len(docs)} docs, {sum(map(len, docs))} chars | plain jieba.lcut {j:,.0f} chars/s"
              f" | extractor {e:,.0f} chars/s | extractor/jieba {e / j:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
