"""Delivering the alert outbox: every due (notice, channel) pair, at most once per claim.

What "exactly once" means here. A delivery is claimed (state `sending`, with a lease) and that
claim is committed before the message goes out; it is marked `sent` right after. If the process
dies between the send and the mark, the row stays `sending` until its lease runs out, and nobody
can know whether the receiver got the message. The next run then follows `on_uncertain`:
`resend` (default) sends it again with the same idempotency key, so a receiver that keeps keys
(the JSON webhook gets a header and a field) drops the copy, while a person on e-mail or chat may
see it twice, marked with the same `ref:`; `hold` sends nothing and marks it `uncertain` for
`parkwatch alerts retry`. Outside that one window every message is sent once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from reports.alerts import render
from reports.channels import Channel, send
from store import outbox
from store.models import AlertDelivery, AlertNotice
from store.types import utcnow

log = logging.getLogger("parkwatch.alerts")



@dataclass(frozen=True)
class DeliveryOptions:
    timeout_seconds: float = 10.0
    lease_seconds: float = 300.0  # longer than any one send can take
    backoff_seconds: float = 60.0  # first retry after a failure; doubles each time
    backoff_max_seconds: float = 6 * 3600.0
    max_attempts: int = 8  # then the delivery stays failed until `parkwatch alerts retry`
    on_uncertain: str = "resend"  # resend | hold
    max_age_hours: float = 7 * 24.0  # a channel added later gets notices this recent, not all history


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    dismissed: int = 0
    resent_after_crash: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        """Whether there is something to tell (a quiet run with nothing due says nothing)."""
        return bool(self.sent or self.failed or self.uncertain or self.dismissed or self.errors)

    def summary(self) -> str:
        text = f"alerts: {self.sent} sent, {self.failed} failed, {self.uncertain} uncertain"
        if self.resent_after_crash:
            text += f", {self.resent_after_crash} re-sent after an interrupted run"
        if self.errors:
            text += f" ({self.errors[0]}" + (f"; {len(self.errors) - 1} more" if len(self.errors) > 1 else "") + ")"
        return text


def backoff(attempts: int, options: DeliveryOptions) -> timedelta:
    return timedelta(seconds=min(options.backoff_max_seconds, options.backoff_seconds * 2 ** max(0, attempts - 1)))


def deliver_due(
    sessions: sessionmaker[Session],
    channels: Sequence[Channel],
    options: DeliveryOptions = DeliveryOptions(),
    *,
    clock: Callable[[], datetime] = utcnow,
) -> DeliveryReport:
    """Send every due delivery on `channels`; one failing channel never stops the others."""
    report = DeliveryReport()
    if not channels:
        return report
    by_key = {c.key: c for c in channels}
    holder = uuid.uuid4().hex
    with sessions.begin() as session:
        outbox.ensure_deliveries(session, [(c.key, c.name) for c in channels],
                                 clock() - timedelta(hours=options.max_age_hours))
    with sessions() as session:
        due = [(d.id, d.status, d.attempts) for d in outbox.due_deliveries(session, list(by_key), clock())]
    for delivery_id, status, attempts in due:
        _deliver_one(sessions, delivery_id, status, attempts, by_key, holder, options, clock, report)
    return report


def _deliver_one(sessions: sessionmaker[Session], delivery_id: int, status: str, attempts: int,
                 by_key: dict[str, Channel], holder: str, options: DeliveryOptions,
                 clock: Callable[[], datetime], report: DeliveryReport) -> None:
    with sessions.begin() as session:
        row = session.get(AlertDelivery, delivery_id)
        if row is None or (row.status, row.attempts) != (status, attempts):
            return  # another deliverer moved it
        c = outbox.claim(session, row, holder, clock(), timedelta(seconds=options.lease_seconds))
        if c is None:
            return
        notice = session.get(AlertNotice, row.notice_id)
        assert notice is not None
        live = outbox.live_parks(session, notice)
        # A name the park was found without (an English-only first mention) may be known by now:
        # crawl workers store in parallel, so the other language's article can come a moment later.
        parks = [
            {**p, "name_zh": p.get("name_zh") or live[p["kb_id"]][0] or "",
             "name_en": p.get("name_en") or live[p["kb_id"]][1]}
            for p in notice.payload.get("parks", []) if p.get("kb_id") in live
        ]
        message = render(notice.payload, notice.idempotency_key, parks)
        channel = by_key[row.channel]
    # The claim is committed: from here on a crash leaves a `sending` row behind.
    if not parks:
        _finish(sessions, c, "dismissed", clock)
        report.dismissed += 1
        return
    if c.stale and options.on_uncertain == "hold":
        _finish(sessions, c, "uncertain", clock,
                error="the run that sent this was interrupted before recording the outcome")
        report.uncertain += 1
        return
    if c.stale:
        report.resent_after_crash += 1
    result = send(channel, message, timeout=options.timeout_seconds)
    if result.ok:
        _finish(sessions, c, "sent", clock)
        report.sent += 1
        log.info("alert %s sent to %s", notice.idempotency_key, channel.name)
        return
    retry_at = clock() + backoff(c.attempts, options) if c.attempts < options.max_attempts else None
    _finish(sessions, c, "failed", clock, error=result.error, retry_at=retry_at)
    report.failed += 1
    report.errors.append(f"{channel.name}: {result.error}")
    log.warning("alert %s to %s failed (attempt %d): %s", notice.idempotency_key, channel.name,
                c.attempts, result.error)


def _finish(sessions: sessionmaker[Session], c: outbox.Claim, status: str, clock: Callable[[], datetime],
            *, error: str | None = None, retry_at: datetime | None = None) -> None:
    with sessions.begin() as session:
        if not outbox.finish(session, c, status, clock(), error=error, retry_at=retry_at):
            log.warning("delivery %d: claim lost before recording %s (lease too short?)", c.delivery_id, status)
