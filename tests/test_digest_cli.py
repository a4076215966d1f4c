"""`parkwatch digest`: periods, formats, and one clear line for a bad period."""

from __future__ import annotations

import email
from email.policy import default as email_policy
from pathlib import Path

import pytest

from schedules.cli import main
from store.db import sqlite_url
from tests.test_digest import EXPECTED, NEW_PARK, populate


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "digest.db"
    populate(sqlite_url(path))
    return str(path)


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARKWATCH_CONFIG", raising=False)


def test_week_as_markdown_on_stdout(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "digest", "--week", "2026-W47"]) == 0
    assert capsys.readouterr().out == EXPECTED


def test_dates_as_html_chosen_by_the_file_suffix(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "week.html"
    assert main(["--db", db, "digest", "--since", "2026-11-16", "--until", "2026-11-22", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"digest 2026-11-16 to 2026-11-22 (html) written to {out}\n"
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and NEW_PARK in html and html.count('src="data:image/png;base64,') == 3


def test_email_format_writes_a_message_file(db: str, tmp_path: Path) -> None:
    out = tmp_path / "digest.txt"
    assert main(["--db", db, "digest", "--week", "2026-W47", "--format", "email", "--out", str(out)]) == 0
    msg = email.message_from_bytes(out.read_bytes(), policy=email_policy)
    assert msg.get_content_type() == "multipart/alternative" and "2026-W47" in msg["Subject"]


@pytest.mark.parametrize("args, message", [
    (["--week", "2026-W60"], "parkwatch: error: no such ISO week: '2026-W60'\n"),
    (["--since", "2026-11-16"], "parkwatch: error: --since and --until go together (both dates inclusive)\n"),
    (["--since", "2026-11-22", "--until", "2026-11-16"], "parkwatch: error: --until 2026-11-16 is before --since 2026-11-22\n"),
    (["--days", "0"], "parkwatch: error: --days must be at least 1, got 0\n"),
])
def test_a_bad_period_is_one_line_and_exit_1(db: str, args: list[str], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "digest", *args]) == 1
    captured = capsys.readouterr()
    assert captured.err == message and captured.out == ""


def test_week_and_days_together_is_bad_usage(db: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--db", db, "digest", "--week", "2026-W47", "--days", "3"])
    assert exit_.value.code == 2


@pytest.mark.parametrize("section, message", [
    ("digest: {timezone: Mars/Base}", "bad 'digest' section: unknown time zone 'Mars/Base'"),
    ("digest: {formats: [pdf]}", "bad 'digest' section: formats must be md, html or email, got pdf"),
    ("smtp: {security: tls}", "bad 'smtp' section: security must be starttls, ssl or plain, got 'tls'"),
    ("smtp: {password: hunter2}", "unknown smtp setting(s): password"),  # secrets stay in the environment
])
def test_bad_digest_or_smtp_settings_are_one_line(db: str, tmp_path: Path, section: str, message: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "parkwatch.yaml"
    config.write_text(section + "\n", encoding="utf-8")
    assert main(["--config", str(config), "--db", db, "digest"]) == 1
    assert capsys.readouterr().err == f"parkwatch: error: {config}: {message}\n"
