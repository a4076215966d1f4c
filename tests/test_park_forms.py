"""The park-form components one class at a time (issue 11's failure classes), on sentences
written for these tests. Each asserts what a new park is, what is only a candidate, and what
is no park at all."""
from __future__ import annotations

import pytest

from nlp.extract import EntityMention, Extractor
from nlp.kb import KnowledgeBase
from nlp.lists import line_at, strip_marker
from nlp.novelty import SURE, judge


@pytest.fixture(scope="module")
def ex() -> Extractor:
    return Extractor(KnowledgeBase.load())


def parks(ms: list[EntityMention]) -> list[tuple[str, bool, bool]]:
    """(surface, new, candidate) of every PARK."""
    return [(m.text, m.new, m.candidate) for m in ms if m.type == "PARK"]


# 1. the programme's own name is not a member
@pytest.mark.parametrize("text", [
    "关于印发广东省5G+工业互联网应用示范园区试点方案的通知",
    "全省5G+工业互联网应用示范园区建设工作推进会在广州召开。",
    "我市将做好省级5G+工业互联网应用示范园区申报工作。",
    "会议要求开展2021年度5G+工业互联网应用示范园区评估。",
    "中山市首个省级5G+工业互联网应用示范园区落地。",
    "到2022年建成20个左右5G+工业互联网应用示范园区。",
])
def test_programme_phrases_name_no_park(ex: Extractor, text: str) -> None:
    assert parks(ex.extract(text, "zh")) == []


def test_a_visit_names_the_park_without_prefix_words(ex: Extractor) -> None:
    """调研 / 赴 are verbs: the lead starts after them; a visit alone is only a candidate."""
    ms = ex.extract("市工业和信息化局赴明岚照明5G+工业互联网应用示范园区调研。", "zh")
    (p,) = [m for m in ms if m.type == "PARK"]
    assert p.name_zh == "明岚照明5G+工业互联网应用示范园区"
    assert p.new and p.candidate and p.confidence is not None and p.confidence < SURE


# 2. list structure never leaks into names
@pytest.mark.parametrize("line", [
    "- 锦拓精密5G+工业互联网应用示范园区（东莞）",
    "1. 锦拓精密5G+工业互联网应用示范园区（东莞）",
    "（一）锦拓精密5G+工业互联网应用示范园区（东莞）",
    "①锦拓精密5G+工业互联网应用示范园区（东莞）",
    "及锦拓精密5G+工业互联网应用示范园区（东莞）",
    "“锦拓精密5G+工业互联网应用示范园区”（东莞）",
])
def test_list_markers_and_joiners_stay_out_of_names(ex: Extractor, line: str) -> None:
    text = "第二批广东省5G+工业互联网应用示范园区名单如下：\n" + line + "\n"
    (p,) = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert p.name_zh == "锦拓精密5G+工业互联网应用示范园区" and p.company_name == "锦拓精密"


def test_strip_marker_and_table_rows() -> None:
    assert strip_marker("(三)华茂新材料") == "华茂新材料"      # normalised text: half-width brackets
    assert strip_marker("以及华茂新材料") == "华茂新材料"
    text = "| 3 | 华茂新材料5G+工业互联网应用示范园区 | 茂名 |\n下一行"
    line = line_at(text, 8)
    assert line.table_row and line.cells(text)[2] == "茂名"


# 3. announcements that list many parks
def test_table_rows_are_sure_new_parks_with_the_row_city(ex: Extractor) -> None:
    text = ("第三批广东省5G+工业互联网应用示范园区名单\n"
            "| 序号 | 园区名称 | 所在地市 |\n"
            "| 1 | 博腾电路5G+工业互联网应用示范园区 | 梅州 |\n"
            "| 2 | 凯穗铸造5G+工业互联网应用示范园区 | 清远 |\n")
    ps = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert [(p.company_name, p.city, p.new, p.candidate, p.batch) for p in ps] == [
        ("博腾电路", "city:meizhou", True, False, 3), ("凯穗铸造", "city:qingyuan", True, False, 3)]


def test_cities_before_one_shared_suffix(ex: Extractor) -> None:
    text = "第二批名单为锦拓精密（东莞）、明岚照明（中山）和嘉乐玩具（汕头）5G+工业互联网应用示范园区。"
    ps = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert [(p.company_name, p.city, p.new, p.candidate) for p in ps] == [
        ("锦拓精密", "city:dongguan", True, False), ("明岚照明", "city:zhongshan", True, False),
        ("嘉乐玩具", "city:shantou", True, False)]


