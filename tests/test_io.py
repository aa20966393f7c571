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


# --- the output scheme ------------------------------------------------------------------------


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_atomic_output_temp_name_is_recognisable_and_keeps_the_suffix(tmp_path):
    target = tmp_path / "out.geojson"
    with io.atomic_output(target, "w", encoding="utf-8") as handle:
        handle.write("x")
        (tmp_name,) = [n for n in _names(tmp_path) if n != "out.geojson"]
    assert io.temp_name_pattern(target).fullmatch(tmp_name)
    assert tmp_name.startswith(".out.geojson.gztmp-") and tmp_name.endswith(".geojson")
    assert _names(tmp_path) == ["out.geojson"] and target.read_text(encoding="utf-8") == "x"


def test_atomic_output_gives_the_usual_file_mode(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        with io.atomic_output(tmp_path / "a.csv", "wb") as handle:
            handle.write(b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644


def test_atomic_output_path_writes_through_a_private_folder(tmp_path):
    target = tmp_path / "out.gpkg"
    target.write_text("old", encoding="utf-8")
    with io.atomic_output_path(target) as tmp:
        assert tmp.name == "out.gpkg" and tmp.parent.parent == tmp_path
        assert io.temp_name_pattern(target).fullmatch(tmp.parent.name)
        tmp.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new" and _names(tmp_path) == ["out.gpkg"]


def test_atomic_output_path_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.gpkg"
    target.write_text("old", encoding="utf-8")

    def write_then_fail():
        with io.atomic_output_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert target.read_text(encoding="utf-8") == "old" and _names(tmp_path) == ["out.gpkg"]


def test_atomic_output_refuses_append_modes(tmp_path):
    with pytest.raises(ValueError, match="new files only"), io.atomic_output(tmp_path / "a.csv", "a"):
        pass


def _dead_pid() -> int:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_remove_leftovers_only_dead_runs_of_the_same_target(tmp_path):
    import os

    target = tmp_path / "out.csv"
    dead, alive = _dead_pid(), os.getpid()
    leftover = tmp_path / f".out.csv.gztmp-{dead}-0123456789ab.csv"
    leftover_dir = tmp_path / f".out.csv.gztmp-{dead}-0123456789ac.d"
    keep = [
        tmp_path / f".out.csv.gztmp-{alive}-0123456789ab.csv",  # a running writer's
        tmp_path / f".other.csv.gztmp-{dead}-0123456789ab.csv",  # another target's
        tmp_path / f".out.csv.gztmp-{dead}-0123456789ab.tsv",  # not the target's suffix
        tmp_path / f".out.csv.gztmp-{dead}-xyz.csv",  # not our random part
        tmp_path / ".out.csv.tmp",
        tmp_path / ".out.tmp.csv",
    ]
    for path in [leftover, *keep]:
        path.write_text("x", encoding="utf-8")
    leftover_dir.mkdir()
    (leftover_dir / "out.csv").write_text("x", encoding="utf-8")
    link = tmp_path / f".out.csv.gztmp-{dead}-0123456789ad.csv"
    link.symlink_to(keep[-1])
    removed = io.remove_leftovers(target)
    assert sorted(removed) == sorted([leftover, leftover_dir])
    assert all(p.read_text(encoding="utf-8") == "x" for p in keep) and link.is_symlink()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: __import__("os").mkfifo(p), "is a FIFO"),
        (lambda p: p.symlink_to("/dev/null"), "is a symbolic link"),
        (lambda p: p.symlink_to(p.parent), "is a symbolic link"),
        (lambda p: p.symlink_to(p.parent / "missing.csv"), "is a symbolic link"),
    ],
)
def test_check_output_path_refuses_what_is_not_a_regular_file(tmp_path, make, message):
    from gzspatial._errors import OutputError

    target = tmp_path / "out.csv"
    make(target)
    with pytest.raises(OutputError, match=message):
        io.check_output_path(target)


def test_check_output_path_refuses_a_path_under_a_file(tmp_path):
    from gzspatial._errors import OutputError

    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot write"):
        io.check_output_path(tmp_path / "file.txt" / "out.csv")
    io.check_output_path(tmp_path / "new" / "folder" / "out.csv")  # folders are created when writing
    io.check_output_path("-")


# --- --excel-safe ---------------------------------------------------------------------------

