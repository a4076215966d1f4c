"""Chinese extraction: known names, new parks in the programme's standard form, normalisation.

Every case lists the exact mentions expected as (type, text, start, end, id, new). Nested rule
under test: mentions of one type never overlap, mentions of different types may nest (a park's
name also yields the COMPANY and CITY mentions inside it).
"""
from __future__ import annotations

import jieba
import pytest

from nlp.extract import EntityMention, Extractor
from nlp.kb import KnowledgeBase, Park

Row = tuple[str, str, int, int, str | None, bool]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture(scope="module")
def ex(kb: KnowledgeBase) -> Extractor:
    return Extractor(kb)


def rows(ms: list[EntityMention]) -> list[Row]:
    return [(m.type, m.text, m.start, m.end, m.id, m.new) for m in ms]


def check_offsets(text: str, ms: list[EntityMention]) -> None:
    for m in ms:
        assert text[m.start:m.end] == m.text
    assert [m.start for m in ms] == sorted(m.start for m in ms)


NOTICE = (
    "关于公布第二批广东省“5G+工业互联网”应用示范园区名单的通知\n"
    "各地级以上市工业和信息化主管部门：\n"
    "经组织专家评审，现将第二批示范园区名单公布如下：\n"
    "1. 东莞松湖智造5G+工业互联网应用示范园区（东莞）\n"
    "2. 江门新会精工5G+工业互联网应用示范园区(江门市)\n"
    "3. 格力电器5G+工业互联网应用示范园区（珠海）\n"
)


def test_notice_two_new_parks_and_one_known(ex: Extractor) -> None:
    ms = ex.extract(NOTICE, "zh")
    check_offsets(NOTICE, ms)
    assert rows(ms) == [
        ("PARK", "东莞松湖智造5G+工业互联网应用示范园区（东莞）", 78, 102, None, True),
        ("COMPANY", "东莞松湖智造", 78, 84, None, False),     # a new park's lead is a business
        ("CITY", "东莞", 78, 80, "city:dongguan", False),
        ("CITY", "东莞", 99, 101, "city:dongguan", False),
        ("PARK", "江门新会精工5G+工业互联网应用示范园区(江门市)", 106, 131, None, True),
        ("COMPANY", "江门新会精工", 106, 112, None, False),
        ("CITY", "江门", 106, 108, "city:jiangmen", False),
        ("CITY", "新会", 108, 110, "city:jiangmen", False),    # a district names its city
        ("CITY", "江门市", 127, 130, "city:jiangmen", False),
        ("PARK", "格力电器5G+工业互联网应用示范园区（珠海）", 135, 157, "park:gree-zhuhai", False),
        ("COMPANY", "格力电器", 135, 139, "company:gree", False),
        ("CITY", "珠海", 154, 156, "city:zhuhai", False),
    ]
    songhu, jiangmen, gree = (m for m in ms if m.type == "PARK")
    assert songhu.name_zh == "东莞松湖智造5G+工业互联网应用示范园区"
    assert (songhu.city, songhu.company, songhu.company_name) == ("city:dongguan", None, "东莞松湖智造")
    assert songhu.batch == 2   # from the notice's "第二批示范园区名单" line above the list
    assert songhu.sentence == "1. 东莞松湖智造5G+工业互联网应用示范园区（东莞）"
    assert (jiangmen.name_zh, jiangmen.city, jiangmen.batch) == (
        "江门新会精工5G+工业互联网应用示范园区", "city:jiangmen", 2)
    assert (gree.name_zh, gree.city, gree.company, gree.company_name, gree.batch) == (
        "格力电器5G+工业互联网应用示范园区", "city:zhuhai", "company:gree", "格力电器", 1)
    assert gree.name_en == "Gree Electric 5G + Industrial Internet Demonstration Park (Zhuhai)"


# (text, company_name, city, batch) of the single new park in each sentence shape.
SHAPES = [
    ("据悉，入选的“佛山南海智能装备5G+工业互联网应用示范园区”将于年内建成。",
     "佛山南海智能装备", "city:foshan", None),
    ("其中包括惠州仲恺数字产业5G+工业互联网应用示范园区（惠州）。", "惠州仲恺数字产业", "city:huizhou", None),
    ("（一）清远高新精密制造5G+工业互联网应用示范园区", "清远高新精密制造", "city:qingyuan", None),
    ("一、中山翠亨新区5G+工业互联网应用示范园区（中山）", "中山翠亨新区", "city:zhongshan", None),
    ("此次获批为示范园区的是揭阳金属生态城5G+工业互联网应用示范园区。", "揭阳金属生态城", "city:jieyang", None),
    ("省工信厅公布，汕头澄海玩具创意5G+工业互联网应用示范园区等3个园区入选第二批名单。",
     "汕头澄海玩具创意", "city:shantou", 2),
    ("经评审，松山湖材料5G+工业互联网应用示范园区(莞)获批为第2批园区。", "松山湖材料", "city:dongguan", 2),
    ("名单如下：\n①潮州陶瓷智造5G+工业互联网应用示范园区（潮州）", "潮州陶瓷智造", "city:chaozhou", None),
]


