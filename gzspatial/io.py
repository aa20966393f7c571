"""Files in and out: atomic writes (and, for tables, reading CSV/Excel/GIS formats)."""

from __future__ import annotations

import contextlib
import io
import os
import re
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
#: Delimiters a CSV may use (sniffed from the header unless --delimiter says).
DELIMITERS = (",", "\t", ";", "|")


def detect_encoding(data: bytes, *, source: str = "the input") -> str:
    """Encoding of CSV bytes: UTF-8 (BOM or not), else GB18030, else charset-normalizer's guess.

    A file that mixes UTF-8 lines with lines in another encoding (a UTF-8 export appended to a
    GBK one) is an error naming the lines, never read as one encoding into mojibake.
    """
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8-sig"
    check_single_encoding(data.split(b"\n"), source)
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        return "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"cannot tell the text encoding of {source}: give it with --encoding (e.g. gbk, utf-8)")
    return best.encoding


def _utf8_cjk_line(line: bytes) -> bool:
    """True for a line that is valid UTF-8 with at least two CJK characters (and only CJK beyond ASCII).

    Bytes of GBK text sometimes form valid UTF-8 by chance, but then decode to Latin, Greek or
    Cyrillic letters, not to a run of CJK ideographs and punctuation.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 0x7F and c != "\ufeff"]
    return len(wide) >= 2 and all(
        "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" for c in wide
    )


def check_single_encoding(lines, source: str) -> None:
    """Raise InputError when UTF-8 lines of CJK text sit beside lines that are not UTF-8 (1-based line numbers)."""
    utf8, other = [], []
    for number, line in enumerate(lines, 1):
        if line.isascii():
            continue
        if _utf8_cjk_line(line):
            utf8.append(number)
        else:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                other.append(number)
        if utf8 and len(other) >= 3:
            break
    if utf8 and other:
        raise InputError(
            f"{source} mixes text encodings: line(s) {', '.join(map(str, utf8[:3]))} are UTF-8 but line(s) "
            f"{', '.join(map(str, other[:3]))} are not (GBK?): save the file in one encoding (UTF-8) and retry"
        )


def undecodable_lines(lines, encoding: str, limit: int = 3) -> list[int]:
    """1-based numbers of the first ``limit`` lines that ``encoding`` cannot decode."""
    found = []
    for number, line in enumerate(lines, 1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            found.append(number)
            if len(found) >= limit:
                break
    return found


def sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV from its header line: the most frequent of , tab ; | outside quotes (else ,)."""
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def decide_delimiter(given: str | None, header: str, source: str) -> str:
    """``--delimiter`` (a single character; ``\\t`` or ``tab`` for tab) or the sniffed one."""
    if given is None:
        return sniff_delimiter(header)
    value = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(given.lower(), given)
    if len(value) != 1 or value in '\r\n"':
        raise InputError(f"delimiter {given!r} must be one character (e.g. , ; | or tab)")
    return value


def read_csv_text(data: bytes, *, source: str, encoding: str | None = None, delimiter: str | None = None):
    """A CSV's bytes as a DataFrame of strings (every cell kept verbatim; blanks stay '')."""
    import pandas as pd

    if not data.strip():
        raise InputError(f"{source} is empty: expected a header row with coordinate columns")
    encoding = encoding or detect_encoding(data, source=source)
    try:
        text = data.decode(encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}: give e.g. --encoding gbk or utf-8") from None
    except UnicodeDecodeError:
        lines = undecodable_lines(data.split(b"\n"), encoding)
        raise InputError(
            f"{source} cannot be read as {encoding}: line(s) {', '.join(map(str, lines))} are not {encoding}; "
            "give the right --encoding (e.g. gbk, utf-8)"
        ) from None
    delimiter = decide_delimiter(delimiter, text.lstrip("\ufeff").split("\n", 1)[0], source)
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False, sep=delimiter, engine="c"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{source} is not a well-formed CSV: {str(exc).splitlines()[-1]}") from None
    frame.attrs["encoding"] = encoding
    frame.attrs["delimiter"] = delimiter
    return frame


def read_table(path: str | Path, *, encoding: str | None = None, sheet: str | int = 0, delimiter: str | None = None):
    """Read a CSV (``-`` for stdin) or Excel file as a DataFrame of strings, columns in order."""
    import pandas as pd

    if str(path) == "-":
        return read_csv_text(sys.stdin.buffer.read(), source="<stdin>", encoding=encoding, delimiter=delimiter)
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file {str(path)!r} not found" + (" (it is a folder)" if path.is_dir() else ""))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False, na_filter=False)
        except ValueError as exc:
            raise InputError(f"{path} cannot be read as Excel: {exc}") from None
        return frame
    return read_csv_text(path.read_bytes(), source=str(path), encoding=encoding, delimiter=delimiter)


_NAME_TOKENS = re.compile(r"[_\-\s.()（）]+")
_LON_TOKENS = {"lon", "lng", "long", "longitude", "x", "经度", "东经"}
_LAT_TOKENS = {"lat", "latitude", "y", "纬度", "北纬"}
#: Words in a column name that name a coordinate system (``gcj_lng``, ``wgs84_lat``, ``lng_bd09``).
_SYSTEM_TOKENS = {
    "gcj": "gcj02", "gcj02": "gcj02", "amap": "gcj02", "gaode": "gcj02", "高德": "gcj02",
    "wgs": "wgs84", "wgs84": "wgs84", "gps": "wgs84",
    "bd": "bd09", "bd09": "bd09", "bd09ll": "bd09", "baidu": "bd09", "百度": "bd09",
    "cgcs": "cgcs2000", "cgcs2000": "cgcs2000",
}  # fmt: skip
#: Columns that may say, row by row, which system the coordinates are in.
CRS_COLUMN_NAMES = ("坐标系", "坐标系统", "crs", "coord_sys", "coordinate_system", "srs")


