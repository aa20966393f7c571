"""Batch attribution: attach every row of a table to the layout (district, core, nodes, axis).

``join`` keeps every input row, in order, with its columns unchanged, and appends the ``gz_*``
columns below. Rows whose coordinates cannot be used are kept and flagged in ``gz_status`` and
``gz_note``; nothing is dropped. Containment counts a point on a boundary as inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gzspatial import crs as _crs
from gzspatial._engine import DEFAULT_CORRIDOR_KM, Attribution, LayoutIndex, layout_index
from gzspatial._errors import CoordinateError, InputError
from gzspatial._validate import (
    STATUS_OK,
    STATUS_OUTSIDE,
    STATUS_SWAPPED,
    STATUSES,
    check_points,
    parse_degrees,
)

GZ_COLUMNS = (
    "gz_district",
    "gz_district_code",
    "gz_core",
    "gz_core_part",
    "gz_nodes",
    "gz_primary_node",
    "gz_node_group",
    "gz_on_axis",
    "gz_axis_section",
    "gz_axis_distance_m",
    "gz_nearest_node",
    "gz_nearest_node_m",
    "gz_subdistrict",
    "gz_status",
    "gz_note",
)
LANGS = ("zh", "en")


@dataclass(frozen=True)
class Options:
    """What a join needs besides the data (shared by the DataFrame and file paths)."""

    crs: str = _crs.WGS84
    corridor_km: float = DEFAULT_CORRIDOR_KM
    lang: str = "zh"
    layers: str | Path | None = None
    overwrite_gz: bool = False

    def checked(self) -> Options:
        if self.lang not in LANGS:
            raise InputError(f"language {self.lang!r} is not supported: use zh or en")
        if not self.corridor_km >= 0:
            raise CoordinateError(f"corridor half-width {self.corridor_km!r} km must be a number >= 0")
        return Options(_crs.normalize_crs(self.crs), float(self.corridor_km), self.lang, self.layers, self.overwrite_gz)


def check_gz_columns(columns, overwrite: bool) -> list[str]:
    """The input's own gz_* columns: an error unless ``overwrite`` (then they are replaced)."""
    existing = [c for c in map(str, columns) if c.startswith("gz_")]
    if existing and not overwrite:
        raise InputError(
            f"input already has gz_ column(s) {', '.join(existing)}: rename them, or pass --overwrite-gz "
            "(overwrite_gz=True) to replace them"
        )
    return existing


class _Labels:
    """Name lookups per layer in the chosen language (index -1 gives '')."""

    def __init__(self, index: LayoutIndex, lang: str):
        key = f"name_{lang}"

        def names(layer, field=key):
            return np.array([*(p.get(field) or "" for p in layer.properties), ""], dtype=object)

        self.district = names(index.districts.layer)
        self.district_code = np.array([*index.districts.layer.column("adcode"), ""], dtype=object)
        cores = index.cores.layer if index.cores is not None else None
        self.core = names(cores, f"core_name_{lang}") if cores else np.array([""], dtype=object)
        if cores is not None:
            parts = [p.get("part") or "" for p in cores.properties]
            if lang == "en":
                parts = [(p.get("name_en") or "").split(" — ")[-1] if p.get("part") else "" for p in cores.properties]
            self.core_part = np.array([*parts, ""], dtype=object)
        else:
            self.core_part = np.array([""], dtype=object)
        nodes = index.nodes.layer if index.nodes is not None else None
        self.node = names(nodes) if nodes else np.array([""], dtype=object)
        self.group = np.array([*(nodes.column("group") if nodes else []), ""], dtype=object)
        self.axis = names(index.axis) if index.axis is not None else np.array([""], dtype=object)


