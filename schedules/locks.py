"""Per-source crawl locks in the database, so two scheduler processes never crawl one source at once.

A lock row names its holder (`host:pid:nonce`) and expires at the crawl's time budget plus
grace, after which the crawl has been killed anyway. A holder on this host whose process is gone
(the scheduler was killed with SIGKILL) loses its locks at once, so a restarted scheduler catches
up straight away instead of waiting for the expiry.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any, Sequence, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store.models import SourceLock
from store.types import utcnow


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine: only the expiry can tell
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(sessions: sessionmaker[Session], sources: Sequence[str], holder: str, ttl: timedelta,
            now: datetime | None = None, taken_over: list[str] | None = None) -> list[str]:
    """Lock each source this holder can have now; return those locked (the others are busy).

    Sources whose lock was taken over from a dead or expired holder are added to `taken_over`:
    a crawl of them was interrupted.
    """
    got: list[str] = []
    for source in sources:
        outcome = _acquire_one(sessions, source, holder, ttl, now or utcnow())
        if outcome:
            got.append(source)
        if outcome == "taken over" and taken_over is not None:
            taken_over.append(source)
    return got


def _acquire_one(sessions: sessionmaker[Session], source: str, holder: str, ttl: timedelta, now: datetime) -> str:
    try:
        with sessions.begin() as session:
            session.add(SourceLock(source=source, holder=holder, acquired_at=now, expires_at=now + ttl))
        return "new"
    except IntegrityError:
        pass
    with sessions.begin() as session:
        current = session.scalar(select(SourceLock).where(SourceLock.source == source))
        if current is None:
            return ""  # released a moment ago; the next run will get it
        if current.holder != holder and current.expires_at > now and not _holder_is_dead(current.holder):
            return ""
        stolen = session.execute(
            update(SourceLock)
            .where(SourceLock.source == source, SourceLock.holder == current.holder)
            .values(holder=holder, acquired_at=now, expires_at=now + ttl)
            .execution_options(synchronize_session=False)
        )
        return "taken over" if cast(CursorResult[Any], stolen).rowcount == 1 else ""


def release(sessions: sessionmaker[Session], sources: Sequence[str], holder: str) -> None:
    with sessions.begin() as session:
        session.execute(delete(SourceLock).where(SourceLock.source.in_(list(sources)), SourceLock.holder == holder))


def holders(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        return {row.source: row.holder for row in session.scalars(select(SourceLock))}