def _name_parts(column: str) -> tuple[str | None, str | None]:
    """(axis 'lon'|'lat'|None, system named in the column name or None) of a column name."""
    name = re.sub(r"(gcj|wgs|bd|cgcs)[-_ ]?(02|84|09|2000)", r"\1\2", column.strip().lower())
    tokens = [t for t in _NAME_TOKENS.split(name) if t]
    for system_word in list(_SYSTEM_TOKENS):  # '高德经度', 'gcj02lng': system glued to the axis word
        for axis_word in (*_LON_TOKENS, *_LAT_TOKENS):
            if len(tokens) == 1 and tokens[0] in (system_word + axis_word, axis_word + system_word):
                tokens = [system_word, axis_word]
    systems = {_SYSTEM_TOKENS[t] for t in tokens if t in _SYSTEM_TOKENS}
    axes = [t for t in tokens if t in _LON_TOKENS | _LAT_TOKENS]
    if len(axes) != 1 or len(tokens) != len(axes) + len(systems) or len(systems) > 1:
        return None, None
    return ("lon" if axes[0] in _LON_TOKENS else "lat"), (systems.pop() if systems else None)


def column_system(column: str) -> str | None:
    """The coordinate system a column's name states (``gcj_lng`` -> 'gcj02'), or None."""
    return _name_parts(column)[1]


def find_coordinate_columns(columns, lon: str | None = None, lat: str | None = None) -> tuple[str, str]:
    """Names of the longitude and latitude columns: given, or the one candidate by name.

    Candidates are names such as lon/lng/longitude/x/经度 and the same with a system word
    (gcj_lng, wgs84_lat). Several candidates for one axis is an error naming them: picking one
    would be a guess (gcj_lng beside wgs_lng, or x/y beside 经度/纬度).
    """
    columns = [str(c) for c in columns]
    found = []
    for given, axis, what, flag in ((lon, "lon", "longitude", "--lon"), (lat, "lat", "latitude", "--lat")):
        if given is not None:
            if given not in columns:
                raise InputError(f"{what} column {given!r} not found; columns are: {', '.join(columns)}")
            found.append(given)
            continue
        candidates = [c for c in columns if _name_parts(c)[0] == axis]
        if not candidates:
            raise InputError(
                f"no {what} column found (looked for lon/lng/longitude/x/经度 and lat/latitude/y/纬度); columns "
                f"are: {', '.join(columns) or '(none)'}; name it with {flag}"
            )
        if len(candidates) > 1:
            raise InputError(
                f"several {what} columns: {', '.join(candidates)}; choose with --lon and --lat (and --crs)"
            )
        found.append(candidates[0])
    return found[0], found[1]


def find_crs_column(columns) -> str | None:
    """The column that names each row's coordinate system (坐标系, crs, coord_sys…), or None."""
    lowered = {str(c).strip().lower(): str(c) for c in columns}
    matches = [lowered[n] for n in CRS_COLUMN_NAMES if n in lowered]
    if len(matches) > 1:
        raise InputError(f"several coordinate-system columns: {', '.join(matches)}; keep one, or give --crs")
    return matches[0] if matches else None


def write_table(frame, path: str | Path, *, excel_bom: bool = False) -> None:
    """Write a DataFrame by extension (.csv, .xlsx), atomically; ``-`` writes CSV to stdout."""
    if str(path) == "-":
        frame.to_csv(sys.stdout, index=False)
        return
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        with atomic_output(path, "wb") as handle:
            frame.to_excel(handle, index=False, engine="openpyxl")
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
    """Encoding of a (possibly huge) text file, read in blocks: UTF-8, else GB18030, else a guess.

    A file mixing UTF-8 and other lines is an error (see :func:`check_single_encoding`).
    """
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(block):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8-sig"
    with open(path, "rb") as handle:
        check_single_encoding(handle, str(path))
    decoder = codecs.getincrementaldecoder("gb18030")()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(block):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        pass
    else:
        return "gb18030"
    with open(path, "rb") as handle:
        return detect_encoding(handle.read(1 << 20), source=str(path))


def dbf_encoding(shp: Path) -> str | None:
    """Encoding of a Shapefile's attributes: its .cpg if any (None: GDAL reads it), else detected.

    Without a .cpg GDAL assumes ISO-8859-1, which turns GBK text (what Chinese GIS software
    writes) into mojibake such as ``¹ãÖÝËþ``; the field names and records are checked instead.
    """
    if shp.with_suffix(".cpg").is_file() or shp.with_suffix(".CPG").is_file():
        return None
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.is_file()), None)
    if dbf is None:
        return None
    data = dbf.read_bytes()
    if len(data) < 32:
        return None
    header_length = int.from_bytes(data[8:10], "little")
    names = b"".join(data[i : i + 11].rstrip(b"\0") + b"\n" for i in range(32, header_length - 1, 32))
    text = names + data[header_length:]
    if text.isascii():
        return None
    return "utf-8" if detect_encoding(text, source=str(dbf)) == "utf-8-sig" else "gb18030"


def read_input(path: str | Path, *, encoding: str | None = None, delimiter: str | None = None):
    """Read a join input by extension: CSV/Excel as text tables, GIS formats as GeoDataFrames."""
    if str(path) == "-" or Path(path).suffix.lower() not in GEO_SUFFIXES:
        return read_table(path, encoding=encoding, delimiter=delimiter)
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file {str(path)!r} not found")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            return _read_parquet(path)
        import geopandas
        import pyogrio

        if suffix == ".shp" and encoding is None:
            encoding = dbf_encoding(path)
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
