"""The HTML digest opened in a real headless Chromium (Debian package `chromium`).

Served from a loopback HTTP server so every request the page makes is visible: the page itself
must be the only one (pictures are data: URIs, CSS is inline). A screenshot of the laptop view
is saved under the test's tmp directory and its path printed (`pytest -s` shows it).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.digest_window import iso_week
from schedules.config import DigestConfig
from schedules.digest_job import write_digest
from store.db import sqlite_url
from tests.httpserver import serve_directory
from tests.test_digest import HOSTILE, populate

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SECTIONS = {"new-parks": "New parks", "progress": "Programme progress", "movers": "Mentions this week",
            "articles": "Top articles", "new-entities": "New companies and cities", "health": "Source health"}


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install -y chromium fonts-noto-cjk (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield context
        context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("digest-site")
    url = sqlite_url(root / "digest.db")
    populate(url)
    write_digest(url, window=iso_week("2026-W47", "Asia/Shanghai"), out=root / "site" / "digest.html", fmt="html",
                 settings=DigestConfig())
    with serve_directory(root / "site") as server:
        yield server


def open_page(context: Any, url: str, width: int, height: int) -> tuple[Any, list[str], list[str], list[str]]:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    requests: list[str] = []
    problems: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url, wait_until="load")
    return page, requests, problems, dialogs


def test_digest_in_chromium_shows_every_section_and_requests_nothing_else(browser_context: Any, site: Any,
                                                                          tmp_path: Path) -> None:
    url = site.url("/digest.html")
    page, requests, problems, dialogs = open_page(browser_context, url, 1280, 900)
    try:
        for section_id, heading in SECTIONS.items():
            section = page.locator(f"section#{section_id}")
            assert section.is_visible(), section_id
            assert heading in section.locator("h2").inner_text()
        assert "batch 2: 1 park named" in page.locator("#lead").inner_text()
        # The hostile title is shown as text and never ran.
        assert page.get_by_text(HOSTILE, exact=True).is_visible()
        assert page.locator("script").count() == 0 and dialogs == []
        sizes = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
        assert len(sizes) == 3 and all(done and width > 300 for done, width in sizes)
        assert problems == []
        assert requests == [url]
        shot = tmp_path / "digest-laptop.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
        print(f"\nscreenshot: {shot}")
    finally:
        page.close()


def test_digest_fits_a_phone_screen(browser_context: Any, site: Any, tmp_path: Path) -> None:
    page, _, problems, _ = open_page(browser_context, site.url("/digest.html"), 390, 844)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        widest_img = page.eval_on_selector_all("img", "els => Math.max(...els.map(e => e.getBoundingClientRect().width))")
        assert widest_img <= 390
        assert problems == []
        shot = tmp_path / "digest-phone.png"
        page.screenshot(path=str(shot))
        print(f"\nscreenshot: {shot}")
    finally:
        page.close()
