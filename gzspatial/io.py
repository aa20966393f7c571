"""Files in and out: atomic writes (and, for tables, reading CSV/Excel/GIS formats)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from gzspatial._errors import InputError


@contextlib.contextmanager
def atomic_output(path: Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it over ``path``, else delete it.

    Readers never see a half-written file, and a failed run leaves any old file untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, mode, **open_kwargs) as handle:
            yield handle
        os.chmod(tmp, _default_file_mode())  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


# --- tables -------------------------------------------------------------------------------

#: Encodings tried in order when a CSV's encoding is not given: UTF-8 (with or without BOM),
#: then GB18030, the superset of GBK/GB2312 that Chinese Excel and government exports use.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "gcj_lng", "bd_lng", "wgs_lng")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬", "gcj_lat", "bd_lat", "wgs_lat")


def detect_encoding(data: bytes) -> str:
    """Encoding of CSV bytes: UTF-8 (BOM or not), else GB18030, else charset-normalizer's guess."""
    for encoding in CSV_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError("cannot tell the file's text encoding: give it with --encoding (e.g. gbk, utf-8)")
    return best.encoding


def read_csv_text(data: bytes, *, source: str, encoding: str | None = None):
    """A CSV's bytes as a DataFrame of strings (every cell kept verbatim; blanks stay '')."""
    import pandas as pd

    if not data.strip():
        raise InputError(f"{source} is empty: expected a header row with coordinate columns")
    encoding = encoding or detect_encoding(data)
    try:
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{source} cannot be read as {encoding}: {exc.__class__.__name__}; "
            "give the right --encoding (e.g. gbk, utf-8)"
        ) from None
    sep = "\t" if source.endswith(".tsv") else None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            sep=sep,
            engine="python" if sep is None else "c",
        )
    except pd.errors.ParserError as exc:
        raise InputError(f"{source} is not a well-formed CSV: {str(exc).splitlines()[-1]}") from None
    frame.attrs["encoding"] = encoding
    return frame


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | int = 0):
    """Read a CSV (``-`` for stdin) or Excel file as a DataFrame of strings, columns in order."""
    import pandas as pd

    if str(path) == "-":
        return read_csv_text(sys.stdin.buffer.read(), source="<stdin>", encoding=encoding)
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file {str(path)!r} not found" + (" (it is a folder)" if path.is_dir() else ""))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            with pd.ExcelFile(path) as book:
                frame = pd.read_excel(book, sheet_name=sheet, dtype=str, keep_default_na=False, na_filter=False)
                frame.attrs["sheet"] = sheet if isinstance(sheet, str) else book.sheet_names[sheet]
        except ValueError as exc:
            raise InputError(f"{path} cannot be read as Excel: {exc}") from None
        return frame
    return read_csv_text(path.read_bytes(), source=str(path), encoding=encoding)


def find_coordinate_columns(columns, lon: str | None = None, lat: str | None = None) -> tuple[str, str]:
    """Names of the longitude and latitude columns: given, or found by name (经度/纬度, lon/lat…)."""
    columns = [str(c) for c in columns]
    normalized = {c.strip().lower(): c for c in columns}
    found = []
    for given, names, what, flag in ((lon, LON_NAMES, "longitude", "--lon"), (lat, LAT_NAMES, "latitude", "--lat")):
        if given is not None:
            if given not in columns:
                raise InputError(f"{what} column {given!r} not found; columns are: {', '.join(columns)}")
            found.append(given)
            continue
        match = next((normalized[n] for n in names if n in normalized), None)
        if match is None:
            raise InputError(
                f"no {what} column found (looked for {'/'.join(names[:5])}…); columns are: "
                f"{', '.join(columns) or '(none)'}; name it with {flag}"
            )
        found.append(match)
    return found[0], found[1]


def write_table(frame, path: str | Path, *, excel_bom: bool = False, sheet_name: str | None = None) -> None:
    """Write a DataFrame by extension (.csv, .xlsx), atomically; ``-`` writes CSV to stdout.

    .xlsx goes through :mod:`gzspatial.excel` (text as text, numbers as numbers, limits checked);
    its sheet is ``sheet_name``, else the sheet the frame was read from, else ``Sheet1``.
    """
    if str(path) == "-":
        frame.to_csv(sys.stdout, index=False)
        return
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from gzspatial import excel

        excel.write_xlsx(excel.Sheet(sheet_name or frame.attrs.get("sheet") or "Sheet1", frame), path)
    elif suffix in (".csv", ".txt", ".tsv", ""):
        with atomic_output(path, "wb") as handle:
            if excel_bom:
                handle.write("\ufeff".encode())
            _write_csv(frame, handle, "\t" if suffix == ".tsv" else ",")
    else:
        raise InputError(f"cannot write {suffix!r} files: use .csv or .xlsx")


