"""Batch attribution: attach every row of a table to the layout (district, core, nodes, axis).

``join`` keeps every input row, in order, with its columns unchanged, and appends the ``gz_*``
columns below. Rows whose coordinates cannot be used are kept and flagged in ``gz_status`` and
``gz_note``; nothing is dropped. Containment counts a point on a boundary as inside.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gzspatial import crs as _crs
from gzspatial import schema
from gzspatial._engine import Attribution, LayoutIndex, layout_index
from gzspatial._errors import CoordinateError, GzError, InputError
from gzspatial._validate import (
    STATUS_INVALID,
    STATUS_OK,
    STATUS_OUTSIDE,
    STATUS_SWAPPED,
    STATUSES,
    check_points,
    parse_degrees,
)
from gzspatial.i18n import Lang, _
from gzspatial.layers import Layer, layers_version
from gzspatial.settings import COMPILED_MIN_POINTS, DEFAULT_CORRIDOR_KM

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

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
    "gz_layers_version",  # which layer set answered (gzspatial.layers.layer_set), same on every row
)
LANGS = tuple(Lang)  # zh, en (gzspatial.i18n)


@dataclass(frozen=True)
class Options:
    """What a join needs besides the data (shared by the DataFrame and file paths)."""

    crs: str | None = None  # None: not given (the data must say, by declared CRS or a 坐标系 column)
    corridor_km: float = DEFAULT_CORRIDOR_KM
    lang: str = "zh"
    layers: str | Path | None = None
    overwrite_gz: bool = False

    def checked(self) -> Options:
        if self.lang not in LANGS:
            raise InputError(_("language {lang!r} is not supported: use zh or en").format(lang=self.lang))
        if not self.corridor_km >= 0:
            raise CoordinateError(
                _("corridor half-width {corridor_km!r} km must be a number >= 0").format(corridor_km=self.corridor_km)
            )
        system = None if self.crs is None else _crs.normalize_crs(self.crs)
        return Options(system, float(self.corridor_km), self.lang, self.layers, self.overwrite_gz)


def check_gz_columns(columns, overwrite: bool) -> list[str]:
    """The input's own gz_* columns: an error unless ``overwrite`` (then they are replaced)."""
    existing = [c for c in map(str, columns) if c.startswith("gz_")]
    if existing and not overwrite:
        raise InputError(
            _(
                "input already has gz_ column(s) {existing}: rename them, or pass --overwrite-gz "
                "(overwrite_gz=True) to replace them"
            ).format(existing=", ".join(existing))
        )
    return existing


class _Labels:
    """Name lookups per layer in the chosen language (index -1 gives '')."""

    @classmethod
    def of(cls, index: LayoutIndex, lang: str) -> _Labels:
        """The labels of a layout index in a language, built once (an index's layers do not change)."""
        cache = index.__dict__.setdefault("_labels", {})
        if lang not in cache:
            cache[lang] = cls(index, lang)
        return cache[lang]

    def __init__(self, index: LayoutIndex, lang: str):
        key = f"name_{lang}"

        def names(layer: Layer, field: str = key) -> np.ndarray:
            return np.array([*(p.get(field) or "" for p in layer.properties), ""], dtype=object)

        self.district = names(index.districts.layer)
        self.district_code = np.array([*index.districts.layer.column("adcode"), ""], dtype=object)
        cores = index.cores.layer if index.cores is not None else None
        core_props = cores.properties if cores is not None else []
        self.core = np.array([*(schema.core_name(p, lang) for p in core_props), ""], dtype=object)
        self.core_part = np.array([*(schema.core_part_name(p, lang) for p in core_props), ""], dtype=object)
        nodes = index.nodes.layer if index.nodes is not None else None
        self.node = names(nodes) if nodes else np.array([""], dtype=object)
        self.group = np.array([*(nodes.column("group") if nodes else []), ""], dtype=object)
        self.axis = names(index.axis) if index.axis is not None else np.array([""], dtype=object)