@dataclass(frozen=True)
class Coded:
    """A text column as codes into a small table of distinct values (-1: empty text).

    Millions of rows share a few dozen names; building the text once per distinct value and
    taking it by code (pyarrow) is far cheaper than millions of Python strings.
    """

    categories: np.ndarray  # object array of str
    codes: np.ndarray  # int64, -1 for ''

    @classmethod
    def sparse(cls, texts: dict[int, str], n: int, *, default_mask: np.ndarray, default: str) -> Coded:
        """n rows: ``texts`` at their rows, ``default`` where ``default_mask``, '' elsewhere."""
        import pandas as pd

        codes = np.where(default_mask, 0, -1).astype(np.int64)
        found, categories = pd.factorize(np.array(list(texts.values()), dtype=object))
        codes[list(texts)] = found + 1
        return cls(np.array([default, *categories], dtype=object), codes)

    def unique(self) -> Coded:
        """The same column with distinct categories ('' and repeats merged)."""
        import pandas as pd

        remap, categories = pd.factorize(np.append(self.categories, ""))
        empty = remap[-1]
        codes = np.where(self.codes < 0, empty, remap[self.codes])
        keep = np.asarray(categories, dtype=object)
        return Coded(keep, codes)

    def to_arrow(self):
        import pyarrow as pa

        table = pa.array([*self.categories, ""], type=pa.string())
        return table.take(pa.array(np.where(self.codes < 0, len(self.categories), self.codes)))

    def to_pandas(self):
        """A pandas Categorical (the few distinct names of millions of rows stored once)."""
        import pandas as pd

        unique = self.unique()
        return pd.Categorical.from_codes(unique.codes, categories=unique.categories)

    def to_numpy(self) -> np.ndarray:
        return np.append(self.categories, "").astype(object)[self.codes]


def _named(names: np.ndarray, index: np.ndarray) -> Coded:
    """Names (last entry '') taken by feature index (-1: none)."""
    return Coded(names[:-1], index)


def _node_lists(matrix: np.ndarray, node_names: np.ndarray) -> Coded:
    """';'-joined node names per row of a (n, k) node-index matrix (-1 padded)."""
    import pandas as pd

    # One integer per distinct node list, then one string per distinct list.
    base = matrix.max(initial=0) + 2
    key = np.zeros(len(matrix), dtype=np.int64)
    for column in range(matrix.shape[1]):
        key = key * base + (matrix[:, column] + 1)
    codes, uniques = pd.factorize(key)
    first_row = np.zeros(len(uniques), dtype=np.int64)
    first_row[codes[::-1]] = np.arange(len(codes))[::-1]
    texts = [";".join(node_names[i] for i in matrix[row] if i >= 0) for row in first_row]
    return Coded(np.array(texts, dtype=object), codes)


def gz_columns(attribution: Attribution, checked, index: LayoutIndex, options: Options) -> dict:
    """The gz_* columns (in GZ_COLUMNS order): Coded text, or numpy arrays for numbers and flags."""
    labels = _Labels(index, options.lang)
    m = attribution.membership
    usable = ~np.isnan(attribution.axis_distance_m) | ~np.isnan(attribution.nearest_node_m)
    code = {status: np.int8(i) for i, status in enumerate(STATUSES)}
    status = checked.status_code.copy()
    notes = dict(checked.notes)
    outside = ~m.in_city & ((status == code[STATUS_OK]) | (status == code[STATUS_SWAPPED])) & usable
    for index in np.flatnonzero(outside & (status == code[STATUS_SWAPPED])).tolist():
        notes[index] += "; outside Guangzhou"
    note = Coded.sparse(
        notes, len(status), default_mask=outside & (status == code[STATUS_OK]), default="outside Guangzhou"
    )
    status[outside] = code[STATUS_OUTSIDE]
    on_axis = attribution.axis_distance_m <= options.corridor_km * 1000
    primary = m.nodes[:, 0]
    return {
        "gz_district": _named(labels.district, m.district),
        "gz_district_code": _named(labels.district_code, m.district),
        "gz_core": _named(labels.core, m.core),
        "gz_core_part": _named(labels.core_part, m.core),
        "gz_nodes": _node_lists(m.nodes, labels.node),
        "gz_primary_node": _named(labels.node, primary),
        "gz_node_group": _named(labels.group, primary),
        "gz_on_axis": np.ma.masked_array(on_axis, mask=np.isnan(attribution.axis_distance_m)),
        "gz_axis_section": _named(labels.axis, np.where(on_axis, attribution.axis_section, -1)),
        "gz_axis_distance_m": np.round(attribution.axis_distance_m, 1),
        "gz_nearest_node": _named(labels.node, attribution.nearest_node),
        "gz_nearest_node_m": np.round(attribution.nearest_node_m, 1),
        "gz_subdistrict": Coded(np.array([], dtype=object), np.full(len(status), -1, dtype=np.int64)),
        "gz_status": Coded(np.array(STATUSES, dtype=object), status.astype(np.int64)),
        "gz_note": note,
    }