def _write_csv(frame, handle, delimiter: str) -> None:
    """UTF-8 CSV through pyarrow (about 10x faster than pandas for millions of rows; strings are
    quoted); pandas for columns pyarrow cannot type (mixed objects)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        handle.write(frame.to_csv(index=False, sep=delimiter).encode("utf-8"))
        return
    pacsv.write_csv(table, handle, write_options=pacsv.WriteOptions(delimiter=delimiter))


def check_not_input(output: str | Path, input_path: str | Path) -> None:
    """Refuse to write over the input file."""
    if str(output) == "-" or str(input_path) == "-":
        return
    out, inp = Path(output), Path(input_path)
    if out.exists() and inp.exists() and out.resolve() == inp.resolve():
        raise InputError(
            f"output {str(output)!r} is the input file: write to another path (inputs are never overwritten)"
        )


# --- GIS formats and streaming CSV for joins ------------------------------------------------

GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet")
OUTPUT_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".geojson", ".json", ".gpkg", ".parquet")
#: Rows per batch when streaming a CSV (bounds memory whatever the file size).
BATCH_BYTES = 32 << 20


def detect_file_encoding(path: Path, block: int = 16 << 20) -> str:
    """Encoding of a (possibly huge) text file, read in blocks: UTF-8, else GB18030, else a guess."""
    import codecs

    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(block):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    with open(path, "rb") as handle:
        return detect_encoding(handle.read(1 << 20))


def read_input(path: str | Path, *, encoding: str | None = None):
    """Read a join input by extension: CSV/Excel as text tables, GIS formats as GeoDataFrames."""
    if str(path) == "-" or Path(path).suffix.lower() not in GEO_SUFFIXES:
        return read_table(path, encoding=encoding)
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file {str(path)!r} not found")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            return _read_parquet(path)
        import geopandas
        import pyogrio

        kwargs = {"encoding": encoding} if encoding else {}
        try:
            return geopandas.read_file(path, **kwargs)
        except pyogrio.errors.DataSourceError as exc:
            raise InputError(f"{path} cannot be read as {suffix[1:]}: {str(exc).splitlines()[0]}") from None
    except (ValueError, OSError) as exc:
        raise InputError(f"{path} cannot be read: {str(exc).splitlines()[0]}") from None


def _read_parquet(path: Path):
    import geopandas
    import pandas as pd
    import pyarrow.parquet as pq

    if b"geo" in (pq.read_schema(path).metadata or {}):
        return geopandas.read_parquet(path)
    return pd.read_parquet(path)


def geometry_coordinates(frame) -> tuple[np.ndarray, np.ndarray, str | None, dict[int, str]]:
    """(x, y, declared CRS, problems) of a GeoDataFrame's geometries.

    Points are used as they are; other geometries by a point on their surface. Missing or empty
    geometries give None (reported as blank); invalid ones are not repaired but reported in
    ``problems`` ({row: reason}).
    """
    import shapely

    from gzspatial import crs as _crs

    geometry = np.asarray(frame.geometry.values)
    missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    invalid = ~missing & ~shapely.is_valid(geometry)
    problems = {int(i): f"invalid geometry: {shapely.is_valid_reason(geometry[i])} (not repaired)"
                for i in np.flatnonzero(invalid)}  # fmt: skip
    unusable = missing | invalid
    usable = np.where(unusable, None, geometry)
    points = np.where(shapely.get_type_id(usable) == 0, usable, shapely.point_on_surface(usable))
    x = np.where(missing, None, shapely.get_x(points)).astype(object)
    y = np.where(missing, None, shapely.get_y(points)).astype(object)
    declared = None if frame.crs is None else _crs.normalize_crs(frame.crs)
    return x, y, declared, problems


def write_output(frame, path: str | Path, *, lon=None, lat=None, excel_bom: bool = False) -> None:
    """Write a joined table by extension; geo formats get WGS84 points from ``lon``/``lat``
    (or keep a GeoDataFrame's own geometry). Atomic; ``-`` is CSV on stdout."""
    suffix = "" if str(path) == "-" else Path(path).suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg", ".parquet"):
        write_table(frame, path, excel_bom=excel_bom)
        return
    import geopandas

    if not isinstance(frame, geopandas.GeoDataFrame):
        geometry = geopandas.points_from_xy(lon, lat, crs="EPSG:4326")
        geometry[np.isnan(lon) | np.isnan(lat)] = None
        frame = geopandas.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
    path = Path(path)
    # GDAL writes by file name: write a temporary file of the same kind, then rename it.
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        if suffix == ".parquet":
            frame.to_parquet(tmp)
        elif suffix == ".gpkg":
            frame.to_file(tmp, driver="GPKG", layer="joined")  # the temp name is no valid layer name
        else:
            frame.to_file(tmp, driver="GeoJSON")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
