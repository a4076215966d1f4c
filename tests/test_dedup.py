"""Duplicates: canonical URLs, exact content, and near-copies of one story across sites."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.items import FetchedArticle
from crawler.urls import canonical_url
from schedules.pipeline import StoreSink
from store.dedup import MAX_DISTANCE, jaccard, simhash
from store.models import ArticleFingerprint

try:
    from tests.pipeline_helpers import fresh_db
except ImportError:  # pragma: no cover
    from pipeline_helpers import fresh_db  # type: ignore[no-redef]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://www.gd.gov.cn/zwgk/tzgg/index.html", "https://www.gd.gov.cn/zwgk/tzgg/"),
        ("https://a.cn/content/post_1.html#top", "http://a.cn:80/content/post_1.html"),
        ("https://a.cn/x.html?utm_source=wx&id=3&spm=a.b", "https://a.cn/x.html?id=3"),
        ("https://a.cn/list/default.htm", "https://a.cn/list/"),
        ("https://a.cn/x.html?b=2&a=1", "https://a.cn/x.html?a=1&b=2"),
    ],
)
def test_canonical_url_variants_meet(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


def test_canonical_url_keeps_what_selects_content() -> None:
    assert canonical_url("https://a.cn/x.html?id=3") != canonical_url("https://a.cn/x.html?id=4")
    assert canonical_url("https://a.cn/index.html.bak") != canonical_url("https://a.cn/")


STORY = (
    "广东省工业和信息化厅近日公布第二批5G+工业互联网应用示范园区名单，东莞和江门的两个园区入选。"
    "据介绍，入选园区将在5G网络覆盖、工业互联网平台应用、数字化转型公共服务等方面先行先试，"
    "推动园区内中小企业上云用数赋智。省工业和信息化厅表示，下一步将加强对示范园区的跟踪指导，"
    "及时总结推广典型经验做法，带动全省制造业数字化转型。两个园区所在城市也将出台配套支持政策，"
    "在网络建设、应用场景和人才培训等方面给予支持，力争年内形成一批可复制的解决方案。"
)
OTHER = (
    "佛山市顺德区近日举办家电产业链供需对接会，四十余家整机企业与配套企业现场签约。"
    "会上，区经济促进局介绍了今年以来支持企业技术改造的政策措施，并发布了首批智能工厂名单。"
    "与会企业表示，将借助数字化改造提升柔性生产能力，缩短新品研发周期，更好满足国内外市场需求。"
    "对接会还设置了金融服务专场，多家银行推出面向中小制造企业的设备更新专项贷款产品。"
)


def item(url: str, text: str, title: str = "示范园区名单公布") -> FetchedArticle:
    now = datetime(2021, 6, 20, tzinfo=timezone.utc)
    return FetchedArticle("news", url, canonical_url(url), "zh", title, text, now, now)


def test_syndicated_story_counts_once(tmp_path: Path) -> None:
    sink = StoreSink(fresh_db(tmp_path / "pw.db"))
    portals = ["https://news.a.cn/1.html", "https://b.com.cn/2.html", "http://c.cn/3.htm",
               "https://d.gov.cn/4.html", "https://e.net/5.shtml"]
    statuses = [
        sink.article(item(url, f"（来源：第{i}家网站 记者 张{i}）" + STORY + ("责任编辑：李某" if i % 2 else "")))
        for i, url in enumerate(portals)
    ]
    assert statuses == ["new", "duplicate", "duplicate", "duplicate", "duplicate"]
    assert sink.article(item("https://f.cn/6.html", OTHER, "顺德对接会")) == "new"
    # the same URL again, same text: unchanged; exact hash, no new fingerprint row
    assert sink.article(item(portals[2], "（来源：第2家网站 记者 张2）" + STORY)) == "unchanged"
    with sink.sessions() as s:
        rows = s.scalars(select(ArticleFingerprint).order_by(ArticleFingerprint.article_id)).all()
    assert len(rows) == 6
    originals = [r for r in rows if r.duplicate_of_id is None]
    assert len(originals) == 2
    assert {r.duplicate_of_id for r in rows if r.duplicate_of_id} == {rows[0].article_id}
    sink.close()


def test_simhash_close_for_copies_far_for_different_text() -> None:
    a, b = simhash("（来源：甲网）" + STORY), simhash(STORY + "（责任编辑：乙）")
    c = simhash(OTHER)
    assert (a ^ b).bit_count() <= MAX_DISTANCE < (a ^ c).bit_count()
    assert jaccard(STORY, STORY + "附") > 0.9 > 0.2 > jaccard(STORY, OTHER)
    english = "Guangdong named two new demonstration parks for 5G and the industrial internet on Monday. " * 3
    assert (simhash(english) ^ simhash(english + " Reporting by staff.")).bit_count() <= MAX_DISTANCE


def test_simhash_equals_trafilaturas_simhash() -> None:
    """The numpy vote count must give trafilatura's values: stored fingerprints stay comparable."""
    import random

    from trafilatura.deduplication import Simhash

    from store.dedup import shingles

    rng = random.Random(7)
    pool = "广州深圳佛山园区示范工业互联网格力电器abcXYZ019，。 "
    texts = ["", "。。。", "Hello, world", STORY, OTHER, STORY + OTHER,
             "Guangdong named two demonstration parks. " * 20]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 400))) for _ in range(200)]
    for text in texts:
        assert simhash(text) == Simhash(" ".join(shingles(text))).hash, text


