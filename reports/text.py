"""Escaping crawled text for the formats reports are written in."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """Crawled strings are data, never markup: a title with `<script>` or `|` stays literal text."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))