@pytest.mark.parametrize("text, company_name, city, batch", SHAPES)
def test_new_park_sentence_shapes(ex: Extractor, text: str, company_name: str, city: str,
                                  batch: int | None) -> None:
    ms = ex.extract(text, "zh")
    check_offsets(text, ms)
    parks = [m for m in ms if m.type == "PARK"]
    assert len(parks) == 1
    p = parks[0]
    assert (p.id, p.new, p.company_name, p.city, p.batch) == (None, True, company_name, city, batch)
    assert p.text.startswith(company_name)
    assert p.name_zh == company_name + "5G+工业互联网应用示范园区"
    assert p.sentence in text and p.text in p.sentence


def test_known_company_prefix_new_park(ex: Extractor) -> None:
    """vivo is a known company but has no known park: a new park linked to the company."""
    text = "vivo 5G+工业互联网应用示范园区（东莞）"
    ms = ex.extract(text, "zh")
    assert rows(ms) == [
        ("PARK", "vivo 5G+工业互联网应用示范园区（东莞）", 0, 23, None, True),
        ("COMPANY", "vivo", 0, 4, "company:vivo", False),
        ("CITY", "东莞", 20, 22, "city:dongguan", False),
    ]
    p = ms[0]
    assert (p.company, p.company_name, p.city) == ("company:vivo", "vivo", "city:dongguan")
    assert p.name_en == "vivo 5G + Industrial Internet Demonstration Park (Dongguan)"


def test_city_prefixed_company_links_known_park(ex: Extractor) -> None:
    text = "珠海格力电器5G+工业互联网应用示范园区正在扩建。"
    assert rows(ex.extract(text, "zh")) == [
        ("PARK", "珠海格力电器5G+工业互联网应用示范园区", 0, 20, "park:gree-zhuhai", False),
        ("COMPANY", "珠海格力电器", 0, 6, "company:gree", False),   # a name of Gree in the KB
        ("CITY", "珠海", 0, 2, "city:zhuhai", False),
    ]


def test_same_company_other_city_is_a_new_park(ex: Extractor) -> None:
    """A lead company's second park elsewhere must not be folded into its known park."""
    ms = ex.extract("格力电器5G+工业互联网应用示范园区（河源）", "zh")
    park = ms[0]
    assert (park.type, park.id, park.new, park.company, park.city) == (
        "PARK", None, True, "company:gree", "city:heyuan")


@pytest.mark.parametrize("text", [
    "全省已建成8个5G+工业互联网应用示范园区。",
    "广东省“5G+工业互联网”应用示范园区建设稳步推进。",
    "第二批5G+工业互联网应用示范园区名单即将公布。",
    "获批的5G+工业互联网应用示范园区将获得资金支持。",
])
def test_generic_programme_mentions_are_not_parks(ex: Extractor, text: str) -> None:
    assert [m for m in ex.extract(text, "zh") if m.type == "PARK"] == []


def test_bare_city_prefix_is_not_a_park(ex: Extractor) -> None:
    text = "东莞5G+工业互联网应用示范园区建设加快。"
    assert rows(ex.extract(text, "zh")) == [("CITY", "东莞", 0, 2, "city:dongguan", False)]


def test_traditional_chinese(ex: Extractor) -> None:
    text = "格力電器5G+工業互聯網應用示範園區（珠海）今年產值增長。"
    ms = ex.extract(text, "zh")
    assert rows(ms) == [
        ("PARK", "格力電器5G+工業互聯網應用示範園區（珠海）", 0, 22, "park:gree-zhuhai", False),
        ("COMPANY", "格力電器", 0, 4, "company:gree", False),
        ("CITY", "珠海", 19, 21, "city:zhuhai", False),
    ]
    assert ms[0].company_name == "格力電器" and ms[1].name_zh == "格力电器"
    assert ms[0].sentence == text


def test_city_nested_in_other_name(ex: Extractor) -> None:
    """珠海 inside 珠海华发集团 is found; the company is the KB's 珠海华发 (Huafa)."""
    text = "珠海华发集团与多家企业签约。"
    assert rows(ex.extract(text, "zh")) == [
        ("COMPANY", "珠海华发", 0, 4, "company:huafa", False),
        ("CITY", "珠海", 0, 2, "city:zhuhai", False),
    ]


@pytest.mark.parametrize("text", [
    "各地深入推进数字化转型，不断加深合作。",
    "他仿佛看到了未来工厂的样子。",
])
def test_single_character_short_forms_not_matched_in_free_text(ex: Extractor, text: str) -> None:
    assert ex.extract(text, "zh") == []


