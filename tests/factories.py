"""Plain test data builders shared by store and report tests."""

from __future__ import annotations

from dataclasses import dataclass

NEW_PARK = "东莞松湖智造5G+工业互联网应用示范园区"


@dataclass(frozen=True)
class M:
    """A mention as the extractor produces it (only the fields the store reads)."""

    type: str
    text: str
    start: int
    end: int
    id: str | None = None
    name_zh: str | None = None
    name_en: str | None = None
    new: bool = False
    sentence: str = ""
    city: str | None = None
    company: str | None = None
    company_name: str | None = None
    batch: int | None = None
    candidate: bool = False
    confidence: float | None = None
    evidence: tuple[str, ...] = ()


def new_park_mention(start: int = 0) -> M:
    return M("PARK", NEW_PARK + "（东莞）", start, start + len(NEW_PARK) + 4, None, NEW_PARK, None, True,
             "第二批名单包括" + NEW_PARK + "（东莞）。", "city:dongguan", None, "东莞松湖智造", 2)
