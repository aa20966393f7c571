"""Import official boundaries (any GDAL vector format, any CRS) as a gzspatial layer marked ``official``.

``import_layer`` reads a Shapefile/GeoPackage/DXF/GeoJSON…, reprojects it to WGS84, matches its
features to the layout's ids by id, name or alias (or an explicit ``--map`` CSV), validates the
result (valid geometry — never repaired —, plausible location, every layout feature present, the
layer schema) and writes ``<kind>.geojson`` into a layer folder usable as ``--layers``/``GZ_LAYERS``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from gzspatial import crs as _crs
from gzspatial._errors import CoordinateError, LayerError
from gzspatial.i18n import _
from gzspatial.io import dbf_encoding
from gzspatial.layers import packaged_layers_dir, read_layer
from gzspatial.schema import GEOMETRY_TYPES, property_problems

#: Layer kinds that can be imported (the city outline is the sum of the districts).
KINDS = ("cores", "nodes", "axis", "districts", "platforms")
#: Column names taken as the feature name when --name-field is not given (case-insensitive).
NAME_FIELDS = ("名称", "名字", "name", "name_zh", "mc", "zone_name", "片区名称", "节点名称", "平台名称")
#: Column names taken as the feature's layout id when --id-field is not given (case-insensitive).
ID_FIELDS = ("layout_id", "gz_id")
#: How far (km) outside Guangzhou's outline a feature may lie and still be plausible.
PLAUSIBLE_KM = 10.0
#: An imported feature farther than this (km) from the packaged one it replaces is noted (a wrong match?).
NOTE_MOVED_KM = 2.0
#: In a --map CSV, this layout id means "leave this user feature out on purpose".
SKIP = "-"


@dataclass
class ImportReport:
    """What an import did: matches, the features left out and where the layer was written."""

    kind: str
    source: str
    crs: str
    output: Path | None = None
    matched: list[tuple[str, str]] = field(default_factory=list)  # (user value, layout id)
    skipped: list[str] = field(default_factory=list)  # user values mapped to "-"
    merged: dict[str, int] = field(default_factory=dict)  # layout id -> user features united
    kept_packaged: list[str] = field(default_factory=list)  # layout ids missing, packaged copy kept
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as short lines for stderr."""
        matched = _("{kind}: {n} feature(s) matched from {source} ({crs})")
        lines = [matched.format(kind=self.kind, n=len(self.matched), source=self.source, crs=self.crs)]
        lines += [f"  {user} -> {layout_id}" for user, layout_id in self.matched]
        if self.skipped:
            lines.append(_("  left out (--map '-'): {ids}").format(ids=", ".join(self.skipped)))
        united = _("  {layout_id}: {n} features united into one")
        lines += [united.format(layout_id=layout_id, n=n) for layout_id, n in self.merged.items()]
        if self.kept_packaged:
            lines.append(_("  kept packaged (not official): {ids}").format(ids=", ".join(self.kept_packaged)))
        lines += [_("  note: {note}").format(note=note) for note in self.notes]
        if self.output is not None:
            lines.append(_("wrote {output}").format(output=self.output))
        return lines


