"""The digest's pictures: drawn offline, Chinese labels with a real CJK font (never tofu boxes),
English labels when no CJK font is installed."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from reports import charts
from reports.digest import build_digest
from reports.digest_model import Digest
from store.db import make_engine, session_factory, sqlite_url
from tests.test_digest import WEEK, populate


@pytest.fixture(scope="module")
def digest(tmp_path_factory: pytest.TempPathFactory) -> Digest:
    url = sqlite_url(tmp_path_factory.mktemp("charts") / "digest.db")
    populate(url)
    engine = make_engine(url)
    sessions: sessionmaker[Session] = session_factory(engine)
    with sessions() as s:
        d = build_digest(s, WEEK, planned_parks=10)
    engine.dispose()
    return d


def draw_without_missing_glyphs(d: Digest) -> list[charts.Chart]:
    """matplotlib warns "Glyph ... missing from font(s)" for every tofu box: make that an error."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        return charts.digest_charts(d)


def test_charts_draw_chinese_with_a_cjk_font(digest: Digest, tmp_path: Path) -> None:
    assert charts.cjk_font() is not None, "install a CJK font: apt-get install fonts-noto-cjk"
    drawn = draw_without_missing_glyphs(digest)
    assert [c.name for c in drawn] == ["city-map", "trend-cities", "trend-parks"]
    from PIL import Image

    for chart in drawn:
        image = Image.open(io.BytesIO(chart.png))
        assert image.format == "PNG" and image.width > 600
        (tmp_path / f"{chart.name}.png").write_bytes(chart.png)
    city_trend = dict(digest.trend.cities)
    assert city_trend["珠海 (Zhuhai)"][-1] == 2 and sum(city_trend["珠海 (Zhuhai)"]) == 4
    assert "珠海 (Zhuhai) 4" in drawn[1].alt


def test_without_a_cjk_font_labels_fall_back_to_english(digest: Digest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert charts.chart_label("珠海 (Zhuhai)", 0) == "Zhuhai"
    assert charts.chart_label("京信通信5G+工业互联网应用示范园区", 1) == "park 2"
    assert charts.chart_label("Smart Port", 0) == "Smart Port"
    assert len(draw_without_missing_glyphs(digest)) == 3


def test_an_empty_period_still_draws_the_map_only(digest: Digest) -> None:
    from dataclasses import replace

    quiet = replace(digest, trend=charts.Trend(digest.trend.weeks, {}, {}))
    assert [c.name for c in charts.digest_charts(quiet)] == ["city-map"]
