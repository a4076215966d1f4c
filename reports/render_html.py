"""The digest as one self-contained HTML page: inline CSS, pictures inline, no external request.

Jinja2 autoescaping is on for the whole template, so every crawled string (titles, sentences,
names, source names) is text, never markup; URLs must also be http(s) before they become links.
The same template serves the HTML file (pictures as data: URIs) and the e-mail (pictures as
`cid:` references to inline parts).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from reports.charts import Chart
from reports.digest_model import Digest
from reports.render_md import confidence, headline, period_word
from reports.text import number, signed


def data_uri(chart: Chart) -> str:
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


def safe_url(url: str | None) -> str | None:
    """Only http(s) links: a `javascript:` URL in crawled data must not become clickable."""
    if not url:
        return None
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None


_env: Environment | None = None


def environment() -> Environment:
    global _env
    if _env is None:
        env = Environment(loader=PackageLoader("reports", "templates"), autoescape=True,
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        env.filters["signed"] = signed
        env.filters["number"] = number
        env.filters["safe_url"] = safe_url
        env.filters["confidence"] = confidence
        _env = env
    return _env


def render_html(d: Digest, charts: list[Chart], image_src: Callable[[Chart], str] = data_uri) -> str:
    def local(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return d.window.local(moment).strftime(fmt)

    return environment().get_template("digest.html.j2").render(
        d=d,
        word=period_word(d),
        headline=headline(d),
        local=local,
        charts={c.name: (c, image_src(c)) for c in charts},
        sections=(("PARK", "Parks"), ("CITY", "Cities"), ("COMPANY", "Companies")),
    )
