"""The digest's numbers and its Markdown, checked for exact content on a fixed fixture database.

`populate` builds the fixture week (2026-W47 in Asia/Shanghai) used by the HTML and e-mail tests
too: a second-batch notice naming a new park in Dongguan, a Chinese article with a hostile title,
an English article, older coverage for the "previous four weeks", one crawl run with an HTTP
error and a source that fetched nothing, and an older source that went quiet.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from nlp.kb import KnowledgeBase
from reports.digest import build_digest
from reports.digest_window import WindowError, date_span, iso_week, previous_week
from reports.render_md import render_markdown
from store import repository
from store.db import init_schema, make_engine, session_factory, sqlite_url
from store.models import CrawlError, CrawlRun
from tests.factories import NEW_PARK, M, new_park_mention

WEEK = iso_week("2026-W47", "Asia/Shanghai")  # 2026-11-15 16:00 UTC to 2026-11-22 16:00 UTC
U = WEEK.until
HOSTILE = "<script>alert(1)</script> | 珠海"

ZHUHAI = M("CITY", "珠海", 0, 2, "city:zhuhai", "珠海", "Zhuhai")
GREE = M("COMPANY", "格力电器", 3, 7, "company:gree", "格力电器", "Gree Electric")
DONGGUAN = M("CITY", "东莞", 60, 62, "city:dongguan", "东莞", "Dongguan")
HAICHUAN = M("COMPANY", "海川机电", 70, 74, None, "海川机电", None)  # not in the knowledge base
JINGXIN_PARK = M("PARK", "京信园区", 20, 24, "park:jingxin-guangzhou", "京信园区", None)


def add(s: Session, url: str, source: str, title: str, mentions: list[M], fetched: datetime, lang: str = "zh") -> None:
    repository.save_article(s, source=source, url=url, canonical_url=url, lang=lang, title=title,
                            text="正文" + url, published_at=None, fetched_at=fetched, mentions=mentions)


def populate(url: str) -> None:
    """The fixed fixture database: everything the digest sections report on, once each."""
    engine = make_engine(url)
    init_schema(engine)
    with session_factory(engine).begin() as s:
        repository.sync_kb(s, KnowledgeBase.load())
        add(s, "http://gdii.test/post_1.html", "gdii", "第二批示范园区名单", [new_park_mention(), DONGGUAN, HAICHUAN],
            U - timedelta(days=1))
        add(s, "http://scn.test/a.htm", "southcn", HOSTILE,
            [ZHUHAI, GREE, M("CITY", "珠海", 9, 11, "city:zhuhai", "珠海", "Zhuhai")], U - timedelta(days=2))
        add(s, "http://news.test/en-1.htm", "newsgd", "Guangzhou park adds 5G lines",
            [JINGXIN_PARK, M("CITY", "Guangzhou", 30, 39, "city:guangzhou", "广州", "Guangzhou")],
            U - timedelta(days=3), lang="en")
        add(s, "http://scn.test/old.htm", "southcn", "旧闻", [ZHUHAI, JINGXIN_PARK], U - timedelta(days=9))
        add(s, "http://old.test/1.htm", "oldsrc", "更早", [ZHUHAI], U - timedelta(days=20))
        run = CrawlRun(started_at=U - timedelta(days=1, hours=1), finished_at=U - timedelta(days=1), status="errors",
                       sources=["gdii", "southcn", "newsgd", "sztb"],
                       stats={"gdii": {"pages_fetched": 4, "articles_new": 1, "errors": {"http": 1}},
                              "southcn": {"pages_fetched": 3, "articles_new": 1},
                              "newsgd": {"pages_fetched": 2, "articles_new": 1},
                              "sztb": {"pages_fetched": 0, "articles_new": 0, "errors": {"unreachable": 1}}})
        s.add(run)
        s.flush()
        s.add(CrawlError(run_id=run.id, source="gdii", url="http://gdii.test/gone", kind="http", reason="404",
                         at=U - timedelta(days=1)))
        s.add(CrawlError(run_id=run.id, source="sztb", url="http://sztb.test/", kind="unreachable",
                         reason="connection refused", at=U - timedelta(days=1)))
    engine.dispose()


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = sqlite_url(tmp_path / "digest.db")
    populate(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url(tmp_path / "empty.db"))
    init_schema(engine)
    with session_factory(engine).begin() as s:
        repository.sync_kb(s, KnowledgeBase.load())
    yield session_factory(engine)
    engine.dispose()


def markdown(sessions: sessionmaker[Session], window=WEEK) -> str:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return render_markdown(build_digest(s, window, planned_parks=10))


def test_digest_exact_markdown(sessions: sessionmaker[Session]) -> None:
    assert markdown(sessions) == EXPECTED


def test_empty_week_says_so_plainly(empty: sessionmaker[Session]) -> None:
    text = markdown(empty)
    assert text.splitlines()[4] == "**Nothing new this week: no new parks, no new articles, no mentions.**"
    assert "No new parks were named this week." in text
    assert "8 of 10 planned parks named (0 this week, 2 to go)." in text
    assert "东莞 (Dongguan)" in text.split("No park named yet in 15 cities:")[1]


def test_a_week_with_a_new_batch_leads_with_it(sessions: sessionmaker[Session]) -> None:
    lines = markdown(sessions).splitlines()
    assert lines[4] == "**New this week: batch 2: 1 park named.**"
    assert lines[6] == "## New parks" and NEW_PARK in lines[8]


def test_the_week_before_is_quiet_about_the_new_park(sessions: sessionmaker[Session]) -> None:
    text = markdown(sessions, iso_week("2026-W46", "Asia/Shanghai"))
    assert "No new parks were named this week." in text and "8 of 10 planned parks named" in text
    assert "旧闻" in text and HOSTILE not in text.replace("\\", "")


def test_crawled_strings_are_escaped(empty: sessionmaker[Session]) -> None:
    hostile = M("PARK", "x", 0, 1, None, "<script>alert(1)</script>|园区", None, True, "<b>证据</b>")
    with empty.begin() as s:
        add(s, "http://scn.test/h.htm", "southcn", "t", [hostile], U - timedelta(hours=1))
    text = markdown(empty)
    assert "<script>" not in text and "<b>" not in text
    assert r"\<script\>alert(1)\</script\>\|园区" in text


def test_windows_are_cut_in_local_time() -> None:
    assert WEEK.since == datetime(2026, 11, 15, 16, tzinfo=timezone.utc)
    assert WEEK.until - WEEK.since == timedelta(days=7)
    span = date_span("2026-11-16", "2026-11-22", "Asia/Shanghai")
    assert (span.since, span.until) == (WEEK.since, WEEK.until)
    monday_morning = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)  # 08:00 in Shanghai
    assert previous_week(monday_morning, "Asia/Shanghai").label == "2026-W47"
    for bad in ("2026-W54", "48", "2026-48"):  # 2026 has 53 ISO weeks
        with pytest.raises(WindowError):
            iso_week(bad)
    with pytest.raises(WindowError):
        date_span("2026-13-01", "2026-13-02")
    with pytest.raises(WindowError):
        date_span("2026-11-22", "2026-11-16")


EXPECTED = rf"""# parkwatch weekly digest: 2026-W47