def test_known_parks_named_by_their_leads_on_a_programme_page(ex: Extractor) -> None:
    text = ("广东省5G+工业互联网应用示范园区工作会议召开。会上，京信通信、格力电器、美的厨电等首批示范园区作了交流；"
            "惠州两个园区分别由TCL智能终端、中建钢构牵头。")
    ids = {m.id for m in ex.extract(text, "zh") if m.type == "PARK"}
    assert ids == {"park:jingxin-guangzhou", "park:gree-zhuhai", "park:midea-kitchen-foshan",
                   "park:tcl-huizhou", "park:china-construction-steel-huizhou"}


def test_the_departments_first_batch_list_raises_nothing_new(ex: Extractor) -> None:
    rows = ["京信通信", "昊志机电", "TCL 智能终端", "中建钢构", "美的厨电", "富士康", "格力电器", "湛江钢铁"]
    text = "首批广东省5G+工业互联网应用示范园区名单\n" + "\n".join(
        f"{i}. {r}5G+工业互联网应用示范园区" for i, r in enumerate(rows, 1))
    ps = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert len(ps) == 8 and not any(p.new for p in ps)


# 4. English that separates parks from companies
def test_they_are_list_with_cities(ex: Extractor) -> None:
    text = ("Guangdong named its second batch of 5G + Industrial Internet demonstration parks on Friday. "
            "They are: Jintuo Precision and Shengyi Technology in Dongguan; Minglan Lighting in Zhongshan.")
    ps = [(m.text, m.city, m.new, m.candidate) for m in ex.extract(text, "en") if m.type == "PARK"]
    assert ps == [("Jintuo Precision", "city:dongguan", True, False),
                  ("Shengyi Technology", "city:dongguan", True, False),
                  ("Minglan Lighting", "city:zhongshan", True, False)]
    assert all(m.name_en for m in ex.extract(text, "en") if m.type == "PARK")   # never an empty name


@pytest.mark.parametrize("sentence, lead, city", [
    ("The third batch adds a park in Dongguan led by precision-parts maker Jintuo Precision.",
     "Jintuo Precision", "city:dongguan"),
    ("The third batch adds a stone-processing park in Yunfu anchored by Shidu Stone.", "Shidu Stone", "city:yunfu"),
    ("The third batch adds the Jieyang park led by mould maker Ruichi Mould.", "Ruichi Mould", "city:jieyang"),
    ("The third batch adds Shidu Stone, a stone-processing group in Yunfu.", "Shidu Stone", "city:yunfu"),
    ("The third batch includes Fengzhu Hardware's 5G industrial internet park in Yangjiang.",
     "Fengzhu Hardware", "city:yangjiang"),
])
def test_english_leads_in_programme_context(ex: Extractor, sentence: str, lead: str, city: str) -> None:
    text = "Guangdong has expanded its 5G + Industrial Internet demonstration parks programme.\n" + sentence
    (p,) = [m for m in ex.extract(text, "en") if m.type == "PARK"]
    assert (p.company_name, p.city, p.new) == (lead, city, True)
    assert any(m.type == "COMPANY" and m.text == lead for m in ex.extract(text, "en"))


def test_dash_led_park_links_the_known_park(ex: Extractor) -> None:
    text = "Guangdong's 5G + Industrial Internet demonstration parks are a year old. The Gree-led park in Zhuhai grew."
    assert [m.id for m in ex.extract(text, "en") if m.type == "PARK"] == ["park:gree-zhuhai"]


def test_company_lists_outside_the_programme_name_no_park(ex: Extractor) -> None:
    text = "Guangdong's new 5G factories are: Jintuo Precision in Dongguan and Minglan Lighting in Zhongshan."
    assert parks(ex.extract(text, "en")) == []


# 5. the novelty judgement
def test_judgement_weighs_structure_and_organisation() -> None:
    assert judge(set(), None) is None                                # no structure, nothing org-like
    sure = judge({"city-slot", "table", "industry-word"}, 2)
    assert sure is not None and not sure.candidate and "batch:2" in sure.evidence
    doubt = judge({"industry-word"}, None)
    assert doubt is not None and doubt.candidate and doubt.confidence < SURE