def attribute_coordinates(lon_values, lat_values, options: Options, *, method: str = "auto", row_problems=None):
    """gz_* columns for raw coordinate columns (numbers or text) in ``options.crs``.

    ``row_problems`` ({row: reason}) marks rows invalid for reasons found before (e.g. an invalid
    geometry). Returns (columns, WGS84 lon, WGS84 lat); coordinates are NaN where unusable.
    """
    lon, lon_problems = parse_degrees(lon_values)
    lat, lat_problems = parse_degrees(lat_values)
    checked = check_points(
        lon,
        lat,
        geographic=_crs.is_geographic(options.crs),
        lon_problems=lon_problems,
        lat_problems=lat_problems,
        row_problems=row_problems,
    )
    w_lon, w_lat = _crs.transform(checked.lon, checked.lat, options.crs, _crs.WGS84)
    index = layout_index(options.layers)
    attribution = index.attribute(np.asarray(w_lon), np.asarray(w_lat), method=method)
    return gz_columns(attribution, checked, index, options), np.asarray(w_lon), np.asarray(w_lat)


def _frame_points(data, lon: str | None, lat: str | None):
    """The coordinate source of a DataFrame/GeoDataFrame: (lon values, lat values, crs, problems)."""
    from gzspatial.io import find_coordinate_columns, geometry_coordinates

    geometry = getattr(data, "_geometry_column_name", None)
    if geometry is not None and lon is None and lat is None and geometry in data.columns:
        return geometry_coordinates(data)
    lon_col, lat_col = find_coordinate_columns(data.columns, lon, lat)
    return data[lon_col].to_numpy(), data[lat_col].to_numpy(), None, {}


def resolve_crs(declared: str | None, given: str | None) -> str:
    """The CRS to use: the file's declared one, ``given`` (--crs), which must agree; default WGS84."""
    given_n = None if given is None else _crs.normalize_crs(given)
    if declared is not None and given_n is not None and declared != given_n:
        raise InputError(
            f"the input declares its CRS as {declared} but --crs says {given_n}: drop --crs, or fix the file's CRS"
        )
    return declared or given_n or _crs.WGS84


def join_frame(data, *, lon=None, lat=None, crs=None, options: Options | None = None, address=None, geocoder=None):
    """``join`` plus the WGS84 coordinates used (NaN where unusable), for writers of geo formats.

    ``address=False``: rows are never placed by address (for maps, which need points).
    """
    from gzspatial.address import address_candidates

    options = options or Options()
    existing = check_gz_columns(data.columns, options.overwrite_gz)
    candidates = [] if address is False else address_candidates(data.columns, address)
    coordinates = True
    try:
        x, y, declared, problems = _frame_points(data, lon, lat)
    except InputError:  # no coordinate columns: rows may still be placed by their address
        if not candidates or lon is not None or lat is not None:
            raise
        x = y = np.full(len(data), None, dtype=object)
        declared, problems, coordinates = None, {}, False
    options = Options(
        resolve_crs(declared, crs), options.corridor_km, options.lang, options.layers, options.overwrite_gz
    ).checked()
    columns, w_lon, w_lat = attribute_coordinates(x, y, options, row_problems=problems)
    if candidates or geocoder is not None:
        values = data[candidates[0]].to_numpy() if candidates else None
        columns, w_lon, w_lat = _address_hook(columns, w_lon, w_lat, values, candidates, options, coordinates, geocoder)
    out = data.drop(columns=existing) if existing else data.copy()
    for name, values in columns.items():
        out[name] = _to_pandas(values)
    return out, w_lon, w_lat


