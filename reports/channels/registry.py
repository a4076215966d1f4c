"""Turning `PARKWATCH_ALERT_URLS` into channels, each with a stable key and a secret-free name."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

ENV_VAR = "PARKWATCH_ALERT_URLS"

#: Schemas whose host names a server, not a token: the host is shown in the channel's name.
_HOST_IS_PUBLIC = {"json", "jsons", "mailto", "mailtos", "form", "forms", "xml", "xmls"}


class ChannelError(Exception):
    """A notification URL Apprise cannot use; the message names it by its redacted form only."""


@dataclass(frozen=True)
class Channel:
    """One notification URL. `repr` and `name` never show the URL's secrets."""

    key: str  # sha256 of the URL, 16 hex digits: the channel's id in the database
    name: str  # e.g. "json://127.0.0.1 #3fa2c1d0" or "dingtalk #9b1e0c44"
    schema: str
    url: str = field(repr=False)

    def scrub(self, text: str) -> str:
        """`text` with every secret-looking part of this channel's URL replaced by ***."""
        for secret in _secrets(self.url):
            text = text.replace(secret, "***")
        return text


def parse_channels(value: str) -> list[Channel]:
    """Channels from whitespace-separated notification URLs (commas stay inside a URL)."""
    from reports.channels.plugins import register_plugins

    register_plugins()
    import apprise

    channels: list[Channel] = []
    seen: set[str] = set()
    for position, url in enumerate(value.split(), start=1):
        schema = url.split("://", 1)[0].lower() if "://" in url else ""
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
        host = urlsplit(url).hostname if schema in _HOST_IS_PUBLIC else None
        name = f"{schema}://{host} #{key[:8]}" if host else f"{schema or '?'} #{key[:8]}"
        if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
            raise ChannelError(f"{ENV_VAR}: URL #{position} ({name}) is not a notification URL Apprise can use")
        if key not in seen:
            seen.add(key)
            channels.append(Channel(key=key, name=name, schema=schema, url=url))
    return channels


def channels_from_env(env: dict[str, str] | None = None) -> list[Channel]:
    env = dict(os.environ) if env is None else env
    return parse_channels(env.get(ENV_VAR, ""))


def _secrets(url: str) -> list[str]:
    parts = urlsplit(url)
    found = [parts.username, parts.password, parts.netloc.rpartition("@")[0]]
    if parts.scheme.lower() not in _HOST_IS_PUBLIC:
        found.append(parts.netloc.rpartition("@")[2].split(":")[0])  # as written: hostname lowercases
    found += [unquote(segment) for segment in parts.path.split("/")]
    found += [v for _, v in parse_qsl(parts.query)]
    candidates = {s for s in found if s and len(s) >= 4}
    candidates |= {unquote(s) for s in candidates}
    # Longest first, so a token is replaced whole before any part of it.
    return sorted(candidates, key=len, reverse=True)
