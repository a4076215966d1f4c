"""Alert delivery and review wired to the configuration: used by the CLI, crawls and the scheduler.

Channels are read from the environment here, at the edge, and nowhere else.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reports.channels import ChannelError, channels_from_env
from reports.delivery import DeliveryOptions, DeliveryReport, deliver_due
from schedules.config import AlertsConfig
from schedules.errors import UserError
from store import outbox, repository, triggers
from store.db import open_store
from store.models import Alert, Park


def delivery_options(cfg: AlertsConfig) -> DeliveryOptions:
    names = {f.name for f in fields(DeliveryOptions)}
    return DeliveryOptions(**{k: v for k, v in asdict(cfg).items() if k in names})


def deliver(db_url: str, cfg: AlertsConfig, env: dict[str, str] | None = None) -> DeliveryReport:
    """Find the optional triggers' alerts, then send every due alert to every configured channel.

    A bad channel URL is a UserError (one line, nothing sent).
    """
    try:
        channels = channels_from_env(env)
    except ChannelError as exc:
        raise UserError(str(exc)) from None
    with open_store(db_url) as sessions:
        scan_triggers(sessions, cfg)
        return deliver_due(sessions, channels, delivery_options(cfg))


def scan_triggers(sessions: sessionmaker[Session], cfg: AlertsConfig) -> int:
    """Notices for the extra triggers; a scan racing another one loses and leaves it the work."""
    if not cfg.triggers:
        return 0
    try:
        with sessions.begin() as session:
            return triggers.scan(session, cfg.triggers, cfg.batch_min_parks)
    except IntegrityError:
        return 0


def retry(db_url: str, cfg: AlertsConfig, env: dict[str, str] | None = None) -> tuple[int, DeliveryReport]:
    """Failed and uncertain deliveries become due now, then everything due is delivered."""
    with open_store(db_url) as sessions, sessions.begin() as session:
        reset = outbox.retry(session)
    return reset, deliver(db_url, cfg, env)


def alert_rows(db_url: str) -> list[dict[str, Any]]:
    """One row per notice: its parks, evidence, and per-channel delivery state (no secrets)."""
    rows: list[dict[str, Any]] = []
    with open_store(db_url) as sessions, sessions() as session:
        for notice in outbox.list_notices(session):
            statuses = {a.park.kb_id: a.park.status for a in notice.alerts}
            rows.append({
                "id": notice.id,
                "kind": notice.kind,
                "idempotency_key": notice.idempotency_key,
                "created_at": notice.created_at.isoformat(),
                **notice.payload,
                "parks": [{**p, "status": statuses.get(p.get("kb_id"), "?")} for p in notice.payload.get("parks", [])],
                "deliveries": [
                    {"channel": d.channel_name, "status": d.status, "attempts": d.attempts,
                     "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                     "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
                     "error": d.last_error}
                    for d in notice.deliveries
                ],
            })
    return rows


def set_park_status(db_url: str, park_ref: str, status: str) -> Park:
    """Confirm or reject a park found in coverage, by kb id (`park:found:…`) or row id.

    A rejected park stays in the database (so the extractor keeps treating it as known and it
    never becomes "new" again) and is left out of every alert not yet sent. Confirming a park
    that was never alerted (a candidate) writes its alert, for the first article that named it,
    in the same transaction: the analyst's confirmation is what alerts a candidate.
    """
    with open_store(db_url) as sessions, sessions.begin() as session:
        query = select(Park).where(Park.kb_id == park_ref)
        if park_ref.isdigit():
            query = select(Park).where(Park.id == int(park_ref))
        park = session.scalar(query)
        if park is None:
            raise UserError(f"no park {park_ref!r}; see 'parkwatch parks' for ids")
        if park.origin != "found":
            raise UserError(f"park {park_ref!r} comes from the knowledge base; only found parks can be {status}")
        park.status = status
        for alert in session.scalars(select(Alert).where(Alert.park_id == park.id)):
            alert.status = "dismissed" if status == "rejected" else "pending"
        if status == "confirmed":
            repository.alert_confirmed_park(session, park)
        session.flush()
        session.expunge(park)
    return park
