"""Hostile and careless layer folders (``--layers``/``GZ_LAYERS``): every case is exit 2 with one line.

Classes: wrong property types, missing required properties, broken GeoJSON, invalid polygons, an
empty FeatureCollection. Each asserts the exit code, a one-line ``error:`` message naming the
problem, no traceback, the layer file untouched and no stray file left in the folder.
"""

import json

import pytest

from gzspatial.cli import app
from gzspatial.layers import packaged_layers_dir

from ..conftest import invoke_cli


def _collection(kind):
    return json.loads((packaged_layers_dir() / f"{kind}.geojson").read_text(encoding="utf-8"))


def _with_props(kind, **changes):
    collection = _collection(kind)
    collection["features"][0]["properties"].update(changes)
    return collection


def _without(kind, key):
    collection = _collection(kind)
    for feature in collection["features"]:
        del feature["properties"][key]
    return collection


def _with_geometry(kind, geometry):
    collection = _collection(kind)
    collection["features"][0]["geometry"] = geometry
    return collection


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[113.3, 23.1], [113.4, 23.2], [113.4, 23.1], [113.3, 23.2], [113.3, 23.1]]],
}
RING_WITH_HOLE_OUTSIDE = {
    "type": "Polygon",
    "coordinates": [
        [[113.3, 23.1], [113.4, 23.1], [113.4, 23.2], [113.3, 23.2], [113.3, 23.1]],
        [[113.5, 23.1], [113.6, 23.1], [113.6, 23.2], [113.5, 23.1]],
    ],
}

CASES = {
    # wrong property types
    "name_zh number": ("nodes", _with_props("nodes", name_zh=12345), "'name_zh' is 12345 (int); expected text"),
    "area_km2 text": ("districts", _with_props("districts", area_km2="big"), "'area_km2' is 'big'"),
    "aliases text": ("cores", _with_props("cores", aliases="琶洲"), "'aliases' is '琶洲' (str); expected a list"),
    "district code numbers": ("nodes", _with_props("nodes", district_codes=[440105]), "expected a list of text"),
    "unknown group": ("nodes", _with_props("nodes", group="north"), "'group' is 'north'; expected one of"),
    "unknown precision": ("axis", _with_props("axis", precision="exact"), "'precision' is 'exact'"),
    "verified as text": ("nodes", _with_props("nodes", location_verified="yes"), "expected true/false"),
    "stated area text": ("cores", _with_props("cores", stated_area_km2="25"), "'stated_area_km2' is '25'"),
    "name_en null": ("platforms", _with_props("platforms", name_en=None), "'name_en' is null"),
    # missing required properties
    "cores without core_name_zh": ("cores", _without("cores", "core_name_zh"), "7 problem(s)"),
    "nodes without group": ("nodes", _without("nodes", "group"), "missing property 'group'"),
    "axis without places": ("axis", _without("axis", "places"), "missing property 'places'"),
    "district without adcode": ("districts", _without("districts", "adcode"), "missing property 'adcode'"),
    # broken GeoJSON
    "truncated": ("nodes", json.dumps(_collection("nodes"))[:5000], "not readable as UTF-8 GeoJSON"),
    "GBK bytes": ("nodes", json.dumps(_collection("nodes"), ensure_ascii=False).encode("gb18030"), "not readable"),
    "a JSON array": ("nodes", [], "expected a GeoJSON FeatureCollection"),
    "features an object": ("nodes", {"type": "FeatureCollection", "features": {}}, "'features' is dict"),
    "feature a string": ("nodes", {"type": "FeatureCollection", "features": ["x"]}, "feature 0: is str"),
    "properties a list": ("nodes", {"type": "FeatureCollection", "features": [{"properties": [1]}]}, "are list"),
    "geometry a string": ("nodes", _with_geometry("nodes", "POINT (1 2)"), "geometry is str"),
    "geometry type Circle": ("nodes", _with_geometry("nodes", {"type": "Circle"}), "geometry type 'Circle'"),
    "coordinates text": ("nodes", _with_geometry("nodes", {"type": "Polygon", "coordinates": "x"}), "unreadable"),
    "point as node": ("nodes", _with_geometry("nodes", {"type": "Point", "coordinates": [113.3, 23.1]}), "Point"),
    "projected coordinates": (
        "nodes",
        _with_geometry(
            "nodes", {"type": "Polygon", "coordinates": [[[4e5, 2.5e6], [4.1e5, 2.5e6], [4e5, 2.6e6], [4e5, 2.5e6]]]}
        ),
        "not lon/lat degrees",
    ),
    # invalid polygons (reported, never repaired)
    "bowtie": ("nodes", _with_geometry("nodes", BOWTIE), "invalid geometry: Self-intersection"),
    "hole outside shell": ("cores", _with_geometry("cores", RING_WITH_HOLE_OUTSIDE), "invalid geometry: Hole lies"),
    # empty
    "empty FeatureCollection": ("nodes", {"type": "FeatureCollection", "features": []}, "no features"),
    "empty districts": ("districts", {"type": "FeatureCollection", "features": []}, "no features"),
}


def _write(folder, kind, content) -> bytes:
    if isinstance(content, bytes):
        data = content
    else:
        data = (content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)).encode("utf-8")
    (folder / f"{kind}.geojson").write_bytes(data)
    return data


@pytest.mark.parametrize("case", CASES)
def test_bad_layer_is_exit_2_with_one_line(tmp_path, runner, case):
    kind, content, message = CASES[case]
    data = _write(tmp_path, kind, content)
    result = runner.invoke(app, ["locate", "113.40", "23.12", "--layers", str(tmp_path)])
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert err.startswith(f"error: {tmp_path / f'{kind}.geojson'}") and err.count("\n") == 1, err
    assert message in err and "Traceback" not in err
    assert (tmp_path / f"{kind}.geojson").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{kind}.geojson"]


@pytest.mark.parametrize(
    "command", [["join", "IN", "-o", "OUT", "--crs", "wgs84"], ["stats", "IN", "--by", "core"], ["map", "-o", "OUT"]]
)
def test_every_command_refuses_a_bad_layer_through_gz_layers(tmp_path, monkeypatch, command):
    """Via GZ_LAYERS and the real entry point: exit 2, one line, no output written."""
    folder = tmp_path / "layers"
    folder.mkdir()
    _write(folder, "nodes", _with_props("nodes", name_zh=12345, area_km2="big"))
    table = tmp_path / "in.csv"
    if command[0] == "stats":  # a joined table
        table.write_text("lon,lat,gz_status,gz_district_code,gz_core,gz_core_part,gz_nodes,gz_node_group,"
                         "gz_axis_section\n113.4,23.12,ok,,,,,,\n", encoding="utf-8")  # fmt: skip
    else:
        table.write_text("lon,lat\n113.4,23.12\n", encoding="utf-8")
    out = tmp_path / ("out.html" if command[0] == "map" else "out.csv")
    args = [str(table) if a == "IN" else str(out) if a == "OUT" else a for a in command]
    monkeypatch.setenv("GZ_LAYERS", str(folder))
    result = invoke_cli(*args)
    err = result.stderr.decode()
    assert result.returncode == 2 and err.count("\n") == 1 and "2 problem(s)" in err, err
    assert "'name_zh' is 12345" in err and "'area_km2' is 'big'" in err  # every problem listed
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "layers"]
