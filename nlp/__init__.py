"""parkwatch NLP: knowledge base, language detection and entity extraction.

Imports nothing else of ours (see docs/architecture.md). The heavy pieces (jieba, spaCy) load
only when an ``Extractor`` is built, so ``store`` can import the KB dataclasses cheaply.
"""
from __future__ import annotations

from .kb import City, Company, KnowledgeBase, KnowledgeBaseError, Park, Programme
from .lang import detect_lang

__all__ = [
    "City", "Company", "KnowledgeBase", "KnowledgeBaseError", "Park", "Programme", "detect_lang",
]
