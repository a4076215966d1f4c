"""Escaping crawled text for the formats reports are written in."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    """Crawled strings are data, never markup: a title with `<script>` or `|` stays literal text."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


PROGRAMME_SUFFIXES = ("5G+工业互联网应用示范园区", "5G+工业互联网示范园区", "5G + Industrial Internet demonstration park")


def short_park(name: str) -> str:
    """A park's name without the programme's long standard suffix, for chart legends and tiles."""
    for suffix in PROGRAMME_SUFFIXES:
        if suffix in name:
            head = name.split(suffix, 1)[0].strip()
            if head:
                return head + ("园区" if suffix[0] == "5" else " park")
    return name


def number(value: float) -> str:
    """An average with at most two decimals and no trailing zeros: 0.25, 0.5, 2."""
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def signed(value: float) -> str:
    """A change with its sign: +2, -0.5, +0.75; no change is 0."""
    text = number(abs(value))
    return "0" if text == "0" else ("+" if value > 0 else "-") + text


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