# 6. companies: boundaries and short forms
def test_short_forms_only_in_company_context(ex: Extractor) -> None:
    assert not [m for m in ex.extract("这是最美的园区风景。", "zh") if m.type == "COMPANY"]
    ids = {m.id for m in ex.extract("美的集团与海天味业签约。", "zh") if m.type == "COMPANY"}
    assert {"company:midea"} <= ids


def test_operators_and_other_names_are_known(ex: Extractor) -> None:
    text = "中国移动广东公司联合华为、中兴通讯和工业富联建设5G专网。"
    ids = {m.id for m in ex.extract(text, "zh") if m.type == "COMPANY"}
    assert {"company:huawei", "company:fii"} <= ids and len(ids) >= 4


# one park, one row: whatever spelling, order of discovery or language
@pytest.mark.parametrize("first, later", [
    ("第二批名单：东莞松湖智造5G+工业互联网应用示范园区", "入选的松湖智造5G+工业互联网应用示范园区（东莞）正在建设。"),
    ("第二批名单：松湖智造5G+工业互联网应用示范园区（东莞）", "东莞松湖智造5G+工业互联网应用示范园区正在建设。"),
    ("第二批名单：\n- 锦拓精密5G+工业互联网应用示范园区（东莞）", "第二批名单：“锦拓精密”5G+工业互联网示范园区（東莞）"),
    ("第二批名单：锦拓精密5G+工業互聯網應用示範園區（東莞）", "第二批名单：1. 锦拓精密５Ｇ＋工业互联网应用示范园区（东莞）"),
])
def test_a_second_spelling_links_to_the_first(first: str, later: str) -> None:
    from nlp.found import park_from_mention
    ex = Extractor(KnowledgeBase.load())
    (p,) = [m for m in ex.extract(first, "zh") if m.type == "PARK" and m.new]
    ex.add_park(park_from_mention(p))
    ms = [m for m in ex.extract(later, "zh") if m.type == "PARK"]
    assert [(m.new, m.id) for m in ms] == [(False, park_from_mention(p).id)]


def test_an_english_name_links_to_the_chinese_park() -> None:
    from nlp.found import park_from_mention
    ex = Extractor(KnowledgeBase.load())
    (p,) = [m for m in ex.extract("第三批名单：石都石材5G+工业互联网应用示范园区（云浮）", "zh") if m.type == "PARK"]
    ex.add_park(park_from_mention(p))
    text = "Guangdong named its third batch of 5G + Industrial Internet demonstration parks. They are: Shidu Stone in Yunfu."
    assert [(m.new, m.id) for m in ex.extract(text, "en") if m.type == "PARK"] == [(False, park_from_mention(p).id)]


@pytest.mark.parametrize("text, name", [
    ("配套企业韶关市曲江区宏锻模具有限公司参与建设。", "韶关市曲江区宏锻模具有限公司"),
    ("园区内揭阳市嘉电五金机械有限公司已接入专网。", "揭阳市嘉电五金机械有限公司"),
    ("由广州市昊志机电股份有限公司牵头。", None),          # a known company's legal name: the KB reports it
])
def test_unknown_company_starts_at_the_city_of_its_legal_name(ex: Extractor, text: str, name: str | None) -> None:
    unknown = [m.text for m in ex.extract(text, "zh") if m.type == "COMPANY" and m.id is None]
    assert unknown == ([name] if name else [])


def test_sites_in_a_city_run_by_several_leads(ex: Extractor) -> None:
    text = ("Guangdong named its first 5G + Industrial Internet demonstration parks in 2020.\n"
            "They include two sites in Guangzhou, anchored by telecoms equipment maker Jingxin Communication "
            "and spindle maker Haozhi Electromechanical, and two in Huizhou, run by TCL Smart Terminals and "
            "China Construction Steel Structure.")
    ids = [m.id for m in ex.extract(text, "en") if m.type == "PARK"]
    assert ids == ["park:jingxin-guangzhou", "park:haozhi-guangzhou", "park:tcl-huizhou",
                   "park:china-construction-steel-huizhou"]


# 5. described membership
@pytest.mark.parametrize("text, lang, park", [
    ("2020年，湛江钢铁凭借5G智慧码头成为全省首批“5G+工业互联网”应用示范园区。", "zh", "park:zhanjiang-steel-zhanjiang"),
    ("When Zhanjiang Iron and Steel became one of the province's first \"5G + industrial internet\" "
     "demonstration parks in 2020, few expected it.", "en", "park:zhanjiang-steel-zhanjiang"),
    ("工业富联入选首批广东省5G+工业互联网应用示范园区。", "zh", "park:foxconn-shenzhen"),   # a unit speaks for its group's park
])
def test_described_membership_links_the_known_park(ex: Extractor, text: str, lang: str, park: str) -> None:
    assert [m.id for m in ex.extract(text, lang) if m.type == "PARK"] == [park]


