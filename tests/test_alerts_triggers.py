"""Optional triggers (new language, new source, batch announcement) on a real SQLite file."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from nlp.kb import KnowledgeBase
from reports.alerts import render
from schedules.alerts_cmd import scan_triggers, set_park_status
from schedules.config import AlertsConfig, ConfigError, load_config
from store import repository
from store.db import make_engine, session_factory
from store.models import AlertNotice
from tests.factories import M
from tests.pipeline_helpers import fresh_db

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
KB = KnowledgeBase.load()
FIRST_BATCH = sorted((p for p in KB.parks.values() if p.batch == 1), key=lambda p: p.id)[:3]
ALL = AlertsConfig(triggers=("new_language", "new_source", "batch_announcement"))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = fresh_db(tmp_path / "pw.db")
    engine = make_engine(url)
    yield url, session_factory(engine)
    engine.dispose()


def add(sessions: sessionmaker[Session], n: int, lang: str, source: str, parks: list) -> None:  # type: ignore[type-arg]
    mentions, text = [], ""
    for park in parks:
        sentence = f"报道提到{park.name_zh}。" if lang == "zh" else f"The report names {park.name_en}."
        start = len(text) + 4
        mentions.append(M("PARK", park.name_zh, start, start + 3, park.id, park.name_zh, park.name_en, False, sentence))
        text += sentence
    with sessions.begin() as s:
        repository.save_article(s, source=source, url=f"http://t.test/{n}", canonical_url=f"http://t.test/{n}",
                                lang=lang, title=f"article {n}", text=text, published_at=T0, fetched_at=T0,
                                mentions=mentions)


def notices(sessions: sessionmaker[Session]) -> list[tuple[str, str, list[str]]]:
    with sessions() as s:
        return [(n.kind, n.payload["detail"], [p["kb_id"] for p in n.payload["parks"]])
                for n in s.scalars(select(AlertNotice).order_by(AlertNotice.id))]


def test_first_scan_is_a_baseline_then_each_trigger_fires_once(db: tuple[str, sessionmaker[Session]]) -> None:
    url, sessions = db
    a, b, c = FIRST_BATCH
    add(sessions, 1, "zh", "gdii", [a])
    assert scan_triggers(sessions, ALL) == 0  # history, however much of it there is
    add(sessions, 2, "en", "newsgd", [a])  # first English coverage, first time on newsgd
    add(sessions, 3, "en", "newsgd", [a])  # neither is new any more
    assert scan_triggers(sessions, ALL) == 2
    assert notices(sessions) == [("new_language", "en", [a.id]), ("new_source", "newsgd", [a.id])]
    add(sessions, 4, "zh", "gdii", [a, b, c])  # the first-batch list itself
    add(sessions, 5, "zh", "southcn", [a, b, c])  # reprinted elsewhere: batch 1 already announced
    assert scan_triggers(sessions, ALL) == 2
    kind, detail, parks = notices(sessions)[2]
    assert (kind, detail, sorted(parks)) == ("batch_announcement", "1", sorted([a.id, b.id, c.id]))
    kind, detail, parks = notices(sessions)[3]  # all three covered before, never by southcn
    assert (kind, detail, sorted(parks)) == ("new_source", "southcn", sorted([a.id, b.id, c.id]))
    assert scan_triggers(sessions, ALL) == 0  # nothing new: nothing again
    with sessions() as s:
        notice = s.scalars(select(AlertNotice).where(AlertNotice.kind == "new_language")).one()
        message = render(notice.payload, notice.idempotency_key)
    assert message.title == "parkwatch: 1 个园区首次出现英文报道 / first English coverage of 1 park"
    assert f"The report names {a.name_en}." in message.body and "<http" not in message.body


def test_triggers_are_off_unless_configured_and_rejected_parks_stay_quiet(db: tuple[str, sessionmaker[Session]]) -> None:
    url, sessions = db
    a, b, c = FIRST_BATCH
    add(sessions, 1, "zh", "gdii", [a])
    assert scan_triggers(sessions, AlertsConfig()) == 0
    only_lang = AlertsConfig(triggers=("new_language",))
    scan_triggers(sessions, only_lang)
    add(sessions, 2, "en", "newsgd", [a])
    assert scan_triggers(sessions, only_lang) == 1 and [n[0] for n in notices(sessions)] == ["new_language"]
    # a rejected (found) park is never alerted by a trigger either
    with sessions.begin() as s:
        repository.save_article(s, source="gdii", url="http://t.test/found", canonical_url="http://t.test/found",
                                lang="zh", title="t", text="名单", published_at=T0, fetched_at=T0,
                                mentions=[M("PARK", "样本园区", 0, 4, None, "样本示例5G+工业互联网应用示范园区", None, True,
                                            "名单。", "city:zhuhai", None, "样本示例", 2)])
    found_id = repository.found_park_kb_id("样本示例5G+工业互联网应用示范园区")
    set_park_status(url, found_id, "rejected")
    scan_triggers(sessions, only_lang)
    add(sessions, 9, "en", "newsgd", [SimpleNamespace(id=found_id, name_zh="样本示例5G+工业互联网应用示范园区",
                                                      name_en="Sample Park")])
    assert scan_triggers(sessions, only_lang) == 0


def test_trigger_names_are_checked_in_the_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "pw.yaml"
    cfg.write_text("alerts:\n  triggers: [new_language, batch_announcement]\n  batch_min_parks: 4\n")
    loaded = load_config(cfg, env={})
    assert loaded.alerts.triggers == ("new_language", "batch_announcement") and loaded.alerts.batch_min_parks == 4
    cfg.write_text("alerts:\n  triggers: [new_company]\n")
    with pytest.raises(ConfigError, match="unknown trigger"):
        load_config(cfg, env={})
    cfg.write_text("alerts:\n  on_uncertain: maybe\n")
    with pytest.raises(ConfigError, match="on_uncertain"):
        load_config(cfg, env={})


def lead_notices(sessions: sessionmaker[Session]) -> list[tuple[str, list[str]]]:
    with sessions() as s:
        rows = s.scalars(select(AlertNotice).where(AlertNotice.kind == "new_lead_company").order_by(AlertNotice.id))
        return [(n.payload["detail"], [p["name_zh"] for p in n.payload["parks"]]) for n in rows]


def test_new_lead_company_once_per_company_and_not_for_known_leaders(db: tuple[str, sessionmaker[Session]]) -> None:
    from dataclasses import replace

    from tests.factories import new_park_mention

    url, sessions = db
    leads = AlertsConfig(triggers=("new_lead_company",))
    add(sessions, 1, "zh", "gdii", [FIRST_BATCH[0]])
    assert scan_triggers(sessions, leads) == 0  # baseline
    newcomer = new_park_mention()  # led by 东莞松湖智造, a company that leads no park yet
    gree_again = replace(new_park_mention(40), name_zh="格力电器5G+工业互联网应用示范园区（河源）",
                         company="company:gree", company_name="格力电器", city="city:heyuan")
    with sessions.begin() as s:
        for n, m in ((2, newcomer), (3, gree_again)):
            repository.save_article(s, source="gdii", url=f"http://t.test/{n}", canonical_url=f"http://t.test/{n}",
                                    lang="zh", title="第二批", text="名单" * 40, published_at=T0, fetched_at=T0,
                                    mentions=[m])
    assert scan_triggers(sessions, leads) == 1
    assert lead_notices(sessions) == [("name:东莞松湖智造", ["东莞松湖智造5G+工业互联网应用示范园区"])]
    # the same newcomer named again: no second alert
    with sessions.begin() as s:
        repository.save_article(s, source="southcn", url="http://t.test/4", canonical_url="http://t.test/4",
                                lang="zh", title="报道", text="再次", published_at=T0, fetched_at=T0,
                                mentions=[new_park_mention()])
    assert scan_triggers(sessions, leads) == 0
    assert len(lead_notices(sessions)) == 1
