"""Doubtful finds (candidates) on real SQLite files: stored without an alert, kept out of the
extractor's knowledge base, promoted by a later sure mention or by `parks confirm`, with their
evidence; listed by `parkwatch parks --candidates` and in the digest."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from nlp.kb import KnowledgeBase
from reports.digest import build_digest
from reports.digest_window import iso_week
from reports.render_md import render_markdown
from schedules.cli import main
from schedules.digest_job import write_digest
from store import repository
from store.db import init_schema, make_engine, session_factory, sqlite_url
from store.models import Alert, AlertNotice, Mention, Park, ParkEvidence
from tests.factories import NEW_PARK, M, new_park_mention

WEEK = iso_week("2026-W47", "Asia/Shanghai")
T0 = WEEK.until - timedelta(days=2)
DOUBT = "惠州鹏程智造5G+工业互联网应用示范园区"
DOUBT_EN = "Huizhou Pengcheng Smart Manufacturing 5G + Industrial Internet Demonstration Park"
DOUBT_SENTENCE = "市领导调研了" + DOUBT + "。"
SURE_SENTENCE = "第三批名单包括" + DOUBT + "（惠州）。"


def doubtful(start: int = 0, *, sentence: str = DOUBT_SENTENCE, confidence: float = 0.45,
             tags: tuple[str, ...] = ("standard-form", "no-batch")) -> M:
    return M("PARK", DOUBT, start, start + len(DOUBT), None, DOUBT, None, True, sentence, "city:huizhou", None,
             "惠州鹏程智造", None, candidate=True, confidence=confidence, evidence=tags)


def sure(start: int = 0) -> M:
    return M("PARK", DOUBT + "（惠州）", start, start + len(DOUBT) + 4, None, DOUBT, None, True, SURE_SENTENCE,
             "city:huizhou", None, "惠州鹏程智造", 3, candidate=False, confidence=0.95,
             evidence=("standard-form", "list", "batch:3"))


def save(session: Session, url: str, mentions: list[M], fetched: datetime = T0, text: str | None = None
         ) -> repository.SaveResult:
    return repository.save_article(
        session, source="gdii", url=url, canonical_url=url, lang="zh", title="标题 " + url,
        text=text or "正文 " + url, published_at=None, fetched_at=fetched, mentions=mentions)


def count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def db_file(tmp_path: Path) -> tuple[str, sessionmaker[Session]]:
    url = sqlite_url(tmp_path / "pw.db")
    engine = make_engine(url)
    init_schema(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        repository.sync_kb(s, KnowledgeBase.load())
    return url, sessions


# ----------------------------------------------------------------------------- the store


def test_a_candidate_is_one_row_without_alert_whatever_the_mentions(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        result = save(s, "http://x/visit", [doubtful(0), doubtful(40, sentence="又一次提到" + DOUBT + "。",
                                                                    confidence=0.5)])
        assert result.new_parks == [] and [p.name_zh for p in result.candidates] == [DOUBT]
    with sessions.begin() as s:
        again = save(s, "http://x/visit-2", [doubtful(3, confidence=0.3)], T0 + timedelta(hours=1))
        assert again.new_parks == [] and again.candidates == []
    with sessions() as s:
        park = s.scalars(select(Park).where(Park.origin == "found")).one()
        assert (park.status, park.kb_id, park.city_kb_id) == ("candidate", repository.found_park_kb_id(DOUBT),
                                                             "city:huizhou")
        assert (count(s, Alert), count(s, AlertNotice)) == (0, 0)
        assert set(s.scalars(select(Mention.entity_kb_id).where(Mention.type == "PARK"))) == {park.kb_id}
        # one evidence row per (park, article): the article's first mention wins
        rows = s.scalars(select(ParkEvidence).order_by(ParkEvidence.id)).all()
        assert [(r.sentence, r.confidence, r.tags) for r in rows] == [
            (DOUBT_SENTENCE, 0.45, ["standard-form", "no-batch"]),
            (DOUBT_SENTENCE, 0.3, ["standard-form", "no-batch"])]
        assert rows[0].seen_at == T0


def test_candidates_stay_out_of_the_extractors_knowledge_base(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        save(s, "http://x/visit", [doubtful()])
        save(s, "http://x/notice", [new_park_mention()])
    with sessions() as s:
        assert [p.name_zh for p in repository.found_parks(s)] == [NEW_PARK]
    with sessions.begin() as s:  # a rejected candidate joins the knowledge base: it stays quiet
        s.scalars(select(Park).where(Park.name_zh == DOUBT)).one().status = "rejected"
    with sessions() as s:
        assert sorted(p.name_zh for p in repository.found_parks(s)) == sorted([NEW_PARK, DOUBT])


def test_a_later_sure_mention_promotes_the_candidate_and_alerts_it_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        save(s, "http://x/visit", [doubtful()])
    with sessions.begin() as s:
        result = save(s, "http://x/list", [sure(0), sure(60)], T0 + timedelta(days=1))
        assert [p.name_zh for p in result.new_parks] == [DOUBT] and result.candidates == []
    with sessions.begin() as s:
        assert save(s, "http://x/news", [sure(5)], T0 + timedelta(days=2)).new_parks == []
    with sessions() as s:
        park = s.scalars(select(Park).where(Park.origin == "found")).one()
        assert (park.status, park.batch) == ("new", 3)  # what made the later mention sure is kept
        assert park.first_seen_url == "http://x/visit"  # first seen stays first seen
        alert = s.scalars(select(Alert)).one()
        assert alert.park_id == park.id and alert.payload["url"] == "http://x/list"
        assert alert.payload["sentence"] == SURE_SENTENCE  # the evidence of the alerting article
        notice = s.scalars(select(AlertNotice)).one()
        assert notice.payload["parks"][0]["sentence"] == SURE_SENTENCE
        assert count(s, ParkEvidence) == 3
    with sessions() as s:
        evidence = repository.park_evidence(s)[park.id]
    assert [e.url for e in evidence] == ["http://x/visit", "http://x/list", "http://x/news"]
    assert repository.max_confidence(evidence) == 0.95


def test_promotion_by_the_other_language_name(sessions: sessionmaker[Session]) -> None:
    """A candidate first named in English is promoted by a sure mention carrying both names."""
    en = M("PARK", DOUBT_EN, 0, len(DOUBT_EN), None, None, DOUBT_EN + " (Huizhou)", True, "They visited " + DOUBT_EN,
           "city:huizhou", None, None, None, candidate=True, confidence=0.4, evidence=("en-standard-form",))
    both = replace(sure(), name_en=DOUBT_EN + " (Huizhou)")
    with sessions.begin() as s:
        save(s, "http://x/en", [en])
    with sessions.begin() as s:
        assert len(save(s, "http://x/zh", [both], T0 + timedelta(hours=3)).new_parks) == 1
    with sessions() as s:
        park = s.scalars(select(Park).where(Park.origin == "found")).one()
        assert (park.status, park.name_zh, park.name_en) == ("new", DOUBT, DOUBT_EN + " (Huizhou)")
        assert count(s, Alert) == 1


def test_sure_then_doubtful_in_one_article_is_one_alerted_park(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        result = save(s, "http://x/list", [sure(0), doubtful(50)])
        assert [p.status for p in result.new_parks] == ["new"] and result.candidates == []
    with sessions() as s:
        assert (count(s, Park, Park.origin == "found"), count(s, Alert), count(s, ParkEvidence)) == (1, 1, 1)
        assert s.scalar(select(ParkEvidence.confidence)) == 0.95


def test_a_changed_article_keeps_its_first_evidence(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        save(s, "http://x/visit", [doubtful()], text="一")
    with sessions.begin() as s:
        assert save(s, "http://x/visit", [doubtful(confidence=0.6)], T0 + timedelta(days=1), text="二").status == "changed"
    with sessions() as s:
        assert s.scalars(select(ParkEvidence.confidence)).all() == [0.45]


def test_a_rejected_park_is_never_promoted(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        save(s, "http://x/visit", [doubtful()])
        s.scalars(select(Park).where(Park.origin == "found")).one().status = "rejected"
    with sessions.begin() as s:  # a stale extractor still sees it as new: the store keeps it quiet
        assert save(s, "http://x/list", [sure()], T0 + timedelta(days=1)).new_parks == []
    with sessions() as s:
        assert s.scalar(select(Park.status).where(Park.origin == "found")) == "rejected"
        assert count(s, Alert) == 0


def test_extra_triggers_leave_candidates_alone(sessions: sessionmaker[Session]) -> None:
    from store import triggers

    with sessions.begin() as s:
        assert triggers.scan(s, ["new_source", "new_language"]) == 0  # the baseline
    with sessions.begin() as s:
        save(s, "http://x/visit", [doubtful()])
        repository.save_article(s, source="southcn", url="http://y/en", canonical_url="http://y/en", lang="en",
                                title="t", text="t", published_at=None, fetched_at=T0 + timedelta(hours=1),
                                mentions=[doubtful(sentence="Officials visited " + DOUBT)])
    with sessions.begin() as s:
        assert triggers.scan(s, ["new_source", "new_language"]) == 0
        assert count(s, Alert) == 0


def test_init_adds_the_evidence_table_to_an_existing_database(tmp_path: Path) -> None:
    url, sessions = db_file(tmp_path)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE park_evidence")  # a database made before the table existed
    engine.dispose()
    assert main(["--db", url, "parks"]) == 1  # refused with the advice to run init
    assert main(["--db", url, "init"]) == 0
    with sessions.begin() as s:
        save(s, "http://x/visit", [doubtful()])
    with sessions() as s:
        assert count(s, ParkEvidence) == 1 and count(s, Park) == 9


# ----------------------------------------------------------------------------- the CLI


def test_parks_candidates_lists_them_and_confirm_alerts(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url, sessions = db_file(tmp_path)
    with sessions.begin() as s:
        save(s, "http://x/visit", [doubtful()])
        save(s, "http://x/notice", [new_park_mention()], T0 + timedelta(hours=1))
        save(s, "http://x/visit-2", [doubtful(sentence="后来又提到" + DOUBT + "。", confidence=0.55,
                                              tags=("standard-form", "org-slot"))], T0 + timedelta(hours=2))
    kb_id = repository.found_park_kb_id(DOUBT)

    assert main(["--db", url, "parks", "--candidates", "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["id"], row["status"], row["confidence"], row["first_seen_url"]) == (kb_id, "candidate", 0.55,
                                                                                   "http://x/visit")
    assert row["evidence"] == [
        {"url": "http://x/visit", "sentence": DOUBT_SENTENCE, "tags": ["standard-form", "no-batch"], "confidence": 0.45},
        {"url": "http://x/visit-2", "sentence": "后来又提到" + DOUBT + "。", "tags": ["standard-form", "org-slot"],
         "confidence": 0.55}]

    assert main(["--db", url, "parks", "--candidates"]) == 0
    text = capsys.readouterr().out
    assert "candidate 0.55  " + DOUBT + "  [Huizhou]  evidence: no-batch, org-slot, standard-form" in text
    assert "<http://x/visit>" in text and DOUBT_SENTENCE in text and f"parkwatch parks confirm {kb_id}" in text

    assert main(["--db", url, "parks", "--json"]) == 0
    every = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert len(every) == 10
    new = every[repository.found_park_kb_id(NEW_PARK)]
    assert (new["status"], new["confidence"], [e["url"] for e in new["evidence"]]) == ("new", None, ["http://x/notice"])
    assert every["park:gree-zhuhai"]["evidence"] == [] and every["park:gree-zhuhai"]["confidence"] is None

    with sessions() as s:
        assert count(s, Alert) == 1  # the sure find only
    assert main(["--db", url, "parks", "confirm", kb_id]) == 0
    assert capsys.readouterr().out.startswith(f"confirmed: {DOUBT} ({kb_id})")
    with sessions() as s:
        alert = s.scalars(select(Alert).join(Park).where(Park.kb_id == kb_id)).one()
        assert (alert.status, alert.payload["url"], alert.payload["sentence"]) == ("pending", "http://x/visit",
                                                                                   DOUBT_SENTENCE)
        assert s.scalar(select(Park.status).where(Park.kb_id == kb_id)) == "confirmed"
    assert main(["--db", url, "parks", "confirm", kb_id]) == 0  # again: still one alert
    assert main(["--db", url, "parks", "--candidates"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "no candidates waiting for review"
    with sessions() as s:
        assert count(s, Alert) == 2


def test_rejecting_a_candidate_writes_no_alert(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url, sessions = db_file(tmp_path)
    with sessions.begin() as s:
        save(s, "http://x/visit", [doubtful()])
    assert main(["--db", url, "parks", "reject", repository.found_park_kb_id(DOUBT)]) == 0
    assert capsys.readouterr().out.startswith("rejected: ")
    with sessions() as s:
        assert count(s, Alert) == 0
        assert s.scalar(select(Park.status).where(Park.origin == "found")) == "rejected"


# ----------------------------------------------------------------------------- the digest


def test_digest_lists_candidates_apart_from_new_parks(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        repository.sync_kb(s, KnowledgeBase.load())
        save(s, "http://x/visit", [doubtful()])
        save(s, "http://x/notice", [new_park_mention()])
    with sessions() as s:
        d = build_digest(s, WEEK, planned_parks=10)
    assert [p.name_zh for p in d.new_parks] == [NEW_PARK]
    assert d.parks_named == 9  # 8 known + the sure find; a candidate is not a park of the programme yet
    assert [(c.name_zh, c.city, c.confidence, c.url, c.sentence) for c in d.candidates] == [
        (DOUBT, "惠州 (Huizhou)", 0.45, "http://x/visit", DOUBT_SENTENCE)]
    assert sum(c.new for c in d.cities) == 1
    text = render_markdown(d)
    section = text.split("## Candidates waiting for review\n")[1].split("## Programme progress")[0]
    assert text.index("## New parks") < text.index("## Candidates waiting for review")
    assert f"- **{DOUBT}**" in section and "confidence: 0.45" in section and "<http://x/visit>" in section
    assert f"evidence: “{DOUBT_SENTENCE}”" in section and "standard-form, no-batch" in section
    assert DOUBT not in text.split("## New parks")[1].split("## Candidates")[0]


def test_no_candidate_section_without_candidates(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        repository.sync_kb(s, KnowledgeBase.load())
        save(s, "http://x/notice", [new_park_mention()])
    with sessions() as s:
        d = build_digest(s, WEEK, planned_parks=10)
    assert d.candidates == [] and "Candidates waiting for review" not in render_markdown(d)


def test_digest_html_and_email_escape_candidate_text(tmp_path: Path) -> None:
    url, sessions = db_file(tmp_path)
    hostile = "<script>alert(1)</script>" + DOUBT
    with sessions.begin() as s:
        save(s, "javascript:alert(2)", [doubtful(sentence="<img src=x onerror=alert(3)>" + DOUBT)])
        save(s, "http://x/hostile", [replace(doubtful(), name_zh=hostile, text=hostile)])
        save(s, "http://x/empty", [new_park_mention()])
    html = write_digest(url, window=WEEK, fmt="html").decode()
    section = html.split('<section id="candidates">')[1].split("</section>")[0]
    assert "Candidates waiting for review" in section
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "&lt;img src=x onerror=alert(3)&gt;" in section
    assert 'href="javascript:' not in html and "javascript:alert(2)" in section  # shown, never a link
    email = write_digest(url, window=WEEK, fmt="email").decode()
    assert "Candidates waiting for review" in email
    without = write_digest(url, window=iso_week("2026-W40", "Asia/Shanghai"), fmt="html").decode()
    assert 'id="candidates"' not in without  # nothing seen by then: no section