@dataclass(frozen=True)
class Coded:
    """A text column as codes into a small table of values (-1: empty text).

    Millions of rows share a few dozen names; building the text once per distinct value and
    taking it by code (pyarrow) is far cheaper than millions of Python strings. The table may
    repeat a value (pieces put together); :meth:`compact` makes it distinct.
    """

    categories: np.ndarray  # object array of str
    codes: np.ndarray  # signed integers (a feature index, or int8 once compact), -1 for ''

    @classmethod
    def sparse(cls, texts: dict[int, str], n: int, *, default_mask: np.ndarray, default: str) -> Coded:
        """n rows: ``texts`` at their rows, ``default`` where ``default_mask``, '' elsewhere."""
        import pandas as pd

        kind = _code_type(len(texts) + 1)
        codes = np.where(default_mask, kind(0), kind(-1))
        found, categories = pd.factorize(np.array(list(texts.values()), dtype=object))
        codes[list(texts)] = found + 1
        return cls(np.array([default, *categories], dtype=object), codes)

    def compact(self) -> Coded:
        """The same column with distinct categories, '' among them when a row is empty, and codes
        (none -1) in the smallest integer type: cheap to put together with other pieces (:meth:`aligned`)
        and to hand to pandas (:meth:`to_pandas` takes such codes as they are)."""
        import pandas as pd

        remap, categories = pd.factorize(np.append(self.categories, ""))  # code -1 takes the last entry, ''
        return Coded(np.asarray(categories, dtype=object), remap.astype(_code_type(len(categories)))[self.codes])

    @classmethod
    def aligned(cls, parts: list[Coded]) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """Categories shared by compact ``parts`` (codes never -1) and, per part, the table taking
        its codes to them (None: its codes are theirs already, as for most gz_ columns, whose
        categories are the layers' names in every part)."""
        first = parts[0].categories
        if all(np.array_equal(part.categories, first) for part in parts[1:]):
            return first, [None] * len(parts)
        import pandas as pd

        found, categories = pd.factorize(np.concatenate([part.categories for part in parts]))
        ends = np.cumsum([len(part.categories) for part in parts])
        remaps: list[np.ndarray | None] = list(np.split(found.astype(_code_type(len(categories))), ends[:-1]))
        return np.asarray(categories, dtype=object), remaps

    def to_arrow(self) -> pa.Array:
        import pyarrow as pa

        table = pa.array([*self.categories, ""], type=pa.string())
        return table.take(np.where(self.codes < 0, len(self.categories), self.codes))

    def to_dictionary(self) -> pa.DictionaryArray:
        """The column as an Arrow dictionary array (int32 indices into the distinct texts, '' for
        code -1): no per-row string is built; ``.cast(pa.string())`` equals :meth:`to_arrow`.

        The dictionary holds each text once (a repeated one, '' often, makes the Parquet writer fall
        back to plain text)."""
        import pandas as pd
        import pyarrow as pa

        remap, texts = pd.factorize(np.append(self.categories, ""))  # as compact(), int32 indices
        indices = remap.astype(np.int32)[self.codes]  # code -1 takes the table's last entry, ''
        return pa.DictionaryArray.from_arrays(indices, pa.array(texts, type=pa.string()))

    def to_pandas(self) -> pd.Categorical:
        """A pandas Categorical (the few distinct names of millions of rows stored once)."""
        import pandas as pd

        # as unique(), but one table lookup per row (code -1 takes the table's last entry, ''),
        # codes in the small integer type pandas keeps, and no second validation of the codes;
        # none at all when the codes are already that (a compact() column)
        remap, categories = pd.factorize(np.append(self.categories, ""))
        kind = _code_type(len(categories))
        n = len(self.categories)
        if (
            self.codes.dtype == kind
            and (remap[:n] == np.arange(n)).all()
            and (len(self.codes) == 0 or self.codes.min() >= 0)
        ):
            codes = self.codes
        else:
            codes = remap.astype(kind)[self.codes]
        dtype = pd.CategoricalDtype(pd.Index(categories, dtype=object))
        return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)

    def to_numpy(self) -> np.ndarray:
        return np.append(self.categories, "").astype(object)[self.codes]


def _code_type(categories: int) -> type[np.signedinteger]:
    """The smallest signed integer type for codes 0 .. categories - 1 and -1."""
    return (
        np.int8
        if categories < 127
        else np.int16
        if categories < 32767
        else np.int32
        if categories < 2**31 - 1
        else np.int64
    )


def _named(names: np.ndarray, index: np.ndarray) -> Coded:
    """Names (last entry '') taken by feature index (-1: none)."""
    return Coded(names[:-1], index)