def test_a_company_without_a_park_described_nowhere_is_no_park(ex: Extractor) -> None:
    assert parks(ex.extract("中兴通讯成为多个5G+工业互联网应用示范园区的设备供应商。", "zh")) == []


def test_possessive_cities_and_long_descriptions(ex: Extractor) -> None:
    text = ("Guangdong's 5G + Industrial Internet demonstration parks keep growing.\n"
            "Foxconn's 5G industrial internet park in Shenzhen's Longhua District was first. The third batch "
            "includes a park in Shanwei led by offshore wind equipment maker Haiyun New Energy.")
    got = [(m.text if m.new else m.id, m.city) for m in ex.extract(text, "en") if m.type == "PARK"]
    assert got == [("park:foxconn-shenzhen", "city:shenzhen"), ("Haiyun New Energy", "city:shanwei")]


def test_a_found_parks_lead_names_it_in_english() -> None:
    from nlp.found import park_from_mention
    ex = Extractor(KnowledgeBase.load())
    text = "Guangdong named its second batch of 5G + Industrial Internet demonstration parks. They are: Chaocai Ceramics in Chaozhou."
    (p,) = [m for m in ex.extract(text, "en") if m.type == "PARK"]
    ex.add_park(park_from_mention(p))
    later = [m.id for m in ex.extract("At the Chaocai Ceramics park, kilns report over 5G.", "en") if m.type == "PARK"]
    assert later == [park_from_mention(p).id]


def test_an_english_text_over_a_million_characters_is_read(ex: Extractor) -> None:
    text = "Gree Electric is in Zhuhai. " * 45_000          # 1.26 million characters
    ms = ex.extract(text, "en")
    assert sum(m.type == "COMPANY" for m in ms) == 45_000 and ms[-1].end <= len(text)


@pytest.mark.parametrize("text", [
    "第二批名單包括『錦拓精密5G+工業互聯網應用示範園區』（東莞）。",
    "第二批名單包括錦拓精密「5G＋工業互聯網」應用示範園（東莞）。",
    "第二批名單包括「錦拓精密5G + 工業互聯網應用示範園區」(東莞)。",
])
def test_hong_kong_spellings_of_the_programme_name(ex: Extractor, text: str) -> None:
    (p,) = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert (p.name_zh, p.city, p.new, p.candidate) == (
        "锦拓精密5G+工业互联网应用示范园区", "city:dongguan", True, False)


def test_an_unknown_lead_described_in_a_selection_is_a_new_park(ex: Extractor) -> None:
    text = ("省工业和信息化厅公示第二批广东省“5G+工业互联网”应用示范园区拟认定名单，"
            "由肇庆市肇宇金属材料股份有限公司牵头建设的园区位列其中。\n肇宇金属位于肇庆市高要区。")
    (p,) = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert (p.name_zh, p.company_name, p.city, p.batch, p.new, p.candidate) == (
        "肇宇金属5G+工业互联网应用示范园区", "肇庆市肇宇金属材料股份有限公司", "city:zhaoqing", 2, True, False)
    # the same description outside a selection names no park
    assert parks(ex.extract("由肇庆市肇宇金属材料股份有限公司牵头建设的园区今天开放参观。", "zh")) == []


@pytest.mark.parametrize("sentence, leads", [
    ("The second batch added three parks: in Qingyuan, one anchored by Haoyue Intelligent Equipment; "
     "in Huizhou, Qiaolan Electronics; and in Shaoguan, Nanling Aluminium.",
     [("Haoyue Intelligent Equipment", "city:qingyuan"), ("Qiaolan Electronics", "city:huizhou"),
      ("Nanling Aluminium", "city:shaoguan")]),
    ("The new parks in Shaoguan and Meizhou are led by Nanling Aluminium and Meiyuan Motor, respectively.",
     [("Nanling Aluminium", "city:shaoguan"), ("Meiyuan Motor", "city:meizhou")]),
    ("The third batch includes the Jianfeng Cutlery 5G industrial internet park in Yangjiang.",
     [("Jianfeng Cutlery", "city:yangjiang")]),
])
def test_more_english_list_shapes(ex: Extractor, sentence: str, leads: list[tuple[str, str]]) -> None:
    text = "Guangdong keeps adding 5G + Industrial Internet demonstration parks.\n" + sentence
    got = [(m.company_name, m.city) for m in ex.extract(text, "en") if m.type == "PARK" and m.new]
    assert got == leads


