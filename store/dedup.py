"""Near-duplicate articles across sites: one syndicated story with five URLs counts once.

Exact copies share a content hash; near copies (another portal's header line, a changed
byline) do not, so each article also gets a 64-bit SimHash (trafilatura's implementation,
Charikar's method). trafilatura splits text on spaces, which leaves a Chinese paragraph as a
handful of long "words"; Chinese text is therefore hashed over overlapping character
trigrams instead, which is what makes two copies of a Chinese story land a few bits apart.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from functools import lru_cache
from hashlib import blake2b

import numpy as np
from sqlalchemy import ColumnElement, bindparam, insert, select
from sqlalchemy.orm import Session

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
#: Shingle sets kept in memory for confirming candidates (most recently used articles).
SHINGLE_CACHE = 2048

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9A-Za-z]+")
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")


def shingles(text: str) -> list[str]:
    """Tokens for hashing: character trigrams for Chinese text, words otherwise."""
    if len(_CJK_CHAR.findall(text)) > len(text) * 0.2:
        return [run[i : i + 3] for run in _CJK_RUN.findall(text) for i in range(max(1, len(run) - 2))]
    return [w.lower() for w in re.findall(r"\w+", text)]


def simhash(text: str, tokens: list[str] | None = None) -> int:
    """64-bit SimHash of ``text`` (CJK-aware tokens), equal to trafilatura's ``Simhash``.

    Same tokens (trafilatura's sampling) and token hashes (8-byte BLAKE2b), so stored values
    stay comparable; the 64 bit votes are counted with numpy instead of a Python list per
    token, which made hashing a 600-character article cost ~1 ms of a crawl worker's time.
    ``tokens``: ``shingles(text)``, when the caller has them already.
    """
    tokens = _sample(shingles(text) if tokens is None else tokens)
    if not tokens:
        return (1 << 64) - 1  # no token votes: every bit's sum is 0, which counts as set
    digests = np.frombuffer(b"".join(map(_token_digest, tokens)), dtype=">u8").astype(np.uint64)
    set_bits = ((digests[:, None] >> _BIT_SHIFTS) & np.uint64(1)).sum(axis=0)
    ones = np.flatnonzero(2 * set_bits >= len(tokens))
    return sum(1 << int(i) for i in ones)


_BIT_SHIFTS = np.arange(64, dtype=np.uint64)


def _sample(tokens: list[str]) -> list[str]:
    """trafilatura's ``sample_tokens`` over ``" ".join(tokens)``, without re-splitting and
    re-stripping when every token is alphanumeric already (shingles nearly always are: then
    splitting, stripping punctuation and the alphanumeric filter change nothing)."""
    if not tokens or not all(map(str.isalnum, tokens)):
        from trafilatura.deduplication import sample_tokens

        return sample_tokens(" ".join(tokens), 64)
    for shortest in range(4, 0, -1):
        sample = [t for t in tokens if len(t) > shortest]
        if len(sample) >= 32:
            return sample
    return tokens


@lru_cache(maxsize=2**16)
def _token_digest(token: str) -> bytes:
    """Trigrams recur across articles; the cache saves most BLAKE2b calls."""
    return blake2b(token.encode(), digest_size=8).digest()


def jaccard(a: str, b: str) -> float:
    """Share of distinct shingles two texts have in common."""
    sa, sb = set(shingles(a)), set(shingles(b))
    return len(sa & sb) / max(len(sa | sb), 1)


class FingerprintIndex:
    """Every stored original's SimHash, in memory, for one crawl process.

    A crawl checks each new article against all earlier ones, so the scan is a vectorised
    XOR + popcount over a numpy array (a Python loop made it O(n) interpreter steps per article,
    which grows with the database). Confirming a candidate needs its shingles; the shingle sets
    of the last :data:`SHINGLE_CACHE` articles are kept as sorted hash arrays (~5 kB each), so
    formulaic text with many close SimHashes does not re-read and re-split the same texts.
    """

    def __init__(self) -> None:
        self._ids = np.zeros(1024, dtype=np.int64)
        self._values = np.zeros(1024, dtype=np.uint64)
        self._size = 0
        self._slot: dict[int, int] = {}  # article id -> index in the arrays
        self._last_id = 0  # highest article id read from the database
        self._shingles: OrderedDict[int, np.ndarray] = OrderedDict()

    def load(self, session: Session) -> FingerprintIndex:
        """Read all fingerprints of original (non-duplicate) articles."""
        self.refresh(session)
        return self

    def refresh(self, session: Session) -> None:
        """Add the originals stored since the last read, by this process or another one.

        A crawl stores from several worker processes, each with its own index. SQLite runs their
        transactions one at a time (the crawl begins them IMMEDIATE) and hands out ids in that
        order, so reading ids above the highest one seen, inside the caller's transaction,
        misses nothing committed before it."""
        rows = session.connection().execute(_NEWER_FINGERPRINTS, {"last": self._last_id})
        for article_id, value, duplicate_of in rows:
            if duplicate_of is None:
                self._put(article_id, int(value, 16))
            self._last_id = max(self._last_id, article_id)

    def _put(self, article_id: int, value: int) -> None:
        slot = self._slot.get(article_id)
        if slot is None:
            if self._size == len(self._ids):
                self._ids = np.resize(self._ids, 2 * self._size)
                self._values = np.resize(self._values, 2 * self._size)
            slot, self._size = self._size, self._size + 1
            self._slot[article_id] = slot
        self._ids[slot], self._values[slot] = article_id, value

    def _drop(self, article_id: int) -> None:
        slot = self._slot.pop(article_id, None)
        if slot is not None:
            self._ids[slot] = -1  # a tombstone: never a candidate again

    def candidates(self, article_id: int, value: int) -> list[int]:
        """Earlier articles within :data:`MAX_DISTANCE` bits, closest (then oldest) first."""
        ids, values = self._ids[: self._size], self._values[: self._size]
        distances = np.bitwise_count(values ^ np.uint64(value))
        near = np.flatnonzero((distances <= MAX_DISTANCE) & (ids >= 0) & (ids != article_id))
        return [int(other_id) for _, other_id in sorted(zip(distances[near].tolist(), ids[near].tolist()))]

    def _shingle_set(
        self, article_id: int, text: str | None, session: Session, tokens: list[str] | None = None
    ) -> np.ndarray | None:
        cached = self._shingles.get(article_id)
        if cached is not None:
            self._shingles.move_to_end(article_id)
            return cached
        if text is None:
            other = session.get(Article, article_id)
            if other is None:
                return None
            text = other.text
        array = np.unique(np.fromiter(map(hash, shingles(text) if tokens is None else tokens), dtype=np.int64))
        self._shingles[article_id] = array
        if len(self._shingles) > SHINGLE_CACHE:
            self._shingles.popitem(last=False)
        return array

    def original_of(
        self, session: Session, article_id: int, value: int, text: str, tokens: list[str] | None = None
    ) -> int | None:
        """The earlier article this one nearly duplicates, confirmed on the texts, if any."""
        if len(text) < MIN_CHARS:
            return None
        mine: np.ndarray | None = None
        for other_id in self.candidates(article_id, value)[:MAX_CHECKS]:
            theirs = self._shingle_set(other_id, None, session)
            if theirs is None:
                continue
            if mine is None:
                self._shingles.pop(article_id, None)  # its text may have changed
                mine = self._shingle_set(article_id, text, session, tokens)
                assert mine is not None
            common = len(np.intersect1d(mine, theirs, assume_unique=True))
            if common / max(len(mine) + len(theirs) - common, 1) >= MIN_JACCARD:
                return other_id
        return None

    def record(
        self,
        session: Session,
        article_id: int,
        text: str,
        new: bool = False,
        value: int | None = None,
        tokens: list[str] | None = None,
    ) -> int | None:
        """Store ``article_id``'s fingerprint in the caller's transaction; return the id of
        the article it duplicates (None when it is an original). ``new``: the article was
        just inserted, so there is no earlier fingerprint to look up; ``value``: its SimHash,
        when already computed (by a crawl worker); ``tokens``: ``shingles(text)``, if at hand."""
        value = simhash(text) if value is None else value
        if not new:
            self._shingles.pop(article_id, None)  # a changed text: its cached shingles are stale
        original = self.original_of(session, article_id, value, text, tokens)
        row = None if new else session.get(ArticleFingerprint, article_id)
        if row is None:
            values = {"article_id": article_id, "simhash": f"{value:016x}", "duplicate_of_id": original}
            session.connection().execute(_INSERT_FINGERPRINT, values)
        else:
            row.simhash, row.duplicate_of_id = f"{value:016x}", original
        self._last_id = max(self._last_id, article_id)
        if original is None:
            self._put(article_id, value)
        else:
            self._drop(article_id)
            self._shingles.pop(article_id, None)
        return original


_NEWER_FINGERPRINTS = (
    select(ArticleFingerprint.article_id, ArticleFingerprint.simhash, ArticleFingerprint.duplicate_of_id)
    .where(ArticleFingerprint.article_id > bindparam("last"))
    .order_by(ArticleFingerprint.article_id)
)
_INSERT_FINGERPRINT = insert(ArticleFingerprint.__table__)


def is_original() -> ColumnElement[bool]:
    """Filter for articles that are not near-copies of an earlier one, so a syndicated story
    counts once in reports however many portals carried it."""
    copies = select(ArticleFingerprint.article_id).where(ArticleFingerprint.duplicate_of_id.is_not(None))
    return Article.id.not_in(copies)