2026-11-16 to 2026-11-22 (Asia/Shanghai)

**New this week: batch 2: 1 park named.**

## New parks

- **{NEW_PARK}**
  - batch 2; city: 东莞 (Dongguan); lead company: 东莞松湖智造
  - first seen 2026-11-22 00:00 in gdii: <http://gdii.test/post_1.html>
  - evidence: “第二批名单包括{NEW_PARK}（东莞）。”

## Programme progress

9 of 10 planned parks named (1 this week, 1 to go).

| city | parks named | new |
|---|---:|---:|
| 广州 (Guangzhou) | 2 |  |
| 惠州 (Huizhou) | 2 |  |
| 东莞 (Dongguan) | 1 | 1 |
| 佛山 (Foshan) | 1 |  |
| 深圳 (Shenzhen) | 1 |  |
| 湛江 (Zhanjiang) | 1 |  |
| 珠海 (Zhuhai) | 1 |  |

No park named yet in 14 cities: 潮州 (Chaozhou), 河源 (Heyuan), 江门 (Jiangmen), 揭阳 (Jieyang), 茂名 (Maoming), 梅州 (Meizhou), 清远 (Qingyuan), 汕头 (Shantou), 汕尾 (Shanwei), 韶关 (Shaoguan), 阳江 (Yangjiang), 云浮 (Yunfu), 肇庆 (Zhaoqing), 中山 (Zhongshan).

