"""The bundled sources file: valid, real places, notices marked high priority, installed as data."""

from __future__ import annotations

import configparser
from pathlib import Path
from urllib.parse import urlsplit

from crawler.sources import bundled_sources_path, load_sources
from crawler.urls import site_key

ROOT = Path(__file__).resolve().parents[1]


def test_bundled_file_is_valid_and_covers_the_expected_sites() -> None:
    sources = load_sources(bundled_sources_path())
    hosts = {site_key(url) for s in sources for url in s.start_urls}
    for expected in ("gdii.gd.gov.cn", "gd.gov.cn", "gxj.gz.gov.cn", "gxj.sz.gov.cn", "foshan.gov.cn",
                     "huizhou.gov.cn", "news.southcn.com", "newsgd.com", "chinadaily.com.cn", "scmp.com"):
        assert expected in hosts, expected
    assert all(urlsplit(u).hostname not in ("127.0.0.1", "localhost") for s in sources for u in s.start_urls)
    by_name = {s.name: s for s in sources}
    notices = [s for s in sources if "notices" in s.name]
    assert notices and all(s.priority == "high" for s in notices)
    assert by_name["gdii-notices"].attachments and by_name["gdii-notices"].page_pattern == "index_{n}.html"
    assert {s.lang for s in sources} == {"zh", "en"}
    assert {s.kind for s in sources} >= {"listing", "feed"}
    assert all(s.download_delay and s.download_delay >= 1 for s in sources)  # polite by default
    assert by_name["gdii-notices"].allows("https://gdii.gd.gov.cn/zwgk/tzgg1011/content/post_3508574.html")


def test_bundled_file_ships_as_package_data() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    patterns = cfg["options.package_data"]["crawler"].split(",")
    relative = bundled_sources_path().relative_to(ROOT / "crawler").as_posix()
    assert any(Path(relative).match(p.strip()) for p in patterns)
