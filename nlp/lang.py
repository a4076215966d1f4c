"""Language detection for articles from sources configured with ``lang: auto``.

Only two languages matter here, so a script count beats a statistical detector (no model, no
download, deterministic): Chinese characters each carry about a word, Latin letters about a
fifth of one. A Chinese article full of "5G", URLs and brand names stays "zh"; an English
article quoting 格力电器 once stays "en".
"""
from __future__ import annotations

import re

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_lang(text: str) -> str:
    """Return ``"zh"`` or ``"en"``; text with no evidence either way is ``"en"``."""
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk >= words else "en"
