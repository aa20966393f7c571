"""gzspatial._parallel and the joins it splits: pieces on the shared pool give the whole's answers."""

import threading

import geopandas
import numpy as np
import pandas as pd
import pytest
import shapely

import gzspatial
from gzspatial import _parallel
from gzspatial.attribute import Coded


def test_pieces_cover_the_rows_in_order_one_per_worker(monkeypatch):
    monkeypatch.setattr(_parallel, "WORKERS", 3)
    monkeypatch.setattr(_parallel, "PIECE_MIN_ROWS", 10)
    assert _parallel.pieces(100) == [(0, 33), (33, 66), (66, 100)]
    assert _parallel.pieces(25) == [(0, 12), (12, 25)]  # at least PIECE_MIN_ROWS a piece
    assert _parallel.pieces(9) == [(0, 9)]
    assert _parallel.pieces(0) == [(0, 0)]
    monkeypatch.setattr(_parallel, "WORKERS", 1)
    assert _parallel.pieces(100) == [(0, 100)]


def test_map_pieces_runs_on_the_pool_and_keeps_kernels_unsliced_there(monkeypatch):
    monkeypatch.setattr(_parallel, "WORKERS", 2)
    seen = []

    def run(start, stop):
        slices = []
        _parallel.for_slices(lambda a, b: slices.append(threading.current_thread().name), 3 * _parallel.SLICE_ROWS)
        seen.append((start, threading.current_thread().name, set(slices)))
        return start

    assert _parallel.map_pieces(run, [(0, 5), (5, 9)]) == [0, 5]
    for _, thread, slice_threads in seen:
        assert thread.startswith("gzspatial")
        assert slice_threads == {thread}  # nested slices stay on the piece's own thread: no deadlock


def test_map_pieces_raises_the_first_pieces_error_after_all_have_run(monkeypatch):
    monkeypatch.setattr(_parallel, "WORKERS", 2)
    finished = []

    def run(start, stop):
        finished.append(start)
        raise ValueError(f"piece {start}")

    with pytest.raises(ValueError, match="piece 0"):
        _parallel.map_pieces(run, [(0, 5), (5, 9), (9, 12)])
    assert sorted(finished) == [0, 5, 9]


def test_pieces_put_together_keep_every_rows_values(monkeypatch):
    from gzspatial.pipeline import _joined_pieces

    monkeypatch.setattr(_parallel, "WORKERS", 2)
    a = Coded(np.array(["甲", "乙", "甲"], dtype=object), np.array([0, -1, 2, 1, 1]))
    b = Coded(np.array(["丙"], dtype=object), np.array([-1, 0]))
    c = Coded(np.array(["甲", "乙", "甲"], dtype=object), np.array([2, 2]))
    compact = a.compact()
    assert compact.codes.dtype == np.int8 and compact.codes.min() >= 0
    assert compact.to_numpy().tolist() == a.to_numpy().tolist() == ["甲", "", "甲", "乙", "乙"]
    parts, bounds, start = [], [], 0
    for piece in (a, b, c):
        n = len(piece.codes)
        same = Coded(np.array(["区"], dtype=object), np.zeros(n, dtype=np.int64))
        numbers = np.arange(start, start + n, dtype=float)
        flags = np.ma.masked_array(numbers % 2 == 0, mask=numbers % 3 == 0)
        columns = {"text": piece.compact(), "same": same.compact(), "m": numbers, "flag": flags}
        parts.append((columns, numbers + 0.5, numbers - 0.5))
        bounds.append((start, start + n))
        start += n
    columns, lon, lat = _joined_pieces(parts, bounds)
    text = columns["text"]
    assert text.to_numpy().tolist() == ["甲", "", "甲", "乙", "乙", "", "丙", "甲", "甲"]
    assert list(text.to_pandas()) == text.to_numpy().tolist()
    assert text.to_dictionary().cast("string").to_pylist() == text.to_numpy().tolist()
    assert columns["same"].categories.tolist() == ["区", ""] and columns["same"].codes.tolist() == [0] * 9
    assert columns["m"].tolist() == list(range(9)) and lon.tolist() == [i + 0.5 for i in range(9)]
    assert lat.tolist() == [i - 0.5 for i in range(9)]
    assert np.ma.getmaskarray(columns["flag"]).tolist() == [i % 3 == 0 for i in range(9)]
    assert np.ma.getdata(columns["flag"]).tolist() == [i % 2 == 0 for i in range(9)]


