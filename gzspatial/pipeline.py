"""One join pipeline over Arrow record batches: read -> coordinates -> validate -> transform -> engine ->
gz_ columns -> write.

A :class:`Plan` is decided once per input (which columns hold the coordinates, the CRS, the address
column, the input's own gz_ columns); :func:`join_columns` answers one slice of rows and is what every
route calls: :func:`join_batches` (Arrow batches: CSV, Parquet, Dask partitions), ``attribute.join_frame``
(a DataFrame in Python) and :func:`join_file` (the CLI). Writers consume the stream of :class:`Joined`
batches: CSV, Parquet/GeoParquet, GeoPackage and GeoJSON (WGS84 points), all through ``io.atomic_output``.
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import numpy as np

from gzspatial import crs as _crs
from gzspatial._errors import InputError
from gzspatial._validate import STATUSES

if TYPE_CHECKING:
    import pyarrow as pa
from gzspatial.attribute import (
    GZ_COLUMNS,
    Options,
    _address_hook,
    _has_coordinate_column,
    _to_arrow,
    attribute_coordinates,
    check_gz_columns,
    resolve_crs,
    status_counts,
)
from gzspatial.i18n import _
from gzspatial.layers import layer_set
from gzspatial.settings import CSV_BLOCK_BYTES

log = logging.getLogger(__name__)

#: Arrow types of the gz_ columns that are not text.
GZ_TYPES = {"gz_on_axis": "bool_", "gz_axis_distance_m": "float64", "gz_nearest_node_m": "float64",
            "gz_geocode_score": "float64", "gz_geocode_lon": "float64", "gz_geocode_lat": "float64"}  # fmt: skip
CSV_SUFFIXES = ("", ".csv", ".txt", ".tsv")

#: Parquet compression: zstd (level 1) writes 2M joined rows in about 0.8 s to 60 MB; snappy 0.6 s, 92 MB;
#: lz4 0.6 s, 89 MB; none 0.5 s, 165 MB (measured with the text gz_ columns as dictionaries). Smallest for
#: a little time: the writer runs in its own stage, beside the attribution that bounds the rate.
PARQUET_CODEC: Literal["zstd"] = "zstd"

#: Outputs written batch by batch (the rest: .xlsx, a whole-table format, is written from a frame).
STREAM_OUTPUTS = (*CSV_SUFFIXES, ".parquet", ".gpkg", ".geojson", ".json")


@dataclass(frozen=True)
class Plan:
    """What a join decided once for a whole input (every batch is answered the same way)."""

    options: Options  # checked; crs resolved (None only when a 坐标系 column gives each row's)
    lon: str | None = None  # None: no coordinate columns (rows placed by address) or a geometry
    lat: str | None = None
    crs_column: str | None = None
    address: tuple[str, ...] = ()  # address column candidates; the first is used
    geocoder: object = None
    dropped: tuple[str, ...] = ()  # the input's own gz_ columns, replaced (overwrite_gz)
    geometry: str | None = None  # a WKB geometry column answering every row (GIS formats, GeoParquet)

    @property
    def gz_names(self) -> tuple[str, ...]:
        if self.geocoder is None:
            return GZ_COLUMNS  # gzspatial.geocode (and its HTTP stack) not imported
        from gzspatial.geocode import GEOCODE_COLUMNS

        return (*GZ_COLUMNS, *GEOCODE_COLUMNS)

    def output_schema(self, schema: pa.Schema, *, dictionary: bool = False) -> pa.Schema:
        """The joined schema: the input's fields (own gz_ columns dropped), then the gz_ columns
        (``dictionary``: the text ones dictionary-encoded, as Parquet stores a few names per million rows)."""
        import pyarrow as pa

        kept = [f for f in schema if f.name not in self.dropped]
        text = pa.dictionary(pa.int32(), pa.string()) if dictionary else pa.string()
        gz = [pa.field(n, getattr(pa, GZ_TYPES[n])() if n in GZ_TYPES else text) for n in self.gz_names]
        return pa.schema(kept + gz)


def make_plan(
    names,
    *,
    lon: str | None = None,
    lat: str | None = None,
    options: Options | None = None,
    address=None,
    geocoder=None,
    source: str = "the input",
) -> Plan:
    """The plan for a table with these column names (coordinates found by name unless ``lon``/``lat``).

    Without coordinate columns, rows may still be placed by an address column; otherwise an
    InputError names what is missing. The CRS follows :func:`gzspatial.attribute.resolve_crs`.
    """
    from gzspatial.address import address_candidates
    from gzspatial.io import find_coordinate_columns, find_crs_column

    options = options or Options()
    names = [str(n) for n in names]
    dropped = tuple(check_gz_columns(names, options.overwrite_gz))
    candidates = () if address is False else tuple(address_candidates(names, address))
    lon_col: str | None
    lat_col: str | None
    crs_column: str | None = None
    try:
        lon_col, lat_col = find_coordinate_columns(names, lon, lat)
        crs_column = find_crs_column(names)
        system = resolve_crs(None, options.crs, (lon_col, lat_col), per_row=crs_column is not None, source=source)
    except InputError:  # no coordinate columns: rows may still be placed by their address
        if not candidates or lon is not None or lat is not None or _has_coordinate_column(names):
            raise
        lon_col = lat_col = None
        system = _crs.WGS84  # no coordinates are read; the system is never used
    options = replace(options, crs=system).checked()
    log.info("%s: columns lon=%r lat=%r crs=%r address=%s", source, lon_col, lat_col, crs_column, list(candidates))
    log.info("%s: answered by %s", source, layer_set(options.layers).describe())
    return Plan(options, lon_col, lat_col, crs_column, candidates, geocoder, dropped)


def make_geometry_plan(
    names, geometry: str, declared: str | None, *, options: Options | None = None, address=None, geocoder=None,
    source: str = "the input",
) -> Plan:  # fmt: skip
    """The plan for a table answered from its WKB ``geometry`` column in the ``declared`` CRS
    (normalized; None: the file does not say, then ``options.crs`` must), as ``gzspatial.join`` does
    for a GeoDataFrame."""
    from gzspatial.address import address_candidates

    options = options or Options()
    names = [str(n) for n in names]
    dropped = tuple(check_gz_columns(names, options.overwrite_gz))
    candidates = () if address is False else tuple(address_candidates(names, address))
    system = resolve_crs(declared, options.crs, (), source=source)
    options = replace(options, crs=system).checked()
    return Plan(options, address=candidates, geocoder=geocoder, dropped=dropped, geometry=geometry)


def join_columns(
    plan: Plan, x, y, *, row_crs=None, addresses=None, row_problems=None, coordinates=None
) -> tuple[dict, np.ndarray, np.ndarray]:
    """The gz_ columns of one slice of rows: (columns dict in GZ order, WGS84 lon, WGS84 lat).

    ``x``/``y`` are the raw coordinate cells (text or numbers; ``None`` arrays when the plan has
    none), ``addresses`` the address cells. This is the one attribution step every route runs.

    Large slices are answered in pieces on the shared thread pool (``_parallel.map_pieces``: one
    per CPU, each as a slice of its own), then put back together in order; an online geocoder
    (its cache and HTTP session) keeps the slice whole, on this thread.
    """
    from gzspatial import _parallel
    from gzspatial.attribute import Coded

    bounds = _parallel.pieces(len(x)) if plan.geocoder is None else [(0, len(x))]
    if len(bounds) > 1:

        def piece(a: int, b: int) -> tuple[dict, np.ndarray, np.ndarray]:
            problems = {row - a: reason for row, reason in (row_problems or {}).items() if a <= row < b}
            rows_crs = None if row_crs is None else row_crs[a:b]
            rows_addresses = None if addresses is None else addresses[a:b]
            columns, w_lon, w_lat = _join_slice(plan, x[a:b], y[a:b], rows_crs, rows_addresses, problems, coordinates)
            compact = {name: v.compact() if isinstance(v, Coded) else v for name, v in columns.items()}
            return compact, w_lon, w_lat

        return _joined_pieces(_parallel.map_pieces(piece, bounds), bounds)
    return _join_slice(plan, x, y, row_crs, addresses, row_problems, coordinates)


def _join_slice(plan: Plan, x, y, row_crs, addresses, row_problems, coordinates) -> tuple[dict, np.ndarray, np.ndarray]:
    columns, w_lon, w_lat = attribute_coordinates(x, y, plan.options, row_problems=row_problems, row_crs=row_crs)
    if plan.address or plan.geocoder is not None:
        has_coordinates = plan.lon is not None if coordinates is None else coordinates
        columns, w_lon, w_lat = _address_hook(
            columns, w_lon, w_lat, addresses, list(plan.address), plan.options, has_coordinates, plan.geocoder
        )
    return columns, w_lon, w_lat


def _joined_pieces(parts: list[tuple[dict, np.ndarray, np.ndarray]], bounds: list[tuple[int, int]]):
    """The (columns, lon, lat) of the pieces of rows ``bounds`` as those of all of them, in order.

    Each output is allocated once and every piece's rows are copied into it on the pool (the
    copies, and the first touch of the new memory, run in parallel too).
    """
    from gzspatial import _parallel
    from gzspatial.attribute import Coded, _code_type

    n = bounds[-1][1]
    copies: list[tuple[list, list, np.ndarray]] = []  # (each piece's array, its lookup table or None, output)

    def output(values: list[np.ndarray], dtype, tables: list | None = None) -> np.ndarray:
        out = np.empty(n, dtype=dtype)
        copies.append((values, tables or [None] * len(values), out))
        return out

    columns: dict = {}
    for name, first in parts[0][0].items():
        values = [part[0][name] for part in parts]
        if isinstance(first, Coded):
            categories, remaps = Coded.aligned(values)
            kind = _code_type(len(categories))
            columns[name] = Coded(categories, output([v.codes for v in values], kind, remaps))
        elif isinstance(first, np.ma.MaskedArray):
            data = output([np.ma.getdata(v) for v in values], first.dtype)
            mask = output([np.ma.getmaskarray(v) for v in values], bool)
            columns[name] = np.ma.MaskedArray(data, mask=mask)
        else:
            columns[name] = output(values, first.dtype)
    lon = output([part[1] for part in parts], np.float64)
    lat = output([part[2] for part in parts], np.float64)

    def fill(a: int, b: int) -> None:
        k = bounds.index((a, b))
        for values, tables, out in copies:
            if tables[k] is None:
                np.copyto(out[a:b], values[k], casting="same_kind")
            else:
                np.take(tables[k], values[k], out=out[a:b])

    _parallel.map_pieces(fill, bounds)
    return columns, lon, lat


@dataclass(frozen=True)
class Joined:
    """One joined batch and the WGS84 points its rows were answered at (NaN where none)."""

    batch: pa.RecordBatch  # input columns, then the gz_ columns
    lon: np.ndarray
    lat: np.ndarray


def join_batches(batches: Iterable, plan: Plan, schema=None, *, dictionary: bool = False) -> Iterator[Joined]:
    """Join a stream of Arrow record batches (all of one schema), batch by batch, in order.

    ``dictionary``: text gz_ columns as dictionary arrays (see :meth:`Plan.output_schema`).
    """
    import pyarrow as pa

    from gzspatial.io import wkb_points

    out_schema = None
    for batch in batches:
        if out_schema is None:
            out_schema = plan.output_schema(schema or batch.schema, dictionary=dictionary)
            keep = [i for i, name in enumerate(batch.schema.names) if name not in plan.dropped]
        n = batch.num_rows
        blank = np.full(n, None, dtype=object)
        x, y = (blank, blank) if plan.lon is None else (batch.column(plan.lon), batch.column(plan.lat))
        problems, coordinates = None, None
        if plan.geometry is not None:
            x, y, problems = wkb_points(batch.column(plan.geometry))  # as gzspatial.join answers a GeoDataFrame
            coordinates = True
        row_crs = None
        if plan.crs_column is not None:
            row_crs = batch.column(plan.crs_column).cast(pa.string()).to_numpy(zero_copy_only=False)
        addresses = batch.column(plan.address[0]).to_pylist() if plan.address else None
        columns, w_lon, w_lat = join_columns(
            plan, x, y, row_crs=row_crs, addresses=addresses, row_problems=problems, coordinates=coordinates
        )
        arrays = [batch.column(i) for i in keep] + [_gz_arrow(v, dictionary) for v in columns.values()]
        arrays = [_as_type(a, f.type) for a, f in zip(arrays, out_schema, strict=True)]
        yield Joined(pa.RecordBatch.from_arrays(arrays, schema=out_schema), w_lon, w_lat)
        _release_freed_memory()


def _release_freed_memory() -> None:
    """Give the C heap's free pages back to the system after a batch (glibc ``malloc_trim``).

    A batch's attribution allocates and frees a few hundred MB; glibc keeps freed blocks in per-thread
    arenas, fragmenting, so without this the peak creeps up with the number of batches. It costs ~6% of
    the time (each returned page is faulted in again by the next batch); trimming only every 4th batch
    let the peak of 50M rows grow to 1.13x that of 10M (bench_pipeline.py), so every batch it is.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim`` from the symbols already loaded (no library search, which spawns
    ``ldconfig``), or None off glibc (macOS, Windows, musl)."""
    import ctypes

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # musl and others: no malloc_trim
        return None


def _gz_arrow(values, dictionary: bool) -> pa.Array:
    """One gz_ column as Arrow; a coded text column as a dictionary array when ``dictionary``
    (no text built per row: the writer stores the few names once per row group)."""
    from gzspatial.attribute import Coded

    if dictionary and isinstance(values, Coded):
        return values.to_dictionary()
    return _to_arrow(values)


def _as_type(array: pa.Array, kind: pa.DataType) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if array.type == kind:
        return array
    if pa.types.is_dictionary(kind):
        return pc.dictionary_encode(array.cast(kind.value_type)).cast(kind)
    return array.cast(kind)


# --- stages in threads: read, attribute and write overlap -----------------------------------------

#: Items a stage may run ahead of the next one: enough to hide jitter, few enough to bound memory. With 2,
#: a writer slowed by the disk let the queues fill: the peak of 50M rows CSV -> CSV was 1.15x that of 10M
#: (a spike of ~100 MB, not a creep); with 1, 1.07-1.10x, and no slower (bench_pipeline.py).
AHEAD = 1
_DONE = object()


def in_background(items: Iterable, *, ahead: int = AHEAD, name: str = "gzspatial-stage") -> Generator:
    """The items of ``items``, produced by a daemon thread at most ``ahead`` items ahead, in order.

    Lets a stage that releases the GIL (pyarrow's CSV reader, the nogil kernels) run while the next
    one consumes. An exception in the thread is raised here, at the item it stopped at; closing this
    generator (the consumer failed, or was interrupted: SIGINT) stops the thread at its next item.
    """
    out: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            put((_DONE, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = out.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=10)  # it finishes the item in hand, then sees ``stop``


# --- sources: a file as (schema, batches, size in bytes) -------------------------------------------


@dataclass
class Source:
    """A file opened as a stream of record batches. ``size``: bytes (CSV) or rows (Parquet) for progress."""

    name: str
    schema: pa.Schema
    batches: Iterable
    total: int  # bytes of a CSV, rows of a Parquet file (for progress)
    done: Callable[[], int]  # how much of ``total`` has been read so far
    close: Callable[[], None] = lambda: None  # release the file (also when no batch was taken)
    geometry: Geometry | None = None  # GIS formats, GeoParquet: the rows' own geometry


@dataclass(frozen=True)
class Geometry:
    """A source's WKB geometry column: rows are answered from it, and geo outputs keep it as it is."""

    column: str
    crs: str | None  # as the file declares it (WKT, PROJJSON text, EPSG:n); None: not declared
    types: tuple[str, ...] = ()  # GeoParquet geometry types (Point, Polygon…); () unknown

    @property
    def declared(self) -> str | None:
        """The declared CRS, normalized (``gcj02``, ``EPSG:4326``…)."""
        return None if self.crs is None else _crs.normalize_crs(_crs._pyproj_crs(self.crs))


def open_csv(source: str | Path, *, encoding: str | None = None, delimiter: str | None = None) -> Source:
    """A CSV (or ``-``: stdin) as batches of text columns; encoding and delimiter decided once."""
    import io as _io

    from gzspatial.io import (
        check_input_path,
        check_unique_columns,
        decide_delimiter,
        detect_encoding,
        detect_file_encoding,
        open_csv_text,
    )

    stream: IO[bytes] | None
    if str(source) == "-":
        data = sys.stdin.buffer.read()
        if not data.strip():
            raise InputError(_("<stdin> is empty: expected a header row with coordinate columns"))
        encoding = encoding or detect_encoding(data, source="<stdin>")
        stream, size, head = _io.BytesIO(data), len(data), data[: 1 << 16]
        lines: Callable[[], Iterable[bytes]] = lambda: data.split(b"\n")
    else:
        path = check_input_path(source)
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        if not head.strip():
            raise InputError(_("{path} is empty: expected a header row with coordinate columns").format(path=path))
        encoding = encoding or detect_file_encoding(path)
        stream = None
        lines = lambda: _file_lines(path)
    try:
        header = head.split(b"\n", 1)[0].decode(encoding, errors="replace").lstrip("\ufeff")
    except LookupError:
        raise InputError(
            _("unknown encoding {encoding!r}: give e.g. --encoding gbk or utf-8").format(encoding=encoding)
        ) from None
    delimiter = decide_delimiter(delimiter, header, str(source))
    log.info("%s: CSV of %s bytes, encoding %s, delimiter %r", source, f"{size:,}", encoding, delimiter)
    if stream is None:
        # a Python file object: pyarrow reads it block by block as batches are taken (given a path,
        # its reader reads far ahead, and memory grows with the file)
        stream = open(path, "rb")  # noqa: SIM115 (closed by Source.close or when the batches end)
    try:
        reader = open_csv_text(stream, encoding, delimiter, source, CSV_BLOCK_BYTES, lines)
        check_unique_columns(reader.schema.names, str(source))
    except BaseException:
        stream.close()
        raise
    read = [0]  # bytes of cells read so far: about the bytes of the file read
    batches = _checked_csv(reader, source, read, stream, encoding, lines)
    return Source(str(source), reader.schema, batches, size, lambda: min(read[0], size), stream.close)


def _file_lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        yield from handle


def _checked_csv(reader, source, read: list[int], stream, encoding: str, lines) -> Iterator:
    import pyarrow as pa

    from gzspatial.io import csv_batch_error

    rows = 0
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise csv_batch_error(exc, source, encoding, rows, lines) from None
            rows += batch.num_rows
            read[0] += batch.nbytes
            yield batch
    finally:
        stream.close()


def open_parquet(path: str | Path, *, batch_rows: int = 1 << 18) -> Source | None:
    """A Parquet file read by batches (GeoParquet: see :func:`open_geoparquet`; None when read as a frame)."""
    import pyarrow.parquet as pq

    from gzspatial.io import check_input_path

    path = check_input_path(path)
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise InputError(
            _("{path} cannot be read as parquet: {exc}").format(path=path, exc=str(exc).splitlines()[0])
        ) from None
    if b"geo" in (parquet.schema_arrow.metadata or {}):
        return open_geoparquet(parquet, path, batch_rows=batch_rows)
    schema = parquet.schema_arrow.remove_metadata()
    read = [0]

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            read[0] += batch.num_rows
            yield batch.replace_schema_metadata(None)

    return Source(str(path), schema, batches(), parquet.metadata.num_rows, lambda: read[0])


def open_geoparquet(parquet, path: Path, *, batch_rows: int = 1 << 16) -> Source | None:
    """A GeoParquet file read by batches, its primary WKB geometry kept; None for other geometry
    encodings (GeoArrow native), read as a frame. CRS from the metadata (absent: OGC:CRS84, per the spec)."""
    geo = json.loads(parquet.schema_arrow.metadata[b"geo"])
    name = geo.get("primary_column", "geometry")
    column = geo.get("columns", {}).get(name, {})
    if str(column.get("encoding", "")).upper() != "WKB" or name not in parquet.schema_arrow.names:
        return None
    crs = column.get("crs", "OGC:CRS84")
    crs_text = None if crs is None else crs if isinstance(crs, str) else json.dumps(crs)
    geometry = Geometry(name, crs_text, tuple(column.get("geometry_types") or ()))
    read = [0]

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            read[0] += batch.num_rows
            yield batch.replace_schema_metadata(None)

    schema = parquet.schema_arrow.remove_metadata()
    return Source(str(path), schema, batches(), parquet.metadata.num_rows, lambda: read[0], geometry=geometry)


def open_gdal(path: str | Path, *, layer: str | None = None, encoding: str | None = None,
              batch_rows: int = 1 << 16) -> Source:  # fmt: skip
    """A GIS file (GeoPackage, Shapefile, GeoJSON) read by batches through pyogrio/GDAL;
    its geometry is named ``geometry`` (as geopandas names it) and its declared CRS kept. A Shapefile
    without .cpg has its text encoding detected (``io.dbf_encoding``)."""
    import pyogrio
    from pyogrio.raw import open_arrow

    from gzspatial.io import _gis_layer, check_input_path, dbf_encoding

    path = check_input_path(path)
    suffix = path.suffix.lower()
    if suffix == ".shp" and encoding is None:
        encoding = dbf_encoding(path)
    try:
        name = _gis_layer(path, layer)
        opened = open_arrow(path, layer=name, encoding=encoding or None, batch_size=batch_rows, use_pyarrow=True)
        meta, reader = opened.__enter__()
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(
            _("{path} cannot be read as {suffix}: {exc}").format(
                path=path, suffix=suffix[1:], exc=str(exc).splitlines()[0]
            )
        ) from None
    schema = reader.schema
    geometry = None
    column = meta.get("geometry_name") or "wkb_geometry"
    if meta.get("geometry_type") is not None and column in schema.names:
        index = schema.get_field_index(column)
        schema = schema.set(index, schema.field(index).with_name("geometry").remove_metadata())
        geometry = Geometry("geometry", meta.get("crs"), _geometry_types(meta.get("geometry_type")))
    import pyarrow as pa

    # GDAL's JSON fields (e.g. a GeoJSON property holding a list) arrive as the arrow.json extension type,
    # which no writer takes: keep their JSON text (the storage), as the frame route reads them.
    extension = [i for i, field in enumerate(schema) if isinstance(field.type, pa.BaseExtensionType)]
    for i in extension:
        schema = schema.set(i, schema.field(i).with_type(schema.field(i).type.storage_type))
    schema = schema.remove_metadata()
    read = [0]

    def batches() -> Iterator[pa.RecordBatch]:
        _gdal_warnings_as_python()  # this runs on the reading stage's thread
        for batch in reader:
            read[0] += batch.num_rows
            columns = [column.storage if i in extension else column for i, column in enumerate(batch.columns)]
            yield pa.RecordBatch.from_arrays(columns, schema=schema)

    close = lambda: opened.__exit__(None, None, None)
    return Source(str(path), schema, batches(), 0, lambda: read[0], close, geometry)


def _gdal_warnings_as_python() -> None:
    """GDAL's warnings on this thread as Python warnings (the CLI prints them as one ``warning:`` line),
    as pyogrio routes them on the thread that imported it: GDAL's error handlers are per thread, and
    on any other GDAL printed "Warning 1: …" raw. pyogrio's own handler, through a private name: if a
    version drops it, GDAL prints as before."""
    import pyogrio._err

    register = getattr(pyogrio._err, "_register_error_handler", None)
    if register is not None and threading.current_thread() is not threading.main_thread():
        register()


def _geometry_types(gdal_type: str | None) -> tuple[str, ...]:
    """GeoParquet geometry types from a GDAL layer geometry type (``Unknown``: any)."""
    if not gdal_type or gdal_type.startswith("Unknown"):
        return ()
    return (gdal_type.replace(" Z", "").replace("25D", ""),)


# --- writers: a stream of Joined batches to a file -------------------------------------------------


def _point_wkb(lon: np.ndarray, lat: np.ndarray) -> pa.Array:
    """WKB points (little-endian) as an Arrow binary array; null where the point is unknown."""
    import pyarrow as pa

    n = len(lon)
    record = np.zeros(n, dtype=[("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
    record["order"], record["kind"], record["x"], record["y"] = 1, 1, lon, lat
    offsets = np.arange(0, 21 * (n + 1), 21, dtype=np.int32)
    valid = ~(np.isnan(lon) | np.isnan(lat))
    mask = pa.array(valid).buffers()[1] if not valid.all() else None
    # numpy's stubs give ndarray __buffer__ only for Python >= 3.12 (mypy checks 3.11); it has the buffer protocol.
    offsets_buffer = pa.py_buffer(offsets)  # type: ignore[arg-type]
    return pa.Array.from_buffers(pa.binary(), n, [mask, offsets_buffer, pa.py_buffer(record.tobytes())])


def _geo_metadata(geometry: Geometry | None = None) -> bytes:
    """GeoParquet 1.0 metadata: a WKB point column ``geometry`` in EPSG:4326, or the source's own
    ``geometry`` (its CRS as PROJJSON, null when undeclared)."""
    if geometry is None:
        geometry = Geometry("geometry", "EPSG:4326", ("Point",))
    crs = None if geometry.crs is None else _crs._pyproj_crs(geometry.crs).to_json_dict()
    column = {"encoding": "WKB", "geometry_types": list(geometry.types), "crs": crs}
    return json.dumps(
        {"version": "1.0.0", "primary_column": geometry.column, "columns": {geometry.column: column}}
    ).encode()


def _with_points(joined: Joined, schema: pa.Schema) -> pa.RecordBatch:
    import pyarrow as pa

    arrays = [*joined.batch.columns, _point_wkb(joined.lon, joined.lat)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _geo_schema(schema: pa.Schema, metadata: dict | None = None) -> pa.Schema:
    import pyarrow as pa

    out = schema.append(pa.field("geometry", pa.binary()))
    return out.with_metadata(metadata) if metadata else out


def write_csv(stream: Iterator[Joined], schema, output, *, excel_bom: bool = False, excel_safe: bool = False,
              tap: Callable | None = None) -> None:  # fmt: skip
    """Joined batches to CSV (UTF-8; text cells quoted and as read; ``.tsv`` tab-separated; ``-`` stdout)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from gzspatial.io import atomic_output, excel_safe_batch

    delimiter = "\t" if str(output).lower().endswith(".tsv") else ","

    nested = [i for i, field in enumerate(schema) if pa.types.is_nested(field.type)]
    for i in nested:  # lists and structs (e.g. a GeoJSON property holding a list): a cell of JSON text
        schema = schema.set(i, schema.field(i).with_type(pa.string()))

    def write(handle: IO[bytes]) -> None:
        if excel_bom:
            handle.write("\ufeff".encode())
        writer = pacsv.CSVWriter(handle, schema, write_options=pacsv.WriteOptions(delimiter=delimiter))
        try:
            for joined in stream:
                (tap or _nothing)(joined)
                batch = _json_text(joined.batch, nested, schema) if nested else joined.batch
                writer.write_batch(excel_safe_batch(batch) if excel_safe else batch)
        finally:
            writer.close()

    if str(output) == "-":
        write(sys.stdout.buffer)
    else:
        with atomic_output(Path(output), "wb") as handle:
            write(handle)


def _json_text(batch: pa.RecordBatch, nested: list[int], schema) -> pa.RecordBatch:
    """``batch`` with its nested columns as JSON text (null stays null), for a text-only format."""
    import pyarrow as pa

    columns = list(batch.columns)
    for i in nested:
        values = columns[i].to_pylist()  # nested columns are rare and small: per-cell Python is fine here
        columns[i] = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in values], pa.string())
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _nothing(joined) -> None:
    return None


def write_parquet(stream: Iterator[Joined], schema, output, *, tap: Callable | None = None,
                  geometry: Geometry | None = None) -> None:  # fmt: skip
    """Joined batches to GeoParquet: the table plus WGS84 points in ``geometry`` (WKB, EPSG:4326).

    Give the batches of ``join_batches(..., dictionary=True)``: its text gz_ columns are stored
    dictionary-encoded (read back as categoricals by pandas); other columns plain (unique names,
    coordinates: a dictionary would be built and abandoned). One row group per batch.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gzspatial.io import atomic_output_path

    if geometry is not None:  # the rows' own geometry, kept as it is
        out_schema = schema.with_metadata({b"geo": _geo_metadata(geometry)})
    elif "geometry" in schema.names:
        raise InputError(_("the input has a column named 'geometry': rename it to write GeoParquet"))
    else:
        out_schema = _geo_schema(schema, {b"geo": _geo_metadata()})
    text = [f.name for f in schema if pa.types.is_dictionary(f.type)]  # the gz_ names: a few per row group
    # min/max statistics for the input's columns and the gz_ numbers; none for the gz_ names (every
    # row group holds most of a few dozen names, so they prune nothing, and pyarrow computes them
    # from the decoded text: 40% of the writer's time) or the WKB points (GeoParquet has no use for them)
    points = "geometry" if geometry is None else geometry.column
    statistics = [name for name in out_schema.names if name not in text and name != points]
    with (
        atomic_output_path(Path(output)) as tmp,
        # pyarrow-stubs type use_dictionary as bool only; pyarrow takes a list of column names too
        pq.ParquetWriter(tmp, out_schema, compression=PARQUET_CODEC, use_dictionary=text,  # type: ignore[arg-type]
                         write_statistics=statistics) as writer,
    ):  # fmt: skip
        for joined in stream:
            (tap or _nothing)(joined)
            writer.write_batch(_with_points(joined, out_schema) if geometry is None else joined.batch)


def write_gdal(stream: Iterator[Joined], schema, output, *, tap: Callable | None = None,
               geometry: Geometry | None = None) -> None:  # fmt: skip
    """Joined batches to GeoPackage (layer ``joined``) or GeoJSON with WGS84 points (or the source's
    own ``geometry`` in its CRS), streamed by pyogrio. In GeoJSON a non-finite number (NaN, ±inf)
    of the input's is null: JSON has none (GDAL would drop the property, with a warning)."""
    import pyarrow as pa
    import pyogrio
    from pyogrio.raw import write_arrow

    from gzspatial.io import atomic_output_path, gdal_write_error

    if geometry is None and "geometry" in schema.names:
        raise InputError(_("the input has a column named 'geometry': rename it to write a GIS file"))
    out_schema = _geo_schema(schema) if geometry is None else schema
    name = "geometry" if geometry is None else geometry.column
    field = out_schema.field(name).with_metadata({b"ARROW:extension:name": b"geoarrow.wkb"})
    out_schema = out_schema.set(out_schema.get_field_index(name), field)
    kind = "Point" if geometry is None else geometry.types[0] if len(geometry.types) == 1 else "Unknown"
    crs = "EPSG:4326" if geometry is None or geometry.crs is None else _crs._pyproj_crs(geometry.crs).to_wkt()

    path = Path(output)
    driver, options = ("GPKG", {"layer": "joined"}) if path.suffix.lower() == ".gpkg" else ("GeoJSON", {})
    failed: list[BaseException] = []  # an error of the stages, which pyogrio reports only as "Error while accessing…"

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for joined in stream:
                (tap or _nothing)(joined)
                batch = _with_points(joined, out_schema) if geometry is None else joined.batch.cast(out_schema)
                yield batch if driver == "GPKG" else _non_finite_as_null(batch)
        except BaseException as exc:
            failed.append(exc)
            raise

    reader = pa.RecordBatchReader.from_batches(out_schema, batches())
    with atomic_output_path(path) as tmp:
        try:
            write_arrow(reader, tmp, driver=driver, geometry_name=name, geometry_type=kind, crs=crs,
                        encoding="UTF-8", **options)  # fmt: skip
        except Exception as exc:
            if failed:  # the stages' own error (SIGINT too), not the writer's
                raise failed[0] from None
            if not isinstance(exc, pyogrio.errors.DataSourceError | pyogrio.errors.DataLayerError):
                raise
            raise gdal_write_error(path, exc) from None


def _non_finite_as_null(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with NaN and ±inf in its float columns as null (JSON has no such numbers)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = list(batch.columns)
    for i, column in enumerate(columns):
        if pa.types.is_floating(column.type):
            finite = pc.is_finite(column)  # null stays null
            if not pc.all(finite).as_py():
                columns[i] = pc.if_else(finite, column, pa.scalar(None, column.type))
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


# --- the whole job: a file in, a file out ---------------------------------------------------------


#: GIS formats read by batches through GDAL.
GDAL_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json")


def open_source(source, *, encoding=None, delimiter=None, layer=None) -> Source | None:
    """The input as batches: CSV (or stdin), Parquet/GeoParquet, GIS formats; None for the rest
    (Excel, GeoArrow-encoded GeoParquet), which are read as a frame. An empty (0-byte) file is an error."""
    from gzspatial.io import check_not_empty

    suffix = "" if str(source) == "-" else Path(source).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return open_csv(source, encoding=encoding, delimiter=delimiter)
    if suffix in (".parquet", ".geoparquet"):
        return open_parquet(check_not_empty(source))
    if suffix in GDAL_SUFFIXES:
        return open_gdal(check_not_empty(source), layer=layer, encoding=encoding)
    return None


def join_file(
    source,
    output,
    *,
    lon: str | None = None,
    lat: str | None = None,
    options: Options | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet=None,
    layer: str | None = None,
    excel_bom: bool = False,
    excel_safe: bool = False,
    address=None,
    geocoder=None,
    on_batch: Callable | None = None,
) -> dict[str, int]:
    """Join one file into another (format by extension); returns rows per gz_status.

    CSV, Parquet/GeoParquet and GIS inputs stream batch by batch into CSV, Parquet, GeoPackage or
    GeoJSON (bounded memory; a geometry input keeps its geometry and CRS in geo outputs, WKT in CSV);
    Excel inputs and .xlsx outputs (whole-sheet formats) go through a frame, answered by the same
    :func:`join_columns`. ``on_batch(rows, done, total)``
    reports progress (``done`` of ``total``: bytes of a CSV, rows of a Parquet file).
    """

    options = options or Options()
    suffix = "" if str(output) == "-" else Path(output).suffix.lower()
    opened = None
    if suffix in STREAM_OUTPUTS:
        opened = open_source(source, encoding=encoding, delimiter=delimiter, layer=layer)
    if opened is not None and opened.geometry is not None and (lon is not None or lat is not None):
        opened.close()  # coordinate columns chosen beside a geometry: the frame route keeps both
        opened = None
    log.info("%s -> %s: %s", source, output, "read as one table" if opened is None else "streamed batch by batch")
    if opened is None:
        return _join_via_frame(
            source, output, lon=lon, lat=lat, options=options, encoding=encoding, delimiter=delimiter,
            sheet=sheet, layer=layer, excel_bom=excel_bom, excel_safe=excel_safe, address=address, geocoder=geocoder,
        )  # fmt: skip
    geometry = opened.geometry
    try:
        if geometry is None:
            plan = make_plan(opened.schema.names, lon=lon, lat=lat, options=options, address=address,
                             geocoder=geocoder, source=opened.name)  # fmt: skip
        else:
            plan = make_geometry_plan(opened.schema.names, geometry.column, geometry.declared, options=options,
                                      address=address, geocoder=geocoder, source=opened.name)  # fmt: skip
    except BaseException:
        opened.close()
        raise
    parquet = suffix == ".parquet"
    schema = plan.output_schema(opened.schema, dictionary=parquet)
    to_csv = suffix in CSV_SUFFIXES
    counts = dict.fromkeys(STATUSES, 0)
    done = {"rows": 0, "bytes": 0}
    started = time.perf_counter()

    def tap(joined: Joined) -> None:
        found = _status_counts(joined.batch.column("gz_status"))
        for status, count in found.items():
            counts[status] += count
        done["rows"] += joined.batch.num_rows
        log.debug("batch of %d rows (%s); %d rows so far", joined.batch.num_rows, found, done["rows"])
        if on_batch is not None:
            on_batch(done["rows"], opened.done(), opened.total)

    # three stages overlap: reading (this thread's helpers), attribution, writing (here)
    joined = join_batches(in_background(opened.batches, name="gzspatial-read"), plan, opened.schema,
                          dictionary=parquet)  # fmt: skip
    if geometry is not None and to_csv:  # geometries as WKT text in a CSV, as geopandas writes them
        schema, joined = _as_wkt(joined, schema, geometry.column)
    # an online geocoder (its SQLite cache and HTTP session) stays in this thread; it is rate-bound anyway
    stream = in_background(joined, name="gzspatial-join") if geocoder is None else joined
    try:
        if to_csv:
            write_csv(stream, schema, output, excel_bom=excel_bom, excel_safe=excel_safe, tap=tap)
        elif parquet:
            write_parquet(stream, schema, output, tap=tap, geometry=geometry)
        else:
            write_gdal(stream, schema, output, tap=tap, geometry=geometry)
    finally:
        if isinstance(stream, Generator):
            stream.close()  # stops the stages (an error or SIGINT while writing)
        opened.close()
    elapsed = time.perf_counter() - started
    log.info("joined %d rows in %.2f s (%.0f rows/s)", done["rows"], elapsed, done["rows"] / max(elapsed, 1e-9))
    return counts


def _as_wkt(stream: Iterator[Joined], schema: pa.Schema, column: str) -> tuple[pa.Schema, Iterator[Joined]]:
    """The joined batches with the WKB ``column`` as WKT text (null stays null)."""
    import pyarrow as pa
    import shapely

    index = schema.get_field_index(column)
    out = schema.set(index, pa.field(column, pa.string()))

    def batches() -> Iterator[Joined]:
        for joined in stream:
            wkb = joined.batch.column(index).to_numpy(zero_copy_only=False)
            geometries = shapely.from_wkb(wkb, on_invalid="ignore")  # unreadable: an empty cell (the row is flagged)
            wkt = pa.array(shapely.to_wkt(geometries, rounding_precision=-1), type=pa.string())
            batch = pa.RecordBatch.from_arrays([*joined.batch.columns[:index], wkt, *joined.batch.columns[index + 1 :]],
                                               schema=out)  # fmt: skip
            yield replace(joined, batch=batch)

    return out, batches()


def _status_counts(status) -> dict[str, int]:
    import pyarrow.compute as pc

    found = pc.value_counts(status).to_pylist()
    return {item["values"]: item["counts"] for item in found}


def _join_via_frame(source, output, *, lon, lat, options, encoding, delimiter, sheet, layer, excel_bom,
                    excel_safe, address, geocoder) -> dict[str, int]:  # fmt: skip
    """Inputs or outputs that are whole tables (Excel, GIS, GeoParquet): read a frame, join, write."""
    from gzspatial import io
    from gzspatial.attribute import join_frame

    frame = io.read_input(source, encoding=encoding, sheet=sheet, layer=layer, delimiter=delimiter)
    suffix = "" if str(output) == "-" else Path(output).suffix.lower()
    if suffix == ".xlsx":  # refuse before the join, not after it
        from gzspatial.excel import check_rows

        check_rows(len(frame))
    joined, w_lon, w_lat = join_frame(frame, lon=lon, lat=lat, options=options, address=address, geocoder=geocoder)
    io.write_output(joined, output, lon=w_lon, lat=w_lat, excel_bom=excel_bom, excel_safe=excel_safe)
    return status_counts(joined["gz_status"].to_numpy())
