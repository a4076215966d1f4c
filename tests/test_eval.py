"""Quality gate: extraction scores on the labelled corpus must meet issue 4's targets.

Both parts are scored; the held-out part was written with the tuning part and is never tuned
on. The gate itself is tested too: a corpus whose gold the extractor cannot meet must fail.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.evaluate import (
    CORPUS_DIR,
    PARTS,
    CorpusError,
    Report,
    company_key,
    core,
    evaluate,
    load_corpus,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return {p: evaluate(load_corpus(p)) for p in PARTS}


def test_corpus_size_and_languages() -> None:
    docs = [d for p in PARTS for d in load_corpus(p).docs]
    assert len(docs) >= 60
    assert {d.language for d in docs} == {"zh", "zh-Hant", "en"}
    assert {d.kind for d in docs} >= {"notice", "news", "wire", "list", "negative"}
    assert len({d.id for d in docs}) == len(docs)


#: The short-sentence corpus written with the first rules: floors as measured when the page
#: corpora became the gate (tests/test_eval_pages.py). Its gold does not count a new park's lead
#: name as a company (the page corpora's gold does), hence the lower COMPANY floor.
SENTENCE_FLOORS = {"tuning": (0.96, 0.99, 0.78, 1), "heldout": (0.92, 0.99, 0.78, 1)}


@pytest.mark.parametrize("part", PARTS)
def test_quality_floors(reports: dict[str, Report], part: str) -> None:
    r = reports[part]
    park, city, company, false_alerts = SENTENCE_FLOORS[part]
    assert r.errors == []
    assert r.c("all", "PARK").f1 >= park and r.c("all", "CITY").f1 >= city
    assert r.c("all", "COMPANY").f1 >= company
    assert r.new_recall() == 1.0 and r.false_alerts["all"] <= false_alerts
    assert r.batch_right == r.batch_gold


def _write(tmp: Path, body: str) -> Path:
    for part in PARTS:
        (tmp / f"{part}.yaml").write_text(body, encoding="utf-8")
    return tmp


def test_gate_fails_when_gold_is_missed(tmp_path: Path) -> None:
    """A park the extractor cannot know, a new park it cannot see, a city it misses: all count."""
    corpus = load_corpus("tuning", _write(tmp_path, """
new_parks:
  ghost: {zh: 幽灵5G+工业互联网应用示范园区}
documents:
  - id: d1
    lang: zh
    text: 今天天气很好。
    parks: [park:gree-zhuhai, new:ghost]
    cities: [city:zhuhai]
    companies: []
    new: [ghost]
"""))
    r = evaluate(corpus)
    assert r.c("all", "PARK").fn == 2 and r.c("all", "CITY").recall == 0.0
    assert r.new_recall() == 0.0
    assert any("PARK F1" in f for f in r.failures())
    assert any("new-park recall" in f for f in r.failures())


def test_false_alert_counted(tmp_path: Path) -> None:
    corpus = load_corpus("tuning", _write(tmp_path, """
documents:
  - id: d1
    lang: zh
    text: 韶关钢铁5G+工业互联网应用示范园区开工。
    parks: []
    cities: [city:shaoguan]
    companies: []
    new: []
"""))
    r = evaluate(corpus)
    assert r.false_alerts["all"] == 1
    assert any("false new-park alert" in f for f in r.failures())


def test_bad_corpus_is_one_clear_cli_line(tmp_path: Path) -> None:
    _write(tmp_path, "documents: [{lang: zh}]\n")
    with pytest.raises(CorpusError):
        load_corpus("tuning", tmp_path)
    proc = subprocess.run([sys.executable, "-m", "schedules.cli", "eval", "--corpus", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "tuning.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_check_exit_code(tmp_path: Path) -> None:
    _write(tmp_path, """
documents:
  - id: d1
    lang: en
    text: Nothing here.
    parks: [park:gree-zhuhai]
    cities: []
    companies: []
    new: []
""")
    proc = subprocess.run([sys.executable, "-m", "schedules.cli", "eval", "--part", "tuning",
                           "--corpus", str(tmp_path), "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "tuning" in proc.stdout and "PARK" in proc.stdout
    assert "target missed: tuning: PARK F1" in proc.stderr


def test_keys() -> None:
    assert core("東莞松湖智造5G+工業互聯網應用示範園區（东莞）") == core("东莞松湖智造5G+工业互联网应用示范园区")
    assert core("Jiangmen Xinhui Precision 5G + Industrial Internet Demonstration Park (Jiangmen)") == \
        "jiangmenxinhuiprecision"
    assert company_key("Huizhou Brightway Electronics Co., Ltd.") == "huizhou brightway electronics"
    assert company_key("汕头海滨纺织集团有限公司") == "汕头海滨纺织集团"
    assert CORPUS_DIR.joinpath("README.md").is_file()


def test_cli_json_per_part(tmp_path: Path) -> None:
    _write(tmp_path, """
documents:
  - id: d1
    lang: en
    text: Gree Electric is based in Zhuhai.
    parks: []
    cities: [city:zhuhai]
    companies: [company:gree]
    new: []
""")
    proc = subprocess.run([sys.executable, "-m", "schedules.cli", "eval", "--corpus", str(tmp_path), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["part"] for r in rows] == list(PARTS)
    assert rows[0]["scores"]["all/CITY"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 1, "fp": 0, "fn": 0}
    assert rows[0]["failures"] == [] and rows[0]["false_new_park_alerts"] == 0
