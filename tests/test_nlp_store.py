"""New parks across languages, through the real store (SQLite file) and back into the extractor.

A park first named in a Chinese notice and later in English wire copy (or the other way
round) is one park: one row, one alert, and every later mention linked to its stable id.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from nlp.extract import EntityMention, Extractor
from nlp.found import found_park_id
from nlp.kb import KnowledgeBase
from store import repository
from store.models import Alert, Article, Mention, Park

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
ZH_NOTICE = "第二批示范园区名单如下：\n1. 东莞松湖智造5G+工业互联网应用示范园区（东莞）\n"
EN_WIRE = ("The second batch includes the Dongguan Songhu Smart Manufacturing "
           "5G+Industrial Internet Application Demonstration Park.")
EN_FIRST = ("Qingyuan Hi-tech Precision Manufacturing 5G + Industrial Internet Demonstration Park "
            "(Qingyuan) joined the third batch.")
ZH_LATER = "清远高新精密制造5G+工业互联网应用示范园区日前揭牌。"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def extractor(sessions: sessionmaker[Session], kb: KnowledgeBase) -> Extractor:
    """As the pipeline builds it: the bundled KB plus every park found in this database."""
    with sessions() as s:
        return Extractor(kb.with_parks(repository.found_parks(s)))


def save(sessions: sessionmaker[Session], url: str, text: str, lang: str,
         mentions: list[EntityMention]) -> repository.SaveResult:
    with sessions.begin() as s:
        return repository.save_article(
            s, source="t", url=url, canonical_url=url, lang=lang, title=None, text=text,
            published_at=None, fetched_at=T0, mentions=mentions)


def parks(ms: list[EntityMention]) -> list[EntityMention]:
    return [m for m in ms if m.type == "PARK"]


def test_chinese_first_then_english_links_to_the_stored_park(
        sessions: sessionmaker[Session], kb: KnowledgeBase) -> None:
    first = extractor(sessions, kb).extract(ZH_NOTICE, "zh")
    assert [(m.new, m.batch) for m in parks(first)] == [(True, 2)]
    assert len(save(sessions, "http://x/zh", ZH_NOTICE, "zh", first).new_parks) == 1

    later = parks(extractor(sessions, kb).extract(EN_WIRE, "en"))   # a new process, from the DB
    stored_id = found_park_id("东莞松湖智造5G+工业互联网应用示范园区")
    assert [(m.id, m.new, m.city) for m in later] == [(stored_id, False, "city:dongguan")]
    assert later[0].name_zh == "东莞松湖智造5G+工业互联网应用示范园区"
    assert save(sessions, "http://x/en", EN_WIRE, "en", later).new_parks == []

    short = parks(extractor(sessions, kb).extract("松湖智造示范园区产值翻番。", "zh"))
    assert [(m.id, m.new) for m in short] == [(stored_id, False)]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Park).where(Park.origin == "found")) == 1
        assert s.scalar(select(func.count()).select_from(Alert)) == 1
        linked = s.scalars(select(Mention).join(Article).where(Article.url == "http://x/en")).all()
        assert [m.entity_kb_id for m in linked if m.type == "PARK"] == [stored_id]
        row = s.scalar(select(Park).where(Park.kb_id == stored_id))
        assert row is not None and "东莞松湖智造示范园区" in row.aliases


def test_english_only_find_gets_a_stable_id_and_links_a_later_chinese_mention(
        sessions: sessionmaker[Session], kb: KnowledgeBase) -> None:
    (m,) = parks(extractor(sessions, kb).extract(EN_FIRST, "en"))
    assert (m.new, m.name_zh, m.city, m.batch) == (True, None, "city:qingyuan", 3)
    with sessions.begin() as s:
        article = Article(canonical_url="http://x/q", url="http://x/q", source="t", lang="en",
                          text=EN_FIRST, content_hash="h", fetched_at=T0, first_seen_at=T0,
                          updated_at=T0)
        s.add(article)
        s.flush()
        row, created = repository._get_or_create_found_park(s, m, article)
        again, created_again = repository._get_or_create_found_park(s, m, article)
        assert created and not created_again and again.id == row.id
        assert row.kb_id.startswith("park:found:en-") and row.name_zh == ""
        assert row.kb_id == repository.found_park_kb_id(None, m.name_en)
    with sessions() as s:
        (entry,) = repository.found_parks(s)
    assert entry.name_zh == "" and entry.name_en == m.name_en

    (zh,) = parks(extractor(sessions, kb).extract(ZH_LATER, "zh"))
    assert (zh.id, zh.new) == (entry.id, False)
    (en,) = parks(extractor(sessions, kb).extract(
        "Work at the Qingyuan Hi-tech Precision Manufacturing 5G + Industrial Internet "
        "Demonstration Park has begun.", "en"))
    assert (en.id, en.new) == (entry.id, False)


def test_a_different_park_of_the_same_city_is_not_folded_in(
        sessions: sessionmaker[Session], kb: KnowledgeBase) -> None:
    first = extractor(sessions, kb).extract(ZH_NOTICE, "zh")
    save(sessions, "http://x/zh", ZH_NOTICE, "zh", first)
    other = parks(extractor(sessions, kb).extract(
        "Dongguan Humen Garment 5G + Industrial Internet Demonstration Park (Dongguan) was named.",
        "en"))
    assert [(m.id, m.new) for m in other] == [(None, True)]


def test_old_rows_without_aliases_still_link_short_forms(
        sessions: sessionmaker[Session], kb: KnowledgeBase) -> None:
    name = "江门新会精工5G+工业互联网应用示范园区"
    with sessions.begin() as s:
        s.add(Park(kb_id=found_park_id(name), name_zh=name, origin="found", status="new",
                   city_kb_id="city:jiangmen", aliases=[]))
    ms = parks(extractor(sessions, kb).extract("新会精工示范园区开园。江门新会精工示范园区招商。", "zh"))
    assert [(m.text, m.id) for m in ms] == [("新会精工示范园区", found_park_id(name)),
                                            ("江门新会精工示范园区", found_park_id(name))]


def test_store_links_a_stale_mention_in_the_other_language(
        sessions: sessionmaker[Session], kb: KnowledgeBase) -> None:
    """Mentions extracted before the park was stored (a worker's stale extractor) still meet
    the stored park: one row, both names kept, no second alert."""
    stale = extractor(sessions, kb)
    zh = stale.extract(ZH_NOTICE, "zh")
    (en,) = parks(stale.extract(EN_WIRE, "en"))
    assert en.new and en.name_zh is None
    save(sessions, "http://x/zh", ZH_NOTICE, "zh", zh)
    with sessions.begin() as s:
        article = s.scalar(select(Article))
        assert article is not None
        row, created = repository._get_or_create_found_park(s, en, article)
        assert not created and row.kb_id == found_park_id("东莞松湖智造5G+工业互联网应用示范园区")
        assert row.name_en == en.name_en
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Park).where(Park.origin == "found")) == 1
        assert s.scalar(select(func.count()).select_from(Alert)) == 1


def test_english_first_then_two_chinese_articles_make_one_park(
        sessions: sessionmaker[Session], kb: KnowledgeBase) -> None:
    """The crawl order the demo can take: the English wire copy is stored first, then the
    Chinese notice, then Chinese news, each extracted by a worker that knows no found park.
    The park gets its Chinese name from the notice and the news mention meets that row."""
    stale = extractor(sessions, kb)
    save(sessions, "http://x/en", EN_WIRE, "en", stale.extract(EN_WIRE, "en"))
    save(sessions, "http://x/zh", ZH_NOTICE, "zh", stale.extract(ZH_NOTICE, "zh"))
    third = save(sessions, "http://x/zh2", "报道：" + ZH_NOTICE, "zh", stale.extract("报道：" + ZH_NOTICE, "zh"))
    assert third.new_parks == []
    with sessions() as s:
        (row,) = s.scalars(select(Park).where(Park.origin == "found")).all()
        assert row.name_zh == "东莞松湖智造5G+工业互联网应用示范园区" and row.name_en
        assert s.scalar(select(func.count()).select_from(Alert)) == 1
        linked = set(s.scalars(select(Mention.article_id).where(Mention.entity_kb_id == row.kb_id)))
        assert len(linked) == 3