def _store_in_worker(article: FetchedArticle) -> str:
    from crawler import work

    assert work._sink is not None
    return work._sink.article(article)


def test_forked_worker_sinks_store_side_by_side_and_see_each_others_copies(tmp_path: Path) -> None:
    """A crawl's workers are forked from a template that loaded the sink: the loaded sink holds
    no database connection (none may cross a fork), and each worker's writes are seen by the
    other's near-duplicate check."""
    import asyncio

    from crawler.work import init_worker
    from crawler.workerpool import WorkerPool

    url = fresh_db(tmp_path / "pw.db")
    factory = StoreSink(url).worker_factory
    loaded = factory()
    assert loaded.engine.pool.checkedin() == 0 and loaded.engine.pool.checkedout() == 0
    loaded.close()
    portals = [f"https://portal{i}.cn/{i}.html" for i in range(6)]

    async def main() -> list[str]:
        pool = WorkerPool(2, init_worker, (factory,))
        try:
            return list(await asyncio.gather(*(
                pool.run(_store_in_worker, item(u, f"（来源：第{i}家网站）" + STORY)) for i, u in enumerate(portals)
            )))
        finally:
            pool.shutdown()

    statuses = asyncio.run(main())
    assert sorted(statuses) == ["duplicate"] * 5 + ["new"]
    with StoreSink(url).sessions() as s:
        rows = s.scalars(select(ArticleFingerprint)).all()
    assert len(rows) == 6 and sum(r.duplicate_of_id is None for r in rows) == 1


def test_crawl_writers_take_turns_through_the_writer_lock_also_after_a_fork(tmp_path: Path) -> None:
    """The lock beside the database queues writers in the kernel; a forked worker opens its own
    (a lock belongs to an open file, which a fork shares: sharing it would not exclude)."""
    import os
    import time

    from crawler.failures import STORE

    url = fresh_db(tmp_path / "pw.db")
    sink = StoreSink(url)
    assert sink.write_lock.path == f"{tmp_path / 'pw.db'}-writer.lock"
    with sink.write_lock():
        pid = os.fork()
        if pid == 0:  # a worker forked while the parent writes
            started = time.monotonic()
            sink.error("news", "http://a.cn/1.html", STORE, "in the child")  # waits for the parent
            os._exit(0 if time.monotonic() - started >= 0.4 else 1)
        time.sleep(0.6)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    from store.models import CrawlError

    with sink.sessions() as s:
        assert [e.reason for e in s.scalars(select(CrawlError))] == ["in the child"]
    sink.close()


def test_threads_of_one_process_also_take_turns_through_the_writer_lock(tmp_path: Path) -> None:
    """An flock does not exclude two threads sharing its file; the thread lock does."""
    import threading
    import time

    sink = StoreSink(fresh_db(tmp_path / "pw.db"))
    inside = threading.Event()
    waited: list[float] = []

    def holder() -> None:
        with sink.write_lock():
            inside.set()
            time.sleep(0.5)

    def second() -> None:
        inside.wait(5)
        started = time.monotonic()
        with sink.write_lock():
            waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=holder), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    sink.close()
    assert waited and waited[0] >= 0.3
