"""Knowledge base: bundled data, references, validation errors, with_parks, detect_lang."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml

from nlp.kb import KB_DIR, City, KnowledgeBase, KnowledgeBaseError, Park, Programme
from nlp.lang import detect_lang

GUANGDONG = "广州 深圳 珠海 汕头 佛山 韶关 湛江 肇庆 江门 茂名 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮".split()


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def test_programme(kb: KnowledgeBase) -> None:
    assert kb.programme == Programme(
        name_zh='广东省"5G+工业互联网"应用示范园区',
        name_en='Guangdong "5G + Industrial Internet" demonstration parks',
        planned_parks=10,
        first_batch_year=2020,
    )


def test_all_21_cities(kb: KnowledgeBase) -> None:
    assert len(kb.cities) == 21
    assert sorted(c.name_zh for c in kb.cities.values()) == sorted(GUANGDONG)
    gz = kb.cities["city:guangzhou"]
    assert (gz.name_zh, gz.name_en) == ("广州", "Guangzhou")
    assert {"广州市", "Guangzhou City", "穗"} <= set(gz.aliases)
    for c in kb.cities.values():
        assert c.id.startswith("city:") and f"{c.name_zh}市" in c.aliases


@pytest.mark.parametrize("park_id, city, company, company_zh", [
    ("park:jingxin-guangzhou", "city:guangzhou", "company:jingxin", "京信通信"),
    ("park:haozhi-guangzhou", "city:guangzhou", "company:haozhi", "昊志机电"),
    ("park:tcl-huizhou", "city:huizhou", "company:tcl-smart-terminals", "TCL智能终端"),
    ("park:china-construction-steel-huizhou", "city:huizhou", "company:china-construction-steel", "中建钢构"),
    ("park:foxconn-shenzhen", "city:shenzhen", "company:foxconn", "富士康"),
    ("park:midea-kitchen-foshan", "city:foshan", "company:midea-kitchen", "美的厨电"),
    ("park:gree-zhuhai", "city:zhuhai", "company:gree", "格力电器"),
    ("park:zhanjiang-steel-zhanjiang", "city:zhanjiang", "company:zhanjiang-steel", "湛江钢铁"),
])
def test_first_batch_parks(kb: KnowledgeBase, park_id: str, city: str, company: str, company_zh: str) -> None:
    p = kb.parks[park_id]
    assert (p.city, p.company, p.batch) == (city, company, 1)
    assert kb.companies[p.company].name_zh == company_zh
    assert p.name_zh == f"{company_zh}5G+工业互联网应用示范园区"
    assert p.name_en is not None and p.name_en.endswith(f"({kb.cities[city].name_en})")


def test_eight_parks_all_resolve(kb: KnowledgeBase) -> None:
    assert len(kb.parks) == 8
    for p in kb.parks.values():
        assert p.city in kb.cities and p.company in kb.companies
    assert sum(p.city == "city:guangzhou" for p in kb.parks.values()) == 2
    assert sum(p.city == "city:huizhou" for p in kb.parks.values()) == 2


def test_companies(kb: KnowledgeBase) -> None:
    gree = kb.companies["company:gree"]
    assert (gree.name_zh, gree.name_en, gree.city) == ("格力电器", "Gree Electric", "city:zhuhai")
    assert {"珠海格力电器股份有限公司", "格力", "Gree", "GREE", "Gree Electric Appliances"} <= set(gree.aliases)
    assert {"Hon Hai", "鸿海"} <= set(kb.companies["company:foxconn"].aliases)
    # the department's names and the lead companies' other names (issue 11)
    assert kb.companies["company:midea-kitchen"].name_zh == "美的厨电"
    assert {"工业富联", "FII"} <= set(kb.companies["company:fii"].aliases) | {kb.companies["company:fii"].name_zh}
    assert "Comba Telecom" in kb.companies["company:jingxin"].aliases
    assert len(kb.companies) >= 150
    assert {"company:huawei", "company:oppo", "company:vivo"} <= set(kb.companies)
    for c in kb.companies.values():
        assert c.city is None or c.city in kb.cities


def test_dataclasses_are_frozen(kb: KnowledgeBase) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        kb.parks["park:gree-zhuhai"].batch = 2  # type: ignore[misc]


def test_with_parks_adds_without_mutating(kb: KnowledgeBase) -> None:
    new = Park("park:songhu-dongguan", "东莞松湖智造5G+工业互联网应用示范园区", None,
               "city:dongguan", None, 2)
    kb2 = kb.with_parks([new])
    assert kb2.parks["park:songhu-dongguan"] is new and len(kb2.parks) == 9
    assert "park:songhu-dongguan" not in kb.parks and len(kb.parks) == 8
    assert kb2.cities == kb.cities and kb2.programme == kb.programme


def test_with_parks_rejects_unknown_city(kb: KnowledgeBase) -> None:
    bad = Park("park:x", "某某5G+工业互联网应用示范园区", None, "city:atlantis", None, None)
    with pytest.raises(KnowledgeBaseError, match="park:x.*city:atlantis"):
        kb.with_parks([bad])


# ----------------------------------------------------------------------------- validation


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    for f in KB_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _edit(path: Path, key: str, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data[key])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_copy_loads_identically(kb_copy: Path, kb: KnowledgeBase) -> None:
    assert KnowledgeBase.load(kb_copy) == kb


def test_unknown_city_in_park(kb_copy: Path) -> None:
    _edit(kb_copy / "parks.yaml", "parks", lambda ps: ps[0].update(city="city:nowhere"))
    with pytest.raises(KnowledgeBaseError, match=r"parks\.yaml: park 'park:jingxin-guangzhou': unknown city 'city:nowhere'"):
        KnowledgeBase.load(kb_copy)


def test_unknown_company_in_park(kb_copy: Path) -> None:
    _edit(kb_copy / "parks.yaml", "parks", lambda ps: ps[6].update(company="company:grey"))
    with pytest.raises(KnowledgeBaseError, match=r"parks\.yaml: park 'park:gree-zhuhai': unknown company 'company:grey'"):
        KnowledgeBase.load(kb_copy)


def test_unknown_city_in_company(kb_copy: Path) -> None:
    _edit(kb_copy / "companies.yaml", "companies", lambda cs: cs[0].update(city="city:macau"))
    with pytest.raises(KnowledgeBaseError, match=r"companies\.yaml: company 'company:jingxin'"):
        KnowledgeBase.load(kb_copy)


def test_duplicate_id(kb_copy: Path) -> None:
    def dup(cs: list) -> None:
        cs.append(dict(cs[0], name_zh="别的", name_en="Other", aliases=[]))
    _edit(kb_copy / "cities.yaml", "cities", dup)
    with pytest.raises(KnowledgeBaseError, match=r"cities\.yaml: entry #22 \(city:guangzhou\): duplicate id"):
        KnowledgeBase.load(kb_copy)


def test_missing_field(kb_copy: Path) -> None:
    _edit(kb_copy / "companies.yaml", "companies", lambda cs: cs[7].pop("name_en"))
    with pytest.raises(KnowledgeBaseError, match=r"companies\.yaml: entry #8 \(company:gree\): missing field 'name_en'"):
        KnowledgeBase.load(kb_copy)


def test_park_requires_explicit_batch(kb_copy: Path) -> None:
    _edit(kb_copy / "parks.yaml", "parks", lambda ps: ps[1].pop("batch"))
    with pytest.raises(KnowledgeBaseError, match=r"parks\.yaml: entry #2 \(park:haozhi-guangzhou\)"):
        KnowledgeBase.load(kb_copy)


def test_unknown_field_is_a_typo(kb_copy: Path) -> None:
    _edit(kb_copy / "cities.yaml", "cities", lambda cs: cs[2].update(alias=["x"]))
    with pytest.raises(KnowledgeBaseError, match=r"cities\.yaml: entry #3 \(city:zhuhai\): unknown field"):
        KnowledgeBase.load(kb_copy)


def test_shared_alias_is_ambiguous(kb_copy: Path) -> None:
    _edit(kb_copy / "companies.yaml", "companies", lambda cs: next(c for c in cs if c["id"] == "company:huawei")["aliases"].append("格力"))
    with pytest.raises(KnowledgeBaseError, match=r"companies\.yaml: entry \(company:huawei\): name '格力'"):
        KnowledgeBase.load(kb_copy)


def test_wrong_id_prefix(kb_copy: Path) -> None:
    _edit(kb_copy / "parks.yaml", "parks", lambda ps: ps[0].update(id="gree"))
    with pytest.raises(KnowledgeBaseError, match=r"parks\.yaml: entry #1 \(gree\): id must start with 'park:'"):
        KnowledgeBase.load(kb_copy)


def test_missing_file(kb_copy: Path) -> None:
    (kb_copy / "programme.yaml").unlink()
    with pytest.raises(KnowledgeBaseError, match=r"programme\.yaml: file not found"):
        KnowledgeBase.load(kb_copy)


def test_bad_yaml(kb_copy: Path) -> None:
    (kb_copy / "cities.yaml").write_text("cities: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"cities\.yaml: invalid YAML"):
        KnowledgeBase.load(kb_copy)


def test_city_dataclass_shape() -> None:
    assert [f.name for f in dataclasses.fields(City)] == ["id", "name_zh", "name_en", "aliases", "districts"]
    assert [f.name for f in dataclasses.fields(Park)] == [
        "id", "name_zh", "name_en", "city", "company", "batch", "aliases"]


# ----------------------------------------------------------------------------- detect_lang


@pytest.mark.parametrize("text, lang", [
    ("格力电器获批建设5G+工业互联网应用示范园区。", "zh"),
    ("广东省工信厅公布名单，OPPO、vivo、TCL等企业入选，详见 https://example.org/list.html", "zh"),
    ("Gree Electric opened a demonstration park in Zhuhai on Monday.", "en"),
    ("The park, known locally as 格力电器示范园区, opened in Zhuhai on Monday this week.", "en"),
    ("", "en"),
    ("2020-11-05 12:00", "en"),
])
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang
