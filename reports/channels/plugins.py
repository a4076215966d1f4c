"""Apprise plugins for bots with signature verification turned on: Feishu, Lark, DingTalk.

Apprise's own `feishu://` and `lark://` plugins post without the `timestamp`/`sign` fields, so a
bot whose "signature verification" (签名校验) security setting is on rejects every message. These
two small plugins add the documented signature and otherwise behave like Apprise's:
`feishusign://SECRET@TOKEN` and `larksign://SECRET@TOKEN`.

Apprise's `dingtalk://SECRET@TOKEN` signs, but URL-quotes the signature and then hands it to
`requests` as a query parameter, which quotes it again; DingTalk decodes once and answers
310000 "sign not match". `NotifyDingTalkSigned` replaces the `dingtalk` schema with the same
plugin, signature quoted once.

Signature (Feishu/Lark custom bot documentation): with `timestamp` in whole seconds, the HMAC-SHA256
*key* is `f"{timestamp}\\n{secret}"` and the message is empty; `sign` is its base64 digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import requests
from urllib.parse import unquote

from apprise.common import NotifyType
from apprise.plugins.base import NotifyBase
from apprise.plugins.dingtalk import NotifyDingTalk

_registered = False


def feishu_sign(secret: str, timestamp: str) -> str:
    key = f"{timestamp}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


class NotifyFeishuSigned(NotifyBase):  # type: ignore[misc]
    """A Feishu custom bot with a signing secret."""

    service_name = "Feishu (signed)"
    service_url = "https://open.feishu.cn/"
    secure_protocol = "feishusign"
    notify_url = "https://open.feishu.cn/open-apis/bot/v2/hook/{token}"
    body_maxlen = 19985
    templates = ("{schema}://{secret}@{token}",)
    template_tokens = dict(
        NotifyBase.template_tokens,
        token={"name": "Token", "type": "string", "private": True, "required": True},
        secret={"name": "Secret", "type": "string", "private": True, "required": True},
    )

    def __init__(self, token: str, secret: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not token or not secret:
            from apprise.exception import AppriseImproperlyConfigured

            raise AppriseImproperlyConfigured(f"{self.service_name}: a token and a signing secret are required")
        self.token, self.secret = token, secret

    def send(self, body: str, title: str = "", notify_type: NotifyType = NotifyType.INFO, **kwargs: Any) -> bool:
        timestamp = str(int(time.time()))
        payload = {
            "timestamp": timestamp,
            "sign": feishu_sign(self.secret, timestamp),
            "msg_type": "text",
            "content": {"text": f"{title}\r\n{body}" if title else body},
        }
        self.throttle()
        try:
            response = requests.post(
                self.notify_url.format(token=self.token),
                data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                headers={"User-Agent": self.app_id, "Content-Type": "application/json"},
                verify=self.verify_certificate,
                timeout=self.request_timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            self.logger.warning("A connection error occurred sending %s notification: %s",
                                self.service_name, type(exc).__name__)
            return False
        if response.status_code != requests.codes.ok:
            self.logger.warning("Failed to send %s notification: HTTP %s", self.service_name, response.status_code)
            return False
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if isinstance(answer, dict) and answer.get("code"):
            # Feishu refuses with HTTP 200 and a code, e.g. 19021 for a bad signature.
            self.logger.warning("%s refused the notification: code=%s msg=%s", self.service_name,
                                answer.get("code"), answer.get("msg"))
            return False
        return True

    @property
    def url_identifier(self) -> tuple[str, str]:
        return (self.secure_protocol, self.token)

    def url(self, privacy: bool = False, *args: Any, **kwargs: Any) -> str:
        return "{schema}://{secret}@{token}/?{params}".format(
            schema=self.secure_protocol,
            secret=self.pprint(self.secret, privacy, safe=""),
            token=self.pprint(self.token, privacy, safe=""),
            params=self.urlencode(self.url_parameters(*args, privacy=privacy, **kwargs)),
        )

    @staticmethod
    def parse_url(url: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:  # type: ignore[override]
        results = NotifyBase.parse_url(url, verify_host=False)
        if not results:
            return results
        results["token"] = NotifyBase.unquote(results.get("host") or "")
        results["secret"] = NotifyBase.unquote(results.get("user") or "")
        return results


class NotifyLarkSigned(NotifyFeishuSigned):
    """A Lark (international Feishu) custom bot with a signing secret."""

    service_name = "Lark (signed)"
    service_url = "https://open.larksuite.com/"
    secure_protocol = "larksign"
    notify_url = "https://open.larksuite.com/open-apis/bot/v2/hook/{token}"


class NotifyDingTalkSigned(NotifyDingTalk):  # type: ignore[misc]
    """Apprise's DingTalk plugin with the signature quoted once (by `requests`), not twice."""

    def get_signature(self) -> tuple[str, str]:
        timestamp, quoted = super().get_signature()
        return timestamp, unquote(quoted)


def register_plugins() -> None:
    """Make the two schemas known to Apprise (once per process)."""
    global _registered
    if _registered:
        return
    # Apprise logs URLs (partly masked) and raw errors; parkwatch logs its own scrubbed line instead
    # (reports.channels.send captures Apprise's messages and removes the channel's secrets).
    logging.getLogger("apprise").propagate = False
    from apprise.manager_plugins import NotificationManager

    manager = NotificationManager()
    for plugin in (NotifyFeishuSigned, NotifyLarkSigned):
        if plugin.secure_protocol not in manager:
            manager.add(plugin, schemas=plugin.secure_protocol)
    manager.add(NotifyDingTalkSigned, schemas="dingtalk", force=True)
    _registered = True
