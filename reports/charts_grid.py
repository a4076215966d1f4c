"""Guangdong's 21 prefecture-level cities as a tile grid: (column, row), row 0 at the top.

Tiles keep each city roughly where it lies (Shaoguan north, Zhanjiang south-west, Shantou east,
the Pearl River Delta in the middle) while giving every city the same area, so a small city
with a park is as visible as a large one without. Positions are approximate by design.
"""

from __future__ import annotations

TILES: dict[str, tuple[int, int]] = {
    "city:shaoguan": (3, 0), "city:meizhou": (6, 0),
    "city:qingyuan": (3, 1), "city:heyuan": (5, 1), "city:chaozhou": (7, 1),
    "city:yunfu": (1, 2), "city:zhaoqing": (2, 2), "city:guangzhou": (3, 2), "city:dongguan": (4, 2),
    "city:huizhou": (5, 2), "city:jieyang": (6, 2), "city:shantou": (7, 2),
    "city:maoming": (0, 3), "city:yangjiang": (1, 3), "city:jiangmen": (2, 3), "city:foshan": (3, 3),
    "city:shenzhen": (4, 3), "city:shanwei": (5, 3),
    "city:zhanjiang": (0, 4), "city:zhongshan": (2, 4), "city:zhuhai": (3, 4),
}