EXCEL_CASES = [
    ("=1+1", "'=1+1"),
    ("+1+1", "'+1+1"),
    ("-1+1", "'-1+1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("\n=1", "'\n=1"),
    ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
    ("-3.5", "-3.5"),
    ("+86", "+86"),
    ("-1e3", "-1e3"),
    ("a=b", "a=b"),
    ("", ""),
    ("广州", "广州"),
]


def test_excel_safe_frame_prefixes_formula_text_only():
    frame = pd.DataFrame({"text": [c for c, _ in EXCEL_CASES], "num": np.arange(len(EXCEL_CASES)) - 3.5})
    safe = io.excel_safe_frame(frame)
    assert safe["text"].tolist() == [e for _, e in EXCEL_CASES]
    assert safe["num"].tolist() == frame["num"].tolist() and frame["text"].iloc[0] == "=1+1"  # input not changed


def test_excel_safe_frame_keeps_numbers_in_mixed_columns_and_duplicate_names():
    frame = pd.DataFrame([[-3.5, "=x"], ["=y", None]], columns=["a", "a"], dtype=object)
    safe = io.excel_safe_frame(frame)
    assert safe.iloc[:, 0].tolist() == [-3.5, "'=y"] and safe.iloc[:, 1].tolist() == ["'=x", None]


def test_excel_safe_batch_matches_the_frame_rule():
    import pyarrow as pa

    batch = pa.RecordBatch.from_pydict(
        {"text": [c for c, _ in EXCEL_CASES] + [None], "n": list(range(len(EXCEL_CASES) + 1))}
    )
    safe = io.excel_safe_batch(batch)
    assert safe.column("text").to_pylist() == [e for _, e in EXCEL_CASES] + [None]
    assert safe.column("n").to_pylist() == batch.column("n").to_pylist()


# --- input kinds ------------------------------------------------------------------------------


def test_duplicate_columns_are_refused(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("name,lon,lon,lat\na,1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate column names \\('lon'\\)"):
        io.read_table(path)


def test_excel_sheet_is_chosen_by_name_or_number(tmp_path):
    path = tmp_path / "two.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"a": ["1"]}).to_excel(writer, sheet_name="first", index=False)
        pd.DataFrame({"b": ["2"]}).to_excel(writer, sheet_name="second", index=False)
    with pytest.raises(InputError, match="2 sheets \\('first', 'second'\\)"):
        io.read_table(path)
    assert io.read_table(path, sheet="second").columns.tolist() == ["b"]
    assert io.read_table(path, sheet="1").columns.tolist() == ["a"]
    assert io.read_table(path, sheet=2).attrs["sheet"] == "second"


@pytest.mark.parametrize(
    ("content", "valid"),
    [
        ("编号,经度\n1,113.3\n".encode(), True),
        (b"\xef\xbb\xbf" + "名称\n广州塔\n".encode(), True),  # BOM
        ("a😀b".encode() * 50, True),  # 4-byte characters across every block boundary
        ("广州".encode() + b"\xff" + "塔".encode(), False),
        ("广州".encode()[:-1], False),  # cut by the end of the file
        (b"ab" + "é".encode("latin-1"), False),
        (b"\xed\xa0\x80", False),  # a UTF-16 surrogate: not UTF-8 (Python refuses it too)
        (b"\xc0\xaf", False),  # overlong
        ("编号,经度\n1,113.3\n".encode("gbk"), False),
    ],
)
@pytest.mark.parametrize("block", [1, 2, 3, 5, 7, 1 << 20])
def test_utf8_check_of_a_file_in_blocks_agrees_with_python(tmp_path, content, valid, block):
    from gzspatial.io import _valid_utf8

    path = tmp_path / "t.csv"
    path.write_bytes(content)
    try:
        content.decode("utf-8")
        python = True
    except UnicodeDecodeError:
        python = False
    assert python == valid
    assert _valid_utf8(path, block) == valid


def _wkb_column():
    """WKB of every kind a geometry column can hold, plain 2D points among them."""
    import shapely

    geometries = [
        shapely.Point(113.3, 23.1),
        shapely.Point(113.31, 23.12),
        shapely.Point(113.3, 23.1, 5.0),  # 3D: 29 bytes
        shapely.from_wkt("POINT EMPTY"),
        None,
        shapely.box(113.2, 23.0, 113.4, 23.2),
        shapely.from_wkt("POLYGON ((113.3 23.1, 113.4 23.2, 113.4 23.1, 113.3 23.2, 113.3 23.1))"),  # bowtie
        shapely.Point(113.3, 23.1),
    ]
    wkb = [None if g is None else shapely.to_wkb(g) for g in geometries]
    wkb.append(shapely.to_wkb(shapely.Point(113.5, 23.5), byte_order=0))  # big-endian
    wkb.append(b"\x01\x01\x00\x00\x00" + np.array([np.inf, 23.1]).tobytes())  # 21 bytes, not finite
    wkb.append(b"\x01\x01\x00\x00\x00" + np.array([113.3, np.nan]).tobytes())  # one NaN coordinate
    wkb.append(b"\x01\x02\x00\x00\x00" + bytes(16))  # 21 bytes of a LineString header: not a point
    return wkb


@pytest.mark.parametrize("kind", ["binary", "large_binary", "sliced", "chunked"])
def test_wkb_points_reads_plain_points_from_the_bytes_as_shapely_reads_every_row(kind):
    import pyarrow as pa
    import shapely

    from gzspatial.io import geometry_points, wkb_points

    values = _wkb_column()
    array = pa.array(
        [b"\x00" * 21, *values, b"\x01"], type=pa.large_binary() if kind == "large_binary" else pa.binary()
    )
    array = array.slice(1, len(values)) if kind in ("sliced", "chunked") else pa.array(values, type=array.type)
    if kind == "chunked":
        array = pa.chunked_array([array.slice(0, 5), array.slice(5)])
    got_x, got_y, got_problems = wkb_points(array)
    want_x, want_y, want_problems = geometry_points(shapely.from_wkb(np.array(values, dtype=object)))
    assert got_problems == want_problems and set(got_problems) == {6, 9, 10}
    assert [None if v is None else float(v) for v in got_x] == pytest.approx(
        [None if v is None else float(v) for v in want_x], nan_ok=True
    )
    assert [None if v is None else float(v) for v in got_y] == pytest.approx(
        [None if v is None else float(v) for v in want_y], nan_ok=True
    )


def test_wkb_points_of_plain_points_are_numbers_read_without_geos(monkeypatch):
    import pyarrow as pa
    import shapely

    from gzspatial.io import wkb_points

    points = shapely.points([113.3, 113.4], [23.1, 23.2])
    column = pa.array(shapely.to_wkb(points), type=pa.binary())
    monkeypatch.setattr(shapely, "from_wkb", lambda *a, **k: pytest.fail("plain points went through GEOS"))
    x, y, problems = wkb_points(column)
    assert x.dtype == np.float64 and x.tolist() == [113.3, 113.4] and y.tolist() == [23.1, 23.2] and problems == {}