def import_layer(
    source: str | Path,
    kind: str,
    output_dir: str | Path,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    mapping: str | Path | None = None,
    keep_missing: bool = False,
    today: _dt.date | None = None,
) -> ImportReport:
    """Import ``source`` as layer ``kind`` into ``output_dir``/``<kind>.geojson`` (WGS84, ``precision: official``).

    Parameters
    ----------
    source : str or Path
        A vector file GDAL reads (GeoPackage, Shapefile, GeoJSON…); never modified.
    kind : str
        The layout layer it replaces (see ``KINDS``, e.g. ``"cores"`` or ``"nodes"``).
    output_dir : str or Path
        Folder for ``<kind>.geojson`` (not the packaged layers folder); use it as ``--layers``.
    crs : str, optional
        The file's CRS when it declares none (EPSG code, WKT or PROJ string); one it declares
        must agree.
    encoding : str, optional
        Attribute encoding; a Shapefile without .cpg has its .dbf encoding detected.
    layer : str, optional
        The layer to read from a file that holds several.
    id_field, name_field : str, optional
        Fields holding the layout id and the name used to match features to the layout.
    mapping : str or Path, optional
        CSV of ``user_value,layout_id`` pairs (``-`` leaves a feature out).
    keep_missing : bool, default False
        Keep the packaged feature for layout ids the file lacks (else an error).
    today : datetime.date, optional
        Import date written to the features (default: today).

    Returns
    -------
    ImportReport
        What was matched, skipped and kept, and where the layer was written.

    Raises
    ------
    LayerError
        Naming every problem; nothing is written unless the whole layer is valid.

    Examples
    --------
    >>> from gzspatial import import_layer
    >>> report = import_layer("cores_official.gpkg", "cores", "my_layers", id_field="id")  # doctest: +SKIP
    >>> report.matched[:1]  # doctest: +SKIP
    [('knowledge-city', 'knowledge-city')]
    """
    if kind not in KINDS:
        raise LayerError(_("cannot import as {kind!r}: use one of {KINDS}").format(kind=kind, KINDS=", ".join(KINDS)))
    source = Path(source)
    output = _output_path(Path(output_dir), kind, source)
    frame = _read_source(source, layer=layer, encoding=encoding)
    src_crs = _source_crs(frame.crs, crs, source)
    reference = read_layer(kind, packaged_layers_dir() / f"{kind}.geojson")
    report = ImportReport(kind, source.name, _crs_label(src_crs))
    geometries = _to_wgs84(_interpret_geometries(frame.geometry.values, kind), src_crs)
    values = _feature_values(frame, id_field, name_field, source)
    assignment = _match(values, reference, _read_mapping(mapping), report)
    features = _build_features(geometries, values, assignment, reference, report, keep_missing, today)
    _validate(features, kind, source)
    from gzspatial._geojson import write_feature_collection

    metadata = {
        "source": f"official boundaries imported from {source.name} with gzspatial layers import",
        "precision": "official: imported boundaries (features kept from the packaged layer say so in 'precision')",
        "imported_from": str(source.resolve()),
        "import_crs": report.crs,
        "import_crs_wkt": src_crs.to_wkt(),
        "generated": (today or _dt.date.today()).isoformat(),
        "script": "gzspatial layers import",
    }
    write_feature_collection(output, features, name=kind, metadata=metadata)
    read_layer(kind, output)  # the written file passes the same validation every reader applies
    report.output = output
    return report


# --- reading ------------------------------------------------------------------------------


def _output_path(folder: Path, kind: str, source: Path) -> Path:
    if folder.exists() and not folder.is_dir():
        raise LayerError(_("-o {folder!r} is a file: give a folder for the layer set").format(folder=str(folder)))
    if folder.resolve() == packaged_layers_dir().resolve():
        raise LayerError(
            _("-o names the packaged layers folder: give your own folder (the packaged data is not replaced)")
        )
    output = folder / f"{kind}.geojson"
    if output.resolve() == source.resolve():
        raise LayerError(_("-o would overwrite the input {source}: give another folder").format(source=source))
    return output


def _read_source(path: Path, *, layer: str | None, encoding: str | None):
    """The file as a GeoDataFrame; GeoPackages with several layers need ``layer``; a Shapefile
    without .cpg gets its .dbf encoding detected (UTF-8, else GB18030) like a CSV's."""
    import geopandas
    import pyogrio

    if not path.exists():
        raise LayerError(_("input {path!r} not found").format(path=str(path)))
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise LayerError(
            _("{path} is not a vector file GDAL reads: {exc}").format(path=path, exc=str(exc).splitlines()[0])
        ) from None
    names = [str(name) for name, _ in layers]
    if layer is None and len(names) > 1:
        raise LayerError(
            _("{path} holds {n_names} layers ({names}): choose one with --layer").format(
                path=path, n_names=len(names), names=", ".join(names)
            )
        )
    if layer is not None and layer not in names:
        raise LayerError(
            _("{path} has no layer {layer!r}; its layers are: {names}").format(
                path=path, layer=layer, names=", ".join(names)
            )
        )
    if encoding is None and path.suffix.lower() == ".shp":
        encoding = dbf_encoding(path)  # None when a .cpg says it (GDAL reads that) or the text is ASCII
    try:
        frame = geopandas.read_file(path, layer=layer, encoding=encoding)  # None: the reader's default
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, LookupError) as exc:
        raise LayerError(_("{path} cannot be read: {exc}").format(path=path, exc=str(exc).splitlines()[0])) from None
    if len(frame) == 0:
        raise LayerError(_("{path} has no features").format(path=path))
    return frame


