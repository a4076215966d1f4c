"""Load and validate the sources YAML file (format in docs/architecture.md).

Validation happens up front, once, so that a typo in the sources file is reported with the
file, source and field before any request is made, instead of surfacing as an odd crawl
result hours later. Every problem raises :class:`crawler.errors.SourcesError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from cssselect import GenericTranslator, SelectorError
from lxml import etree

from crawler.errors import SourcesError

KINDS = ("listing", "feed", "sitemap", "page")
LANGS = ("zh", "en", "auto")
PRIORITIES = ("high", "normal")
NAME_RE = re.compile(r"^[a-z0-9_-]+$")

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_MAX_PAGES = 20


@dataclass(frozen=True)
class SourceConfig:
    """One validated source, with ``defaults:`` already merged in.

    ``title``, ``date`` and ``body`` are selectors that override what extraction finds: CSS,
    or XPath when they start with ``/`` or ``(`` (see :func:`is_xpath`). ``page_pattern`` is
    numbered pagination relative to each start URL (``index_{n}.html``: ``{n}`` is the page
    number, 2 for the second page; ``{i}`` is ``n - 1``), walked up to ``max_pages``.

    ``download_delay`` is ``None`` when neither the source nor ``defaults:`` set it; the
    crawl-wide :class:`crawler.settings.CrawlSettings.download_delay` applies then.
    """

    name: str
    lang: str
    kind: str
    start_urls: tuple[str, ...]
    priority: str = "normal"
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    next_page: str | None = None
    page_pattern: str | None = None
    title: str | None = None
    date: str | None = None
    body: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    enabled: bool = True
    download_delay: float | None = None
    concurrency: int | None = None
    time_budget: float | None = None
    max_pages: int = DEFAULT_MAX_PAGES
    attachments: bool = False

    def allows(self, url: str) -> bool:
        """True when ``url`` matches one ``allow`` regex (or allow is empty) and no ``deny``."""
        if self.allow and not any(re.search(p, url) for p in self.allow):
            return False
        return not any(re.search(p, url) for p in self.deny)

    def numbered_page(self, start_url: str, page: int) -> str | None:
        """URL of listing page ``page`` (>= 2) under ``page_pattern``, or None without one."""
        if not self.page_pattern or page < 2:
            return None
        from urllib.parse import urljoin

        relative = self.page_pattern.replace("{n}", str(page)).replace("{i}", str(page - 1))
        return urljoin(start_url, relative)


def is_xpath(selector: str) -> bool:
    """Selectors starting with ``/`` or ``(`` are XPath; everything else is CSS."""
    return selector.lstrip().startswith(("/", "("))


# Fields allowed per source; "defaults:" may set all of them except these two.
_FIELDS = tuple(SourceConfig.__dataclass_fields__)
_NOT_IN_DEFAULTS = ("name", "start_urls")
_REQUIRED = ("name", "lang", "kind", "start_urls")
_TOP_LEVEL = ("defaults", "sources")


class _FieldError(Exception):
    """Internal: a field-level problem, wrapped with file/source context by the caller."""


def bundled_sources_path() -> Path:
    """The sources file shipped with parkwatch (real Guangdong and English sources)."""
    return Path(__file__).resolve().parent / "data" / "guangdong-sources.yaml"


def load_sources(
    path: str | Path, variables: Mapping[str, str] | None = None
) -> list[SourceConfig]:
    """Read, validate and return the sources in ``path`` (disabled ones included).

    ``variables`` replaces ``{key}`` placeholders in string values before validation (the demo
    site's sources file uses ``{base}`` for its loopback URL). Plain ``str.replace`` is used,
    not ``str.format``, so regex quantifiers such as ``\\d{4}`` are left alone.
    """
    origin = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourcesError(f"{origin}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{origin}: cannot read file: {exc}") from None
    return parse_sources(text, origin=origin, variables=variables)


def parse_sources(
    text: str, origin: str = "<sources>", variables: Mapping[str, str] | None = None
) -> list[SourceConfig]:
    """Validate sources given as YAML text; ``origin`` names the file in error messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise SourcesError(f"{origin}: YAML syntax error{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise SourcesError(f"{origin}: YAML syntax error: {exc}") from None
    if variables:
        data = _substitute(data, variables)
    return validate_sources(data, origin)


def validate_sources(data: Any, origin: str = "<sources>") -> list[SourceConfig]:
    """Validate already-parsed YAML data (a mapping with ``defaults`` and ``sources``)."""
    if data is None:
        raise SourcesError(f"{origin}: file is empty, expected a 'sources:' list")
    if not isinstance(data, dict):
        raise SourcesError(
            f"{origin}: top level must be a mapping with a 'sources:' list, got {_kind(data)}"
        )
    unknown = [k for k in data if k not in _TOP_LEVEL]
    if unknown:
        raise SourcesError(
            f"{origin}: unknown top-level {_keys(unknown)} (allowed: {', '.join(_TOP_LEVEL)})"
        )

    defaults_raw = data.get("defaults") or {}
    if not isinstance(defaults_raw, dict):
        raise SourcesError(f"{origin}: defaults must be a mapping, got {_kind(defaults_raw)}")
    defaults: dict[str, Any] = {}
    for key, value in defaults_raw.items():
        if key in _NOT_IN_DEFAULTS:
            raise SourcesError(f"{origin}: defaults: {key} cannot have a default")
        if key not in _FIELDS:
            raise SourcesError(
                f"{origin}: defaults: unknown key {key!r} (allowed: "
                f"{', '.join(f for f in _FIELDS if f not in _NOT_IN_DEFAULTS)})"
            )
        try:
            defaults[key] = _VALIDATORS[key](key, value)
        except _FieldError as exc:
            raise SourcesError(f"{origin}: defaults: {exc}") from None

    sources_raw = data.get("sources")
    if sources_raw is None:
        raise SourcesError(f"{origin}: 'sources:' is missing")
    if not isinstance(sources_raw, list):
        raise SourcesError(f"{origin}: sources must be a list, got {_kind(sources_raw)}")
    if not sources_raw:
        raise SourcesError(f"{origin}: sources list is empty")

    result: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(sources_raw, start=1):
        config = _validate_source(raw, index, defaults, origin)
        if config.name in seen:
            raise SourcesError(
                f"{origin}: {_label(config.name, index)}: duplicate name "
                f"{config.name!r}, already used by source #{seen[config.name]}"
            )
        seen[config.name] = index
        result.append(config)
    return result


def _validate_source(
    raw: Any, index: int, defaults: Mapping[str, Any], origin: str
) -> SourceConfig:
    if not isinstance(raw, dict):
        raise SourcesError(f"{origin}: source #{index}: must be a mapping, got {_kind(raw)}")
    name = raw.get("name")
    label = _label(name if isinstance(name, str) else None, index)

    def fail(message: str) -> SourcesError:
        return SourcesError(f"{origin}: {label}: {message}")

    unknown = [k for k in raw if k not in _FIELDS]
    if unknown:
        raise fail(f"unknown {_keys(unknown)} (allowed: {', '.join(_FIELDS)})")
    for key in _REQUIRED:
        if raw.get(key) is None:
            raise fail(f"{key} is required")

    values: dict[str, Any] = dict(defaults)
    for key, value in raw.items():
        try:
            values[key] = _VALIDATORS[key](key, value)
        except _FieldError as exc:
            raise fail(str(exc)) from None
    return SourceConfig(**values)


# --- field validators: (field name, raw value) -> normalised value, or raise _FieldError ---


def _name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise _FieldError(f"{key} must match [a-z0-9_-]+, got {value!r}")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        if value not in options:
            raise _FieldError(f"{key} must be one of {', '.join(options)}, got {value!r}")
        return str(value)

    return check


def _urls(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _FieldError(f"{key} must be a non-empty list of http(s) URLs")
    for i, url in enumerate(value):
        if not isinstance(url, str):
            raise _FieldError(f"{key}[{i}] must be a URL string, got {_kind(url)}")
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _FieldError(f"{key}[{i}] is not an http(s) URL: {url!r}")
    return tuple(u.strip() for u in value)


def _regexes(key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _FieldError(f"{key} must be a list of regular expressions, got {_kind(value)}")
    for i, pattern in enumerate(value):
        if not isinstance(pattern, str):
            raise _FieldError(f"{key}[{i}] must be a string, got {_kind(pattern)}")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _FieldError(
                f"{key}[{i}] is not a valid regular expression: {pattern!r} ({exc})"
            ) from None
    return tuple(value)


def _css(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _FieldError(f"{key} must be a CSS selector string, got {value!r}")
    if is_xpath(value):
        return _xpath(key, value)
    try:
        GenericTranslator().css_to_xpath(value)
    except SelectorError as exc:
        raise _FieldError(f"{key} is not a valid CSS selector: {value!r} ({exc})") from None
    return value


def _xpath(key: str, value: str) -> str:
    try:
        etree.XPath(value)
    except etree.XPathSyntaxError as exc:
        raise _FieldError(f"{key} is not a valid XPath expression: {value!r} ({exc})") from None
    return value


def _page_pattern(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or ("{n}" not in value and "{i}" not in value):
        raise _FieldError(
            f"{key} must be a relative URL containing {{n}} (page number) or {{i}} "
            f"(page number - 1), e.g. 'index_{{n}}.html', got {value!r}"
        )
    if urlsplit(value).scheme not in ("", "http", "https"):
        raise _FieldError(f"{key} must be an http(s) or relative URL, got {value!r}")
    return value


def _optional_positive_int(key: str, value: Any) -> int | None:
    return None if value is None else _positive_int(key, value)


def _optional_seconds(key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise _FieldError(f"{key} must be a number of seconds > 0, got {value!r}")
    return float(value)


def _timezone(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _FieldError(f"{key} must be an IANA time zone name, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _FieldError(f"{key} is not a known time zone: {value!r}") from None
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _FieldError(f"{key} must be true or false, got {value!r}")
    return value


def _delay(key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise _FieldError(f"{key} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _FieldError(f"{key} must be an integer >= 1, got {value!r}")
    return value


_VALIDATORS = {
    "name": _name,
    "lang": _choice(LANGS),
    "kind": _choice(KINDS),
    "priority": _choice(PRIORITIES),
    "start_urls": _urls,
    "allow": _regexes,
    "deny": _regexes,
    "next_page": _css,
    "page_pattern": _page_pattern,
    "title": _css,
    "date": _css,
    "body": _css,
    "timezone": _timezone,
    "enabled": _bool,
    "download_delay": _delay,
    "concurrency": _optional_positive_int,
    "time_budget": _optional_seconds,
    "max_pages": _positive_int,
    "attachments": _bool,
}
assert set(_VALIDATORS) == set(_FIELDS), "every SourceConfig field needs a validator"


def _label(name: str | None, index: int) -> str:
    return f"source {name!r} (#{index})" if name else f"source #{index}"


def _keys(keys: list[Any]) -> str:
    quoted = ", ".join(repr(k) for k in keys)
    return f"key {quoted}" if len(keys) == 1 else f"keys {quoted}"


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__
    )


def _substitute(data: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(data, str):
        for key, value in variables.items():
            data = data.replace("{" + key + "}", value)
        return data
    if isinstance(data, list):
        return [_substitute(v, variables) for v in data]
    if isinstance(data, dict):
        return {k: _substitute(v, variables) for k, v in data.items()}
    return data
