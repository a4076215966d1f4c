"""Writing a digest from the database, shared by `parkwatch digest` and the weekly job."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from nlp.kb import KnowledgeBase
from reports.digest import build_digest, render_markdown
from store.db import check_schema, make_engine, session_factory


def write_digest(db_url: str, *, days: int = 7, out: Path | None = None, until: datetime | None = None) -> str:
    engine = make_engine(db_url)
    check_schema(engine)
    planned = KnowledgeBase.load().programme.planned_parks
    with session_factory(engine)() as session:
        digest = build_digest(session, until=until or datetime.now(timezone.utc), days=days, planned_parks=planned)
    engine.dispose()
    text = render_markdown(digest)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return text
