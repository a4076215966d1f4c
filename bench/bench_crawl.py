"""Crawl throughput: the full pipeline beside a no-op Scrapy spider, same loopback site, same run.

Usage: python bench/bench_crawl.py [--articles 2000] [--per-page 20] [--workers N]

A site of ``--articles`` Chinese article pages (navigation, related-headline sidebar, footer,
~1.2 kB of main text each; one in ten names a park) and numbered listing pages
(``index.html``, ``index_2.html`` ...) is generated in a temporary directory and served by a
separate process on 127.0.0.1. Then, in this order:

1. a no-op spider (same Scrapy settings, follows the same listings, does nothing with pages);
2. the full crawl (fetch, extract in worker processes, NLP, store in SQLite) into a fresh database;
3. the same crawl again over the unchanged site (incremental).

Reported: pages per second of 1 and 2, their ratio, requests and seconds of 3 against 2, and
the peak memory of the crawl's process tree (crawl process, the workers' template and the
workers): summed PSS, sampled every 0.5 s, and summed RSS, every 50 ms (see PeakMemory). Targets (issue 3): ratio >= 1/3, peak < 600 MB, re-crawl requests <= 5%.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.settings import CrawlSettings  # noqa: E402

CITIES = ["广州", "深圳", "佛山", "东莞", "惠州", "珠海", "江门", "中山"]
TOPICS = ["5G专网", "工业互联网平台", "数字化车间", "智能制造", "边缘计算", "标识解析"]


SUBJECTS = ["市工业和信息化局", "区经济促进局", "园区管委会", "行业协会", "电信运营商", "装备制造企业", "家电企业",
            "汽车零部件厂", "纺织企业", "电子信息企业", "陶瓷企业", "物流企业"]
VERBS = ["介绍", "表示", "透露", "指出", "认为", "宣布", "提出", "强调"]
OBJECTS = ["生产效率提升了一成以上", "设备联网率明显提高", "质检环节实现自动化", "能耗下降约百分之八",
           "订单交付周期缩短", "仓储周转加快", "新建了一批5G基站", "引进了两家平台服务商", "培训了上百名技术工人",
           "完成了车间网络改造", "上线了设备远程运维系统", "开展了供应链协同试点"]


def sentence(rng: random.Random, city: str, topic: str) -> str:
    return (f"{rng.choice(SUBJECTS)}{rng.choice(VERBS)}，{city}{rng.choice(SUBJECTS)}围绕{topic}"
            f"{rng.choice(OBJECTS)}，{rng.choice(OBJECTS)}，{rng.randint(2, 99)}个项目{rng.choice(OBJECTS)}。")


def article_html(n: int) -> str:
    """Article ``n``: sentences drawn at random (seeded by n) so that no two are near copies."""
    rng = random.Random(n)
    city, topic = CITIES[n % len(CITIES)], TOPICS[n % len(TOPICS)]
    paras = ["".join(sentence(rng, city, topic) for _ in range(2)) for _ in range(5)]
    if n % 10 == 0:
        paras.append(f"会上，{city}示例智造5G+工业互联网应用示范园区({city})被列为重点推进项目。")
    body = "".join(f"<p>{p}</p>" for p in paras)
    related = "".join(f'<li><a href="/news/content/post_{(n + k) % 50 + 1}.html">相关新闻 {k}</a></li>' for k in range(1, 9))
    return (
        '<html><head><meta charset="utf-8"><title>示例新闻 {n}</title></head><body>'
        '<div class="nav"><a href="/">首页</a> <a href="/news/index.html">新闻</a> <a href="/about.html">关于</a></div>'
        f'<h1>{city}推进{topic}应用（{n}）</h1><div class="info">发布时间：2021-{n % 12 + 1:02d}-{n % 28 + 1:02d} 09:30</div>'
        f'<div class="content">{body}</div><div class="related"><h3>相关新闻</h3><ul>{related}</ul></div>'
        '<div class="footer">版权所有 示例新闻网 备案号 示例ICP备00000000号</div></body></html>'
    ).replace("{n}", str(n))


def listing_html(links: list[int]) -> str:
    items = "".join(f'<li><a href="content/post_{n}.html">示例新闻标题 {n}</a><span>2021-06-01</span></li>' for n in links)
    return f'<html><head><meta charset="utf-8"><title>新闻</title></head><body><ul class="list">{items}</ul></body></html>'


def build_site(root: Path, articles: int, per_page: int) -> int:
    """Write the site; return the number of listing pages."""
    (root / "news" / "content").mkdir(parents=True)
    for n in range(1, articles + 1):
        (root / "news" / "content" / f"post_{n}.html").write_text(article_html(n), encoding="utf-8")
    ids = list(range(articles, 0, -1))  # newest first
    pages = [ids[i : i + per_page] for i in range(0, len(ids), per_page)]
    for i, links in enumerate(pages, start=1):
        name = "index.html" if i == 1 else f"index_{i}.html"
        (root / "news" / name).write_text(listing_html(links), encoding="utf-8")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    return len(pages)


_TYPES = {".html": b"text/html", ".txt": b"text/plain", ".xml": b"application/xml"}


def serve(root: str, port_queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Server process: the site preloaded into memory and served by asyncio on 127.0.0.1.

    HTTP/1.0, one request per connection, like Python's threaded http.server it replaces. A
    real site runs on someone else's machine; on this 2-core one the site server's CPU comes
    out of what the crawl under test can use (the threaded server spent ~0.8 ms per request,
    ~10% of a core at the full pipeline's rate, creating a thread per connection), so it should
    cost as little as possible. Both crawls are served by the same server.
    """
    import asyncio

    base = Path(root)
    files = {"/" + f.relative_to(base).as_posix(): f.read_bytes() for f in base.rglob("*") if f.is_file()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            parts = head.split(b"\r\n", 1)[0].split()
            path = parts[1].decode("latin-1").split("?", 1)[0] if len(parts) > 1 else "/"
            body = files.get(path)
            if body is None:
                writer.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            else:
                kind = _TYPES.get(Path(path).suffix, b"application/octet-stream")
                writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: " + kind + b"\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def sources_yaml(base: str, pages: int) -> str:
    return f"""sources:
  - name: bench-news
    lang: zh
    kind: listing
    start_urls: ['{base}/news/index.html']
    allow: ['/news/content/post_\\d+\\.html$']
    page_pattern: 'index_{{n}}.html'
    max_pages: {pages + 5}
"""


def settings(workers: int | None) -> CrawlSettings:
    return CrawlSettings(
        contact="bench@example.invalid",
        download_delay=0,
        autothrottle=False,
        concurrent_per_domain=16,
        retry_times=0,
        log_level="ERROR",
        workers=workers,
    )


def noop_crawl(sources_path: str, workers: int | None, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Child process: the same listings walked by a spider that does nothing with pages."""
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess

    from crawler.settings import scrapy_settings
    from crawler.sources import load_sources

    source = load_sources(sources_path)[0]
    counter = {"pages": 0}

    class NoopSpider(Spider):
        name = "noop"

        async def start(self):  # type: ignore[no-untyped-def]
            yield Request(source.start_urls[0], cb_kwargs={"page": 1})

        def parse(self, response, page):  # type: ignore[no-untyped-def]
            counter["pages"] += 1
            for href in response.css("a[href]::attr(href)").getall():
                url = response.urljoin(href)
                if source.allows(url):
                    yield Request(url, callback=self.article)
            nxt = source.numbered_page(source.start_urls[0], page + 1)
            if nxt and page < source.max_pages and response.css("a[href]"):
                yield Request(nxt, cb_kwargs={"page": page + 1})

        def article(self, response):  # type: ignore[no-untyped-def]
            counter["pages"] += 1

    config = scrapy_settings(settings(workers), [source])
    config["ITEM_PIPELINES"] = {}
    config["HTTPERROR_ALLOWED_CODES"] = [404]
    process = CrawlerProcess(config)
    process.crawl(NoopSpider)
    t0 = time.perf_counter()
    process.start()
    out.put((counter["pages"], time.perf_counter() - t0))


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc/PID/task/TID/children (no scan of all of /proc)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                out.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return out


def rss(pid: int) -> int:
    """Resident memory (bytes) of one process, from /proc/PID/statm (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def pss(pid: int) -> int:
    """Proportional set size (bytes) of one process: its private pages plus its share of pages
    it shares with others (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


PAGE = os.sysconf("SC_PAGE_SIZE")


def descendants(pid: int, skip: int | None = None) -> list[int]:
    """All descendants of ``pid`` (not ``pid`` itself), leaving out the subtree of ``skip``.
    Reads only the tree's own /proc files: the sampler runs beside the crawl it measures, on
    the same two cores, and scanning every /proc entry 20 times a second cost ~5% of a core."""
    found, stack = [], _children(pid)
    while stack:
        p = stack.pop()
        if p == skip:
            continue
        found.append(p)
        stack.extend(_children(p))
    return found


class PeakMemory:
    """Samples the memory of this process's children (the crawl tree), less the site server.

    Two measures. The sum of resident set sizes (every 50 ms) counts a page once per process
    that maps it; the crawl's workers are forked from one loaded template and share most of
    their pages with it, so that sum counts those pages three times. The sum of proportional
    set sizes (PSS, every 0.5 s: reading it costs the kernel a walk of each process's page
    tables) counts each page once, split between the processes sharing it: what the crawl
    takes from the machine, and what tools like smem report for a process tree."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.peak = 0  # PSS
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me, tick = os.getpid(), 0
        while not self._stop.wait(0.05):
            tree = descendants(me, skip=self.server_pid)
            self.peak_rss = max(self.peak_rss, sum(map(rss, tree)))
            if tick % 10 == 0:
                self.peak = max(self.peak, sum(map(pss, tree)))
            tick += 1

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def children_cpu() -> float:
    """CPU seconds of every finished child process (and their finished children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def full_crawl(db_url: str, sources_path: Path, workers: int | None, server_pid: int) -> tuple[dict, float, PeakMemory]:  # type: ignore[type-arg]
    from schedules.crawl import run_crawl_job

    with PeakMemory(server_pid) as mem:
        t0 = time.perf_counter()
        report = run_crawl_job(db_url, sources_path, settings(workers))
        seconds = time.perf_counter() - t0
    return report.stats["bench-news"], seconds, mem


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None, help="extraction processes (default: one per CPU)")
    args = parser.parse_args()

    from nlp.kb import KnowledgeBase
    from store.db import init_schema, make_engine, session_factory, sqlite_url
    from store.repository import sync_kb

    mp = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        root = Path(tmp) / "site"
        pages = build_site(root, args.articles, args.per_page)
        ports: multiprocessing.Queue = mp.Queue()  # type: ignore[type-arg]
        server = mp.Process(target=serve, args=(str(root), ports), daemon=True)
        server.start()
        base = f"http://127.0.0.1:{ports.get(timeout=30)}"
        sources_path = Path(tmp) / "sources.yaml"
        sources_path.write_text(sources_yaml(base, pages), encoding="utf-8")
        load = os.getloadavg()
        print(f"site: {args.articles} articles, {pages} listing pages; cpus {os.cpu_count()}; "
              f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

        out: multiprocessing.Queue = mp.Queue()  # type: ignore[type-arg]
        cpu0 = children_cpu()
        t0 = time.perf_counter()
        child = mp.Process(target=noop_crawl, args=(str(sources_path), args.workers, out))
        child.start()
        noop_pages, _ = out.get()
        child.join()
        noop_seconds = time.perf_counter() - t0  # like the full crawl: process start included
        noop_rate = noop_pages / noop_seconds
        print(f"no-op spider : {noop_pages} pages in {noop_seconds:.1f} s = {noop_rate:.0f} pages/s "
              f"({children_cpu() - cpu0:.1f} CPU s)")

        db_url = sqlite_url(Path(tmp) / "bench.db")
        engine = make_engine(db_url)
        init_schema(engine)
        with session_factory(engine).begin() as session:
            sync_kb(session, KnowledgeBase.load())
        engine.dispose()

        cpu0 = children_cpu()
        first, seconds, mem = full_crawl(db_url, sources_path, args.workers, server.pid)
        full_cpu = children_cpu() - cpu0
        rate = first["pages_fetched"] / seconds
        print(f"full pipeline: {first['pages_fetched']} pages ({first['articles_new']} new articles, "
              f"{first['duplicates']} near-duplicates, {first['errors']} errors) in {seconds:.1f} s = {rate:.0f} pages/s "
              f"= {rate / noop_rate:.2f} of the no-op spider (target >= 0.33); {full_cpu:.1f} CPU s "
              f"in the crawl process and its workers")
        print(f"peak memory of the crawl process tree: {mem.peak / 2**20:.0f} MB PSS (target < 600 MB); "
              f"sum of resident set sizes {mem.peak_rss / 2**20:.0f} MB (counts pages shared by the forked workers "
              f"once per process)")

        second, seconds2, _ = full_crawl(db_url, sources_path, args.workers, server.pid)
        share = second["requests"] / max(first["requests"], 1)
        print(f"unchanged re-crawl: {second['requests']} requests vs {first['requests']} "
              f"({share:.1%}, target <= 5%) in {seconds2:.1f} s; {second['articles_new']} new, "
              f"{second['skipped_known']} known links skipped")
        server.terminate()
        server.join()
        load = os.getloadavg()
        print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
