"""Preparing a database: what `parkwatch init` and the demo both do."""

from __future__ import annotations

from nlp.kb import KnowledgeBase
from store.db import init_schema, make_engine, session_factory
from store.repository import sync_kb


def init_database(db_url: str) -> KnowledgeBase:
    """Create missing tables and load the bundled knowledge base; safe to repeat."""
    engine = make_engine(db_url)
    try:
        init_schema(engine)
        kb = KnowledgeBase.load()
        with session_factory(engine).begin() as session:
            sync_kb(session, kb)
    finally:
        engine.dispose()
    return kb
