"""Preparing a database: what `parkwatch init` and the demo both do."""

from __future__ import annotations

from pathlib import Path

from nlp.kb import KnowledgeBase
from store.db import init_schema, make_engine, session_factory
from store.repository import sync_kb


def init_database(db_url: str, kb_dir: Path | None = None) -> KnowledgeBase:
    """Create missing tables (new tables are added to an existing database) and load the bundled
    knowledge base, extended by the user's ``kb_dir`` when given; safe to repeat."""
    kb = KnowledgeBase.load(user_dir=kb_dir)  # a bad kb_dir is refused before the database is touched
    engine = make_engine(db_url)
    try:
        init_schema(engine)
        with session_factory(engine).begin() as session:
            sync_kb(session, kb)
    finally:
        engine.dispose()
    return kb
