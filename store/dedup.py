"""Near-duplicate articles across sites: one syndicated story with five URLs counts once.

Exact copies share a content hash; near copies (another portal's header line, a changed
byline) do not, so each article also gets a 64-bit SimHash (trafilatura's implementation,
Charikar's method). trafilatura splits text on spaces, which leaves a Chinese paragraph as a
handful of long "words"; Chinese text is therefore hashed over overlapping character
trigrams instead, which is what makes two copies of a Chinese story land a few bits apart.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session
from trafilatura.deduplication import Simhash

from store.models import Article, ArticleFingerprint

#: Candidates differ in at most this many of 64 bits; each is then confirmed on the texts.
MAX_DISTANCE = 8
#: Texts shorter than this (characters) are never called near-duplicates: too little signal.
MIN_CHARS = 200
#: A SimHash candidate is confirmed only if the two texts share this much of their shingles
#: (Jaccard): formulaic government prose can land close in SimHash without being one story.
MIN_JACCARD = 0.8
#: At most this many of the closest candidates are checked (formulaic text has many).
MAX_CHECKS = 3

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9A-Za-z]+")


def shingles(text: str) -> list[str]:
    """Tokens for hashing: character trigrams for Chinese text, words otherwise."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    if cjk > len(text) * 0.2:
        return [run[i : i + 3] for run in _CJK_RUN.findall(text) for i in range(max(1, len(run) - 2))]
    return [w.lower() for w in re.findall(r"\w+", text)]


def simhash(text: str) -> int:
    """64-bit SimHash of ``text`` (CJK-aware tokens)."""
    return Simhash(" ".join(shingles(text))).hash


def jaccard(a: str, b: str) -> float:
    """Share of distinct shingles two texts have in common."""
    sa, sb = set(shingles(a)), set(shingles(b))
    return len(sa & sb) / max(len(sa | sb), 1)


class FingerprintIndex:
    """Every stored article's SimHash, in memory, for one crawl process."""

    def __init__(self) -> None:
        self.hashes: dict[int, int] = {}

    def load(self, session: Session) -> FingerprintIndex:
        """Read all fingerprints of original (non-duplicate) articles."""
        rows = session.execute(
            select(ArticleFingerprint.article_id, ArticleFingerprint.simhash).where(
                ArticleFingerprint.duplicate_of_id.is_(None)
            )
        )
        self.hashes = {article_id: int(value, 16) for article_id, value in rows}
        return self

    def candidates(self, article_id: int, value: int) -> list[int]:
        """Earlier articles within :data:`MAX_DISTANCE` bits, closest (then oldest) first."""
        near = []
        for other_id, other in self.hashes.items():
            distance = (value ^ other).bit_count()
            if distance <= MAX_DISTANCE and other_id != article_id:
                near.append((distance, other_id))
        return [other_id for _, other_id in sorted(near)]

    def original_of(self, session: Session, article_id: int, value: int, text: str) -> int | None:
        """The earlier article this one nearly duplicates, confirmed on the texts, if any."""
        if len(text) < MIN_CHARS:
            return None
        mine: set[str] | None = None
        for other_id in self.candidates(article_id, value)[:MAX_CHECKS]:
            other = session.get(Article, other_id)
            if other is None:
                continue
            mine = mine if mine is not None else set(shingles(text))
            theirs = set(shingles(other.text))
            if len(mine & theirs) / max(len(mine | theirs), 1) >= MIN_JACCARD:
                return other_id
        return None

    def record(
        self, session: Session, article_id: int, text: str, new: bool = False, value: int | None = None
    ) -> int | None:
        """Store ``article_id``'s fingerprint in the caller's transaction; return the id of
        the article it duplicates (None when it is an original). ``new``: the article was
        just inserted, so there is no earlier fingerprint to look up; ``value``: its SimHash,
        when already computed (by a crawl worker)."""
        value = simhash(text) if value is None else value
        original = self.original_of(session, article_id, value, text)
        row = None if new else session.get(ArticleFingerprint, article_id)
        row = row or ArticleFingerprint(article_id=article_id)
        row.simhash, row.duplicate_of_id = f"{value:016x}", original
        session.add(row)
        if original is None:
            self.hashes[article_id] = value
        else:
            self.hashes.pop(article_id, None)
        return original


def is_original() -> ColumnElement[bool]:
    """Filter for articles that are not near-copies of an earlier one, so a syndicated story
    counts once in reports however many portals carried it."""
    copies = select(ArticleFingerprint.article_id).where(ArticleFingerprint.duplicate_of_id.is_not(None))
    return Article.id.not_in(copies)
