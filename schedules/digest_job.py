"""Writing and e-mailing the digest, shared by `parkwatch digest` and the weekly job.

The weekly job writes one file per configured format (`digest-2026-W47.md`, `.html`) and sends
one message per recipient. Each successful send is recorded in `digest-2026-W47.sent.json` next
to the files before the next one starts, so a re-run (a retry after a failure, a coalesced
misfire, `parkwatch schedule run weekly-digest`) sends only to the recipients still missing:
nobody receives a week twice, and nobody is skipped because someone else failed.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nlp.kb import KnowledgeBase
from reports.charts import Chart, digest_charts
from reports.digest import build_digest
from reports.digest_model import Digest
from reports.digest_window import Window, last_days, previous_week
from reports.mail import MailError, SmtpSettings, build_message, message_id, send_message
from reports.render_html import render_html
from reports.render_md import render_markdown
from schedules.config import Config, DigestConfig, SmtpConfig
from store.db import open_store

PASSWORD_ENV = "PARKWATCH_SMTP_PASSWORD"
FORMATS = ("md", "html", "email")
SUFFIX = {"md": "md", "html": "html", "email": "eml"}
log = logging.getLogger("parkwatch.digest")
DEFAULT_DIGEST, DEFAULT_SMTP = DigestConfig(), SmtpConfig()


def gather(db_url: str, window: Window, settings: DigestConfig = DEFAULT_DIGEST,
           kb_dir: Path | None = None) -> Digest:
    planned = KnowledgeBase.load(user_dir=kb_dir).programme.planned_parks
    with open_store(db_url) as sessions, sessions() as session:
        return build_digest(session, window, planned_parks=planned, top_movers=settings.top_movers,
                            top_articles=settings.top_articles, chart_weeks=settings.chart_weeks,
                            chart_series=settings.chart_series)


def sender_of(smtp: SmtpConfig) -> str:
    return smtp.sender or f"parkwatch@{smtp.host or 'localhost'}"


def render(d: Digest, fmt: str, *, smtp: SmtpConfig = DEFAULT_SMTP, recipients: tuple[str, ...] = (),
           charts: list[Chart] | None = None) -> bytes:
    """One digest in one format; `charts` drawn once can serve several formats."""
    if fmt == "md":
        return render_markdown(d).encode("utf-8")
    charts = digest_charts(d) if charts is None else charts
    if fmt == "html":
        return render_html(d, charts).encode("utf-8")
    if fmt == "email":
        return bytes(build_message(d, sender=sender_of(smtp), to=list(recipients), charts=charts))
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def write_digest(db_url: str, *, days: int = 7, out: Path | None = None, until: datetime | None = None,
                 window: Window | None = None, fmt: str = "md", settings: DigestConfig = DEFAULT_DIGEST,
                 smtp: SmtpConfig = DEFAULT_SMTP, kb_dir: Path | None = None) -> bytes:
    """Render one digest (default: the last `days` days) and write it to `out` when given."""
    window = window or last_days(days, until or datetime.now(timezone.utc), settings.timezone)
    data = render(gather(db_url, window, settings, kb_dir), fmt, smtp=smtp, recipients=settings.recipients)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    return data


def smtp_settings(smtp: SmtpConfig, env: dict[str, str] | None = None) -> SmtpSettings:
    env = dict(os.environ) if env is None else env
    return SmtpSettings(smtp.host, smtp.port, smtp.security, smtp.username, env.get(PASSWORD_ENV) or None,
                        smtp.timeout_seconds)


@dataclass
class WeeklyResult:
    window: Window
    files: list[Path] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # recipient -> reason

    def summary(self) -> str:
        parts = [f"digest {self.window.label}: wrote {', '.join(p.name for p in self.files) or 'nothing'}"]
        if self.sent or self.already_sent or self.failed:
            parts.append(f"e-mailed {len(self.sent)}, already sent {len(self.already_sent)}, failed {len(self.failed)}")
        return "; ".join(parts)


def _read_sent(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        # A damaged record must not turn into a second copy for everyone: stop and say why.
        raise MailError(f"cannot read the sent record {path}: {exc}; fix or remove it") from None
    return data if isinstance(data, dict) else {}


def _write_sent(path: Path, sent: dict[str, dict[str, str]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sent, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)  # atomic: the record is either the old one or the new one


def run_weekly(cfg: Config, digest_dir: Path, now: datetime, env: dict[str, str] | None = None) -> WeeklyResult:
    """The scheduled job's body: last complete week's digest to files, then to each recipient once."""
    settings = cfg.digest
    window = previous_week(now, settings.timezone)
    d = gather(cfg.database_url, window, settings, cfg.kb_dir)
    result = WeeklyResult(window)
    charts = digest_charts(d)
    digest_dir.mkdir(parents=True, exist_ok=True)
    for fmt in settings.formats:
        path = digest_dir / f"digest-{window.key}.{SUFFIX[fmt]}"
        path.write_bytes(render(d, fmt, smtp=cfg.smtp, recipients=settings.recipients, charts=charts))
        result.files.append(path)
    if not settings.recipients:
        return result
    if not cfg.smtp.host:
        result.failed = {r: "no SMTP host configured (smtp: host)" for r in settings.recipients}
        return result
    smtp = smtp_settings(cfg.smtp, env)
    # One sender at a time per week: a manual `schedule run` racing the scheduler waits here, then
    # reads the record the other wrote, so neither sends what the other already sent.
    with open(digest_dir / f"digest-{window.key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _send_all(d, cfg, smtp, charts, digest_dir / f"digest-{window.key}.sent.json", result)
    return result


def _send_all(d: Digest, cfg: Config, smtp: SmtpSettings, charts: list[Chart], record: Path,
              result: WeeklyResult) -> None:
    sent = _read_sent(record)
    window = d.window
    for recipient in cfg.digest.recipients:
        if recipient in sent:
            result.already_sent.append(recipient)
            continue
        msg_id = message_id(d, recipient)
        try:
            send_message(build_message(d, sender=sender_of(cfg.smtp), to=recipient, charts=charts, msg_id=msg_id), smtp)
        except MailError as exc:
            result.failed[recipient] = str(exc)
            log.error("digest %s not sent to %s: %s", window.label, recipient, exc)
            continue
        sent[recipient] = {"message_id": msg_id, "sent_at": datetime.now(timezone.utc).isoformat()}
        _write_sent(record, sent)
        result.sent.append(recipient)
