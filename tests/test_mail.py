"""The weekly job e-mails the digest to a real aiosmtpd server on 127.0.0.1, each recipient once.

Checks the MIME structure mail clients need (text/plain alternative; HTML with its pictures as
inline parts referenced by Content-ID), the headers, exactly-once delivery across re-runs and
partial failures, and STARTTLS + login with the password from the environment only.
"""

from __future__ import annotations

import email
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from schedules.config import Config, DigestConfig, SmtpConfig
from schedules.digest_job import run_weekly
from store.db import sqlite_url
from tests.test_digest import HOSTILE, populate

MONDAY = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)  # 08:00 in Shanghai: reports 2026-W47
PEOPLE = ("analyst@example.org", "lead@example.org")


class Mailbox:
    """An aiosmtpd handler that keeps every message and refuses recipients in `refuse`."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=email_policy) for e in self.envelopes]  # type: ignore[misc]


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = sqlite_url(tmp_path_factory.mktemp("mail") / "digest.db")
    populate(url)
    return url


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, Controller]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller
    controller.stop()


def free_port() -> int:
    """A port nothing listens on right now (aiosmtpd needs a fixed one to check it started)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config(db_url: str, port: int, **smtp: Any) -> Config:
    return Config(db_url=db_url, smtp=SmtpConfig(host="127.0.0.1", port=port, security="plain",
                                                 sender="parkwatch@example.org", timeout_seconds=5, **smtp),
                  digest=DigestConfig(recipients=PEOPLE))


def test_weekly_job_writes_files_and_mails_each_recipient_with_inline_pictures(
        db_url: str, smtp_server: tuple[Mailbox, Controller], tmp_path: Path) -> None:
    box, controller = smtp_server
    result = run_weekly(config(db_url, controller.port), tmp_path, MONDAY, env={})
    assert result.window.label == "2026-W47"
    assert sorted(p.name for p in result.files) == ["digest-2026-W47.html", "digest-2026-W47.md"]
    assert (result.sent, result.failed) == (list(PEOPLE), {})
    assert [e.rcpt_tos for e in box.envelopes] == [[p] for p in PEOPLE]
    messages = box.messages()
    msg = messages[0]
    assert msg["From"] == "parkwatch@example.org" and msg["To"] == PEOPLE[0]
    assert msg["Subject"] == "parkwatch digest 2026-W47: New this week: batch 2: 1 park named."
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Date"]
    assert re.fullmatch(r"<digest-2026-W47-[0-9a-f]{24}@parkwatch\.local>", msg["Message-ID"])
    assert messages[0]["Message-ID"] != messages[1]["Message-ID"]
    # multipart/alternative: text/plain, then multipart/related(text/html, image/png...)
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()  # type: ignore[misc]
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content() == (tmp_path / "digest-2026-W47.md").read_text(encoding="utf-8")
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    html = html_part.get_content()
    assert html_part.get_content_type() == "text/html"
    assert [i.get_content_type() for i in images] == ["image/png"] * 3
    cids = {i["Content-ID"].strip("<>") for i in images}
    assert set(re.findall(r'src="cid:([^"]+)"', html)) == cids
    assert all(i.get_content_disposition() == "inline" and i.get_content().startswith(b"\x89PNG") for i in images)
    assert "data:image" not in html and "http://127.0.0.1" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | 珠海" in html and HOSTILE not in html


def test_a_rerun_sends_nothing_twice(db_url: str, smtp_server: tuple[Mailbox, Controller], tmp_path: Path) -> None:
    box, controller = smtp_server
    cfg = config(db_url, controller.port)
    run_weekly(cfg, tmp_path, MONDAY, env={})
    again = run_weekly(cfg, tmp_path, MONDAY, env={})
    assert (again.sent, again.already_sent) == ([], list(PEOPLE))
    assert len(box.envelopes) == 2


def test_a_refused_recipient_is_recorded_and_retried_alone(
        db_url: str, smtp_server: tuple[Mailbox, Controller], tmp_path: Path) -> None:
    box, controller = smtp_server
    cfg = config(db_url, controller.port)
    box.refuse.add(PEOPLE[1])
    first = run_weekly(cfg, tmp_path, MONDAY, env={})
    assert first.sent == [PEOPLE[0]] and list(first.failed) == [PEOPLE[1]] and "550" in first.failed[PEOPLE[1]]
    box.refuse.clear()
    second = run_weekly(cfg, tmp_path, MONDAY, env={})
    assert (second.sent, second.already_sent) == ([PEOPLE[1]], [PEOPLE[0]])
    assert [e.rcpt_tos for e in box.envelopes] == [[PEOPLE[0]], [PEOPLE[1]]]


