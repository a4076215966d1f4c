"""Alert delivery against real receivers on 127.0.0.1: an HTTP server that records every request
(and can be down, slow, failing or holding its answer) and a real aiosmtpd SMTP server.

Payloads are spelled out here, and the DingTalk/Feishu signatures are recomputed from the
vendors' documented algorithms, so a change in what users receive fails a test.
"""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reports.channels import parse_channels
from reports.delivery import DeliveryOptions, deliver_due
from store import repository
from store.db import make_engine, session_factory
from store.models import AlertDelivery, AlertNotice
from tests.factories import M
from tests.pipeline_helpers import fresh_db, run_cli

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
PARK_A = "珠海示例精工5G+工业互联网应用示范园区"
PARK_B = "惠州样本电子5G+工业互联网应用示范园区"
SENT_A = f"名单列出了{PARK_A}（珠海）。"
SENT_B = f"另一家是{PARK_B}（惠州）。"
TITLE = "关于公布第二批示范园区的通知 <b>"
FAST = DeliveryOptions(timeout_seconds=2, lease_seconds=30, backoff_seconds=60)


# --------------------------------------------------------------------------- receivers


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the HTTP receiver answers; every request it got, in order."""

    status: int = 200
    delay: float = 0.0
    reply: bytes = b'{"ok": true, "errcode": 0, "code": 0}'
    hold: threading.Event | None = None  # answer only once this is set
    requests: list[Request] = field(default_factory=list)
    got: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        r: Receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        r.requests.append(Request(parts.path, parse_qs(parts.query), dict(self.headers), body))
        r.got.set()
        if r.hold is not None:
            r.hold.wait(60)
        time.sleep(r.delay)
        try:
            self.send_response(r.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(r.reply)))
            self.end_headers()
            self.wfile.write(r.reply)
        except OSError:
            pass  # the client gave up (timeout) or was killed


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.receiver = r  # type: ignore[attr-defined]
    r.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield r
    if r.hold is not None:
        r.hold.set()
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- a database with one notice


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = fresh_db(tmp_path / "pw.db")
    engine = make_engine(url)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        text = SENT_A + SENT_B
        repository.save_article(
            s, source="gdii", url="http://gdii.test/notice/2", canonical_url="http://gdii.test/notice/2",
            lang="zh", title=TITLE, text=text, published_at=T0, fetched_at=T0 + timedelta(hours=1),
            mentions=[
                M("PARK", PARK_A, 5, 5 + len(PARK_A), None, PARK_A, None, True, SENT_A, "city:zhuhai", None, "珠海示例精工", 2),
                M("PARK", PARK_B, 40, 40 + len(PARK_B), None, PARK_B, None, True, SENT_B, "city:huizhou", None, "惠州样本电子", 2),
            ],
        )
    yield url, sessions
    engine.dispose()


def notice_key(sessions: sessionmaker[Session]) -> str:
    with sessions() as s:
        return s.scalars(select(AlertNotice.idempotency_key)).one()


def deliveries(sessions: sessionmaker[Session]) -> list[AlertDelivery]:
    with sessions() as s:
        return list(s.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


def expected_body(key: str, parks: str = "AB") -> str:
    lines = []
    if "A" in parks:
        lines += [f"• {PARK_A}", "  城市 City: 珠海 Zhuhai · 牵头企业 Lead company: 珠海示例精工 · 批次 Batch: 2",
                  f"  证据 Evidence: “{SENT_A}”"]
    if "B" in parks:
        lines += [f"• {PARK_B}", "  城市 City: 惠州 Huizhou · 牵头企业 Lead company: 惠州样本电子 · 批次 Batch: 2",
                  f"  证据 Evidence: “{SENT_B}”"]
    return "\n".join(lines + [
        "",
        f"来源 Source: gdii — {TITLE}",
        "链接 URL: http://gdii.test/notice/2",
        "发布时间 Published: 2026-11-20T08:00:00+00:00",
        f"ref: {key}",
    ])


TITLE_2 = "parkwatch: 2 个新示范园区 / 2 new demonstration parks"


# --------------------------------------------------------------------------- payloads per channel


def test_one_notice_naming_two_parks_is_one_json_message_with_exact_payload(db: Any, receiver: Receiver) -> None:
    url, sessions = db
    channels = parse_channels(f"json://{receiver.base}/hook")
    report = deliver_due(sessions, channels, FAST)
    assert (report.sent, report.failed) == (1, 0)
    key = notice_key(sessions)
    assert key.startswith("pw-") and len(key) == 35
    [req] = receiver.requests
    assert req.path == "/hook" and req.headers["Idempotency-Key"] == key
    payload = req.json()
    data = payload.pop("parkwatch")
    assert payload == {"version": "1.0", "title": TITLE_2, "message": expected_body(key), "attachments": [],
                       "type": "info", "idempotency_key": key}
    assert [p["name_zh"] for p in data["parks"]] == [PARK_A, PARK_B]
    assert data["parks"][0]["city_name"] == {"zh": "珠海", "en": "Zhuhai"}
    assert (data["url"], data["source"], data["title"], data["published_at"]) == (
        "http://gdii.test/notice/2", "gdii", TITLE, "2026-11-20T08:00:00+00:00")
    # sent once: later runs find nothing due
    assert deliver_due(sessions, channels, FAST).sent == 0 and len(receiver.requests) == 1
    [row] = deliveries(sessions)
    assert (row.status, row.attempts, row.channel_name) == ("sent", 1, f"json://127.0.0.1 #{channels[0].key[:8]}")


def _dingtalk_sign(secret: str, timestamp: str) -> str:
    # DingTalk custom robot docs: HMAC-SHA256 keyed by the secret over "timestamp\nsecret", base64.
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _feishu_sign(secret: str, timestamp: str) -> str:
    # Feishu/Lark custom bot docs: HMAC-SHA256 keyed by "timestamp\nsecret" over an empty message.
    return base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def test_dingtalk_signed_payload(db: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from apprise.plugins.dingtalk import NotifyDingTalk

    # Only the host is redirected to the local receiver; Apprise builds payload and signature.
    monkeypatch.setattr(NotifyDingTalk, "notify_url", f"http://{receiver.base}/robot/send?access_token={{token}}")
    _, sessions = db
    before = int(time.time() * 1000)
    assert deliver_due(sessions, parse_channels("dingtalk://SECdemo42@tokenabc123"), FAST).sent == 1
    [req] = receiver.requests
    key = notice_key(sessions)
    assert req.path == "/robot/send" and req.query["access_token"] == ["tokenabc123"]
    timestamp = req.query["timestamp"][0]
    assert before <= int(timestamp) <= int(time.time() * 1000)
    assert req.query["sign"] == [_dingtalk_sign("SECdemo42", timestamp)]
    assert req.json() == {"msgtype": "text", "at": {"atMobiles": [], "isAtAll": False},
                          "text": {"content": f"{TITLE_2}\r\n{expected_body(key)}"}}


@pytest.mark.parametrize("schema", ["feishusign", "larksign"])
def test_feishu_and_lark_signed_payload(db: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, schema: str) -> None:
    from reports.channels.plugins import NotifyFeishuSigned, NotifyLarkSigned

    plugin = NotifyFeishuSigned if schema == "feishusign" else NotifyLarkSigned
    monkeypatch.setattr(plugin, "notify_url", f"http://{receiver.base}/open-apis/bot/v2/hook/{{token}}")
    _, sessions = db
    before = int(time.time())
    assert deliver_due(sessions, parse_channels(f"{schema}://s3cretSign@hooktoken-9"), FAST).sent == 1
    [req] = receiver.requests
    body = req.json()
    assert req.path == "/open-apis/bot/v2/hook/hooktoken-9"
    assert before <= int(body["timestamp"]) <= int(time.time())
    assert body == {"timestamp": body["timestamp"], "sign": _feishu_sign("s3cretSign", body["timestamp"]),
                    "msg_type": "text", "content": {"text": f"{TITLE_2}\r\n{expected_body(notice_key(sessions))}"}}


def test_feishu_refusal_with_http_200_is_a_failure(db: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from reports.channels.plugins import NotifyFeishuSigned

    monkeypatch.setattr(NotifyFeishuSigned, "notify_url", f"http://{receiver.base}/hook/{{token}}")
    receiver.reply = b'{"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}'
    _, sessions = db
    report = deliver_due(sessions, parse_channels("feishusign://wrong@tok"), FAST)
    assert (report.sent, report.failed) == (0, 1)
    [row] = deliveries(sessions)
    assert row.status == "failed" and "19021" in (row.last_error or "")


def test_wecom_and_slack_payloads(db: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from apprise.plugins.slack import NotifySlack
    from apprise.plugins.wecombot import NotifyWeComBot

    monkeypatch.setattr(NotifyWeComBot, "notify_url", f"http://{receiver.base}/cgi-bin/webhook/send?key={{key}}")
    monkeypatch.setattr(NotifySlack, "webhook_url", f"http://{receiver.base}/services")
    receiver.reply = b"ok"  # what Slack's incoming webhooks answer
    _, sessions = db
    channels = parse_channels("wecombot://wecomkey77 slack://T1AAAAAAA/B2BBBBBBB/c3CCCCCCCCCCCCCCCCCCCCCC")
    assert deliver_due(sessions, channels, FAST).sent == 2
    key = notice_key(sessions)
    wecom = next(r for r in receiver.requests if r.path.startswith("/cgi-bin"))
    assert wecom.query["key"] == ["wecomkey77"]
    assert wecom.json() == {"msgtype": "text", "text": {"content": f"{TITLE_2}\r\n{expected_body(key)}"}}
    slack = next(r for r in receiver.requests if r.path.startswith("/services"))
    assert slack.path == "/services/T1AAAAAAA/B2BBBBBBB/c3CCCCCCCCCCCCCCCCCCCCCC"
    text = json.dumps(slack.json(), ensure_ascii=False)
    assert PARK_A in text and PARK_B in text and key in text and TITLE_2 in text


# --------------------------------------------------------------------------- e-mail


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _smtp_port() -> int:
    return closed_port()


def test_email_plain_smtp(db: Any) -> None:
    from aiosmtpd.controller import Controller

    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_smtp_port())
    controller.start()
    try:
        _, sessions = db
        url = f"mailto://127.0.0.1:{controller.port}?from=parkwatch@example.org&to=analyst@example.org"
        assert deliver_due(sessions, parse_channels(url), FAST).sent == 1
    finally:
        controller.stop()
    [envelope] = box.messages
    assert envelope.rcpt_tos == ["analyst@example.org"]
    message = email.message_from_bytes(envelope.original_content, policy=email_policy)
    assert message["Subject"] == TITLE_2
    # Plain text only: a crawled title holding markup can never render as HTML in a mail client.
    assert message.get_body(("html",)) is None
    plain = message.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n").strip() == expected_body(notice_key(sessions))


def test_email_starttls_with_credentials_from_the_environment(db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    import trustme
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the client verifies the server: a real TLS handshake
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        logins.append((data.login, data.password))
        return AuthResult(success=(data.login, data.password) == (b"alerts", b"pa55word"))

    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_smtp_port(), tls_context=server_ctx,
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    controller.start()
    try:
        _, sessions = db
        env = {"PARKWATCH_ALERT_URLS": f"mailtos://alerts:pa55word@localhost:{controller.port}"
                                       "?mode=starttls&from=parkwatch@example.org&to=analyst@example.org"}
        from reports.channels import channels_from_env

        assert deliver_due(sessions, channels_from_env(env), FAST).sent == 1
    finally:
        controller.stop()
    assert logins == [(b"alerts", b"pa55word")]
    [envelope] = box.messages
    assert envelope.rcpt_tos == ["analyst@example.org"]


# --------------------------------------------------------------------------- failures and retries


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_receiver_down_then_back_is_retried_with_backoff_and_sent_once(db: Any, receiver: Receiver) -> None:
    _, sessions = db
    port = closed_port()
    clock = Clock()
    down = parse_channels(f"json://127.0.0.1:{port}/hook")
    report = deliver_due(sessions, down, FAST, clock=clock)
    assert (report.sent, report.failed) == (0, 1)
    [row] = deliveries(sessions)
    assert row.status == "failed" and row.attempts == 1 and "Connection error" in (row.last_error or "")
    assert row.next_attempt_at == clock.now + timedelta(seconds=60)
    clock.now += timedelta(seconds=30)  # not due yet: nothing is attempted
    assert deliver_due(sessions, down, FAST, clock=clock).failed == 0
    clock.now += timedelta(seconds=31)
    assert deliver_due(sessions, down, FAST, clock=clock).failed == 1
    [row] = deliveries(sessions)
    assert row.attempts == 2 and row.next_attempt_at == clock.now + timedelta(seconds=120)  # doubled


def test_http_500_is_retried_and_then_sent_exactly_once(db: Any, receiver: Receiver) -> None:
    _, sessions = db
    clock = Clock()
    channels = parse_channels(f"json://{receiver.base}/hook")
    receiver.status = 500
    assert deliver_due(sessions, channels, FAST, clock=clock).failed == 1
    [row] = deliveries(sessions)
    assert "500" in (row.last_error or "")
    receiver.status = 200
    clock.now += timedelta(minutes=5)
    assert deliver_due(sessions, channels, FAST, clock=clock).sent == 1
    clock.now += timedelta(hours=12)
    assert deliver_due(sessions, channels, FAST, clock=clock).sent == 0
    assert len(receiver.requests) == 2
    assert {r.headers["Idempotency-Key"] for r in receiver.requests} == {notice_key(sessions)}
    [row] = deliveries(sessions)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_slow_receiver_times_out_and_other_channels_still_get_theirs(db: Any, receiver: Receiver) -> None:
    _, sessions = db
    receiver.delay = 3.0
    fast = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.receiver = fast  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        channels = parse_channels(f"json://{receiver.base}/slow json://127.0.0.1:{server.server_address[1]}/fast")
        started = time.monotonic()
        report = deliver_due(sessions, channels, DeliveryOptions(timeout_seconds=1))
        assert time.monotonic() - started < 2.9  # the slow receiver did not hold the run up
    finally:
        server.shutdown()
        server.server_close()
    assert (report.sent, report.failed) == (1, 1)
    assert len(fast.requests) == 1
    slow_row = next(d for d in deliveries(sessions) if d.status == "failed")
    assert slow_row.last_error and slow_row.next_attempt_at is not None
    assert len(receiver.requests) == 1  # a timeout is not proof of non-delivery: hence the idempotency key


def test_max_attempts_then_manual_retry(db: Any, receiver: Receiver) -> None:
    _, sessions = db
    clock = Clock()
    options = DeliveryOptions(timeout_seconds=2, max_attempts=2, backoff_seconds=1)
    channels = parse_channels(f"json://{receiver.base}/hook")
    receiver.status = 500
    for _ in range(3):
        deliver_due(sessions, channels, options, clock=clock)
        clock.now += timedelta(hours=1)
    [row] = deliveries(sessions)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 2, None)  # given up
    from store import outbox

    with sessions.begin() as s:
        assert outbox.retry(s) == 1
    receiver.status = 200
    assert deliver_due(sessions, channels, options, clock=clock).sent == 1


def test_two_deliverers_at_once_send_each_message_once(db: Any, receiver: Receiver) -> None:
    _, sessions = db
    receiver.delay = 0.5
    channels = parse_channels(f"json://{receiver.base}/a json://{receiver.base}/b json://{receiver.base}/c")
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(deliver_due(sessions, channels, FAST))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 3
    assert sorted(r.path for r in receiver.requests) == ["/a", "/b", "/c"]


def test_rejected_park_is_left_out_and_a_fully_rejected_notice_is_never_sent(db: Any, receiver: Receiver) -> None:
    from schedules.alerts_cmd import set_park_status

    url, sessions = db
    set_park_status(url, repository.found_park_kb_id(PARK_B), "rejected")
    assert deliver_due(sessions, parse_channels(f"json://{receiver.base}/one"), FAST).sent == 1
    [req] = receiver.requests
    assert req.json()["message"] == expected_body(notice_key(sessions), parks="A")
    assert req.json()["title"] == "parkwatch: 1 个新示范园区 / 1 new demonstration park"
    set_park_status(url, repository.found_park_kb_id(PARK_A), "rejected")
    report = deliver_due(sessions, parse_channels(f"json://{receiver.base}/two"), FAST)
    assert (report.sent, report.dismissed) == (0, 1) and len(receiver.requests) == 1
    # the same parks named again, in another article: known now, never a second alert
    with sessions.begin() as s:
        again = repository.save_article(
            s, source="newsgd", url="http://x.test/b", canonical_url="http://x.test/b", lang="zh", title="t",
            text=SENT_A, published_at=None, fetched_at=T0,
            mentions=[M("PARK", PARK_A, 5, 5 + len(PARK_A), None, PARK_A, None, True, SENT_A, "city:zhuhai")])
        assert again.new_parks == []
    with sessions() as s:
        assert len(s.scalars(select(AlertNotice)).all()) == 1


# --------------------------------------------------------------------------- a deliverer killed mid-send


def _send_cli(url: str, tmp_path: Path, channel: str, on_uncertain: str) -> subprocess.Popen[str]:
    config = tmp_path / "pw.yaml"
    config.write_text(f"alerts:\n  lease_seconds: 1\n  on_uncertain: {on_uncertain}\n  timeout_seconds: 30\n")
    env = {**os.environ, "PARKWATCH_ALERT_URLS": channel}
    return subprocess.Popen([sys.executable, "-m", "schedules.cli", "--db", url, "--config", str(config), "alerts", "send"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("on_uncertain", ["resend", "hold"])
def test_sigkill_between_sending_and_recording(db: Any, receiver: Receiver, tmp_path: Path, on_uncertain: str) -> None:
    """The receiver has the message, the deliverer dies before it can mark it sent."""
    url, sessions = db
    channel = f"json://{receiver.base}/hook"
    receiver.hold = threading.Event()
    proc = _send_cli(url, tmp_path, channel, on_uncertain)
    assert receiver.got.wait(60), proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    receiver.hold.set()
    [row] = deliveries(sessions)
    assert (row.status, row.attempts) == ("sending", 1)  # the claim was committed before the send
    time.sleep(1.2)  # the dead run's lease runs out
    again = _send_cli(url, tmp_path, channel, on_uncertain)
    out, err = again.communicate(timeout=60)
    [row] = deliveries(sessions)
    key = notice_key(sessions)
    if on_uncertain == "resend":
        assert again.returncode == 0, err
        assert "1 re-sent after an interrupted run" in out
        assert [r.headers["Idempotency-Key"] for r in receiver.requests] == [key, key]  # receivers can dedupe
        assert (row.status, row.attempts) == ("sent", 2)
    else:
        assert again.returncode == 0, err
        assert len(receiver.requests) == 1 and row.status == "uncertain"
        listing = run_cli("--db", url, "alerts")
        assert "uncertain" in listing.stdout and "interrupted" in listing.stdout
    # whatever happened, later runs send nothing more
    later = deliver_due(sessions, parse_channels(channel), DeliveryOptions(lease_seconds=1, on_uncertain=on_uncertain))
    assert later.sent == 0 and len(receiver.requests) == (2 if on_uncertain == "resend" else 1)


# --------------------------------------------------------------------------- the CLI


def test_cli_lists_per_channel_state_and_never_shows_or_stores_a_secret(db: Any, receiver: Receiver, tmp_path: Path) -> None:
    url, sessions = db
    secret_channel = f"json://alertbot:Hunter2secret@{receiver.base}/hook"
    down = f"json://127.0.0.1:{closed_port()}/down"
    env = {**os.environ, "PARKWATCH_ALERT_URLS": f"{secret_channel}\n{down}"}
    sent = subprocess.run([sys.executable, "-m", "schedules.cli", "--db", url, "alerts", "send"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert sent.returncode == 1  # one channel failed: the user must look
    assert "alerts: 1 sent, 1 failed" in sent.stdout
    assert receiver.requests[0].headers["Authorization"].startswith("Basic ")
    listing = run_cli("--db", url, "alerts")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[0].startswith("#1 new_park") and "<http://gdii.test/notice/2>" in lines[0]
    assert any(line.split()[0] == "sent" and "json://127.0.0.1" in line for line in lines)
    assert any(line.split()[0] == "failed" and "next try" in line for line in lines)
    rows = [json.loads(line) for line in run_cli("--db", url, "alerts", "--json").stdout.splitlines()]
    assert [p["name_zh"] for p in rows[0]["parks"]] == [PARK_A, PARK_B]
    assert sorted(d["status"] for d in rows[0]["deliveries"]) == ["failed", "sent"]
    dump = "\n".join(sqlite3_dump(tmp_path / "pw.db"))
    for text in (dump, listing.stdout, sent.stdout, sent.stderr, json.dumps(rows)):
        assert "Hunter2secret" not in text and "alertbot" not in text


def sqlite3_dump(path: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_cli_bad_channel_url_and_park_review(db: Any) -> None:
    url, _ = db
    env = {**os.environ, "PARKWATCH_ALERT_URLS": "nosuchservice://tok3n-secret/x"}
    bad = subprocess.run([sys.executable, "-m", "schedules.cli", "--db", url, "alerts", "send"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("parkwatch: error: PARKWATCH_ALERT_URLS: URL #1") and "tok3n-secret" not in bad.stderr
    park_id = repository.found_park_kb_id(PARK_A)
    rejected = run_cli("--db", url, "parks", "reject", park_id)
    assert rejected.returncode == 0 and rejected.stdout.startswith(f"rejected: {PARK_A}")
    parks = {json.loads(line)["id"]: json.loads(line) for line in run_cli("--db", url, "parks", "--json").stdout.splitlines()}
    assert parks[park_id]["status"] == "rejected"
    assert run_cli("--db", url, "parks", "confirm", repository.found_park_kb_id(PARK_B)).returncode == 0
    missing = run_cli("--db", url, "parks", "reject", "park:found:nope")
    assert missing.returncode == 1 and missing.stderr.startswith("parkwatch: error: no park 'park:found:nope'")
    kb_park = run_cli("--db", url, "parks", "reject", "1")
    assert kb_park.returncode == 1 and "knowledge base" in kb_park.stderr


def test_park_first_found_in_english_is_alerted_with_the_chinese_name_stored_meanwhile(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Crawl workers store in parallel: the English wire copy can be stored a moment before the
    Chinese notice. The park and its alert are written from the English article; the notice then
    gives the park its Chinese name, and the delivered message carries it."""
    from crawler.items import FetchedArticle
    from schedules.pipeline import StoreSink
    from store.models import Park

    zh_name = "东莞松湖智造5G+工业互联网应用示范园区"
    english = ("The second batch includes the Dongguan Songhu Smart Manufacturing "
               "5G+Industrial Internet Application Demonstration Park.")
    notice = f"第二批示范园区名单如下：\n1. {zh_name}（东莞）\n"
    url = fresh_db(tmp_path / "pw.db")
    sink = StoreSink(url, worker=True)  # as in a crawl worker
    try:
        for n, (lang, text) in enumerate((("en", english), ("zh", notice))):
            link = f"http://example.test/{n}.html"
            assert sink.article(FetchedArticle("src", link, link, lang, "t", text, T0, T0)) == "new"
        with sink.sessions() as s:
            [park] = s.scalars(select(Park).where(Park.origin == "found")).all()
            assert park.name_zh == zh_name and park.name_en
            assert s.scalars(select(AlertNotice)).one().payload["parks"][0]["name_zh"] == ""  # as written
        assert deliver_due(sink.sessions, parse_channels(f"json://{receiver.base}/hook"), FAST).sent == 1
    finally:
        sink.close()
    [req] = receiver.requests
    assert [p["name_zh"] for p in req.json()["parkwatch"]["parks"]] == [zh_name]