def _node_lists(matrix: np.ndarray, node_names: np.ndarray) -> Coded:
    """';'-joined node names per row of a (n, k) node-index matrix (-1 padded)."""
    # One code per distinct node set (compiled, in one pass, for many rows while the sets' table is
    # small; loading the compiled code costs more than it saves below COMPILED_MIN_POINTS rows), then
    # one string per set.
    base = int(matrix.max(initial=-1)) + 2
    if len(matrix) >= COMPILED_MIN_POINTS and base ** matrix.shape[1] <= 1 << 22:
        from gzspatial._grid import distinct_rows

        codes, first_row = distinct_rows(matrix, base, np.full(base ** matrix.shape[1], -1, dtype=np.int32))
    else:
        import pandas as pd

        key = np.zeros(len(matrix), dtype=np.int64)
        for column in range(matrix.shape[1]):
            key = key * base + (matrix[:, column] + 1)
        codes, uniques = pd.factorize(key)
        first_row = np.zeros(len(uniques), dtype=np.int64)
        first_row[codes[::-1]] = np.arange(len(codes))[::-1]
    texts = [";".join(node_names[i] for i in matrix[row] if i >= 0) for row in first_row]
    return Coded(np.array(texts, dtype=object), codes)


#: gz_note of a point so far from Guangzhou that METRIC_CRS (a 3-degree Gauss-Krüger zone) has no
#: metres for it: its distance columns are left blank rather than filled with meaningless numbers.
FAR_NOTE = "too far from Guangzhou for distances in EPSG:4547 (left blank)"


def gz_columns(attribution: Attribution, checked, index: LayoutIndex, options: Options) -> dict:
    """The gz_* columns (in GZ_COLUMNS order): Coded text, or numpy arrays for numbers and flags."""
    labels = _Labels.of(index, options.lang)
    m = attribution.membership
    code = {status: np.int8(i) for i, status in enumerate(STATUSES)}
    status = checked.status_code.copy()
    notes = dict(checked.notes)
    outside = ~m.in_city & ((status == code[STATUS_OK]) | (status == code[STATUS_SWAPPED]))
    outside_rows = np.flatnonzero(outside)
    for row in outside_rows[status[outside_rows] == code[STATUS_SWAPPED]].tolist():
        notes[row] += "; outside Guangzhou"
    if index.axis is not None or index.nodes is not None:  # a position but no distance: beyond METRIC_CRS
        far = np.isnan(attribution.axis_distance_m[outside_rows]) & np.isnan(attribution.nearest_node_m[outside_rows])
        for row in outside_rows[far].tolist():
            notes[row] = notes.get(row, "outside Guangzhou") + f"; {FAR_NOTE}"
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
        # columns of one value: a read-only view of it for every row (no memory per row)
        "gz_subdistrict": Coded(np.array([], dtype=object), np.broadcast_to(np.int8(-1), len(status))),
        "gz_status": Coded(np.array(STATUSES, dtype=object), status),
        "gz_note": note,
        "gz_layers_version": Coded(
            np.array([layers_version(index.layers)], dtype=object), np.broadcast_to(np.int8(0), len(status))
        ),
    }


CRS_CHOICES = "wgs84, cgcs2000, gcj02 (Amap, Tencent), bd09 (Baidu) or EPSG:<code>"


def attribute_coordinates(
    lon_values, lat_values, options: Options, *, method: str = "auto", row_problems=None, row_crs=None
) -> tuple[dict, np.ndarray, np.ndarray]:
    """gz_* columns for raw coordinate columns (numbers or text) in ``options.crs``.

    ``row_crs`` (one system name per row, e.g. a 坐标系 column) gives each row its own system;
    a blank cell falls back to ``options.crs``. ``row_problems`` ({row: reason}) marks rows
    invalid for reasons found before (e.g. an invalid geometry). Returns (columns, WGS84 lon,
    WGS84 lat); coordinates are NaN where unusable.
    """
    problems = dict(row_problems or {})
    systems, codes = _row_systems(row_crs, options.crs, len(lon_values), problems)
    kinds = {_crs.is_geographic(system) for system in systems}
    if len(kinds) > 1:
        raise InputError(_("the rows mix degrees and projected coordinates (see 坐标系): split the file by system"))
    geographic = kinds.pop() if kinds else True
    axis = ("lon", "lat") if geographic else (None, None)
    lon, lon_problems = parse_degrees(lon_values, axis[0])
    lat, lat_problems = parse_degrees(lat_values, axis[1])
    if not geographic:
        _check_projected(lon, lat, systems, codes, problems)
    # copy=False: parse_degrees' arrays are new, check_points may correct them in place
    checked = check_points(lon, lat, geographic=geographic, lon_problems=lon_problems, lat_problems=lat_problems,
                           row_problems=problems, copy=False)  # fmt: skip
    w_lon, w_lat = _to_wgs84(checked, systems, codes)
    index = layout_index(options.layers)
    attribution = index.attribute(w_lon, w_lat, method=method)
    return gz_columns(attribution, checked, index, options), w_lon, w_lat


