"""The CLI edge: one clear line and a non-zero exit for bad input, real crawls behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schedules.demo import write_sources
from schedules.demo_server import DEMO_SITE, DemoServer
from tests.pipeline_helpers import SECOND_BATCH, fresh_db, run_cli


def assert_one_line_error(result, *fragments: str, code: int = 1) -> None:
    assert result.returncode == code, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_sources_file(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    fresh_db(db)
    result = run_cli("--db", str(db), "crawl", "--sources", str(tmp_path / "nope.yaml"))
    assert_one_line_error(result, "nope.yaml")


def test_malformed_sources_file(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    fresh_db(db)
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: x\n    kind: [unclosed\n", encoding="utf-8")
    assert_one_line_error(run_cli("--db", str(db), "crawl", "--sources", str(bad)), "bad.yaml")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("sources:\n  - name: gdii\n    lang: zh\n    kind: rss\n    start_urls: [http://127.0.0.1/]\n")
    assert_one_line_error(run_cli("--db", str(db), "crawl", "--sources", str(wrong)), "gdii", "kind")


def test_database_path_that_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("--db", str(blocker / "sub" / "pw.db"), "init")
    assert_one_line_error(result, "cannot create database directory", str(blocker))


def test_uninitialised_database_asks_for_init(tmp_path: Path) -> None:
    result = run_cli("--db", str(tmp_path / "pw.db"), "parks")
    assert_one_line_error(result, "parkwatch init")


def test_unreachable_source_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    fresh_db(db)
    with DemoServer() as server:
        sources = write_sources(server.base_url, tmp_path / "sources.yaml")
        text = sources.read_text(encoding="utf-8")
        # a source whose site is down: a closed port on loopback
        text += (
            "  - name: dead-site\n    lang: zh\n    kind: listing\n"
            "    start_urls: ['http://127.0.0.1:9/index.html']\n"
        )
        sources.write_text(text, encoding="utf-8")
        result = run_cli("--db", str(db), "crawl", "--sources", str(sources))
    assert result.returncode == 3, result.stderr
    err = [line for line in result.stderr.splitlines() if line.strip()]
    assert err == [line for line in err if "dead-site" in line] and len(err) == 1
    assert "unreachable" in err[0]
    runs = [json.loads(line) for line in run_cli("--db", str(db), "runs", "--json").stdout.splitlines()]
    assert runs[0]["status"] == "errors"
    assert runs[0]["sources"]["dead-site"]["errors"] == {"unreachable": 1}
    assert [e["kind"] for e in runs[0]["errors"] if e["source"] == "dead-site"] == ["unreachable"]
    assert sum(st["articles_new"] for st in runs[0]["sources"].values()) > 0


def test_init_is_repeatable_and_parks_lists_the_first_batch(tmp_path: Path) -> None:
    db = str(tmp_path / "pw.db")
    for _ in range(2):
        result = run_cli("--db", db, "init")
        assert result.returncode == 0, result.stderr
    parks = [json.loads(line) for line in run_cli("--db", db, "parks", "--json").stdout.splitlines()]
    assert len(parks) == 8
    assert {p["batch"] for p in parks} == {1}
    assert sorted(p["city_name"] for p in parks) == sorted(
        ["Guangzhou", "Guangzhou", "Huizhou", "Huizhou", "Shenzhen", "Foshan", "Zhuhai", "Zhanjiang"])


def _notice_with_second_batch() -> Path:
    for path in sorted((DEMO_SITE / "batch2" / "gdii").rglob("post_*.html")):
        if "第二批".encode("gbk") in path.read_bytes():
            return path
    raise AssertionError("sample site has no second-batch notice")


def test_extract_json_in_order_with_new_parks_flagged(tmp_path: Path) -> None:
    notice = _notice_with_second_batch()
    english = tmp_path / "en.txt"
    english.write_text("Gree Electric runs a demonstration park in Zhuhai.\n", encoding="utf-8")
    result = run_cli("--db", str(tmp_path / "none.db"), "extract", "--json", str(notice), str(english), "-",
                     stdin="格力电器在珠海。".encode("utf-8"))
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["source"] for d in docs] == [str(notice), str(english), "-"]
    assert [d["lang"] for d in docs] == ["zh", "en", "zh"]
    new = {e["name_zh"] for e in docs[0]["entities"] if e["type"] == "PARK" and e["new"]}
    assert new == SECOND_BATCH
    assert "下一页" not in json.dumps(docs[0], ensure_ascii=False)  # page chrome is not text
    assert {(e["type"], e["id"]) for e in docs[1]["entities"]} >= {("COMPANY", "company:gree"), ("CITY", "city:zhuhai")}
    assert [(e["type"], e["text"], e["start"], e["end"]) for e in docs[2]["entities"]] == [
        ("COMPANY", "格力电器", 0, 4), ("CITY", "珠海", 5, 7)]
    for doc in docs:
        for e in doc["entities"]:
            assert set(e) >= {"type", "text", "start", "end", "id", "name_zh", "name_en", "new"}


def test_extract_uses_the_database_knowledge_base(tmp_path: Path) -> None:
    """Once a park has been found and stored, it is no longer 'new' for extract."""
    db = tmp_path / "pw.db"
    fresh_db(db)
    with DemoServer() as server:
        server.set_phase(2)
        sources = write_sources(server.base_url, tmp_path / "sources.yaml")
        assert run_cli("--db", str(db), "crawl", "--sources", str(sources)).returncode == 0
    result = run_cli("--db", str(db), "extract", "--json", str(_notice_with_second_batch()))
    (doc,) = [json.loads(line) for line in result.stdout.splitlines()]
    parks = [e for e in doc["entities"] if e["type"] == "PARK" and e["name_zh"] in SECOND_BATCH]
    assert parks and not any(e["new"] for e in parks)
    assert all(e["id"] and e["id"].startswith("park:found:") for e in parks)


def test_extract_unreadable_file_is_one_line_and_others_still_print(tmp_path: Path) -> None:
    ok = tmp_path / "ok.txt"
    ok.write_text("珠海", encoding="utf-8")
    result = run_cli("--db", str(tmp_path / "none.db"), "extract", "--json", str(tmp_path / "missing.txt"), str(ok))
    assert_one_line_error(result, "missing.txt")
    assert json.loads(result.stdout)["source"] == str(ok)


@pytest.mark.parametrize("raw", [b"\xd6\xe9\xba\xa3\xb8\xf1\xc1\xa6", "珠海格力".encode("utf-8")])
def test_extract_plain_text_in_gbk_or_utf8(tmp_path: Path, raw: bytes) -> None:
    f = tmp_path / "t.txt"
    f.write_bytes(raw)
    doc = json.loads(run_cli("--db", str(tmp_path / "none.db"), "extract", "--json", str(f)).stdout)
    assert ("CITY", "珠海", 0, 2) in [(e["type"], e["text"], e["start"], e["end"]) for e in doc["entities"]]
