"""English extraction: case-sensitive names, possessives, aliases, token boundaries, sentences.

Decision under test: "Shenzhen-based" DOES yield CITY Shenzhen — it says where the company is,
which is what per-city digests count.
"""
from __future__ import annotations

import pytest

from nlp.extract import EntityMention, Extractor
from nlp.kb import KnowledgeBase

Row = tuple[str, str, int, int, str | None, bool]


@pytest.fixture(scope="module")
def ex() -> Extractor:
    return Extractor(KnowledgeBase.load())


def rows(ms: list[EntityMention]) -> list[Row]:
    return [(m.type, m.text, m.start, m.end, m.id, m.new) for m in ms]


CASES: list[tuple[str, list[Row]]] = [
    (
        "Gree Electric's 5G + Industrial Internet demonstration park in Zhuhai was among the first batch.",
        [
            ("PARK", "Gree Electric's 5G + Industrial Internet demonstration park in Zhuhai", 0, 69, "park:gree-zhuhai", False),
            ("COMPANY", "Gree Electric", 0, 13, "company:gree", False),
            ("CITY", "Zhuhai", 63, 69, "city:zhuhai", False),
        ],
    ),
    (
        "Foxconn, also known as Hon Hai, runs its park in Shenzhen. Shenzhen-based Huawei supplied the network.",
        [
            ("COMPANY", "Foxconn", 0, 7, "company:foxconn", False),
            ("COMPANY", "Hon Hai", 23, 30, "company:foxconn", False),
            ("CITY", "Shenzhen", 49, 57, "city:shenzhen", False),
            ("CITY", "Shenzhen", 59, 67, "city:shenzhen", False),
            ("COMPANY", "Huawei", 74, 80, "company:huawei", False),
        ],
    ),
    (   # possessives count; a name glued into a larger token or word does not
        "Foxconn's plant and Gree's lines. See Gree.com or the Greenland office.",
        [
            ("COMPANY", "Foxconn", 0, 7, "company:foxconn", False),
            ("COMPANY", "Gree", 20, 24, "company:gree", False),
        ],
    ),
    (   # "China" opens many sentences, but it is also the first word of a known company's name
        "China Construction Steel Structure 5G+Industrial Internet Application Demonstration Park opened.",
        [
            ("PARK", "China Construction Steel Structure 5G+Industrial Internet Application Demonstration Park",
             0, 88, "park:china-construction-steel-huizhou", False),
            ("COMPANY", "China Construction Steel Structure", 0, 34, "company:china-construction-steel", False),
        ],
    ),
    (   # case-sensitive: lower-case common words are not names
        "The foxconn story and a zhuhai trip; GREE is shouting.",   # GREE is how Gree writes its brand
        [("COMPANY", "GREE", 37, 41, "company:gree", False)],
    ),
    (   # longest name wins within a type; the city inside a company name is still a CITY
        "vivo and OPPO, both from Dongguan, said Zhanjiang Iron & Steel had joined.",
        [
            ("COMPANY", "vivo", 0, 4, "company:vivo", False),
            ("COMPANY", "OPPO", 9, 13, "company:oppo", False),
            ("CITY", "Dongguan", 25, 33, "city:dongguan", False),
            ("COMPANY", "Zhanjiang Iron & Steel", 40, 62, "company:zhanjiang-steel", False),
            ("CITY", "Zhanjiang", 40, 49, "city:zhanjiang", False),
        ],
    ),
    (
        "Guangzhou City officials praised Jingxin Communication Co. Ltd. for its work.",
        [
            ("CITY", "Guangzhou City", 0, 14, "city:guangzhou", False),
            ("COMPANY", "Jingxin Communication", 33, 54, "company:jingxin", False),
        ],
    ),
    (   # the full English park name from the KB, curly apostrophe in the possessive
        "Midea Kitchen Electric 5G + Industrial Internet Demonstration Park (Foshan)’s output grew.",
        [
            ("PARK", "Midea Kitchen Electric 5G + Industrial Internet Demonstration Park (Foshan)", 0, 75,
             "park:midea-kitchen-foshan", False),
            ("COMPANY", "Midea Kitchen Electric", 0, 22, "company:midea-kitchen", False),
            ("CITY", "Foshan", 68, 74, "city:foshan", False),
        ],
    ),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_english_mentions(ex: Extractor, text: str, expected: list[Row]) -> None:
    ms = ex.extract(text, "en")
    assert rows(ms) == expected
    for m in ms:
        assert text[m.start:m.end] == m.text


def test_known_park_fields_and_sentence(ex: Extractor) -> None:
    text = ("Officials met on Monday. Gree Electric's 5G + Industrial Internet demonstration park "
            "in Zhuhai hosted them. More visits are planned.")
    park = ex.extract(text, "en")[0]
    assert (park.type, park.id, park.city, park.company, park.company_name, park.batch) == (
        "PARK", "park:gree-zhuhai", "city:zhuhai", "company:gree", "Gree Electric", 1)
    assert park.name_zh == "格力电器5G+工业互联网应用示范园区"
    assert park.sentence == ("Gree Electric's 5G + Industrial Internet demonstration park "
                             "in Zhuhai hosted them.")


def test_new_english_park(ex: Extractor) -> None:
    text = ("Dongguan Songhu 5G + Industrial Internet Demonstration Park (Dongguan) was named in the "
            "second batch of Guangdong's 5G + Industrial Internet demonstration parks.")
    ms = ex.extract(text, "en")
    assert rows(ms) == [
        ("PARK", "Dongguan Songhu 5G + Industrial Internet Demonstration Park (Dongguan)", 0, 70, None, True),
        ("COMPANY", "Dongguan Songhu", 0, 15, None, False),     # the lead of a new park is a business
        ("CITY", "Dongguan", 0, 8, "city:dongguan", False),
        ("CITY", "Dongguan", 61, 69, "city:dongguan", False),
    ]
    p = ms[0]
    assert (p.name_zh, p.company, p.company_name, p.city, p.batch) == (
        None, None, "Dongguan Songhu", "city:dongguan", 2)
    assert p.name_en == "Dongguan Songhu 5G + Industrial Internet Demonstration Park (Dongguan)"


def test_generic_english_programme_phrase_is_not_a_park(ex: Extractor) -> None:
    text = "The 5G + Industrial Internet demonstration park programme began in 2020."
    assert ex.extract(text, "en") == []


def test_sentence_splitting_keeps_abbreviations(ex: Extractor) -> None:
    text = "Shares of Foxconn Co. Ltd. rose. Huawei fell!\nGree held steady"
    got = [(m.text, m.sentence) for m in ex.extract(text, "en")]
    assert got == [
        ("Foxconn", "Shares of Foxconn Co. Ltd. rose."),
        ("Huawei", "Huawei fell!"),
        ("Gree", "Gree held steady"),
    ]


def test_mixed_language_text_in_english_article(ex: Extractor) -> None:
    text = "The park, known as 格力电器示范园区, is in Zhuhai."
    assert rows(ex.extract(text)) == [
        ("PARK", "格力电器示范园区", 19, 27, "park:gree-zhuhai", False),
        ("COMPANY", "格力电器", 19, 23, "company:gree", False),
        ("CITY", "Zhuhai", 35, 41, "city:zhuhai", False),
    ]
