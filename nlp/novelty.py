"""The novelty judgement: is a park-shaped name a new member of the programme, and how sure?

A name in the programme's standard form that no knowledge-base park claims is new. How sure
depends on the evidence around it, scored additively so each piece is visible in the stored
evidence: the formal city slot (or a table row's city cell), list structure (table row,
numbered line, enumeration of parks), a stated batch, selection words (入选, 拟认定, 名单 …; "named",
"designated"), and a lead name that looks like an organisation (a known company, a company
word, a Latin brand, an industry word). A sure find (confidence >= SURE) alerts; a doubtful one
becomes a candidate for review and never alerts by itself; a find with no structure and no
organisation-like name is dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: Confidence from which a new park alerts.
SURE = 0.7

ANNOUNCE_RE = re.compile(
    r"入选|认定|名单|公示|公布|授予|命名|获批|确定为|列入|新增|第[0-9一二三四五六七八九十两]+批|首批|新一批"
    r"|(?i:\bnam(?:ed|es|ing)\b|designat|\bselected\b|\badded\b|\bapproved\b|\blist(?:ed)?\b|\bbatch\b"
    r"|\bjoin(?:s|ed)?\b|\bannounc)")

_WEIGHTS = {
    "city-slot": 0.3, "row-city": 0.3,
    "table": 0.2, "list": 0.2, "enumeration": 0.2, "en-list": 0.2,
    "batch": 0.2, "announcement": 0.1,
    "known-company": 0.2, "company-word": 0.2, "latin-brand": 0.2, "industry-word": 0.1,
    "formal-name": 0.1,
    "programme-after": -0.2,
    "informal": -0.2,
}
_ORG = {"known-company", "company-word", "latin-brand", "industry-word"}
_STRUCTURE = {"city-slot", "row-city", "table", "list", "enumeration", "en-list", "batch", "announcement"}


@dataclass(frozen=True)
class Judgement:
    confidence: float
    candidate: bool
    evidence: tuple[str, ...]


def judge(features: set[str], batch: int | None) -> Judgement | None:
    """The judgement on a new-park find with ``features``; None when it is no park at all."""
    tags = set(features)
    if batch is not None:
        tags.add("batch")
    if not (tags & _ORG) and not (tags & _STRUCTURE):
        return None
    score = 0.3 + sum(_WEIGHTS.get(t, 0.0) for t in tags)
    if batch == 1:          # the first batch is closed and known: an unknown "first-batch" park
        tags.add("first-batch-closed")       # is a misreading or a gap in the KB, for review
        score = min(score, SURE - 0.1)
    score = round(max(0.0, min(1.0, score)), 2)
    evidence = tuple(sorted(tags)) + ((f"batch:{batch}",) if batch is not None else ())
    return Judgement(score, score < SURE, evidence)