def _row_systems(row_crs, given: str | None, n: int, problems: dict) -> tuple[list[str], np.ndarray]:
    """(distinct systems, code per row into them; -1 where unusable, with a reason in ``problems``)."""
    if row_crs is None:
        if given is None:
            raise InputError(
                _("no coordinate system given for the coordinates: give crs ({CRS_CHOICES})").format(
                    CRS_CHOICES=CRS_CHOICES
                )
            )
        return [given], np.zeros(n, dtype=np.int64)
    import pandas as pd

    values = pd.Series(np.asarray(row_crs, dtype=object)).fillna("").astype(str).str.strip()
    found, uniques = pd.factorize(values)
    systems: list[str] = []
    mapping = np.full(len(uniques), -1, dtype=np.int64)
    reasons: dict[int, str] = {}
    for k, value in enumerate(uniques):
        try:
            system = _crs.normalize_crs(value) if value else given
        except GzError:
            reasons[k] = f"坐标系 {value!r} is not a coordinate system (use {CRS_CHOICES})"
            continue
        if system is None:
            reasons[k] = f"坐标系 is blank and no --crs was given (use {CRS_CHOICES})"
        elif given is not None and system != given:
            reasons[k] = f"坐标系 says {system} but --crs says {given}"
        else:
            if system not in systems:
                systems.append(system)
            mapping[k] = systems.index(system)
    codes = mapping[found]
    for k, reason in reasons.items():
        problems.update(dict.fromkeys(np.flatnonzero(found == k).tolist(), reason))
    return systems, codes


