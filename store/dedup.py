"""Near-duplicate articles across sites: one syndicated story with five URLs counts once.

Exact copies share a content hash; near copies (another portal's header line, a changed
byline) do not, so each article also gets a 64-bit SimHash (trafilatura's implementation,
Charikar's method). trafilatura splits text on spaces, which leaves a Chinese paragraph as a
handful of long "words"; Chinese text is therefore hashed over overlapping character
trigrams instead, which is what makes two copies of a Chinese story land a few bits apart.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from trafilatura.deduplication import Simhash

from store.models import ArticleFingerprint

#: Copies differ in at most this many of 64 bits (similarity >= ~0.94).
MAX_DISTANCE = 4
#: Texts shorter than this (characters) are never called near-duplicates: too little signal.
MIN_CHARS = 200

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9A-Za-z]+")


def simhash(text: str) -> int:
    """64-bit SimHash of ``text`` (CJK-aware tokens)."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    if cjk > len(text) * 0.2:
        grams = [run[i : i + 3] for run in _CJK_RUN.findall(text) for i in range(max(1, len(run) - 2))]
        return Simhash(" ".join(grams)).hash
    return Simhash(text).hash


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

    def original_of(self, article_id: int, value: int, text_length: int) -> int | None:
        """The earlier article ``value`` nearly duplicates, if any (closest, then oldest)."""
        if text_length < MIN_CHARS:
            return None
        best: tuple[int, int] | None = None
        for other_id, other in self.hashes.items():
            if other_id == article_id:
                continue
            distance = (value ^ other).bit_count()
            if distance <= MAX_DISTANCE and (best is None or (distance, other_id) < best):
                best = (distance, other_id)
        return best[1] if best else None

    def record(self, session: Session, article_id: int, text: str) -> int | None:
        """Store ``article_id``'s fingerprint in the caller's transaction; return the id of
        the article it duplicates (None when it is an original)."""
        value = simhash(text)
        original = self.original_of(article_id, value, len(text))
        row = session.get(ArticleFingerprint, article_id) or ArticleFingerprint(article_id=article_id)
        row.simhash, row.duplicate_of_id = f"{value:016x}", original
        session.add(row)
        if original is None:
            self.hashes[article_id] = value
        else:
            self.hashes.pop(article_id, None)
        return original
