"""Engines and sessions.

Callers own their sessions (one per unit of work); helpers here only build engines, so a crawl, a
CLI command and a scheduler job each decide their own transaction boundaries.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store.errors import StoreError
from store.models import Base


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def _prepare_sqlite_path(url: str) -> None:
    """Fail early, with the path in the message, when a SQLite file cannot be created or written."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    path = Path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create database directory {path.parent}: {exc.strerror}") from exc
    target = path if path.exists() else path.parent
    if not os.access(target, os.W_OK):
        raise StoreError(f"database path {path} is not writable")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the digest read while a crawl writes; busy_timeout turns a short lock into a wait
    # instead of an error; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_path(url)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot use database URL {parsed.render_as_string()}: {exc}") from exc


def init_schema(engine: Engine) -> None:
    """Create missing tables; existing data is never touched."""
    try:
        Base.metadata.create_all(engine)
    except OperationalError as exc:
        raise StoreError(f"cannot create database {engine.url.render_as_string()}: {exc.orig}") from exc


def check_schema(engine: Engine) -> None:
    """Refuse to run against a database `parkwatch init` has not prepared."""
    try:
        tables = set(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {engine.url.render_as_string()}: {exc}") from exc
    missing = set(Base.metadata.tables) - tables
    if missing:
        raise StoreError(
            f"database {engine.url.render_as_string()} is not initialised "
            f"(missing {', '.join(sorted(missing))}); run 'parkwatch init' first"
        )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def open_store(url: str, *, initialised: bool = True) -> Iterator[sessionmaker[Session]]:
    """Sessions on the database at `url`, its engine disposed afterwards whatever happens.

    With `initialised` (the default) a database `parkwatch init` has not prepared is refused with
    one clear StoreError instead of failing later on a missing table.
    """
    engine = make_engine(url)
    try:
        if initialised:
            check_schema(engine)
        yield session_factory(engine)
    finally:
        engine.dispose()
