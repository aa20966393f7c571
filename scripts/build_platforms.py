"""Regenerate data/geojson/platforms.geojson from data/specs/platforms.csv (run after build_layout.py).

Each row of the spec is one platform the plan names: its kind, level and plan reference, and
either its site (name and coordinates with their CRS) or, where no site is known, the layout
feature the plan ties it to. A platform without a site gets its own point inside that feature
(a deterministic low-discrepancy sample), so unknown sites do not stack on one point; `source`
says it is not an address. Two platforms share a point only where the spec says so
(`colocated_with`, e.g. a laboratory hosted on a university's campus).

    python scripts/build_platforms.py
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import shapely

from gzspatial import crs
from gzspatial._geojson import write_feature_collection
from gzspatial.layers import read_layers

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "data" / "specs" / "platforms.csv"
PLAN = "广州市科技创新“十四五”规划（2021—2025年）（征求意见稿）"
#: Unknown-site points keep this far inside their feature and from each other (metres).
INSET_M, SPACING_M = 150.0, 300.0


def halton(index: int, base: int) -> float:
    """The index-th element of the van der Corput sequence in ``base`` (0 < value < 1)."""
    result, fraction = 0.0, 1.0
    while index:
        fraction /= base
        result += fraction * (index % base)
        index //= base
    return result


def spread_points(area: shapely.Geometry, count: int, taken: list[shapely.Point]) -> list[shapely.Point]:
    """``count`` distinct points inside a metric polygon, away from its edge and from ``taken``."""
    inner = area.buffer(-INSET_M)
    inner = inner if not inner.is_empty else area
    minx, miny, maxx, maxy = inner.bounds
    points, index = [], 1
    while len(points) < count:
        candidate = shapely.Point(minx + halton(index, 2) * (maxx - minx), miny + halton(index, 3) * (maxy - miny))
        index += 1
        if inner.contains(candidate) and all(candidate.distance(p) >= SPACING_M for p in (*taken, *points)):
            points.append(candidate)
        if index > 100_000:
            raise SystemExit(f"cannot place {count} points {SPACING_M} m apart inside a feature")
    return points


def source_text(row: dict, feature_name: str | None) -> str:
    if row["site"]:
        head = "SCHEMATIC location (approximate): the publicly known site of" if row["precision"] == "schematic" else (
            "INDICATIVE location (approximate, not verified): placed at")  # fmt: skip
        text = f"{head} {row['site']}"
    else:
        text = (
            f"INDICATIVE location (approximate): site not known; a point inside {feature_name} ({row['feature']}), "
            "the layout feature the plan ties it to, spread so that points do not stack: not an address"
        )
    if row["colocated_with"]:
        text += f"; shares its point with {row['colocated_with']}"
    return f"{text}; {row['note']}"


def check(rows: list[dict], points: dict[str, shapely.Point], features: dict) -> None:
    """Spec rules: classes, anchors inside their features, shared points only where declared."""
    for row in rows:
        pid, verified = row["id"], row["location_verified"] == "true"
        if row["precision"] not in ("schematic", "indicative") or (row["precision"] == "schematic") != verified:
            raise SystemExit(f"{pid}: precision {row['precision']!r} with location_verified {verified}")
        if not row["site"] and (verified or not row["feature"]):
            raise SystemExit(f"{pid}: no site: needs a feature and location_verified false")
        if row["site"] and row["feature"] and not features[row["feature"]][1].covers(points[pid]):
            raise SystemExit(f"{pid}: its site lies outside {row['feature']}")
    by_point: dict[tuple, list[str]] = {}
    for row in rows:
        by_point.setdefault((points[row["id"]].x, points[row["id"]].y), []).append(row["id"])
    declared = {row["id"]: row["colocated_with"] for row in rows}
    for ids in by_point.values():
        hosts = [i for i in ids if not declared[i]]
        if len(hosts) != 1 or any(declared[i] and declared[i] not in ids for i in ids):
            raise SystemExit(f"{ids} share a point: exactly one must be the host, the others colocated_with it")


def build(spec: Path, out: Path, generated: str) -> None:
    rows = list(csv.DictReader(spec.open(encoding="utf-8", newline="")))
    layers = read_layers()
    features = {p["id"]: (p, g) for name in ("cores", "nodes")
                for p, g in zip(layers[name].properties, layers[name].geometries, strict=True)}  # fmt: skip
    points = {}
    for row in rows:
        if row["site"]:
            lon, lat = crs.transform(float(row["lon"]), float(row["lat"]), row["crs"], crs.WGS84)
            points[row["id"]] = shapely.Point(lon, lat)
    taken = [crs.to_metric(p) for p in points.values()]
    for feature_id in dict.fromkeys(r["feature"] for r in rows if not r["site"]):
        ids = [r["id"] for r in rows if not r["site"] and r["feature"] == feature_id]
        placed = spread_points(crs.to_metric(features[feature_id][1]), len(ids), taken)
        taken += placed
        for pid, point in zip(ids, placed, strict=True):
            lon, lat = crs.transform(point.x, point.y, crs.METRIC_CRS, crs.WGS84)
            points[pid] = shapely.Point(round(float(lon), 6), round(float(lat), 6))
    check(rows, points, features)
    out_features = []
    for row in rows:
        name = features[row["feature"]][0]["name_zh"] if row["feature"] else None
        props = {"id": row["id"], "name_zh": row["name_zh"], "name_en": row["name_en"], "aliases": [],
                 "type": row["type"], "level": row["level"], "seed_ref": row["seed_ref"],
                 "precision": row["precision"], "location_verified": row["location_verified"] == "true",
                 "feature_id": row["feature"] or None, "colocated_with": row["colocated_with"] or None,
                 "source": source_text(row, name)}  # fmt: skip
        out_features.append((props, points[row["id"]]))
    metadata = {
        "source": f"{PLAN}, sections 一, 三, 五, 六 and 九 (names, kinds, levels); locations approximate",
        "precision": "per platform: schematic (verified host site, about 0.5 km) | indicative (site not verified)",
        "license": "CC0 (gzspatial's own approximation)",
        "generated": generated,
        "script": "scripts/build_platforms.py",
        "spec": "data/specs/platforms.csv",
    }
    write_feature_collection(out / "platforms.geojson", out_features, name="platforms", metadata=metadata)
    print(f"wrote {len(out_features)} platforms at {len({(p.x, p.y) for _, p in out_features})} points")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=SPEC, help="the platforms spec (CSV)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "geojson")
    parser.add_argument("--generated", default=str(np.datetime64("today")))
    args = parser.parse_args()
    build(args.spec, args.out, args.generated)


if __name__ == "__main__":
    main()