def join(
    data,
    *,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | None = None,
    layers: str | Path | None = None,
    corridor_km: float = DEFAULT_CORRIDOR_KM,
    lang: str = "zh",
    overwrite_gz: bool = False,
    address: str | None = None,
    geocoder=None,
):
    """Attribute every row of a DataFrame (lon/lat columns) or GeoDataFrame (its geometry).

    Returns a new frame: the input's columns unchanged and in order, then GZ_COLUMNS.
    ``crs`` is the coordinates' system (wgs84, cgcs2000, gcj02, bd09, EPSG:n; default wgs84);
    a GeoDataFrame's own CRS is used when set and must agree with ``crs``. Columns are found by
    name (lon/lng/经度, lat/纬度…) unless ``lon``/``lat`` name them. Distances are metres (EPSG:4547).
    Rows without usable coordinates are placed by their ``address`` column (default: found by
    name, 地址/注册地址/…), offline or with a ``geocoder`` (:class:`gzspatial.geocode.Geocoder`).
    """
    options = Options(corridor_km=corridor_km, lang=lang, layers=layers, overwrite_gz=overwrite_gz)
    return join_frame(data, lon=lon, lat=lat, crs=crs, options=options, address=address, geocoder=geocoder)[0]


def _address_hook(columns, w_lon, w_lat, values, candidates, options, coordinates, geocoder):
    """Rows without usable coordinates answered from their address (see gzspatial.address)."""
    from gzspatial.address import fill_from_addresses

    return fill_from_addresses(columns, w_lon, w_lat, values, candidates, options=options,
                               coordinates=coordinates, geocoder=geocoder)  # fmt: skip


def status_counts(status) -> dict[str, int]:
    """Rows per gz_status (a Coded column or an array of text), in STATUSES order, zeros included."""
    values = status.to_numpy() if isinstance(status, Coded) else np.asarray(status, dtype=object)
    found, counts = np.unique(values.astype(str), return_counts=True)
    found = dict(zip(found, counts.tolist(), strict=True))
    return {s: found.get(s, 0) for s in STATUSES}


def _to_pandas(values):
    import pandas as pd

    if isinstance(values, Coded):
        return values.to_pandas()
    if isinstance(values, np.ma.MaskedArray):
        return pd.arrays.BooleanArray(np.asarray(values.data, dtype=bool), np.ma.getmaskarray(values))
    return values


def _to_arrow(values):
    import pyarrow as pa

    if isinstance(values, Coded):
        return values.to_arrow()
    if isinstance(values, np.ma.MaskedArray):
        return pa.array(np.asarray(values.data, dtype=bool), mask=np.ma.getmaskarray(values))
    return pa.array(values, from_pandas=True)


# --- streaming CSV -> CSV (bounded memory for tens of millions of rows) -----------------------

_GZ_TYPES = {"gz_on_axis": "bool_", "gz_axis_distance_m": "float64", "gz_nearest_node_m": "float64",
             "gz_geocode_score": "float64", "gz_geocode_lon": "float64", "gz_geocode_lat": "float64"}  # fmt: skip


