"""Chinese park forms: [list marker][lead name][programme suffix][(city)].

The programme names a member ``<企业>5G+工业互联网应用示范园区(<城市>)``; the same suffix also ends
phrases about the programme itself (关于印发…示范园区试点方案, 推进全省…示范园区建设, 调研…示范园区,
我市省级…示范园区). What stands before the suffix decides which it is, so the lead name's left
edge is found with jieba's part-of-speech tags on the short window before the suffix (cheap
there, and only there): the name starts after the last verb, preposition, conjunction,
pronoun, numeral, measure, time or scope word, or function character. Unknown brands are cut
by jieba into single characters with arbitrary tags (锦/拓, 明/岚), so single characters are
kept unless they are function characters, and a verb-tagged last word is the name's industry
word (照明, 铸造), not a verb. Whatever is left must look like an organisation for the
judgement downstream (nlp.novelty) to call it a park.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import jieba.posseg

from .kb import City, Company
from .lists import line_at, strip_marker
from .normalize import Normalized

#: The programme's suffix on normalised text (quotes and spaces already folded); 应用 is
#: sometimes dropped, 省级 sometimes added, Hong Kong papers write 示範園 for 示範園區, and a
#: closing quote may stand before the (city): 「…示範園區」（東莞）.
SUFFIX_RE = re.compile(
    r"(?:省级)?5G\+工业互联网(?:应用)?示范园区?(?P<after>(?:[\"']?\((?P<slot>[^()\n]{1,12})\))?)")
#: The canonical suffix of new parks' names, whatever variant the text used.
ZH_SUFFIX = "5G+工业互联网应用示范园区"
#: The window searched for the lead name (characters).
WINDOW = 30
#: Characters that end the window (a name never spans them).
HARD_STOPS = set("，。；：、！？,.;:!?\"'()[]{}<>《》〈〉【】「」『』…—–-|/\\·•●○■□◆▪*\n\r\t①②③④⑤⑥⑦⑧⑨⑩")
#: Part-of-speech tags that end a name when a word of two or more characters carries them.
CUT_POS = {"v", "vd", "vg", "p", "c", "r", "rr", "rz", "m", "mq", "q", "t", "tg", "u", "uj", "ul", "uz",
           "ug", "uv", "ud", "d", "dg", "f", "b", "y", "e", "o", "x", "l", "i", "vn", "ad", "an"}
#: Words that part-of-speech tags would cut but that belong to names (清远高新精密制造).
KEEP_WORDS = {"高新", "新区", "高新区", "科技城", "生态城", "智造", "智能", "数字"}
#: Tags a final word may carry and still be the name's industry word (照明, 铸造, 制造).
TAIL_VERB_POS = {"v", "vn", "nz", "l", "an"}
#: Single characters that are never part of a lead name.
FUNCTION_CHARS = set("赴由及和与在对向把将为是的等了从经被给让于至即或并共另各该其此这那第个家批项首拟到往去来以"
                     "获入经省市县区")
#: Words (any length) that end a name: verbs of selection and work, scope and time words.
STOP_WORDS = {
    "获批", "批准", "获准", "入选", "入围", "包括", "包含", "其中", "成功", "正式", "获评", "评为", "认定",
    "列入", "纳入", "名单", "分别", "确定", "公布", "公示", "授予", "命名", "新增", "此外", "另外", "同时",
    "首次", "本次", "此次", "这次", "今年", "去年", "已经", "申报", "作为", "关于", "通知", "近日", "日前",
    "建设", "打造", "推进", "依托", "牵头", "位于", "设在", "落户", "入驻", "参与", "支持", "推动", "例如",
    "比如", "经过", "评审", "评选", "遴选", "审核", "专家", "组织", "现将", "如下", "附件", "建成", "拥有",
    "累计", "获得", "荣获", "成为", "获选", "上榜", "当选", "通过", "印发", "开展", "掌握", "做好", "形成",
    "调研", "考察", "走访", "参观", "视察", "全省", "我省", "本省", "全市", "我市", "本市", "省级", "市级",
    "国家级", "首批", "首个", "唯一", "年度", "左右", "广东", "广东省", "省内", "国内", "全国", "一批",
    "新一批", "多个", "各地", "各市", "相关", "有关", "上述", "以上", "这些", "该", "示范", "工作", "情况",
    "所在", "园区", "地市", "各类", "全部", "共计", "认定为", "拟认定", "的", "和", "与", "及", "以及",
}
#: What follows the suffix when a phrase names the programme or its work, not a member.
PROGRAMME_AFTER_RE = re.compile(
    r"(?:的)?(?:试点方案|实施方案|建设工作|申报|认定工作|评估|推进会|工作|名单|管理办法|建设指南|遴选|评审"
    r"|创建|试点|培育|项目库|政策|专项|资金|建设(?:方案|要求|任务)|建设情况)")
def _stops(ch: str) -> bool:
    """Does ``ch`` end the window before a suffix? Punctuation, symbols and bullets of any kind
    (▌, ★, ◎ …: Unicode categories P* and S*), besides the listed ones; "+" and "&" stay, they
    occur in names (TCL, B&Q)."""
    return ch in HARD_STOPS or (ch not in "+&" and unicodedata.category(ch)[0] in "PS")


_CHAIN_JOINER_RE = re.compile(r"(?:、|和|与|及|以及|,)$")
_SENTENCE_END_RE = re.compile(r"[。！？\n]")
#: Company words: the slot is a company's name.
COMPANY_WORD_RE = re.compile(r"(?:有限公司|股份公司|集团|公司|股份)$")
#: Industry words that end many lead names (锦拓精密, 明岚照明, 华茂新材料).
INDUSTRY_RE = re.compile(
    r"(?:科技|电子|电器|电气|精密|机电|机械|智能|智造|制造|材料|钢铁|钢构|汽车|照明|玩具|五金|铸造|电路|通信|"
    r"化工|石化|纺织|陶瓷|家居|食品|医药|光电|新能源|电池|家电|装备|终端|能源|实业|塑胶|印染|模具|机车|"
    r"船舶|纸业|建材|卫浴|灯饰|厨电|重工|动力|半导体|微电子|信息|网络|数控|精工|控股|投控|环保|生物|药业)$")


@dataclass
class ZhSlot:
    """One occurrence of the suffix with the lead name found before it (normalised offsets)."""

    start: int
    end: int                        # end of the lead name
    tail_end: int                   # end of the suffix, with the (city) slot when it is a city
    name: str
    slot_city: City | None = None
    slot_span: tuple[int, int] | None = None
    row_city: City | None = None
    company: Company | None = None
    company_cut: int = 0            # where the known company's name starts inside ``name``
    features: set[str] = field(default_factory=set)


class ZhParkForms:
    """Finds standard-form Chinese park names and the structure around them."""

    def __init__(self, tokenizer: jieba.Tokenizer, *,
                 company_in: Callable[[str, list[int]], tuple[Company | None, int]],
                 slot_city: Callable[[str | None], tuple[City | None, int]],
                 city_named: Callable[[str], City | None]) -> None:
        self._pos = jieba.posseg.POSTokenizer(tokenizer)
        self._company_in = company_in
        self._slot_city = slot_city
        self._city_named = city_named

    def add_words(self, words: dict[str, str]) -> None:
        """Tag the knowledge base's names (word → tag) so they are never cut."""
        self._pos.word_tag_tab.update(words)

    def find(self, nt: Normalized) -> list[ZhSlot]:
        s = nt.text
        out: list[ZhSlot] = []
        floor = 0
        matches = list(SUFFIX_RE.finditer(s))
        for i, m in enumerate(matches):
            slot_city, slot_len = self._slot_city(m.group("slot"))
            tail_end = m.end() if slot_city else m.start("after")
            j = m.start()
            while j > floor and s[j - 1] in " \t":
                j -= 1
            prev, floor = floor, tail_end      # a name never reaches back into the previous park
            slots = self._city_first(s, j, prev, m.end()) if s[j - 1:j] == ")" else []
            if not slots:
                got = self.lead_before(s, j, prev)
                if got is None:
                    continue
                slot = ZhSlot(got[0], j, tail_end, got[1], slot_city)
                if slot_city is not None:
                    ss = m.start("slot")
                    slot.slot_span = (ss, ss + slot_len)
                    slot.features.add("city-slot")
                slots = [slot]
            for slot in slots:
                co, cut = self._company_in(slot.name, self._token_starts(slot.name))
                if co is not None:
                    slot.company, slot.company_cut = co, cut
                self._structure(s, m, slot, matches, i)
                out.append(slot)
        return out

    def lead_before(self, s: str, j: int, floor: int) -> tuple[int, str] | None:
        """The lead name ending at ``j`` (its start and text), or None when none stands there."""
        k = j
        while k > floor and not _stops(s[k - 1]) and j - k < WINDOW:
            k -= 1
        rel = self._left_edge(s[k:j])
        if rel is None:
            return None
        name = strip_marker(s[k + rel:j])
        return (j - len(name), name) if self._name_like(name) else None

    def _city_first(self, s: str, j: int, floor: int, suffix_end: int) -> list[ZhSlot]:
        """"X(广州)、Y(惠州)和Z(湛江)5G+…示范园区": each lead with its city, sharing one suffix."""
        items: list[ZhSlot] = []
        pos, end = j, suffix_end
        while s[pos - 1:pos] == ")":
            o = s.rfind("(", max(floor, pos - 14), pos - 1)
            city, n = self._slot_city(s[o + 1:pos - 1]) if o >= 0 else (None, 0)
            got = self.lead_before(s, o, floor) if city is not None else None
            if got is None:
                break
            slot = ZhSlot(got[0], o, end, got[1], city, (o + 1, o + 1 + n), features={"city-slot"})
            items.insert(0, slot)
            joiner = _CHAIN_JOINER_RE.search(s, max(floor, got[0] - 2), got[0])
            if joiner is None:
                break
            pos, end = joiner.start(), joiner.start()
        if len(items) > 1:
            for slot in items:
                slot.features.add("enumeration")
        return items

    # ------------------------------------------------------------------ left edge

    def _left_edge(self, raw: str) -> int | None:
        """Where the lead name starts in ``raw`` (the window before the suffix), or None."""
        if not raw:
            return None
        words = [(w.word, w.flag) for w in self._pos.lcut(raw, HMM=False)]
        pos = len(raw)
        for n, (w, flag) in enumerate(reversed(words)):
            last = n == 0
            if w in STOP_WORDS or (len(w) == 1 and w in FUNCTION_CHARS):
                break
            if (len(w) > 1 and flag in CUT_POS and w not in KEEP_WORDS
                    and not (last and flag in TAIL_VERB_POS)):
                break
            if w.strip() == "" and n > 0 and not raw[:pos].rstrip().isascii():
                break   # a space inside Chinese text separates, except "TCL 智能终端"
            if w.isdigit():
                break
            if (len(w) == 1 and n > 0 and w in "方商者" and n + 1 < len(words)
                    and words[len(words) - n - 2][1] in {"v", "vn"}):
                break   # 建设方 / 运营商 + name: the role, not the name
            pos -= len(w)
        return pos if pos < len(raw) else None

    def _token_starts(self, name: str) -> list[int]:
        starts, p = [], 0
        for w in self._pos.tokenizer.lcut(name, HMM=False):
            starts.append(p)
            p += len(w)
        return starts

    def _name_like(self, name: str) -> bool:
        """At least two characters, some of them letters or CJK, and not a bare city."""
        if len(name) < 2 or not re.search(r"[\u4e00-\u9fffA-Za-z]", name):
            return False
        if name in STOP_WORDS or self._city_named(name) is not None:
            return False
        return not re.fullmatch(r"[\u4e00-\u9fff]{0,3}(?:省|市|区|县)", name)

    # ------------------------------------------------------------------ structure

    def _structure(self, s: str, m: re.Match[str], slot: ZhSlot, matches: list[re.Match[str]],
                   i: int) -> None:
        line = line_at(s, m.start())
        if line.table_row:
            slot.features.add("table")
            for cell in line.cells(s):
                c = self._city_named(cell) or self._city_named(cell.removesuffix("市"))
                if c is not None:
                    slot.row_city = c
                    break
        elif line.list_item:
            slot.features.add("list")
        # another suffix in the same sentence, close by: the neighbours decide (matches are in
        # order and disjoint, so a farther one qualifies only if the nearer one does)
        near = [o for o in matches[max(0, i - 1):i + 2] if o is not m and abs(o.start() - m.start()) < 200
                and not _SENTENCE_END_RE.search(s, min(o.end(), m.end()), max(o.start(), m.start()))]
        if near:
            slot.features.add("enumeration")
        if PROGRAMME_AFTER_RE.match(s, m.end()):
            slot.features.add("programme-after")
        if self._company_word(slot.name):
            slot.features.add("company-word")
        elif re.fullmatch(r"[A-Z][A-Za-z0-9&]{1,}(?: ?[\u4e00-\u9fff]*)", slot.name):
            slot.features.add("latin-brand")
        elif INDUSTRY_RE.search(slot.name):
            slot.features.add("industry-word")

    @staticmethod
    def _company_word(name: str) -> bool:
        return COMPANY_WORD_RE.search(name) is not None