def _check_projected(x: np.ndarray, y: np.ndarray, systems, codes, problems: dict) -> None:
    """Rows whose metres lie far outside their CRS's area of use are invalid; all of them: an error."""
    usable = np.isfinite(x) & np.isfinite(y) & (codes >= 0)
    for k, system in enumerate(systems):
        xmin, ymin, xmax, ymax = _crs.plausible_bounds(system)
        rows = usable & (codes == k)
        bad = rows & ~((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
        degrees = rows & (np.abs(x) <= 180) & (np.abs(y) <= 90)
        # every row implausible, or every row within ±180/±90 (metres that small are the CRS's
        # origin, far from Guangzhou, in any projected system): degrees with a metric --crs
        if rows.any() and (bad.sum() == rows.sum() or degrees.sum() == rows.sum()):
            first = int(np.flatnonzero(rows)[0])
            like = _(" (they look like degrees)") if degrees[first] else ""
            raise CoordinateError(
                _(
                    "coordinates such as {x:g}, {y:g} are not {system} metres{like}: give the system they are in "
                    "with --crs ({CRS_CHOICES})"
                ).format(x=x[first], y=y[first], system=system, like=like, CRS_CHOICES=CRS_CHOICES)
            )
        for row in np.flatnonzero(bad).tolist():
            problems[row] = f"{x[row]:g}, {y[row]:g} is far outside the area of {system}"


def _to_wgs84(checked, systems, codes) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees of checked points, each row from its system; out-of-range results are invalid."""
    if systems in ([_crs.WGS84], [_crs.CGCS2000]) and (codes == 0).all():
        # degrees already (CGCS2000 is WGS84 to centimetres: crs.transform's null step), checked
        # to lie within ±180/±90 (else NaN): the checked arrays themselves, no transform
        return checked.lon, checked.lat
    w_lon = np.full(len(checked.lon), np.nan)
    w_lat = np.full(len(checked.lat), np.nan)
    for k, system in enumerate(systems):
        rows = codes == k
        if rows.all():
            w_lon, w_lat = (
                np.asarray(v, dtype=float) for v in _crs.transform(checked.lon, checked.lat, system, _crs.WGS84)
            )
            break
        w_lon[rows], w_lat[rows] = _crs.transform(checked.lon[rows], checked.lat[rows], system, _crs.WGS84)
    bad = (np.abs(w_lat) > 90) | (np.abs(w_lon) > 180)
    if bad.any():
        invalid = STATUSES.index(STATUS_INVALID)
        for row in np.flatnonzero(bad).tolist():
            system = systems[codes[row]] if codes[row] >= 0 else "?"
            checked.notes[row] = f"converted from {system} the point is out of range ({w_lon[row]:g}, {w_lat[row]:g})"
        checked.status_code[bad] = invalid
        w_lon[bad], w_lat[bad] = np.nan, np.nan
    return w_lon, w_lat


def _has_coordinate_column(columns) -> bool:
    """True when some column is named like a coordinate (then its problems are errors, not 'no coordinates')."""
    from gzspatial.io import _name_parts

    return any(_name_parts(str(c))[0] for c in columns)


def _frame_points(data, lon: str | None, lat: str | None):
    """The coordinate source of a DataFrame/GeoDataFrame: (lon values, lat values, declared crs,
    problems, coordinate column names, per-row crs column or None)."""
    from gzspatial.io import find_coordinate_columns, find_crs_column, geometry_coordinates

    geometry = getattr(data, "_geometry_column_name", None)
    if geometry is not None and lon is None and lat is None and geometry in data.columns:
        x, y, declared, problems = geometry_coordinates(data)
        return x, y, declared, problems, (), None
    lon_col, lat_col = find_coordinate_columns(data.columns, lon, lat)
    crs_col = find_crs_column(data.columns)
    row_crs = None if crs_col is None else data[crs_col].to_numpy()
    return data[lon_col].to_numpy(), data[lat_col].to_numpy(), None, {}, (lon_col, lat_col), row_crs


def resolve_crs(
    declared: str | None, given: str | None, columns=(), *, per_row: bool = False, source: str = "the input"
) -> str | None:
    """The CRS to use: the file's declared one, ``given`` (--crs), or the one the coordinate columns'
    names state (gcj_lng); all that are present must agree. None only when ``per_row`` (a 坐标系
    column) will say; with nothing at all, an InputError asks for --crs (never a silent WGS84)."""
    from gzspatial.io import column_system

    given_n = None if given is None else _crs.normalize_crs(given)
    named = {c: stated for c in columns if (stated := column_system(c))}
    if len(set(named.values())) > 1:
        raise InputError(
            _("columns {named} name different systems ({systems}): choose the pair to use with --lon/--lat").format(
                named=", ".join(named), systems=", ".join(named.values())
            )
        )
    if declared is not None and given_n is not None and declared != given_n:
        raise InputError(
            _(
                "the input declares its CRS as {declared} but --crs says {crs}: drop --crs, or fix the file's CRS"
            ).format(declared=declared, crs=given_n)
        )
    for column, stated in named.items():
        if (given_n or declared) not in (None, stated):
            raise InputError(
                _(
                    "column {column!r} names {stated} but {source} {crs}: fix --crs, or choose other columns with "
                    "--lon/--lat"
                ).format(
                    column=column,
                    stated=stated,
                    source=_("--crs says") if given_n else _("the file declares"),
                    crs=given_n or declared,
                )
            )
    system = declared or given_n or next(iter(named.values()), None)
    if system is None and not per_row:
        raise InputError(
            _(
                "{source} does not say which coordinate system its coordinates are in: give --crs "
                "({CRS_CHOICES}), or add a 坐标系 column"
            ).format(source=source, CRS_CHOICES=CRS_CHOICES)
        )
    why = "declared by the file" if declared else "--crs" if given_n else f"column {next(iter(named), '')!r}"
    log.info("%s: coordinates in %s (%s)", source, system or "each row's system", why if system else "per-row column")
    return system


def join_frame(
    data, *, lon=None, lat=None, crs=None, options: Options | None = None, address=None, geocoder=None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``join`` plus the WGS84 coordinates used (NaN where unusable), for writers of geo formats.

    ``address=False``: rows are never placed by address (for maps, which need points).
    """
    from gzspatial.pipeline import make_geometry_plan, make_plan

    options = options or Options()
    if crs is not None:
        options = Options(crs, options.corridor_km, options.lang, options.layers, options.overwrite_gz)
    geometry = getattr(data, "_geometry_column_name", None)
    if geometry is not None and lon is None and lat is None and geometry in data.columns:
        from gzspatial.io import geometry_coordinates

        x, y, declared, problems = geometry_coordinates(data)
        plan = make_geometry_plan(data.columns, geometry, declared, options=options, address=address, geocoder=geocoder)
        return join_planned(data, plan, x=x, y=y, row_problems=problems, coordinates=True)
    plan = make_plan(data.columns, lon=lon, lat=lat, options=options, address=address, geocoder=geocoder)
    return join_planned(data, plan)


def join_planned(
    data, plan, *, x=None, y=None, row_problems=None, coordinates=None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A DataFrame joined by a decided :class:`gzspatial.pipeline.Plan` (also one Dask partition):
    (joined frame, WGS84 lon, WGS84 lat). ``x``/``y``: coordinates already taken from a geometry."""
    from gzspatial.pipeline import join_columns

    if x is None:
        if plan.lon is None:
            x = y = np.full(len(data), None, dtype=object)
        else:
            x, y = _coordinate_cells(data[plan.lon]), _coordinate_cells(data[plan.lat])
    row_crs = None if plan.crs_column is None else data[plan.crs_column].to_numpy()
    addresses = data[plan.address[0]].to_numpy() if plan.address else None
    columns, w_lon, w_lat = join_columns(
        plan, x, y, row_crs=row_crs, addresses=addresses, row_problems=row_problems, coordinates=coordinates
    )
    import pandas as pd

    kept = data.drop(columns=list(plan.dropped)) if plan.dropped else data
    # copy=False: the columns are new arrays of this join's (a copy would only consolidate them)
    gz = pd.DataFrame({name: _to_pandas(values) for name, values in columns.items()}, index=data.index, copy=False)
    # one concat rather than an insert per column (pandas copies or, with copy-on-write, shares the
    # input's columns lazily: the caller's frame is never changed); a GeoDataFrame stays one
    out = pd.concat([kept, gz], axis=1)
    out.attrs = dict(data.attrs)  # e.g. an Excel sheet's name (concat keeps only attrs all its parts share)
    return out, w_lon, w_lat


def _coordinate_cells(column: pd.Series):
    """A frame's coordinate column for parse_degrees: numbers of a nullable dtype (``Float64``,
    ``Int64``, Arrow-backed) as Arrow, where NA is null (a blank cell, as in a CSV), not NaN."""
    import pandas as pd
    import pyarrow as pa

    if isinstance(column.dtype, pd.api.extensions.ExtensionDtype) and column.dtype.kind in "fiu":
        return pa.array(column.array)
    return column.to_numpy()


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
) -> pd.DataFrame:
    """Attribute every row of a DataFrame (lon/lat columns) or GeoDataFrame (its geometry).

    Returns a new frame: the input's columns unchanged and in order, then GZ_COLUMNS.
    ``crs`` is the coordinates' system (wgs84, cgcs2000, gcj02, bd09, EPSG:n). It must be given
    unless the data says: a GeoDataFrame's own CRS, coordinate columns named for a system
    (gcj_lng) or a per-row 坐标系/crs column; whatever is present must agree. Columns are found by
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
    count_of = dict(zip(found.tolist(), counts.tolist(), strict=True))
    return {s: count_of.get(s, 0) for s in STATUSES}


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


# --- CSV -> CSV (kept for callers; the work is in gzspatial.pipeline) ------------------------------


def join_csv(
    source: str | Path,
    output: str | Path,
    *,
    lon: str | None = None,
    lat: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    excel_bom: bool = False,
    options: Options | None = None,
    on_batch=None,
    excel_safe: bool = False,
    address: str | None = None,
    geocoder=None,
) -> dict[str, int]:
    """Stream a CSV through the join into a CSV (UTF-8), batch by batch; returns status counts.

    See :func:`gzspatial.pipeline.join_file` (cells kept as read, strings quoted, .tsv tab-separated,
    ``-`` is stdin/stdout). ``on_batch(rows, done, total)`` is called after each batch.
    """
    from gzspatial.pipeline import join_file

    return join_file(source, output, lon=lon, lat=lat, options=options, encoding=encoding, delimiter=delimiter,
                     excel_bom=excel_bom, excel_safe=excel_safe, address=address, geocoder=geocoder,
                     on_batch=on_batch)  # fmt: skip
