"""A user's own knowledge base (`kb_dir`): YAML files that extend or override the bundled ones,
validated with one-line errors naming the file and the entry, used by init, extract, eval, the
digest and the crawl pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from nlp.kb import Company, KnowledgeBase, KnowledgeBaseError
from schedules.cli import main
from schedules.config import ConfigError, load_config
from schedules.crawl import run_crawl_job
from schedules.demo import write_sources
from schedules.demo_server import DemoServer
from store.db import make_engine, session_factory, sqlite_url
from store.models import Alert, Mention, Park
from tests.pipeline_helpers import FAST, SECOND_BATCH, run_cli

SONGHU = "东莞松湖智造5G+工业互联网应用示范园区"
HAICHUAN = "江门海川机电5G+工业互联网应用示范园区"
USER_COMPANIES = {"companies": [
    {"id": "company:songhu", "name_zh": "东莞松湖智造", "name_en": "Dongguan Songhu Smart Manufacturing",
     "city": "city:dongguan"},
    {"id": "company:haichuan", "name_zh": "江门海川机电", "name_en": "Jiangmen Haichuan Electromechanical",
     "aliases": ["海川机电"], "city": "city:jiangmen"},
]}
USER_PARKS = {"parks": [
    {"id": "park:songhu-dongguan", "name_zh": SONGHU,
     "name_en": "Dongguan Songhu Smart Manufacturing 5G + Industrial Internet Demonstration Park (Dongguan)",
     "aliases": ["Dongguan Songhu Smart Manufacturing 5G+Industrial Internet Application Demonstration Park"],
     "city": "city:dongguan", "company": "company:songhu", "batch": 2},
    {"id": "park:haichuan-jiangmen", "name_zh": HAICHUAN,
     "name_en": "Jiangmen Haichuan Electromechanical 5G + Industrial Internet Demonstration Park (Jiangmen)",
     "aliases": ["Jiangmen Haichuan Electromechanical 5G+Industrial Internet Application Demonstration Park"],
     "city": "city:jiangmen", "company": "company:haichuan", "batch": 2},
]}


def write(folder: Path, name: str, data: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def gree_override() -> dict[str, object]:
    """The bundled Gree entry (an existing id: it is replaced) with one more alias and a short
    form that is an ordinary word; built from the bundled entry so it follows edits to it."""
    gree = KnowledgeBase.load().companies["company:gree"]
    return {"id": gree.id, "name_zh": gree.name_zh, "name_en": gree.name_en, "city": gree.city,
            "aliases": [*gree.aliases, "格力电器用户别名"], "ambiguous": ["格力用户短名"]}


@pytest.fixture
def user_kb(tmp_path: Path) -> Path:
    folder = tmp_path / "my-kb"
    write(folder, "companies.yaml", {"companies": [*USER_COMPANIES["companies"], gree_override()]})
    write(folder, "parks.yaml", USER_PARKS)
    write(folder, "programme.yaml", {"planned_parks": 12})
    return folder


# ----------------------------------------------------------------------------- loading


def test_user_entries_extend_and_override_the_bundled_ones(user_kb: Path) -> None:
    bundled = KnowledgeBase.load()
    kb = KnowledgeBase.load(user_dir=user_kb)
    assert set(kb.parks) == set(bundled.parks) | {"park:songhu-dongguan", "park:haichuan-jiangmen"}
    assert kb.parks["park:songhu-dongguan"].batch == 2
    assert set(kb.companies) == set(bundled.companies) | {"company:songhu", "company:haichuan"}
    gree = kb.companies["company:gree"]
    assert gree.aliases == (*bundled.companies["company:gree"].aliases, "格力电器用户别名")
    assert gree.ambiguous == ("格力用户短名",)
    assert kb.cities == bundled.cities  # no cities.yaml: the bundled file alone
    assert (kb.programme.planned_parks, kb.programme.name_zh) == (12, bundled.programme.name_zh)
    assert KnowledgeBase.load(user_dir=str(user_kb)) == kb
    assert KnowledgeBase.load() == bundled  # the bundled data is untouched


def test_an_empty_folder_is_the_bundled_knowledge_base(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.txt").write_text("notes")  # non-YAML files are not ours to judge
    assert KnowledgeBase.load(user_dir=tmp_path / "empty") == KnowledgeBase.load()


def test_ambiguous_short_forms_default_empty_and_are_validated(tmp_path: Path) -> None:
    assert Company("company:x", "某", "X").ambiguous == ()
    assert all(isinstance(c.ambiguous, tuple) for c in KnowledgeBase.load().companies.values())
    folder = tmp_path / "kb"
    write(folder, "companies.yaml", {"companies": [
        {"id": "company:zte", "name_zh": "中兴通讯", "name_en": "ZTE", "ambiguous": "中兴"}]})
    with pytest.raises(KnowledgeBaseError, match=r"companies\.yaml: entry #1 \(company:zte\): field 'ambiguous' must "
                                                 r"be a list of non-empty strings"):
        KnowledgeBase.load(user_dir=folder)


def one_line(exc: pytest.ExceptionInfo[KnowledgeBaseError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize("files, fragments", [
    ({"parks.yaml": "parks: [unclosed"}, ["parks.yaml: invalid YAML", "line 1"]),
    ({"parks.yaml": {"parks": [dict(USER_PARKS["parks"][0], colour="red")]}},
     ["parks.yaml: entry #1 (park:songhu-dongguan): unknown field(s) ['colour']"]),
    ({"parks.yaml": USER_PARKS}, ["parks.yaml: park 'park:songhu-dongguan': unknown company 'company:songhu'"]),
    ({"companies.yaml": {"companies": [dict(USER_COMPANIES["companies"][0], city="city:macau")]}},
     ["companies.yaml: company 'company:songhu': unknown city 'city:macau'"]),
    ({"companies.yaml": {"companies": [dict(USER_COMPANIES["companies"][0], aliases=["格力电器"])]}},
     ["companies.yaml: entry (company:songhu): name '格力电器' is already used by 'company:gree' in the bundled "
      "companies.yaml"]),
    ({"cities.yaml": {"cities": [{"id": "city:macau", "name_zh": "澳门", "name_en": "Macau", "districts": ["顺德"]}]}},
     ["cities.yaml: entry (city:macau): name '顺德' is already used by 'city:foshan' in the bundled cities.yaml"]),
    ({"parks.yaml": {"parks": [dict(USER_PARKS["parks"][0], id="songhu")]}}, ["id must start with 'park:'"]),
    ({"parks.yaml": {"park": []}}, ["parks.yaml: expected a top-level list 'parks'"]),
    ({"parks.yaml": {"parks": [], "companies": []}}, ["parks.yaml: unknown top-level key(s) ['companies']"]),
    ({"programme.yaml": {"planned_parks": "ten"}}, ["programme.yaml: programme: field 'planned_parks' must be an integer"]),
    ({"programme.yaml": {"planned": 12}}, ["programme.yaml: programme: unknown field(s) ['planned']"]),
    ({"park.yaml": USER_PARKS}, ["park.yaml: not a knowledge-base file", "parks.yaml"]),
])
def test_bad_user_files_are_one_line_naming_file_and_entry(tmp_path: Path, files: dict[str, object],
                                                           fragments: list[str]) -> None:
    folder = tmp_path / "kb"
    for name, data in files.items():
        write(folder, name, data)
    with pytest.raises(KnowledgeBaseError) as exc:
        KnowledgeBase.load(user_dir=folder)
    text = one_line(exc)
    assert text.startswith(str(folder / next(iter(files))))  # the user's file, by its full path
    for fragment in fragments:
        assert fragment in text


def test_a_missing_folder_or_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match=r"kb_dir .*nope: folder not found"):
        KnowledgeBase.load(user_dir=tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(KnowledgeBaseError, match=r"kb_dir .*file: not a folder"):
        KnowledgeBase.load(user_dir=tmp_path / "file")


def test_a_user_park_may_use_a_company_defined_beside_it_or_bundled(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    write(folder, "parks.yaml", {"parks": [
        {"id": "park:gree-2", "name_zh": "格力智造5G+工业互联网应用示范园区", "name_en": None,
         "city": "city:zhuhai", "company": "company:gree", "batch": 3}]})
    assert KnowledgeBase.load(user_dir=folder).parks["park:gree-2"].company == "company:gree"


# ----------------------------------------------------------------------------- configuration


def test_kb_dir_from_config_file_then_environment(tmp_path: Path) -> None:
    assert load_config(env={}).kb_dir is None
    f = tmp_path / "pw.yaml"
    f.write_text("kb_dir: ~/my-kb\n")
    assert load_config(f, env={}).kb_dir == Path("~/my-kb").expanduser()
    assert load_config(f, env={"PARKWATCH_KB_DIR": str(tmp_path / "env-kb")}).kb_dir == tmp_path / "env-kb"
    f.write_text("kb_dirs: x\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_config(f, env={})


# ----------------------------------------------------------------------------- the CLI


def test_init_parks_and_digest_use_the_users_knowledge_base(tmp_path: Path, user_kb: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "pw.yaml"
    config.write_text(f"kb_dir: {user_kb}\n")
    db = str(tmp_path / "pw.db")
    assert main(["--config", str(config), "--db", db, "init"]) == 0
    assert "knowledge base: 10 parks" in capsys.readouterr().out
    assert main(["--config", str(config), "--db", db, "parks", "--json"]) == 0
    parks = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert len(parks) == 10 and parks["park:songhu-dongguan"]["origin"] == "kb"
    assert parks["park:haichuan-jiangmen"]["lead_company_name"] == "江门海川机电"
    assert main(["--config", str(config), "--db", db, "digest", "--week", "2026-W47"]) == 0
    assert "10 of 12 planned parks named" in capsys.readouterr().out  # the user's programme.yaml


@pytest.mark.parametrize("command", [["init"], ["extract", "-"], ["eval", "--part", "tuning"],
                                     ["digest", "--week", "2026-W47"], ["crawl", "--sources", "SOURCES"],
                                     ["schedule", "list", "--sources", "SOURCES"]])
def test_a_bad_kb_dir_is_one_line_and_exit_1(tmp_path: Path, command: list[str], capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "pw.db")
    assert main(["--db", db, "init"]) == 0
    sources = write_sources("http://127.0.0.1:9", tmp_path / "sources.yaml")
    bad = tmp_path / "kb"
    write(bad, "parks.yaml", USER_PARKS)  # names companies nobody defines
    config = tmp_path / "pw.yaml"
    config.write_text(f"kb_dir: {bad}\n")
    capsys.readouterr()
    argv = ["--config", str(config), "--db", db, *[str(sources) if a == "SOURCES" else a for a in command]]
    assert main(argv) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "unknown company 'company:songhu'" in err[0] and str(bad / "parks.yaml") in err[0]


def test_a_missing_kb_dir_from_the_environment_in_a_real_process(tmp_path: Path) -> None:
    import os

    env_dir = tmp_path / "missing-kb"
    result = run_cli_env(["--db", str(tmp_path / "pw.db"), "init"], {**os.environ, "PARKWATCH_KB_DIR": str(env_dir)})
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"parkwatch: error: kb_dir {env_dir}: folder not found"]
    assert not (tmp_path / "pw.db").exists()  # refused before the database was touched


def run_cli_env(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "schedules.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_extract_knows_the_users_parks(tmp_path: Path, user_kb: Path) -> None:
    config = tmp_path / "pw.yaml"
    config.write_text(f"kb_dir: {user_kb}\n")
    text = f"第二批名单包括{SONGHU}（东莞）。".encode("utf-8")
    result = run_cli("--config", str(config), "--db", str(tmp_path / "none.db"), "extract", "--json", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    (doc,) = [json.loads(line) for line in result.stdout.splitlines()]
    parks = [e for e in doc["entities"] if e["type"] == "PARK"]
    assert [(e["id"], e["new"]) for e in parks] == [("park:songhu-dongguan", False)]


# ----------------------------------------------------------------------------- the crawl pipeline


def test_the_crawl_pipeline_uses_the_users_knowledge_base(tmp_path: Path, user_kb: Path) -> None:
    """An analyst who already added the second batch to kb_dir gets no 'new park' alert for it:
    the crawl's workers build their extractor from the same knowledge base."""
    db = sqlite_url(tmp_path / "pw.db")
    assert main(["--db", db, "init"]) == 0  # the bundled knowledge base only: the crawl syncs the user's
    with DemoServer() as server:
        server.set_phase(2)
        sources = write_sources(server.base_url, tmp_path / "sources.yaml")
        report = run_crawl_job(db, sources, FAST, kb_dir=user_kb)
    assert report.new_parks == [] and report.candidates == []
    engine = make_engine(db)
    with session_factory(engine)() as s:
        assert s.scalars(select(Park).where(Park.origin == "found")).all() == []
        assert s.scalars(select(Alert)).all() == []
        kb_rows = {p.name_zh: p.kb_id for p in s.scalars(select(Park).where(Park.origin == "kb"))}
        assert {kb_rows[name] for name in SECOND_BATCH} == {"park:songhu-dongguan", "park:haichuan-jiangmen"}
        linked = set(s.scalars(select(Mention.entity_kb_id).where(Mention.type == "PARK")))
        assert {"park:songhu-dongguan", "park:haichuan-jiangmen"} <= linked
    engine.dispose()


