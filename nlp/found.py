"""A park found in coverage, as a knowledge-base entry the extractor can match from then on.

Both the store (which persists found parks) and the evaluation (which replays a crawl over the
corpus) turn a new-park mention into a ``Park``; doing it here, in one place, keeps the
aliases they give it identical, and so the linking they measure identical. Light on purpose:
the store imports it, so it must not pull in jieba or spaCy.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Protocol

from .kb import Park

ZH_SUFFIX = "5G+工业互联网应用示范园区"
EN_SUFFIX = "5G + Industrial Internet Demonstration Park"
_EN_CORE_RE = re.compile(r"\s*5G\s*\+.*$", re.DOTALL)
_CITY_SLOT_RE = re.compile(r"\s*\([^()]*\)\s*$")


class NewParkMention(Protocol):
    """What is needed of a new-park mention (nlp.extract.EntityMention fits)."""

    @property
    def name_zh(self) -> str | None: ...
    @property
    def name_en(self) -> str | None: ...
    @property
    def city(self) -> str | None: ...
    @property
    def company(self) -> str | None: ...
    @property
    def batch(self) -> int | None: ...


def en_lead(name_en: str) -> str:
    """An English park name's lead part, before the programme suffix ("GAC Aion 5G + …" → "GAC Aion")."""
    return _EN_CORE_RE.sub("", name_en).strip()


def _key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def found_park_id(name_zh: str | None, name_en: str | None = None) -> str:
    """A stable id for a found park: from its Chinese name, else from its English name.

    The Chinese form is the programme's own, so it wins whenever it is known; a park first
    named in English gets an ``en-`` id from its name without the city slot, so "X Park" and
    "X Park (City)" meet in one row.
    """
    if name_zh:
        return "park:found:" + hashlib.sha1(_key(name_zh).encode("utf-8")).hexdigest()[:12]
    if not name_en:
        raise ValueError("a found park needs a Chinese or an English name")
    key = _key(_CITY_SLOT_RE.sub("", name_en)).casefold()
    return "park:found:en-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def found_park_aliases(name_zh: str | None, name_en: str | None) -> tuple[str, ...]:
    """Short forms coverage uses once a park is known: the core name + 示范园区 (the extractor
    adds the forms without a leading city, 松湖智造示范园区, because it knows the cities), and the
    English name without its city slot."""
    out: list[str] = []
    core = name_zh[: -len(ZH_SUFFIX)] if name_zh and name_zh.endswith(ZH_SUFFIX) else None
    if core and (len(core) >= 3 or not core.isascii()):
        out += [core + "示范园区", core + "5G+工业互联网示范园区"]
    if name_en:
        out += [name_en, _CITY_SLOT_RE.sub("", name_en)]
    seen = {name_zh}
    return tuple(a for a in dict.fromkeys(out) if a and a not in seen)


def park_from_mention(m: NewParkMention) -> Park:
    """The KB entry for a newly found park (``name_zh`` is "" when only an English name is known)."""
    return Park(
        id=found_park_id(m.name_zh, m.name_en),
        name_zh=m.name_zh or "",
        name_en=m.name_en,
        city=m.city,
        company=m.company,
        batch=m.batch,
        aliases=found_park_aliases(m.name_zh, m.name_en),
    )