def join_csv(
    source: str | Path,
    output: str | Path,
    *,
    lon: str | None = None,
    lat: str | None = None,
    encoding: str | None = None,
    excel_bom: bool = False,
    options: Options | None = None,
    on_batch=None,
    address: str | None = None,
    geocoder=None,
) -> dict[str, int]:
    """Stream a CSV through the join into a CSV (UTF-8), batch by batch; returns status counts.

    Every cell is read as text and written back unchanged (strings are written quoted).
    ``on_batch(rows_done, bytes_done)`` is called after each batch (for progress display).
    Written atomically unless ``output`` is ``-`` (stdout).
    """
    import io as _io
    import sys

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from gzspatial.address import address_candidates
    from gzspatial.geocode import GEOCODE_COLUMNS
    from gzspatial.io import atomic_output, detect_encoding, detect_file_encoding, find_coordinate_columns

    options = (options or Options()).checked()
    if str(source) == "-":
        data = sys.stdin.buffer.read()
        if not data.strip():
            raise InputError("<stdin> is empty: expected a header row with coordinate columns")
        encoding = encoding or detect_encoding(data)
        stream, size = _io.BytesIO(data), len(data)
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"input file {str(path)!r} not found")
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        if not head.strip():
            raise InputError(f"{path} is empty: expected a header row with coordinate columns")
        encoding = encoding or detect_file_encoding(path)
        stream = path
    reader = _open_csv_as_text(stream, encoding, "\t" if str(source).endswith(".tsv") else ",", source)
    names = reader.schema.names
    existing = check_gz_columns(names, options.overwrite_gz)
    candidates = address_candidates(names, address)
    try:
        lon_col, lat_col = find_coordinate_columns(names, lon, lat)
    except InputError:  # no coordinate columns: rows may still be placed by their address
        if not candidates or lon is not None or lat is not None:
            raise
        lon_col = lat_col = None
    keep = [i for i, name in enumerate(names) if name not in existing]
    extra = GEOCODE_COLUMNS if geocoder is not None else ()
    schema = pa.schema(
        [reader.schema.field(i) for i in keep]
        + [pa.field(n, getattr(pa, _GZ_TYPES.get(n, "string"))()) for n in (*GZ_COLUMNS, *extra)]
    )
    counts = dict.fromkeys(STATUSES, 0)
    rows = 0

    def write(handle):
        nonlocal rows
        if excel_bom:
            handle.write("\ufeff".encode())
        writer = pacsv.CSVWriter(handle, schema)
        try:
            for batch in reader:
                blank = np.full(batch.num_rows, None, dtype=object)
                x, y = (blank, blank) if lon_col is None else (batch.column(lon_col), batch.column(lat_col))
                columns, w_lon, w_lat = attribute_coordinates(x, y, options)
                if candidates or geocoder is not None:
                    values = batch.column(candidates[0]).to_pylist() if candidates else None
                    columns, _, _ = _address_hook(
                        columns, w_lon, w_lat, values, candidates, options, lon_col is not None, geocoder
                    )
                for status, count in status_counts(columns["gz_status"]).items():
                    counts[status] += count
                gz = [_to_arrow(values) for values in columns.values()]
                out = pa.RecordBatch.from_arrays([batch.column(i) for i in keep] + gz, schema=schema)
                writer.write_batch(out)
                rows += batch.num_rows
                if on_batch is not None:
                    on_batch(rows, size)
        except pa.ArrowInvalid as exc:
            raise InputError(f"{source} is not a well-formed CSV after row {rows}: {exc}") from None
        finally:
            writer.close()

    if str(output) == "-":
        write(sys.stdout.buffer)
    else:
        with atomic_output(Path(output), "wb") as handle:
            write(handle)
    return counts


def _open_csv_as_text(stream, encoding: str, delimiter: str, source):
    """A pyarrow CSV batch reader that reads every column as text (cells kept verbatim)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from gzspatial.io import BATCH_BYTES

    pa_encoding = "utf8" if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig") else encoding

    def open_with(column_types):
        if hasattr(stream, "seek"):
            stream.seek(0)
        return pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(encoding=pa_encoding, block_size=BATCH_BYTES),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=column_types, strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )

    try:
        names = open_with({}).schema.names  # first block only: the header
        return open_with(dict.fromkeys(names, pa.string()))
    except (pa.ArrowInvalid, LookupError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{source} is not a readable CSV ({encoding}): {str(exc).splitlines()[0]}; give the right --encoding"
        ) from None
