"""`parkwatch extract`: the crawl's own text extraction and entity extraction, on local files.

HTML goes through the same main-text extraction as a crawl, so page chrome never becomes text;
offsets in the output are offsets into that extracted text.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlalchemy.engine import make_url

from crawler.extract import decode_text, extract_page, looks_like_html
from nlp.extract import EntityMention, Extractor
from nlp.kb import KnowledgeBase
from nlp.lang import detect_lang
from schedules.config import Config

ENTITY_FIELDS = ("type", "text", "start", "end", "id", "name_zh", "name_en", "new",
                 "city", "company", "company_name", "batch", "sentence")


@dataclass
class FileResult:
    source: str
    lang: str | None = None
    title: str | None = None
    entities: list[EntityMention] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "lang": self.lang,
            "title": self.title,
            "entities": [{k: asdict(e)[k] for k in ENTITY_FIELDS} for e in self.entities],
        }


def knowledge_base(cfg: Config) -> KnowledgeBase:
    """The database's knowledge base when one exists (so parks found earlier are not 'new'),
    else the bundled one; both extended by the user's ``kb_dir``. Reading never creates a
    database. Candidate parks are left out (store.repository.found_parks): they stay new."""
    bundled = KnowledgeBase.load(user_dir=cfg.kb_dir)
    url = make_url(cfg.database_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        return bundled
    from store.db import check_schema, make_engine, session_factory
    from store.errors import StoreError
    from store.repository import found_parks

    engine = make_engine(cfg.database_url)
    try:
        check_schema(engine)
    except StoreError:
        return bundled
    with session_factory(engine)() as session:
        found = found_parks(session)
    engine.dispose()
    return bundled.with_parks(found)


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def extract_files(paths: Sequence[str], cfg: Config, *, lang: str | None = None) -> Iterator[FileResult]:
    extractor = Extractor(knowledge_base(cfg))
    for path in paths:
        result = FileResult(source=path)
        try:
            data = _read(path)
        except OSError as exc:
            result.error = f"cannot read file: {exc.strerror or exc}"
            yield result
            continue
        if looks_like_html(data):
            url = "file:///dev/stdin" if path == "-" else Path(path).resolve().as_uri()
            page = extract_page(data, url, default_lang=lang or "auto")
            if page is None:
                result.error = "no main text found in this HTML"
                yield result
                continue
            text, result.title, result.lang = page.text, page.title, lang or page.lang
        else:
            text = decode_text(data)
            result.lang = lang or detect_lang(text)
        result.entities = extractor.extract(text, result.lang)
        yield result
