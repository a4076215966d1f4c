"""All of parkwatch's settings in one place, with defaults.

Precedence, lowest first: the defaults below, a YAML config file (`--config` or
`PARKWATCH_CONFIG`), environment variables (`PARKWATCH_DB`, `PARKWATCH_HOME`,
`PARKWATCH_CONTACT`, `PARKWATCH_KB_DIR`), then command-line flags. A config file sets only what it names. Secrets are
never read from the file: they stay in the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from store.db import sqlite_url


class ConfigError(Exception):
    """The config file is missing, malformed, or names an unknown setting."""


def default_data_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "parkwatch"


@dataclass(frozen=True)
class ScheduleConfig:
    timezone: str = "Asia/Shanghai"
    crawl: str = "0 2 * * *"  # nightly full crawl (cron: minute hour day month weekday)
    digest: str = "0 8 * * mon"  # weekly digest, Monday 08:00
    poll: str = "0 * * * *"  # hourly crawl of high-priority sources: a notice alerted within the hour
    alerts_retry: str = "*/10 * * * *"  # deliver alerts whose earlier attempt failed
    misfire_grace_seconds: int = 6 * 3600  # a machine that was off at 02:00 catches up once
    crawl_budget_seconds: int = 3 * 3600  # a nightly crawl stops starting requests after this
    poll_budget_seconds: int = 15 * 60  # the same for an hourly poll
    kill_grace_seconds: int = 120  # then the crawl process is killed, whatever it is doing


@dataclass(frozen=True)
class AlertsConfig:
    """Alert delivery. Channel URLs hold secrets: they come only from PARKWATCH_ALERT_URLS."""

    timeout_seconds: float = 10.0  # per send
    lease_seconds: float = 300.0  # a claimed delivery left `sending` longer than this was interrupted
    backoff_seconds: float = 60.0  # first retry after a failure, doubling each time
    backoff_max_seconds: float = 6 * 3600.0
    max_attempts: int = 8  # then failed until `parkwatch alerts retry`
    on_uncertain: str = "resend"  # after a crash mid-send: resend (same idempotency key) | hold
    max_age_hours: float = 7 * 24.0  # a channel added later receives notices this recent
    triggers: tuple[str, ...] = ()  # extras: new_language, new_source, batch_announcement, new_lead_company
    batch_min_parks: int = 3  # parks of one batch an article must name to be a batch announcement

    def __post_init__(self) -> None:
        if self.on_uncertain not in ("resend", "hold"):
            raise ValueError(f"on_uncertain must be resend or hold, got {self.on_uncertain!r}")
        known = ("new_language", "new_source", "batch_announcement", "new_lead_company")
        bad = set(self.triggers) - set(known)
        if bad:
            raise ValueError(f"unknown trigger(s) {', '.join(sorted(bad))}; known: {', '.join(known)}")


@dataclass(frozen=True)
class SmtpConfig:
    """Outgoing mail for the digest. The password comes only from PARKWATCH_SMTP_PASSWORD."""

    host: str = ""  # empty: the digest is written but not e-mailed
    port: int = 587
    security: str = "starttls"  # starttls | ssl | plain (plain only for a relay on localhost)
    username: str = ""  # empty: no login
    sender: str = ""  # the From: address; default parkwatch@<host>
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in ("starttls", "ssl", "plain"):
            raise ValueError(f"security must be starttls, ssl or plain, got {self.security!r}")


@dataclass(frozen=True)
class DigestConfig:
    """What the weekly digest contains and who receives it."""

    recipients: tuple[str, ...] = ()  # e-mail addresses; empty: no e-mail
    formats: tuple[str, ...] = ("md", "html")  # files the weekly job writes into digest_dir
    timezone: str = "Asia/Shanghai"  # weeks and dates are cut in this zone
    top_movers: int = 10  # rows per park/city/company table
    top_articles: int = 5  # per language
    chart_weeks: int = 12
    chart_series: int = 6  # lines per chart

    def __post_init__(self) -> None:
        bad = sorted(set(self.formats) - {"md", "html", "email"})
        if bad:
            raise ValueError(f"formats must be md, html or email, got {', '.join(bad)}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None


@dataclass(frozen=True)
class Config:
    data_dir: Path = field(default_factory=default_data_dir)
    db_url: str | None = None  # None: SQLite file parkwatch.db in data_dir
    sources: Path | None = None  # default sources file for crawl/schedule
    contact: str = ""  # put in the User-Agent so site operators can reach you
    digest_dir: Path | None = None  # where scheduled digests go; default data_dir/digests
    download_delay: float = 0.5
    workers: int | None = None  # crawl worker processes (~65 MB each, see README); None: one per CPU
    kb_dir: Path | None = None  # a folder of YAML files extending/overriding the bundled nlp/kb/*.yaml
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    config_file: Path | None = None  # the file these settings came from (set by load_config)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)

    @property
    def database_url(self) -> str:
        return self.db_url or sqlite_url(self.data_dir / "parkwatch.db")

    @property
    def digests(self) -> Path:
        return self.digest_dir or self.data_dir / "digests"


def _section(cls: type[Any], value: Any, origin: str, key: str) -> Any:
    """Build a nested settings section (a dataclass) from a mapping, rejecting unknown keys."""
    if not isinstance(value, dict):
        raise ConfigError(f"{origin}: '{key}' must be a mapping")
    known = {f.name for f in fields(cls)}
    bad = set(value) - known
    if bad:
        raise ConfigError(f"{origin}: unknown {key} setting(s): {', '.join(sorted(bad))}")
    try:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: bad '{key}' section: {exc}") from None


def _from_mapping(data: dict[str, Any], origin: str) -> dict[str, Any]:
    known = ({f.name for f in fields(Config)} - {"config_file"}) | {"db"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{origin}: unknown setting(s): {', '.join(sorted(unknown))}")
    defaults = Config()
    out: dict[str, Any] = {}
    for key, value in data.items():
        current = getattr(defaults, key, None)
        if is_dataclass(current):
            out[key] = _section(type(current), value, origin, key)
        elif key in ("data_dir", "sources", "digest_dir", "kb_dir"):
            out[key] = None if value is None and key == "kb_dir" else Path(str(value)).expanduser()
        elif key in ("db", "db_url"):
            out["db_url"] = str(value)
        elif key == "workers":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ConfigError(f"{origin}: 'workers' must be a whole number >= 0 (0: no worker processes)")
            out[key] = value
        else:
            out[key] = value
    return out


def load_config(path: Path | None = None, *, env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ) if env is None else env
    cfg = Config(data_dir=default_data_dir(env))
    path = path or (Path(env["PARKWATCH_CONFIG"]) if env.get("PARKWATCH_CONFIG") else None)
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file {path} not found") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must be a mapping of settings")
        cfg = replace(cfg, **_from_mapping(data, str(path)), config_file=path.resolve())
    if env.get("PARKWATCH_HOME"):
        cfg = replace(cfg, data_dir=Path(env["PARKWATCH_HOME"]).expanduser())
    if env.get("PARKWATCH_DB"):
        cfg = replace(cfg, db_url=env["PARKWATCH_DB"])
    if env.get("PARKWATCH_CONTACT"):
        cfg = replace(cfg, contact=env["PARKWATCH_CONTACT"])
    if env.get("PARKWATCH_KB_DIR"):
        cfg = replace(cfg, kb_dir=Path(env["PARKWATCH_KB_DIR"]).expanduser())
    return cfg


def normalise_db(value: str) -> str:
    """Accept a plain file path where a URL is expected: `--db data/pw.db`."""
    if "://" in value:
        return value
    return sqlite_url(Path(value).expanduser())