def test_unreachable_server_fails_every_recipient_with_a_reason(db_url: str, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    result = run_weekly(config(db_url, port), tmp_path, MONDAY, env={})
    assert result.sent == [] and set(result.failed) == set(PEOPLE)
    assert all(f"127.0.0.1:{port}" in reason for reason in result.failed.values())
    assert (tmp_path / "digest-2026-W47.md").exists()  # the files are written whatever the mail does


def test_starttls_login_uses_the_password_from_the_environment(db_url: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the client verifies the server certificate
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        logins.append((data.login, data.password))
        return AuthResult(success=(data.login, data.password) == (b"digest", b"s3cret-pw"))

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=server_ctx, require_starttls=True,
                            authenticator=authenticator, auth_require_tls=True)
    controller.start()
    try:
        cfg = config(db_url, controller.port, username="digest")
        cfg = replace(cfg, smtp=replace(cfg.smtp, security="starttls"), digest=DigestConfig(recipients=PEOPLE[:1]))
        missing = run_weekly(cfg, tmp_path, MONDAY, env={})
        assert "PARKWATCH_SMTP_PASSWORD" in missing.failed[PEOPLE[0]] and box.envelopes == []
        sent = run_weekly(cfg, tmp_path, MONDAY, env={"PARKWATCH_SMTP_PASSWORD": "s3cret-pw"})
    finally:
        controller.stop()
    assert sent.sent == list(PEOPLE[:1]) and logins == [(b"digest", b"s3cret-pw")]
    for path in tmp_path.iterdir():  # the password is in no file the job wrote
        assert b"s3cret-pw" not in path.read_bytes()


def test_schedule_run_weekly_digest_reads_smtp_from_the_config_file(
        db_url: str, smtp_server: tuple[Mailbox, Controller], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from schedules.cli import main

    box, controller = smtp_server
    config_file = tmp_path / "parkwatch.yaml"
    config_file.write_text(
        f"digest_dir: {tmp_path / 'digests'}\n"
        f"smtp: {{host: 127.0.0.1, port: {controller.port}, security: plain, sender: pw@example.org}}\n"
        f"digest: {{recipients: [{PEOPLE[0]}], formats: [md]}}\n", encoding="utf-8")
    monkeypatch.setenv("PARKWATCH_CONFIG", str(config_file))
    db_path = db_url.removeprefix("sqlite:///")
    assert main(["--db", db_path, "schedule", "run", "weekly-digest"]) == 0
    assert main(["--db", db_path, "schedule", "run", "weekly-digest"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("e-mailed 1, already sent 0, failed 0") and out[1].endswith("e-mailed 0, already sent 1, failed 0")
    assert [e.rcpt_tos for e in box.envelopes] == [[PEOPLE[0]]]
    assert len(list((tmp_path / "digests").glob("digest-*-W*.md"))) == 1
    box.refuse.add(PEOPLE[1])
    config_file.write_text(config_file.read_text(encoding="utf-8").replace(f"[{PEOPLE[0]}]", f"[{PEOPLE[0]}, {PEOPLE[1]}]"),
                           encoding="utf-8")
    assert main(["--db", db_path, "schedule", "run", "weekly-digest"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("parkwatch: error:")]
    assert len(errors) == 1 and errors[0].startswith("parkwatch: error: digest ")
    assert f"not sent to {PEOPLE[1]}: " in errors[0] and "550" in errors[0]


def test_two_runs_at_once_still_send_each_recipient_once(db_url: str, tmp_path: Path) -> None:
    import asyncio
    import threading

    class SlowMailbox(Mailbox):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            await asyncio.sleep(0.3)  # both runs are surely inside their send loop together
            return await super().handle_DATA(server, session, envelope)

    box = SlowMailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        cfg = config(db_url, controller.port)
        runs = [threading.Thread(target=run_weekly, args=(cfg, tmp_path, MONDAY), kwargs={"env": {}}) for _ in range(2)]
        for t in runs:
            t.start()
        for t in runs:
            t.join(timeout=60)
    finally:
        controller.stop()
    assert sorted(r for e in box.envelopes for r in e.rcpt_tos) == sorted(PEOPLE)
