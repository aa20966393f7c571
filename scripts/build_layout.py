"""Regenerate data/geojson/cores.geojson, nodes.geojson and axis.geojson from data/specs/layout.toml.

The spec holds every feature's names, anchor places (with their CRS), shape recipe, published
area (with its source) and precision class; this script only builds the shapes, checks them
against the spec (anchors inside, district, class rules) and writes the layers. The spec quotes
the plan's sentences (`description_zh`); they are checked against the plan text (../shared/seed)
when it is beside the checkout.

    python scripts/build_layout.py            # reads data/specs/layout.toml and districts.geojson
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import numpy as np
import shapely

from gzspatial import crs
from gzspatial._geojson import write_feature_collection
from gzspatial.layers import read_layers

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "data" / "specs" / "layout.toml"
SEED = ROOT.parent / "shared" / "seed" / "000_c53a813f44610f0f.txt"
PRECISIONS = ("official", "road_bounded", "schematic", "indicative")
ELLIPSE_VERTICES = 72


def plan_sentence(seed: str, key: str) -> str:
    """The first sentence the plan writes under a bold heading ``**key。**`` (or containing ``key``)."""
    match = re.search(rf"\*\*{re.escape(key)}。\*\*([^。]*。)", seed)
    if match:
        return match.group(1).strip()
    match = re.search(rf"([^。*]*{re.escape(key)}[^。]*。)", seed)
    if not match:
        raise SystemExit(f"{key!r} not found in the plan text")
    return match.group(1).strip()


def check_descriptions(spec: dict, seed: str) -> None:
    """Each spec ``description_zh`` is the plan's own first sentence about the feature, verbatim."""
    for feature in (*spec["cores"], *spec["nodes"], *spec["axis"]["sections"]):
        expected = plan_sentence(seed, feature.get("text_key", feature["name_zh"]))
        if feature["description_zh"] != expected:
            raise SystemExit(f"{feature['id']}: description_zh is not the plan's sentence {expected!r}")


def to_metric_xy(coords, source_crs: str) -> np.ndarray:
    """(n, 2) lon/lat in ``source_crs`` (wgs84, gcj02, …) → (n, 2) metres in crs.METRIC_CRS."""
    lonlat = np.asarray(coords, dtype=float).reshape(-1, 2)
    x, y = crs.transform(lonlat[:, 0], lonlat[:, 1], source_crs, crs.METRIC_CRS)
    return np.column_stack([x, y])


def ellipse(centre: np.ndarray, semi_axes_m: tuple[float, float], rotation_deg: float) -> shapely.Polygon:
    """An ellipse in metres: semi-axes (along, across) rotated counter-clockwise from east."""
    t = np.linspace(0, 2 * np.pi, ELLIPSE_VERTICES, endpoint=False)
    a, b = semi_axes_m
    r = np.radians(rotation_deg)
    ex, ey = a * np.cos(t), b * np.sin(t)
    return shapely.Polygon(
        np.column_stack([centre[0] + ex * np.cos(r) - ey * np.sin(r), centre[1] + ex * np.sin(r) + ey * np.cos(r)])
    )