def _mixed_frame(n: int, seed: int = 5) -> pd.DataFrame:
    """n rows over Guangzhou with bad, swapped, outside and boundary rows spread through every piece."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(112.95, 114.05, n).astype(object)
    lat = rng.uniform(22.55, 23.95, n).astype(object)
    nodes = gzspatial.load_layers()["nodes"]
    inside = shapely.get_coordinates(shapely.point_on_surface(nodes.geometry.values))
    for k, (x, y) in enumerate(inside):  # rows inside each node, in every piece
        lon[k * n // len(inside)], lat[k * n // len(inside)] = x, y
    for row in range(7, n, 97):
        lon[row] = ["", "abc", None, "113°19′30″E", str(lat[row]), "200", "nan"][row % 7]
        if row % 7 == 4:  # swapped
            lon[row], lat[row] = lat[row - 1], lon[row - 1]
    return pd.DataFrame({"名称": [f"企业{i}" for i in range(n)], "经度": lon, "纬度": lat})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_join_in_pieces_equals_the_join_in_one(monkeypatch, lang):
    frame = _mixed_frame(6000)
    monkeypatch.setattr(_parallel, "WORKERS", 1)
    whole = gzspatial.join(frame, crs="gcj02", lang=lang)
    monkeypatch.setattr(_parallel, "WORKERS", 3)
    monkeypatch.setattr(_parallel, "PIECE_MIN_ROWS", 1000)
    assert len(_parallel.pieces(len(frame))) == 3
    pieces = gzspatial.join(frame, crs="gcj02", lang=lang)
    # the same values, dtypes and categories; the order of the categories of the data-dependent
    # columns (node lists, notes) follows the pieces
    pd.testing.assert_frame_equal(pieces, whole, check_categorical=False)
    for name in whole.select_dtypes("category"):
        assert set(pieces[name].cat.categories) == set(whole[name].cat.categories), name
    assert set(whole["gz_status"]) >= {"ok", "invalid", "missing", "outside"}
    assert whole["gz_note"].astype(str).str.contains("swapped").sum() >= 1
    assert (whole["gz_nodes"] != "").sum() >= 28


def test_row_problems_of_a_geometry_input_keep_their_rows_in_pieces(monkeypatch):
    points = list(shapely.points(np.linspace(113.1, 113.6, 3000), np.linspace(23.0, 23.3, 3000)))
    bowtie = shapely.from_wkt("POLYGON ((113.3 23.1, 113.4 23.2, 113.4 23.1, 113.3 23.2, 113.3 23.1))")
    for row in (5, 1500, 2999):
        points[row] = bowtie  # invalid geometry: flagged on its own row
    frame = geopandas.GeoDataFrame({"id": range(3000)}, geometry=points, crs="EPSG:4326")
    monkeypatch.setattr(_parallel, "WORKERS", 1)
    whole = gzspatial.join(frame)
    monkeypatch.setattr(_parallel, "WORKERS", 2)
    monkeypatch.setattr(_parallel, "PIECE_MIN_ROWS", 500)
    pieces = gzspatial.join(frame)
    pd.testing.assert_frame_equal(pd.DataFrame(pieces), pd.DataFrame(whole), check_categorical=False)
    assert np.flatnonzero(pieces["gz_status"] == "invalid").tolist() == [5, 1500, 2999]


def test_a_parquet_file_joined_in_pieces_equals_the_join_in_one(tmp_path, monkeypatch):
    """Arrow columns (text coordinates, a 坐标系 column, addresses) sliced into pieces answer as whole."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gzspatial import pipeline
    from gzspatial.attribute import Options

    frame = _mixed_frame(3000, seed=9)
    frame["经度"] = frame["经度"].map(lambda v: None if v is None else str(v))
    frame["纬度"] = frame["纬度"].map(lambda v: None if v is None else str(v))
    frame["坐标系"] = np.where(np.arange(3000) % 5 == 0, "", "gcj02")
    frame["地址"] = np.where(np.arange(3000) % 7 == 0, "广州市天河区天河路385号", "")
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source, row_group_size=1000)
    outputs = {}
    for workers in (1, 3):
        monkeypatch.setattr(_parallel, "WORKERS", workers)
        monkeypatch.setattr(_parallel, "PIECE_MIN_ROWS", 300)
        outputs[workers] = tmp_path / f"out{workers}.csv"
        pipeline.join_file(source, outputs[workers], options=Options(crs="gcj02"))
    assert outputs[1].read_bytes() == outputs[3].read_bytes()
    joined = pd.read_csv(outputs[3])
    assert len(joined) == 3000 and set(joined["gz_status"]) >= {"ok", "invalid", "missing"}
