"""A SYNTHETIC enterprise registry for demos, notebooks and benchmarks (no real company in it).

Points are spatially plausible: most fall inside the layout's cores and nodes, the rest spread
over the districts, denser in the central ones. Deterministic for a seed. Coordinates are written
in GCJ-02 by default, as commercial (Amap) exports are, so every demo exercises the conversion.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from gzspatial import crs as _crs
from gzspatial._engine import layout_index

if TYPE_CHECKING:
    import pandas as pd

CATEGORIES = ("高新技术企业", "科技型中小企业", "孵化器", "众创空间", "新型研发机构")
CATEGORY_WEIGHTS = (0.38, 0.5, 0.04, 0.05, 0.03)
#: The plan's key fields (section 四).
INDUSTRIES = ("新一代信息技术", "人工智能与数字经济", "生物医药", "先进能源", "先进材料", "先进制造",
              "文化科技与现代服务业", "海洋科技", "半导体与集成电路", "空天科技")  # fmt: skip
#: Share of points placed inside cores and nodes; the rest is background by district.
LAYOUT_SHARE = 0.6
#: Relative background density per district adcode (central districts are denser).
DISTRICT_DENSITY = {"440103": 6, "440104": 8, "440105": 6, "440106": 8, "440111": 2, "440112": 3, "440113": 3,
                    "440114": 1, "440115": 1, "440117": 0.3, "440118": 0.7}  # fmt: skip
SYNTHETIC_NOTE = "合成样例数据，非真实企业 (synthetic sample, not real companies)"


def _points_in(
    polygon: shapely.Polygon | shapely.MultiPolygon, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """n uniform random points inside a WGS84 polygon (rejection sampling in its bounding box)."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    xs, ys, have = [np.empty(0)], [np.empty(0)], 0
    fill = max(polygon.area / ((maxx - minx) * (maxy - miny)), 0.05)
    while have < n:
        m = int((n - have) / fill * 1.2) + 16
        x, y = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
        inside = shapely.contains_xy(polygon, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def _allocate(n: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.multinomial(n, weights / weights.sum())


def sample_enterprises(
    n: int, *, seed: int = 0, crs: str = _crs.GCJ02, layers: str | Path | None = None
) -> pd.DataFrame:
    """A DataFrame of ``n`` synthetic enterprises with coordinates in ``crs`` (default GCJ-02).

    Columns: 企业名称, 类别, 行业, 成立年份, 所在区, 经度, 纬度, 坐标系, 数据说明. Same seed, same rows.
    """
    import pandas as pd

    if n < 0:
        raise ValueError(f"number of enterprises must be >= 0, got {n}")
    system = _crs.normalize_crs(crs)
    rng = np.random.default_rng(seed)
    index = layout_index(layers)
    layout = [*(index.cores.layer.geometries if index.cores else []), *(index.nodes.layer.geometries if index.nodes
                                                                        else [])]  # fmt: skip
    n_layout = round(n * LAYOUT_SHARE) if layout else 0
    lons, lats = [], []
    areas = np.array([g.area for g in layout]) ** 0.7  # small nodes get relatively more (they are dense)
    for geometry, k in zip(layout, _allocate(n_layout, areas, rng) if layout else [], strict=True):
        x, y = _points_in(geometry, int(k), rng)
        lons.append(x)
        lats.append(y)
    districts = index.districts.layer
    density = np.array([DISTRICT_DENSITY.get(p["adcode"], 1.0) * g.area for p, g in
                        zip(districts.properties, districts.geometries, strict=True)])  # fmt: skip
    for geometry, k in zip(districts.geometries, _allocate(n - n_layout, density, rng), strict=True):
        x, y = _points_in(geometry, int(k), rng)
        lons.append(x)
        lats.append(y)
    lon, lat = np.concatenate(lons) if lons else np.empty(0), np.concatenate(lats) if lats else np.empty(0)
    order = rng.permutation(len(lon))
    lon, lat = lon[order], lat[order]
    district_idx = index.membership_grid(lon, lat).district
    district_names = np.array([*districts.column("name_zh"), ""], dtype=object)
    out_lon, out_lat = _crs.transform(lon, lat, _crs.WGS84, system)
    digits = len(str(max(n, 1)))
    return pd.DataFrame({
        "企业名称": np.char.add("样例企业", np.char.zfill(np.arange(1, n + 1).astype(str), digits)),
        "类别": rng.choice(CATEGORIES, n, p=CATEGORY_WEIGHTS),
        "行业": rng.choice(INDUSTRIES, n),
        "成立年份": rng.integers(1995, 2026, n),
        "所在区": district_names[district_idx],
        "经度": np.round(out_lon, 6),
        "纬度": np.round(out_lat, 6),
        "坐标系": system,
        "数据说明": SYNTHETIC_NOTE,
    })  # fmt: skip