def _source_crs(declared, given: str | None, path: Path):
    """The file's CRS (a pyproj CRS): declared by the file, or --crs; both must agree."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    chosen = None
    if given is not None:
        text = given.strip()
        with contextlib.suppress(CoordinateError):
            text = _crs.normalize_crs(text)  # names and aliases (cgcs2000, 4547…) -> EPSG:n
        if text in (_crs.GCJ02, _crs.BD09):
            raise LayerError(
                _("--crs {given}: boundaries in {text} are not importable; convert them to WGS84 first").format(
                    given=given, text=text
                )
            )
        try:
            chosen = CRS.from_user_input(text)
        except CRSError as exc:
            raise LayerError(
                _("--crs {given!r} is not a CRS pyproj knows ({exc}): give EPSG:n, WKT or a PROJ string").format(
                    given=given, exc=str(exc).splitlines()[0]
                )
            ) from None
    if declared is None and chosen is None:
        raise LayerError(
            _(
                "{path} declares no CRS: give --crs (e.g. EPSG:4547 for CGCS2000 / 3-degree Gauss-Kruger CM "
                "114E, EPSG:4326 for lon/lat, or a PROJ string for a local system)"
            ).format(path=path)
        )
    if declared is not None and chosen is not None and not CRS(declared).equals(chosen, ignore_axis_order=True):
        raise LayerError(
            _("{path} declares {declared} but --crs says {chosen}: drop --crs, or fix the file's CRS (.prj)").format(
                path=path, declared=_crs_label(CRS(declared)), chosen=_crs_label(chosen)
            )
        )
    return chosen if chosen is not None else CRS(declared)


def _crs_label(crs) -> str:
    """EPSG:n, else the PROJ string (short, exact for the Gauss-Kruger/tmerc systems used here);
    the full WKT goes into the layer's metadata."""
    import warnings

    epsg = crs.to_epsg()
    if epsg:
        return f"EPSG:{epsg}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "may lose information": the WKT is kept too
        proj = crs.to_proj4()
    return proj if crs.name in ("unknown", "") else f"{crs.name} ({proj})"


def _interpret_geometries(geometries: np.ndarray, kind: str) -> np.ndarray:
    """CAD drawings (DXF) give closed polylines as lines: read closed rings as polygons for polygon
    layers. Nothing else is changed (invalid geometry is reported, not repaired)."""
    if "Polygon" not in GEOMETRY_TYPES[kind]:
        return geometries
    out = geometries.copy()
    for i, geometry in enumerate(geometries):
        if geometry is None or geometry.geom_type not in ("LineString", "MultiLineString"):
            continue
        lines = list(getattr(geometry, "geoms", [geometry]))
        if all(line.is_closed and len(line.coords) >= 4 for line in lines):
            polygons = [shapely.Polygon(line.coords) for line in lines]
            out[i] = polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)
    return out


def _to_wgs84(geometries: np.ndarray, src_crs) -> np.ndarray:
    invalid = [i for i, g in enumerate(geometries) if g is not None and not g.is_empty and not shapely.is_valid(g)]
    if invalid:
        reasons = "; ".join(f"feature {i}: {shapely.is_valid_reason(geometries[i])}" for i in invalid)
        raise LayerError(_("invalid geometry ({reasons}): fix it at the source; not repaired").format(reasons=reasons))
    from pyproj import Transformer

    transformer = Transformer.from_crs(src_crs, "EPSG:4326", always_xy=True)
    # types-shapely types only the interleaved=True callback (one (N, 2) array in, one out).
    return shapely.transform(
        np.asarray(geometries, dtype=object),
        transformer.transform,  # type: ignore[arg-type]
        interleaved=False,
    )


def _feature_values(frame, id_field: str | None, name_field: str | None, path: Path) -> list[tuple[str, str]]:
    """(id value, name value) per user feature; '' where the file has no such field."""
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    id_col = _pick_field(columns, id_field, ID_FIELDS, "--id-field", path, required=False)
    name_col = _pick_field(columns, name_field, NAME_FIELDS, "--name-field", path, required=id_col is None)

    def text(column):
        if column is None:
            return [""] * len(frame)
        return ["" if v is None or v != v else unicodedata.normalize("NFKC", str(v)).strip() for v in frame[column]]

    return list(zip(text(id_col), text(name_col), strict=True))


