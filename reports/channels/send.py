"""Sending one message to one channel through Apprise, with its idempotency key.

Every channel carries the key in the text (so a person can tell a re-sent copy); the generic
JSON webhook also gets it as the `Idempotency-Key` header and an `idempotency_key` field, plus the
structured alert under `parkwatch`, so a receiving program can drop a copy it has seen.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from reports.channels.registry import Channel

_JSON_SCHEMAS = {"json", "jsons"}
_LOG_PREFIX = re.compile(r"^\S+ \S+ - [A-Z]+ - ")


@dataclass(frozen=True)
class Message:
    title: str
    body: str  # plain text; channels that render HTML (e-mail) escape it
    idempotency_key: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str | None = None  # secret-free, one line


def send(channel: Channel, message: Message, *, timeout: float = 10.0) -> SendResult:
    """Send `message`; never raises for a channel failure, and never reports a secret."""
    import apprise

    from reports.channels.plugins import register_plugins

    register_plugins()
    plugin = apprise.Apprise.instantiate(channel.url, suppress_exceptions=True)
    if plugin is None:
        return SendResult(False, f"{channel.name}: not a usable notification URL")
    plugin.socket_connect_timeout = timeout
    plugin.socket_read_timeout = timeout
    if channel.schema in _JSON_SCHEMAS:  # Apprise's NotifyJSON: extra headers and payload fields
        headers: dict[str, str] = getattr(plugin, "headers")
        extras: dict[str, Any] = getattr(plugin, "payload_extras")
        headers["Idempotency-Key"] = message.idempotency_key
        extras["idempotency_key"] = message.idempotency_key
        extras["parkwatch"] = message.data
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            ok = bool(plugin.notify(body=message.body, title=message.title,
                                    body_format=apprise.NotifyFormat.TEXT))
        except Exception as exc:  # noqa: BLE001 - a plugin bug must not stop the other channels
            ok, captured_extra = False, f"{type(exc).__name__}: {exc}"
        else:
            captured_extra = ""
        log_text = captured.getvalue()  # type: ignore[attr-defined]
    if ok:
        return SendResult(True)
    lines = [_LOG_PREFIX.sub("", line).strip() for line in (log_text + "\n" + captured_extra).splitlines()]
    lines = [line for line in lines if line]
    reason = lines[-1] if lines else "the channel refused or did not answer"
    return SendResult(False, channel.scrub(reason)[:500])