def test_a_shorter_second_mention_on_the_same_page_is_the_same_park(ex: Extractor) -> None:
    text = ("Guangdong put forward its third batch of 5G + Industrial Internet demonstration parks. The site, listed as "
            "the Xiangyun Auto Parts 5G + Industrial Internet Demonstration Park (Zhaoqing), makes brake parts. "
            "The Xiangyun-led park in Zhaoqing is anchored by a supplier.")
    names = {m.name_en for m in ex.extract(text, "en") if m.type == "PARK" and m.new}
    assert names == {"Xiangyun Auto Parts 5G + Industrial Internet Demonstration Park (Zhaoqing)"}


def test_a_chinese_short_form_links_a_park_named_only_in_english() -> None:
    from nlp.found import park_from_mention
    ex = Extractor(KnowledgeBase.load())
    text = ("Guangdong named a third batch of 5G + Industrial Internet demonstration parks, including the "
            "Xiangyun Auto Parts 5G + Industrial Internet Demonstration Park (Zhaoqing).")
    (p,) = [m for m in ex.extract(text, "en") if m.type == "PARK"]
    ex.add_park(park_from_mention(p))
    later = "第三批5G+工業互聯網應用示範園區中，翔運汽配示範園區位於肇慶。"
    assert [(m.id, m.new) for m in ex.extract(later, "zh") if m.type == "PARK"] == [(park_from_mention(p).id, False)]


def test_a_list_heading_gives_its_items_batch_and_the_first_batch_is_closed(ex: Extractor) -> None:
    text = ("连同首批8个，全省5G+工业互联网应用示范园区增至11个。\n第二批名单如下：\n"
            "▌浩粤智能装备“5G+工业互联网应用示范园区”（清远）\n")
    (p,) = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert (p.company_name, p.batch, p.candidate) == ("浩粤智能装备", 2, False)
    (q,) = [m for m in ex.extract("首批名单：\n1. 浩粤智能装备5G+工业互联网应用示范园区（清远）", "zh") if m.type == "PARK"]
    assert q.new and q.candidate and "first-batch-closed" in q.evidence


def test_an_unknown_lead_described_without_由(ex: Extractor) -> None:
    text = ("省工业和信息化厅日前公布第三批广东省“5G+工业互联网”应用示范园区名单，"
            "河源市源兴光电科技有限公司牵头建设的园区榜上有名。")
    (p,) = [m for m in ex.extract(text, "zh") if m.type == "PARK"]
    assert (p.name_zh, p.city, p.batch, p.candidate) == ("源兴光电科技5G+工业互联网应用示范园区", "city:heyuan", 3, False)


def test_an_unknown_english_subject_described_in_a_batch_is_a_new_park(ex: Extractor) -> None:
    text = ("Heyuan Yuanxin Optoelectronics, a maker of display modules, said its campus had passed expert review "
            "for inclusion in the third batch of the province's '5G + industrial internet' application "
            "demonstration parks.")
    (p,) = [m for m in ex.extract(text, "en") if m.type == "PARK"]
    assert (p.company_name, p.city, p.batch, p.new, p.candidate) == (
        "Yuanxin Optoelectronics", "city:heyuan", 3, True, False)
    assert parks(ex.extract("The company said it joined a list of 5G + industrial internet demonstration parks.", "en")) == []


def test_a_legal_core_and_the_press_short_name_are_one_park() -> None:
    from nlp.found import park_from_mention
    ex = Extractor(KnowledgeBase.load())
    first = ("省工业和信息化厅公布第三批广东省“5G+工业互联网”应用示范园区名单，"
             "河源市源兴光电科技有限公司牵头建设的园区榜上有名。")
    (p,) = [m for m in ex.extract(first, "zh") if m.type == "PARK"]
    ex.add_park(park_from_mention(p))
    later = "第三批名单：源兴光电5G+工业互联网应用示范园区（河源）。"
    assert [(m.new, m.id) for m in ex.extract(later, "zh") if m.type == "PARK"] == [(False, park_from_mention(p).id)]
