"""Sentence boundaries for evidence snippets, computed on a spaCy Doc of the original text.

Working on tokens rather than raw characters is what makes English right: spaCy's tokenizer
keeps abbreviations such as "Co." and "Ltd." as single tokens, so only a free-standing "." ends
a sentence. Chinese ends at 。！？; both end at ! ? ; and every newline (headlines, list items).
"""
from __future__ import annotations

import bisect
import re

from spacy.tokens import Doc

#: How far a sentence reaches either side of a mention, at most (evidence, batch, selection words).
REACH = 1000
_END = set("。！？!?；;")
_CLOSERS = set("\"'”’」』）)】》")
_ZH_END_RE = re.compile("[。！？!?；;]+[\"'”’」』）)】》]*")


class Sentences:
    """Boundaries of ``doc.text``; ``around(i)`` is the stripped sentence containing offset ``i``."""

    def __init__(self, doc: Doc | str) -> None:
        text = doc if isinstance(doc, str) else doc.text
        self.text = text
        cuts = {0, len(text)}
        cuts.update(i + 1 for i, ch in enumerate(text) if ch == "\n")
        if isinstance(doc, str):
            # Chinese: sentence ends are characters, no tokens needed (and tokenising the
            # whole article just for this would cost a third of the extractor's time).
            cuts.update(m.end() for m in _ZH_END_RE.finditer(text))
            self.cuts = sorted(cuts)
            return
        tokens = list(doc)
        for k, tok in enumerate(tokens):
            t = tok.text
            if (t and all(c in _END for c in t)) or (t == "." and self._full_stop(tokens, k)):
                end = tok.idx + len(t)
                j = k + 1
                while j < len(tokens) and tokens[j].text in _CLOSERS and tokens[j - 1].whitespace_ == "":
                    end = tokens[j].idx + len(tokens[j].text)
                    j += 1
                cuts.add(end)
        self.cuts = sorted(cuts)

    @staticmethod
    def _full_stop(tokens: list, k: int) -> bool:
        """A "." ends a sentence when followed by space/end and not after a bare list number."""
        tok = tokens[k]
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if not (tok.whitespace_ or nxt is None or nxt.is_space):
            return False
        prev = tokens[k - 1] if k > 0 else None
        if prev is not None and prev.text.isdigit():
            before = tokens[k - 2] if k >= 2 else None
            if before is None or before.is_space or before.text.endswith("\n"):
                return False  # "1. " list marker at the start of a line
        return True

    def span(self, i: int) -> tuple[int, int]:
        k = bisect.bisect_right(self.cuts, i) - 1
        k = max(0, min(k, len(self.cuts) - 2))
        # at most REACH characters either side: a "sentence" of a whole page (an enumeration
        # joined by 、 with no full stop) would otherwise be copied and scanned once per mention
        return max(self.cuts[k], i - REACH), min(self.cuts[k + 1], i + REACH)

    def around(self, i: int) -> str:
        s, e = self.span(i)
        return self.text[s:e].strip()