class Builder:
    """Builds shapes (in metres) from recipes; holds the districts and every feature's recipe."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.codes = spec["districts"]
        layer = read_layers()["districts"]
        self.district = {p["adcode"]: crs.to_metric(g) for p, g in zip(layer.properties, layer.geometries, strict=True)}
        self.recipes = {f["id"]: f["shape"] for f in (*spec["cores"], *spec["nodes"])}

    def shape(self, recipe: dict) -> shapely.Geometry:
        """A recipe's geometry in crs.METRIC_CRS; ``clip`` (district names) cuts it to those districts."""
        kind = recipe["kind"]
        if kind == "ellipse":
            centre = to_metric_xy(recipe["centre"], recipe["crs"])[0]
            geometry = ellipse(centre, recipe["semi_axes_m"], recipe.get("rotation_deg", 0.0))
        elif kind == "polygon":
            geometry = shapely.Polygon(to_metric_xy(recipe["vertices"], recipe["crs"]))
        elif kind == "buffered_line":
            line = shapely.LineString(to_metric_xy(recipe["line"], recipe["crs"]))
            geometry = line.buffer(recipe["half_width_m"], quad_segs=8)
        elif kind == "union":
            geometry = shapely.union_all([self.shape(part) for part in recipe["parts"]])
        elif kind == "same_as":
            geometry = self.shape(self.recipes[recipe["feature"]])
        else:
            raise SystemExit(f"unknown shape kind {kind!r}")
        if recipe.get("clip"):
            allowed = shapely.union_all([self.district[self.codes[d]] for d in recipe["clip"]])
            geometry = shapely.intersection(geometry, allowed)
            parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon" and p.area > 1.0]
            geometry = shapely.union_all(parts)
        if not geometry.is_valid or geometry.is_empty:
            raise SystemExit(f"invalid shape {recipe}: {shapely.is_valid_reason(geometry)}")
        return geometry

    def build(self, feature: dict) -> tuple[shapely.Geometry, shapely.Geometry]:
        """The feature's geometry (WGS84, 1e-7°) and its metric version; checks anchors and class rules."""
        metric = self.shape(feature["shape"])
        wgs = shapely.set_precision(crs.transform_geometry(metric, crs.METRIC_CRS, crs.WGS84), 1e-7)
        check_feature(feature, wgs, self)
        return wgs, crs.to_metric(wgs)


def check_feature(feature: dict, geometry: shapely.Geometry, builder: Builder) -> None:
    """Refuse a spec that contradicts itself: class rules, anchors outside, wrong district."""
    fid, precision = feature["id"], feature["precision"]
    if precision not in PRECISIONS:
        raise SystemExit(f"{fid}: precision {precision!r} is not one of {PRECISIONS}")
    if precision in ("road_bounded", "schematic") and not feature["location_verified"]:
        raise SystemExit(f"{fid}: {precision} needs a verified location; use 'indicative'")
    if precision == "schematic" and "stated_area" not in feature:
        raise SystemExit(f"{fid}: schematic needs a published area; use 'indicative'")
    for anchor in feature.get("anchors", []):
        lon, lat = crs.transform(anchor["lon"], anchor["lat"], anchor["crs"], crs.WGS84)
        if not geometry.covers(shapely.Point(lon, lat)):
            raise SystemExit(f"{fid}: anchor {anchor['name']} ({lon:.5f}, {lat:.5f}) lies outside the shape")
    metric = crs.to_metric(geometry)
    inside = shapely.union_all([builder.district[builder.codes[d]] for d in feature["districts"]])
    share = shapely.area(shapely.intersection(metric, inside)) / shapely.area(metric)
    if share < feature.get("min_district_share", 0.95):
        raise SystemExit(f"{fid}: only {share:.0%} lies in {feature['districts']}")


def stated_properties(feature: dict, area_km2: float) -> dict:
    stated = feature.get("stated_area")
    if not stated:
        return {"stated_area_km2": None, "stated_area_source": None, "area_ratio": None}
    source = "; ".join(
        str(v) for v in (stated["definition"], stated["url"], stated.get("date") or "undated",
                         f"confidence {stated['confidence']}") if v
    )  # fmt: skip
    return {
        "stated_area_km2": stated["km2"],
        "stated_area_source": source,
        "area_ratio": round(area_km2 / stated["km2"], 3),
    }


def feature_properties(feature: dict, builder: Builder, geometry, metric, role: str, seed_ref: str) -> dict:
    area = round(float(shapely.area(metric)) / 1e6, 3) if role != "axis_section" else None
    note = builder.spec["precision_notes"][feature["precision"]]
    props = {
        "id": feature["id"],
        "name_zh": feature["name_zh"],
        "name_en": feature["name_en"],
        "aliases": feature["aliases"],
        "role": role,
        "district_codes": [builder.codes[d] for d in feature["districts"]],
        "seed_ref": seed_ref,
        "description_zh": feature["description_zh"],
        "precision": feature["precision"],
        "location_verified": feature["location_verified"],
        "source": f"{note}; {feature['source']}",
    }
    props |= stated_properties(feature, area or 0.0)
    if area is not None:
        props["area_km2"] = area
    return props


