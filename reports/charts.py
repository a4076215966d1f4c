"""The digest's pictures, drawn offline with matplotlib: weekly mentions per city and per park
over the last weeks, and a tile map of Guangdong's cities coloured by parks named.

Figures are built with the object API (no pyplot global state, safe in the scheduler's threads)
rendered by Agg (no GUI backend, no pyplot) and returned as PNG bytes, which both the HTML (data: URI) and the e-mail
(inline part with a Content-ID) can carry; SVG is not shown by most mail clients.

Chinese labels need a CJK font. The system's fonts are searched once (Debian: fonts-noto-cjk);
without one, labels fall back to English names so a chart never shows empty boxes.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import MaxNLocator

from reports.charts_grid import TILES
from reports.digest_model import CityProgress, Digest, Trend
from reports.digest_window import Window
from reports.text import short_park

CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Droid Sans Fallback", "AR PL UMing CN")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
COLOURS = ("#eef0f3", "#b7d3ec", "#6ea6d8", "#2f6fae", "#183f6b")  # 0, 1, 2, 3, 4+ parks
DPI = 144


@dataclass(frozen=True)
class Chart:
    name: str  # also the Content-ID stem in the e-mail
    title: str
    alt: str  # what the picture shows, for screen readers and mail clients without images
    png: bytes


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font family that covers Chinese, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _families() -> list[str]:
    font = cjk_font()
    return ["DejaVu Sans", font] if font else ["DejaVu Sans"]


def chart_label(label: str, index: int) -> str:
    """A short legend label; without a CJK font, the English part or a neutral placeholder."""
    label = short_park(label)
    if cjk_font() or not _CJK.search(label):
        return label
    english = re.search(r"\(([^()]*)\)\s*$", label)
    if english and not _CJK.search(english[1]):
        return english[1]
    return f"park {index + 1}"


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def trend_chart(trend: Trend, kind: str, window: Window) -> Chart | None:
    series = trend.cities if kind == "cities" else trend.parks
    if not series or not trend.weeks:
        return None
    what = "city" if kind == "cities" else "park"
    fig = Figure(figsize=(7.2, 3.4))
    ax = fig.add_subplot()
    x = list(range(len(trend.weeks)))
    for i, (label, values) in enumerate(series.items()):
        ax.plot(x, values, marker="o", markersize=3, linewidth=1.8, label=chart_label(label, i))
    ticks = [window.local(w).strftime("%m-%d") for w in trend.weeks]  # week starts, local dates
    ax.set_xticks(x, ticks, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("mentions per week")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    title = f"Weekly mentions per {what}, last {len(trend.weeks)} weeks"
    ax.set_title(title, fontsize=11, loc="left")
    totals = ", ".join(f"{chart_label(k, i)} {sum(v)}" for i, (k, v) in enumerate(series.items()))
    return Chart(f"trend-{kind}", title, f"{title}. Totals: {totals}.", _png(fig))


def city_map(cities: list[CityProgress]) -> Chart:
    by_id = {c.id: c for c in cities}
    fig = Figure(figsize=(7.2, 4.6))
    ax = fig.add_subplot()
    cols = max(c for c, _ in TILES.values()) + 1
    rows = max(r for _, r in TILES.values()) + 1
    for city_id, (col, row) in TILES.items():
        c = by_id.get(city_id)
        parks = c.parks if c else 0
        colour = COLOURS[min(parks, len(COLOURS) - 1)]
        edge = "#e8590c" if c and c.new else "#ffffff"
        ax.add_patch(FancyBboxPatch((col + 0.05, rows - row - 0.95), 0.9, 0.9, boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=colour, edgecolor=edge, linewidth=3 if c and c.new else 1))
        ink = "#ffffff" if parks >= 3 else "#1d2733"
        name = (f"{c.name_zh}\n{c.name_en}" if cjk_font() else c.name_en) if c else city_id.split(":")[-1].title()
        ax.text(col + 0.5, rows - row - 0.42, name, ha="center", va="center", fontsize=7, color=ink)
        ax.text(col + 0.5, rows - row - 0.8, str(parks), ha="center", va="center", fontsize=9, weight="bold", color=ink)
    ax.set_xlim(0, cols)
    ax.set_ylim(0, rows)
    ax.set_aspect("equal")
    ax.axis("off")
    title = "Parks named per city (tile map of Guangdong; orange edge: new this period)"
    ax.set_title(title, fontsize=10, loc="left")
    named = ", ".join(f"{c.name_en} {c.parks}" for c in cities if c.parks) or "none"
    none = sum(1 for c in cities if not c.parks)
    return Chart("city-map", title, f"Parks named per city: {named}; {none} cities with none yet.", _png(fig))


def digest_charts(d: Digest) -> list[Chart]:
    """Every picture of the digest, in the order the HTML shows them."""
    with matplotlib.rc_context({"font.family": _families(), "axes.unicode_minus": False}):
        charts = [city_map(d.cities), trend_chart(d.trend, "cities", d.window), trend_chart(d.trend, "parks", d.window)]
    return [c for c in charts if c is not None]
