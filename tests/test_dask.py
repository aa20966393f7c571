"""The join on Dask: partitions on a 2-worker LocalCluster give the single-process answers, row for row."""

import dask
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import gzspatial
from gzspatial.attribute import GZ_COLUMNS
from tests.conftest import invoke_cli

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.cluster


def _points(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": np.arange(n).astype(str),
            "lon": rng.uniform(112.9, 114.1, n).round(6).astype(str),
            "lat": rng.uniform(22.5, 23.95, n).round(6).astype(str),
        }
    )
    frame.loc[7, "lon"] = ""  # missing
    frame.loc[8, "lat"] = "north"  # invalid
    frame.loc[9, ["lon", "lat"]] = ["23.1066", "113.3245"]  # swapped
    return frame


def _text(frame) -> pd.DataFrame:
    return frame.reset_index(drop=True).astype(object).where(frame.reset_index(drop=True).notna(), None).astype(str)


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local,
        distributed.Client(local) as client,
    ):
        yield local, client


def test_cluster_answers_equal_the_single_process_join(cluster):
    import gzspatial.dask as gzdask

    frame = _points()
    joined = gzdask.join(dd.from_pandas(frame, npartitions=4), crs="wgs84")
    assert list(joined.columns) == [*frame.columns, *GZ_COLUMNS]
    got = joined.compute()  # the client of the fixture is the default scheduler
    expected = gzspatial.join(frame, crs="wgs84")
    assert set(expected["gz_status"].astype(str)) >= {"ok", "missing", "invalid", "swapped"}
    pd.testing.assert_frame_equal(_text(got), _text(expected))


def test_a_bad_plan_fails_before_any_task():
    import gzspatial.dask as gzdask
    from gzspatial._errors import InputError

    with pytest.raises(InputError, match="--crs"):
        gzdask.join(dd.from_pandas(_points(50), npartitions=2))


def test_cli_joins_a_csv_dataset_on_a_running_scheduler(cluster, tmp_path):
    local, _ = cluster
    folder = tmp_path / "in"
    folder.mkdir()
    frame = _points(1200)
    for part in range(3):
        frame.iloc[part * 400 : (part + 1) * 400].to_csv(folder / f"part{part}.csv", index=False)
    out = tmp_path / "out"
    result = invoke_cli("join", str(folder), "-o", str(out), "--crs", "wgs84", "--scheduler", local.scheduler_address)
    assert result.returncode == 0, result.stderr
    assert b"joined 1,200 rows" in result.stderr
    got = pq.ParquetDataset(out).read().to_pandas()
    expected = gzspatial.join(frame, crs="wgs84")
    pd.testing.assert_frame_equal(_text(got), _text(expected))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left

    again = invoke_cli("join", str(folder / "*.csv"), "-o", str(out), "--crs", "wgs84")
    assert again.returncode == 2
    assert b"not empty" in again.stderr and b"--overwrite-output" in again.stderr
    replaced = invoke_cli("join", str(folder / "*.csv"), "-o", str(out), "--crs", "wgs84", "--overwrite-output")
    assert replaced.returncode == 0, replaced.stderr
    pd.testing.assert_frame_equal(_text(pq.ParquetDataset(out).read().to_pandas()), _text(expected))


def test_cli_parquet_dataset_with_local_workers(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    frame = _points(600, seed=9)
    for part in range(2):
        frame.iloc[part * 300 : (part + 1) * 300].to_parquet(folder / f"p{part}.parquet", index=False)
    out = tmp_path / "out"
    result = invoke_cli("join", str(folder), "-o", str(out), "--crs", "wgs84", "--workers", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    got = pq.ParquetDataset(out).read().to_pandas()
    pd.testing.assert_frame_equal(_text(got), _text(gzspatial.join(frame, crs="wgs84")))


def test_dataset_options_are_refused_for_one_file(tmp_path):
    source = tmp_path / "a.csv"
    source.write_text("lon,lat\n113.3,23.1\n", encoding="utf-8")
    result = invoke_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84", "--workers", "2")
    assert result.returncode == 2
    assert b"dataset" in result.stderr


def test_dask_geopandas_frames_are_answered_from_their_geometry():
    dask_geopandas = pytest.importorskip("dask_geopandas")
    import geopandas

    import gzspatial.dask as gzdask

    frame = _points(400, seed=11).iloc[10:]  # numbers only: GeoDataFrames hold points
    points = geopandas.GeoDataFrame(
        {"id": frame["id"]},
        geometry=geopandas.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float)),
        crs="EPSG:4490",  # CGCS2000, declared by the frame itself
    ).reset_index(drop=True)
    points.loc[5, "geometry"] = None  # a row without a point: kept, flagged
    joined = gzdask.join(dask_geopandas.from_geopandas(points, npartitions=3))
    got = joined.compute()
    expected = gzspatial.join(points)
    assert isinstance(got, geopandas.GeoDataFrame)
    assert got.crs == points.crs
    pd.testing.assert_frame_equal(_text(got), _text(expected))


@pytest.mark.parametrize("on_cluster", [False, True], ids=["threads", "cluster"])
def test_progress_counts_tasks_on_a_rich_bar_and_never_writes_stdout(on_cluster, cluster, tmp_path, capfd):
    import io

    from rich.console import Console
    from rich.progress import Progress

    import gzspatial.dask as gzdask

    joined = gzdask.join(dd.from_pandas(_points(400), npartitions=4), crs="wgs84")
    work = joined.to_parquet(str(tmp_path / "out"), write_index=False, compute=False)
    shown = io.StringIO()
    with Progress(console=Console(file=shown, force_terminal=True, width=80)) as bar:
        if on_cluster:
            gzdask.compute(work, cluster[1], bar)
        else:
            with dask.config.set(scheduler="threads"):  # not the fixture's client
                gzdask.compute(work, None, bar)
    task = bar.tasks[0]
    assert task.total and task.completed == task.total >= 4  # at least a task per partition
    assert "100%" in shown.getvalue() or f"{task.total:.0f}" in shown.getvalue()
    assert capfd.readouterr().out == ""  # distributed's and dask's text bars wrote to stdout
    assert len(pq.ParquetDataset(tmp_path / "out").read()) == 400