def _pick_field(columns, given, candidates, option, path, *, required: bool) -> str | None:
    if given is not None:
        if given not in columns:
            raise LayerError(
                _("{option} {given!r} is not a field of {path}; its fields are: {columns}").format(
                    option=option, given=given, path=path, columns=", ".join(columns)
                )
            )
        return given
    found = [c for c in columns if c.casefold() in candidates]
    if len(found) > 1:
        raise LayerError(
            _("{path} has several candidate fields ({found}): choose one with {option}").format(
                path=path, found=", ".join(found), option=option
            )
        )
    if not found and required:
        raise LayerError(
            _(
                "{path}: no name field found among {columns}: give --name-field (or --id-field for a field "
                "holding layout ids)"
            ).format(path=path, columns=", ".join(columns) or "no fields")
        )
    return found[0] if found else None


def _read_mapping(mapping: str | Path | None) -> dict[str, str]:
    """The --map CSV as {user value: layout id} (header optional; '-' leaves a feature out)."""
    if mapping is None:
        return {}
    from gzspatial.io import read_table

    frame = read_table(mapping)
    if frame.shape[1] != 2:
        raise LayerError(
            _("--map {mapping}: expected two columns user_value,layout_id; found {shape}").format(
                mapping=mapping, shape=frame.shape[1]
            )
        )
    rows = [tuple(map(str, frame.columns)), *frame.itertuples(index=False, name=None)]
    if rows[0][1].strip().lower() in ("layout_id", "id"):
        rows = rows[1:]
    return {unicodedata.normalize("NFKC", str(u)).strip(): str(v).strip() for u, v in rows}


# --- matching -----------------------------------------------------------------------------


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


def _name_index(reference) -> dict[str, set[str]]:
    """Every id, name, part and alias of the layout features (normalised) -> the ids they name."""
    index: dict[str, set[str]] = {}
    for props in reference.properties:
        names = [props.get("id"), props.get("name_zh"), props.get("name_en"), props.get("adcode"), props.get("part")]
        for name in [*names, props.get("part_en"), *(props.get("aliases") or [])]:
            if name:
                index.setdefault(_key(name), set()).add(props["id"])
    return index


def _match(values, reference, mapping: dict[str, str], report: ImportReport) -> list[str | None]:
    """Layout id per user feature (None: left out via --map); raises on unmatched or ambiguous ones."""
    ids = {p["id"] for p in reference.properties}
    bad_map = sorted({v for v in mapping.values() if v != SKIP and v not in ids})
    if bad_map:
        raise LayerError(
            _("--map names unknown layout ids: {bad_map}; ids are: {ids}").format(
                bad_map=", ".join(bad_map), ids=", ".join(sorted(ids))
            )
        )
    names = _name_index(reference)
    assignment: list[str | None] = []
    unmatched: list[str] = []
    ambiguous: list[str] = []
    for id_value, name_value in values:
        label = name_value or id_value
        mapped = next((mapping[v] for v in (id_value, name_value) if v and v in mapping), None)
        if mapped == SKIP:
            report.skipped.append(label)
            assignment.append(None)
            continue
        if mapped is not None:
            candidates = {mapped}
        elif id_value in ids:
            candidates = {id_value}
        else:
            candidates = names.get(_key(name_value), set()) if name_value else set()
            if not candidates and id_value:
                candidates = names.get(_key(id_value), set())
        if len(candidates) == 1:
            layout_id = next(iter(candidates))
            report.matched.append((label, layout_id))
            assignment.append(layout_id)
        elif candidates:
            ambiguous.append(f"{label!r} ({' or '.join(sorted(candidates))})")
            assignment.append(None)
        else:
            unmatched.append(repr(label))
            assignment.append(None)
    problems = []
    if unmatched:
        problems.append(f"{len(unmatched)} unmatched: {', '.join(unmatched)}")
    if ambiguous:
        problems.append(f"{len(ambiguous)} ambiguous: {', '.join(ambiguous)}")
    if problems:
        raise LayerError(
            _(
                "features not matched to layout ids ({problems}): give --map FILE.csv with user_value,layout_id "
                "pairs ('{SKIP}' to leave one out); ids are: {ids}"
            ).format(problems="; ".join(problems), SKIP=SKIP, ids=", ".join(sorted(ids)))
        )
    return assignment


