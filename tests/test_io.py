"""Tests of gzspatial.io: encodings, column detection, atomic writes."""

import numpy as np
import pandas as pd
import pytest

from gzspatial import io
from gzspatial._errors import InputError
from gzspatial._validate import check_points, parse_degrees, parse_dms

TEXT = "企业名称,经度,纬度\n广州甲公司,113.3245,23.1066\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "in.csv"
    path.write_bytes(TEXT.encode(encoding))
    frame = io.read_table(path)
    assert list(frame.columns) == ["企业名称", "经度", "纬度"]
    assert frame.iloc[0].tolist() == ["广州甲公司", "113.3245", "23.1066"]


def test_cells_are_kept_verbatim(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("code,lon,lat\n007,113.30,23.10\nNA,,\n", encoding="utf-8")
    frame = io.read_table(path)
    assert frame["code"].tolist() == ["007", "NA"] and frame["lon"].tolist() == ["113.30", ""]


def test_excel_round_trip(tmp_path):
    frame = pd.DataFrame({"名称": ["甲"], "lng": ["113.3"], "lat": ["23.1"]})
    io.write_table(frame, tmp_path / "t.xlsx")
    back = io.read_table(tmp_path / "t.xlsx")
    assert back.to_dict("list") == {"名称": ["甲"], "lng": ["113.3"], "lat": ["23.1"]}


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["name", "经度", "纬度"], ("经度", "纬度")),
        (["LNG", "LAT"], ("LNG", "LAT")),
        (["Longitude", "Latitude", "name"], ("Longitude", "Latitude")),
        (["gcj_lng", "gcj_lat"], ("gcj_lng", "gcj_lat")),
        (["x", "y"], ("x", "y")),
    ],
)
def test_coordinate_columns_found_by_name(columns, expected):
    assert io.find_coordinate_columns(columns) == expected


def test_missing_coordinate_columns_lists_columns():
    with pytest.raises(InputError, match="columns are: a, b; name it with --lon"):
        io.find_coordinate_columns(["a", "b"])


def test_atomic_output_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")

    def write_then_fail():
        with io.atomic_output(target, "w", encoding="utf-8") as handle:
            handle.write("new, half")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert target.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("113°19′30″E", 113.325),
        ("23°6'24\"N", 23.10666666),
        ("N 23 6 24", 23.10666666),
        ("东经113度19分30秒", 113.325),
        ("22°30′S", -22.5),
        ("113.5", 113.5),
        ("113.3E", 113.3),
        ("东经113.3", 113.3),
        ("abc", None),
        ("113°75′", None),
    ],
)
def test_parse_dms(text, value):
    result = parse_dms(text)
    assert (result is None) if value is None else result == pytest.approx(value, abs=1e-8)


def test_parse_degrees_flags_bad_text():
    values, problems = parse_degrees(["113.3", "", " ", "abc", "NaN", "inf", "113°19′30″E", None])
    assert problems == {
        1: "blank",
        2: "blank",
        3: "not a number: 'abc'",
        4: "not a number: NaN",
        5: "not a finite number",
        7: "blank",
    }
    assert values[0] == 113.3 and values[6] == pytest.approx(113.325) and np.isnan(values[1:6]).all()


def test_parse_degrees_numbers():
    values, problems = parse_degrees(np.array([113.3, np.nan, np.inf]))
    assert values[0] == 113.3 and problems == {1: "not a number: NaN", 2: "not a finite number"}


def test_check_points_statuses():
    lon = [113.3, 23.1, 113.3, 200.0]
    lat = [23.1, 113.3, 95.0, 23.0]
    checked = check_points(lon, lat)
    assert list(checked.status) == ["ok", "swapped", "invalid", "invalid"]
    assert checked.lon[1] == 113.3 and checked.lat[1] == 23.1
    assert checked.note[2] == "latitude 95 is outside ±90°" and checked.note[3] == "longitude 200 is outside ±180°"
    assert all(checked.lon[2:] != checked.lon[2:])  # NaN where unusable