def build_cores(builder: Builder) -> list[tuple[dict, shapely.Geometry]]:
    spec, features = builder.spec, []
    for core in spec["cores"]:
        core_zh, core_en = spec["core_names"][core["core_id"]]
        core = {**core, "name_en": f"{core_en} — {core['part_en']}" if core["part"] else core_en}
        geometry, metric = builder.build(core)
        seed_ref = f"{spec['plan']} 三（二）专栏 “一区三城”创新核建设内容: {core_zh}"
        props = feature_properties(core, builder, geometry, metric, "core_part" if core["part"] else "core", seed_ref)
        props |= {"core_id": core["core_id"], "core_name_zh": core_zh, "core_name_en": core_en,
                  "part": core["part"], "part_en": core["part_en"]}  # fmt: skip
        features.append((props, geometry))
    return features


def build_nodes(builder: Builder) -> list[tuple[dict, shapely.Geometry]]:
    spec, features = builder.spec, []
    for node in spec["nodes"]:
        geometry, metric = builder.build(node)
        seed_ref = f"{spec['plan']} {spec['seed_tables'][node['group']]}: {node['name_zh']}"
        props = feature_properties(node, builder, geometry, metric, "node", seed_ref) | {"group": node["group"]}
        if node.get("managed_by"):
            props["managed_by_codes"] = [builder.codes[d] for d in node["managed_by"]]
            props["note"] = node["note"]
        features.append((props, geometry))
    return features


def build_axis(builder: Builder) -> list[tuple[dict, shapely.Geometry]]:
    spec, axis = builder.spec, builder.spec["axis"]
    path = shapely.MultiLineString([to_metric_xy(line, axis["crs"]) for line in axis["lines"]])
    features = []
    for section in axis["sections"]:
        metric = shapely.line_merge(shapely.intersection(path, builder.district[builder.codes[section["district"]]]))
        parts = [p for p in shapely.get_parts(metric) if p.geom_type == "LineString" and p.length > 0]
        metric = shapely.MultiLineString(parts) if len(parts) > 1 else parts[0]
        geometry = shapely.set_precision(crs.transform_geometry(metric, crs.METRIC_CRS, crs.WGS84), 1e-7)
        name = section["name_zh"]
        feature = {
            **section,
            "districts": [section["district"]],
            "text_key": name,
            "source": axis["source"],
            "precision": axis["precision"],
            "location_verified": axis["location_verified"],
            "aliases": [name.replace("科技创新轴（", "").replace("）", ""), section["district"] + "段"],
        }
        seed_ref = f"{spec['plan']} 三（一）专栏 “一轴”重点建设内容: {name}"
        props = feature_properties(feature, builder, geometry, metric, "axis_section", seed_ref)
        props |= {"places": section["places"], "length_km": round(float(shapely.length(metric)) / 1000, 2)}
        features.append((props, geometry))
    return features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=SPEC, help="the layout spec (TOML)")
    parser.add_argument("--seed", type=Path, default=SEED, help="the plan's text (checked against, if present)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "geojson")
    parser.add_argument("--generated", default=str(np.datetime64("today")))
    args = parser.parse_args()
    spec = tomllib.loads(args.spec.read_text(encoding="utf-8"))
    if args.seed.exists():
        check_descriptions(spec, args.seed.read_text(encoding="utf-8"))
    else:
        print(f"note: {args.seed} not found; descriptions not checked against the plan")
    builder = Builder(spec)
    metadata = spec["metadata"] | {
        "generated": args.generated,
        "script": "scripts/build_layout.py",
        "spec": "data/specs/layout.toml",
    }
    layers = {"cores": build_cores(builder), "nodes": build_nodes(builder), "axis": build_axis(builder)}
    for name, features in layers.items():
        write_feature_collection(args.out / f"{name}.geojson", features, name=name, metadata=metadata)
        ratios = [f"{p['id']} {p['area_ratio']}" for p, _ in features if p.get("area_ratio")]
        print(f"wrote {len(features)} {name}" + (f" (area/stated: {', '.join(ratios)})" if ratios else ""))


if __name__ == "__main__":
    main()