## Mentions this week vs the previous four

### Parks

| name | this week | average before | change |
|---|---:|---:|---:|
| {NEW_PARK} | 1 | 0 | +1 |
| 京信通信5G+工业互联网应用示范园区 | 1 | 0.25 | +0.75 |

### Cities

| name | this week | average before | change |
|---|---:|---:|---:|
| 珠海 (Zhuhai) | 2 | 0.5 | +1.5 |
| 东莞 (Dongguan) | 1 | 0 | +1 |
| 广州 (Guangzhou) | 1 | 0 | +1 |

### Companies

| name | this week | average before | change |
|---|---:|---:|---:|
| 格力电器 (Gree Electric) | 1 | 0 | +1 |
| 海川机电 | 1 | 0 | +1 |

## Top articles

### Chinese

1. 第二批示范园区名单 (gdii, 2026-11-22; relevance 10) <http://gdii.test/post_1.html>
   - mentions: 东莞 (Dongguan), {NEW_PARK}, 海川机电
2. \<script\>alert(1)\</script\> \| 珠海 (southcn, 2026-11-21; relevance 2) <http://scn.test/a.htm>
   - mentions: 格力电器 (Gree Electric), 珠海 (Zhuhai)

### English

1. Guangzhou park adds 5G lines (newsgd, 2026-11-20; relevance 4) <http://news.test/en-1.htm>
   - mentions: 京信通信5G+工业互联网应用示范园区, 广州 (Guangzhou)

## New companies and cities in programme context

- city: **东莞 (Dongguan)**, first in “第二批示范园区名单” <http://gdii.test/post_1.html>
- city: **广州 (Guangzhou)**, first in “Guangzhou park adds 5G lines” <http://news.test/en-1.htm>
- company: **海川机电**, first in “第二批示范园区名单” <http://gdii.test/post_1.html>

## Source health

| source | runs | pages | new articles | errors |
|---|---:|---:|---:|---|
| gdii | 1 | 4 | 1 | http ×1 |
| newsgd | 1 | 2 | 1 | none |
| oldsrc | 0 | 0 | 0 | none |
| southcn | 1 | 3 | 1 | none |
| sztb | 1 | 0 | 0 | unreachable ×1 |

Silent sources:

- oldsrc: not crawled this period (1 article(s) in the previous 4 periods)
- sztb: crawled but no page fetched
"""


def test_a_syndicated_copy_counts_once(tmp_path: Path) -> None:
    """Near-duplicates (article_fingerprints.duplicate_of_id set) are left out of counts."""
    from reports.digest_window import last_days
    from store.models import Article, ArticleFingerprint
    from store.repository import save_article

    from sqlalchemy import select

    from tests.pipeline_helpers import fresh_db

    url = fresh_db(tmp_path / "dup.db")
    engine = make_engine(url)
    sessions = session_factory(engine)
    until = datetime(2026, 11, 23, tzinfo=timezone.utc)
    zhuhai = M("CITY", "珠海", 0, 2, "city:zhuhai", "珠海", "Zhuhai")
    with sessions.begin() as s:
        for n, host in enumerate(("a.test", "b.test")):
            save_article(s, source=host, url=f"http://{host}/story", canonical_url=f"http://{host}/story",
                         lang="zh", title="同一篇通稿", text=f"珠海通稿{n}", published_at=None,
                         fetched_at=until - timedelta(days=1), mentions=[zhuhai])
        first, copy = s.scalars(select(Article.id).order_by(Article.id)).all()
        s.add_all([ArticleFingerprint(article_id=first, simhash="0" * 16),
                   ArticleFingerprint(article_id=copy, simhash="0" * 16, duplicate_of_id=first)])
    with sessions() as s:
        digest = build_digest(s, last_days(7, until), planned_parks=10)
    engine.dispose()
    assert digest.article_count == 1
    assert [(m.name, m.this_period) for m in digest.movers["CITY"]] == [("珠海 (Zhuhai)", 1)]
