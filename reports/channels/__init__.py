"""Alert channels: notification URLs (Apprise) read from the environment, never stored.

`Channel` is what the rest of parkwatch sees of a channel: a stable key (a hash of the URL) and a
redacted name, safe for the database, logs and reports. The URL itself, which holds passwords,
tokens and signing secrets, stays inside the `Channel` object in memory.
"""

from __future__ import annotations

from reports.channels.registry import Channel, ChannelError, channels_from_env, parse_channels
from reports.channels.send import Message, SendResult, send

__all__ = ["Channel", "ChannelError", "Message", "SendResult", "channels_from_env", "parse_channels", "send"]