# --- building and checking ----------------------------------------------------------------


def _build_features(geometries, values, assignment, reference, report, keep_missing, today) -> list[tuple]:
    """(properties, geometry) per layout feature, in the packaged layer's order."""
    by_id: dict[str, list[int]] = {}
    for i, layout_id in enumerate(assignment):
        if layout_id is not None:
            by_id.setdefault(layout_id, []).append(i)
    missing = [p["id"] for p in reference.properties if p["id"] not in by_id]
    if missing and not keep_missing:
        raise LayerError(
            _(
                "{n_missing} layout feature(s) missing from the file: {missing}; map them with --map, or pass "
                "--keep-missing to keep the packaged (approximate) ones"
            ).format(n_missing=len(missing), missing=", ".join(missing))
        )
    date = (today or _dt.date.today()).isoformat()
    features = []
    for props, packaged_geometry in zip(reference.properties, reference.geometries, strict=True):
        rows = by_id.get(props["id"])
        if rows is None:
            report.kept_packaged.append(props["id"])
            features.append((dict(props), packaged_geometry))
            continue
        parts = [geometries[i] for i in rows]
        if any(g is None or g.is_empty for g in parts):
            raise LayerError(_("{id}: the file's feature has no geometry").format(id=props["id"]))
        if len(parts) > 1 and reference.name == "platforms":
            raise LayerError(
                _("{id}: {n_parts} points match one platform: keep one, or use --map").format(
                    id=props["id"], n_parts=len(parts)
                )
            )
        geometry = parts[0] if len(parts) == 1 else shapely.union_all(parts)
        if len(parts) > 1:
            report.merged[props["id"]] = len(parts)
        moved_km = float(shapely.distance(_crs.to_metric(geometry), _crs.to_metric(packaged_geometry))) / 1000
        if moved_km > NOTE_MOVED_KM:
            report.notes.append(f"{props['id']} lies {moved_km:.1f} km from the packaged feature: is the match right?")
        features.append((_official_properties(props, geometry, values, rows, report, date), geometry))
    return features


def _official_properties(props, geometry, values, rows, report, date) -> dict:
    names = "; ".join(sorted({values[i][1] or values[i][0] for i in rows}))
    out = {
        **props,
        "precision": "official",
        "source": f"official boundary imported from {report.source} ({report.crs}) on {date}",
        "location_verified": True,
        "import_source": report.source,
        "import_crs": report.crs,
        "import_date": date,
        "import_name": names or None,
    }
    metric = _crs.to_metric(geometry)
    if "area_km2" in props:
        out["area_km2"] = round(float(shapely.area(metric)) / 1e6, 3)
        if props.get("stated_area_km2"):
            out["area_ratio"] = round(out["area_km2"] / props["stated_area_km2"], 3)
    if "length_km" in props:
        out["length_km"] = round(float(shapely.length(metric)) / 1e3, 3)
    return out


def _validate(features, kind: str, path: Path) -> None:
    """Schema, geometry type and plausible location of every feature; raises listing each problem."""
    city = read_layer("city", packaged_layers_dir() / "city.geojson").geometries[0]
    near_city = shapely.buffer(_crs.to_metric(city), PLAUSIBLE_KM * 1000)
    problems = []
    for props, geometry in features:
        label = props.get("id")
        problems += [f"{label}: {p}" for p in property_problems(kind, props)]
        if geometry.geom_type not in GEOMETRY_TYPES[kind]:
            problems.append(
                f"{label}: geometry type {geometry.geom_type}, expected {' or '.join(GEOMETRY_TYPES[kind])}"
            )
            continue
        if not shapely.is_valid(geometry):
            problems.append(f"{label}: invalid geometry after reprojection: {shapely.is_valid_reason(geometry)}")
        minx, miny, maxx, maxy = geometry.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90) or not shapely.within(
            _crs.to_metric(geometry), near_city
        ):
            lon, lat = geometry.centroid.x, geometry.centroid.y
            problems.append(
                f"{label}: not within {PLAUSIBLE_KM:g} km of Guangzhou (centre {lon:.4f}, {lat:.4f} in WGS84): "
                "is the CRS right?"
            )
    if problems:
        raise LayerError(
            _("{path}: {n} problem(s): {problems}").format(path=path, n=len(problems), problems="; ".join(problems))
        )