def test_zhongshan_university_is_not_the_city(ex: Extractor) -> None:
    text = "中山大学专家到访中山市。"
    assert rows(ex.extract(text, "zh")) == [("CITY", "中山市", 8, 11, "city:zhongshan", False)]


def test_full_width_spaces_short_slot_and_quotes(ex: Extractor) -> None:
    text = "湛江钢铁５Ｇ ＋ 工业互联网应用示范园区（湛）投产。富士康“5G+工业互联网”应用示范园区也在列。"
    ms = ex.extract(text, "zh")
    check_offsets(text, ms)
    assert rows(ms) == [
        ("PARK", "湛江钢铁５Ｇ ＋ 工业互联网应用示范园区（湛）", 0, 23, "park:zhanjiang-steel-zhanjiang", False),
        ("COMPANY", "湛江钢铁", 0, 4, "company:zhanjiang-steel", False),
        ("CITY", "湛江", 0, 2, "city:zhanjiang", False),
        ("CITY", "湛", 21, 22, "city:zhanjiang", False),
        ("PARK", "富士康“5G+工业互联网”应用示范园区", 26, 45, "park:foxconn-shenzhen", False),
        ("COMPANY", "富士康", 26, 29, "company:foxconn", False),
    ]
    assert ms[0].sentence == "湛江钢铁５Ｇ ＋ 工业互联网应用示范园区（湛）投产。"
    assert ms[4].sentence == "富士康“5G+工业互联网”应用示范园区也在列。"


def test_alias_short_form_and_district_slot(ex: Extractor) -> None:
    """美的 alone is Midea Group, not Midea Kitchen Electric: a new park; 佛山顺德 → 佛山."""
    text = "美的5G+工业互联网应用示范园区（佛山顺德）和京信通信示范园区"
    ms = ex.extract(text, "zh")
    assert rows(ms) == [
        ("PARK", "美的5G+工业互联网应用示范园区（佛山顺德）", 0, 22, None, True),
        ("COMPANY", "美的", 0, 2, "company:midea", False),      # the lead slot makes 美的 a company
        ("CITY", "佛山", 17, 19, "city:foshan", False),
        ("CITY", "顺德", 19, 21, "city:foshan", False),
        ("PARK", "京信通信示范园区", 23, 31, "park:jingxin-guangzhou", False),
        ("COMPANY", "京信通信", 23, 27, "company:jingxin", False),
    ]
    assert (ms[0].company_name, ms[0].city) == ("美的", "city:foshan")


def test_batch_not_borrowed_across_prose(ex: Extractor) -> None:
    """A batch stated in an earlier prose sentence does not describe a park named later."""
    text = "首批8个示范园区于2020年获批。近日，韶关钢铁5G+工业互联网应用示范园区开工。"
    park = [m for m in ex.extract(text, "zh") if m.type == "PARK"][0]
    assert (park.text, park.new, park.batch, park.city) == (
        "韶关钢铁5G+工业互联网应用示范园区", True, None, "city:shaoguan")
    assert park.sentence == "近日，韶关钢铁5G+工业互联网应用示范园区开工。"


def test_lang_detected_when_not_given(ex: Extractor) -> None:
    text = "格力在珠海。"
    assert rows(ex.extract(text)) == [
        ("COMPANY", "格力", 0, 2, "company:gree", False),
        ("CITY", "珠海", 3, 5, "city:zhuhai", False),
    ]


def test_empty_text(ex: Extractor) -> None:
    assert ex.extract("", "zh") == [] and ex.extract(" \n ", "zh") == []


def test_add_park_links_later_mentions(kb: KnowledgeBase) -> None:
    ex = Extractor(kb)
    text = "东莞松湖智造5G+工业互联网应用示范园区（东莞）投入运营，松湖智造示范园区产值翻番。"
    before = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert [(m.text, m.id, m.new) for m in before] == [
        ("东莞松湖智造5G+工业互联网应用示范园区（东莞）", None, True)]
    park = Park("park:songhu-dongguan", before[0].name_zh or "", None, "city:dongguan", None, 2,
                aliases=("松湖智造示范园区",))
    ex.add_park(park)
    after = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert [(m.text, m.start, m.end, m.id, m.new, m.batch) for m in after] == [
        ("东莞松湖智造5G+工业互联网应用示范园区（东莞）", 0, 24, "park:songhu-dongguan", False, 2),
        ("松湖智造示范园区", 29, 37, "park:songhu-dongguan", False, 2),
    ]
    assert "park:songhu-dongguan" not in kb.parks   # the caller's KB is not mutated


def test_private_jieba_dictionary(ex: Extractor) -> None:
    """KB names go into the extractor's own jieba.Tokenizer, never into jieba's global one."""
    assert ex._jieba is not jieba.dt
    assert "昊志机电" in ex._jieba.FREQ
    assert "昊志机电" not in jieba.dt.FREQ
    assert "昊志机电" in ex._jieba.lcut("经评审昊志机电的示范园区")
