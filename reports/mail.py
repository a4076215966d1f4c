"""The digest as an e-mail, and its delivery over SMTP.

The message is multipart/alternative: the Markdown digest as text/plain for any client, and a
multipart/related holding the HTML page and its pictures as inline PNG parts that the HTML
references by Content-ID (`cid:`), because mail clients block data: URIs and external images.

Its Message-ID is derived from the period and the recipient, so a message re-sent after a crash
carries the same id and a mail client shows it once.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from reports.charts import Chart, digest_charts
from reports.digest_model import Digest
from reports.render_html import render_html
from reports.render_md import headline, render_markdown


class MailError(Exception):
    """The SMTP server could not be reached or refused the message; the reason is in the text."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl | plain
    username: str = ""
    password: str | None = None  # from the environment only, never stored
    timeout_seconds: float = 30.0


def cid_of(chart: Chart, domain: str = "parkwatch") -> str:
    return f"{chart.name}@{domain}"


def message_id(d: Digest, recipient: str, domain: str = "parkwatch.local") -> str:
    key = hashlib.sha256(f"{d.window.key}\n{recipient.lower()}".encode()).hexdigest()[:24]
    return f"<digest-{d.window.key}-{key}@{domain}>"


def subject(d: Digest) -> str:
    return f"parkwatch digest {d.window.label}: {headline(d)}"


def build_message(d: Digest, *, sender: str, to: str | list[str], charts: list[Chart] | None = None,
                  msg_id: str | None = None) -> EmailMessage:
    charts = digest_charts(d) if charts is None else charts
    recipients = [to] if isinstance(to, str) else list(to)
    msg = EmailMessage()
    msg["Subject"] = subject(d)
    msg["From"] = sender
    if recipients:
        msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = msg_id or (message_id(d, recipients[0]) if len(recipients) == 1 else make_msgid("digest"))
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to a digest
    msg["X-Parkwatch-Period"] = d.window.label
    msg.set_content(render_markdown(d), subtype="plain", charset="utf-8")
    html = render_html(d, charts, image_src=lambda c: "cid:" + cid_of(c))
    msg.add_alternative(html, subtype="html", charset="utf-8")
    html_part = msg.get_body(("html",))  # the text/html part, now inside multipart/alternative
    assert isinstance(html_part, EmailMessage)
    for chart in charts:
        html_part.add_related(chart.png, maintype="image", subtype="png", cid=f"<{cid_of(chart)}>",
                              filename=f"{chart.name}.png", disposition="inline")
    return msg


def send_message(msg: EmailMessage, smtp: SmtpSettings) -> None:
    """Send one message; any SMTP or network failure becomes a MailError with the reason."""
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_seconds,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                if smtp.password is None:
                    raise MailError(f"SMTP user {smtp.username!r} has no password: set PARKWATCH_SMTP_PASSWORD")
                client.login(smtp.username, smtp.password)
            client.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from None
