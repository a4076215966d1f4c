"""The alert outbox: per-channel delivery rows and their claim/lease protocol.

A delivery is claimed with one compare-and-set UPDATE, committed *before* the message is sent,
and marked sent or failed after. Two deliverers racing for one row cannot both win (the UPDATE
matches the state they read, and only one matches); a deliverer that dies after the send leaves
a `sending` row whose lease runs out, which is how the next run learns the outcome is unknown.
None of these functions commit: callers own the transaction (claim in one, mark in another).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import Alert, AlertDelivery, AlertNotice, Park

#: A delivery in one of these states is finished and never sent again by the deliverer.
FINAL = frozenset({"sent", "dismissed"})


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    holder: str
    stale: bool  # the row was `sending` under an expired lease: an earlier send's fate is unknown
    attempts: int


def ensure_deliveries(session: Session, channels: Sequence[tuple[str, str]], since: datetime) -> int:
    """Create pending delivery rows for notices since `since` on every configured channel.

    `channels` holds (key, redacted name) pairs. Insert-or-ignore on (notice, channel), so two
    deliverers doing this at once create each row once.
    """
    if not channels:
        return 0
    notice_ids = list(session.scalars(select(AlertNotice.id).where(AlertNotice.created_at >= since)))
    if not notice_ids:
        return 0
    existing = {
        (notice_id, channel)
        for notice_id, channel in session.execute(
            select(AlertDelivery.notice_id, AlertDelivery.channel).where(AlertDelivery.notice_id.in_(notice_ids))
        )
    }
    rows = [
        {"notice_id": n, "channel": key, "channel_name": name, "status": "pending", "attempts": 0}
        for n in notice_ids
        for key, name in channels
        if (n, key) not in existing
    ]
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(AlertDelivery).values(rows).on_conflict_do_nothing(index_elements=["notice_id", "channel"])
    return _count(session, stmt)


def due_deliveries(session: Session, channel_keys: Sequence[str], now: datetime) -> list[AlertDelivery]:
    """Deliveries to attempt now: pending, failed and due for retry, or claimed under a dead lease."""
    d = AlertDelivery
    return list(
        session.scalars(
            select(d)
            .where(
                d.channel.in_(list(channel_keys)),
                or_(
                    d.status == "pending",
                    and_(d.status == "failed", d.next_attempt_at.is_not(None), d.next_attempt_at <= now),
                    and_(d.status == "sending", d.lease_until < now),
                ),
            )
            .order_by(d.notice_id, d.id)
        )
    )


def claim(session: Session, row: AlertDelivery, holder: str, now: datetime, lease: timedelta) -> Claim | None:
    """Take `row` for sending, or None if another deliverer changed it since it was read."""
    stmt = (
        update(AlertDelivery)
        .where(
            AlertDelivery.id == row.id,
            AlertDelivery.status == row.status,
            AlertDelivery.attempts == row.attempts,
        )
        .values(status="sending", claimed_by=holder, lease_until=now + lease, attempts=row.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if _count(session, stmt) != 1:
        return None
    return Claim(row.id, holder, stale=row.status == "sending", attempts=row.attempts + 1)


def finish(session: Session, c: Claim, status: str, now: datetime, *, error: str | None = None,
           retry_at: datetime | None = None) -> bool:
    """Record the outcome of a claimed delivery; False if the claim was lost (lease taken over)."""
    values: dict[str, object] = {"status": status, "lease_until": None, "last_error": error, "next_attempt_at": retry_at}
    if status == "sent":
        values["sent_at"] = now
    stmt = (
        update(AlertDelivery)
        .where(AlertDelivery.id == c.delivery_id, AlertDelivery.claimed_by == c.holder,
               AlertDelivery.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _count(session, stmt) == 1


def live_parks(session: Session, notice: AlertNotice) -> dict[str, tuple[str, str | None]]:
    """The notice's parks a user has not rejected: kb id -> (name_zh, name_en) as stored now.

    A park first found in one language gets its other name when a later article names it (see
    store/repository.py); the names here include that, the notice's payload does not."""
    rows = session.execute(
        select(Park.kb_id, Park.name_zh, Park.name_en).join(Alert, Alert.park_id == Park.id)
        .where(Alert.notice_id == notice.id, Park.status != "rejected")
    )
    return {kb_id: (name_zh, name_en) for kb_id, name_zh, name_en in rows}


def retry(session: Session, statuses: Sequence[str] = ("failed", "uncertain")) -> int:
    """Make failed (also given-up) and uncertain deliveries due again now, with a fresh backoff."""
    stmt = (
        update(AlertDelivery)
        .where(AlertDelivery.status.in_(list(statuses)))
        .values(status="pending", next_attempt_at=None, attempts=0, claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return _count(session, stmt)


def status_counts(session: Session) -> dict[tuple[str, str], int]:
    """(channel name, status) → number of deliveries."""
    rows = session.execute(
        select(AlertDelivery.channel_name, AlertDelivery.status, func.count()).group_by(
            AlertDelivery.channel_name, AlertDelivery.status)
    )
    return {(name, status): n for name, status, n in rows}


def list_notices(session: Session, limit: int | None = None) -> list[AlertNotice]:
    stmt = select(AlertNotice).order_by(AlertNotice.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(reversed(list(session.scalars(stmt))))


def _count(session: Session, stmt: Any) -> int:
    """Rows an INSERT/UPDATE touched (what the compare-and-set claims rely on)."""
    result = cast(CursorResult[Any], session.execute(stmt))
    return int(result.rowcount or 0)