def test_eval_scores_with_the_users_knowledge_base(tmp_path: Path, user_kb: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A park the user added is known to `parkwatch eval`: no false new-park alert for it."""
    corpus = tmp_path / "corpus"
    write(corpus, "tuning.yaml", f"""
documents:
  - id: d1
    lang: zh
    text: 第二批名单包括{SONGHU}（东莞）。
    parks: [park:songhu-dongguan]
    cities: [city:dongguan]
    companies: [company:songhu]
    new: []
""")
    config = tmp_path / "pw.yaml"
    config.write_text(f"kb_dir: {user_kb}\n")
    scores = {}
    for argv in (["--config", str(config)], []):
        assert main([*argv, "eval", "--part", "tuning", "--corpus", str(corpus), "--json"]) == 0
        (report,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        scores[bool(argv)] = (report["scores"]["all/PARK"]["tp"], report["false_new_park_alerts"])
    assert scores == {True: (1, 0), False: (0, 1)}


def test_the_readme_example_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Your own knowledge base")[1]
    block = section.split("```yaml\n")[1].split("```")[0]
    companies, parks = block.split("# /etc/parkwatch/kb/parks.yaml\n")
    folder = tmp_path / "kb"
    write(folder, "companies.yaml", companies)
    write(folder, "parks.yaml", parks)
    kb = KnowledgeBase.load(user_dir=folder)
    assert kb.parks["park:songhu-dongguan"].company == "company:songhu"
    assert kb.companies["company:songhu"].ambiguous == ("松湖",)
