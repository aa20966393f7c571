"""Answer "where is this site in the layout?" for one point, and find features by name.

``locate`` gives district, core (and part), every node holding the point (smallest first), the
axis section with the distance to the axis (m, EPSG:4547) and, when no node holds the point,
the nearest node. ``find`` ranks features whose zh/en name or alias matches a query.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from gzspatial import crs as _crs
from gzspatial import schema
from gzspatial._engine import layout_index
from gzspatial._errors import CoordinateError
from gzspatial._validate import (
    STATUS_INVALID,
    STATUS_MISSING,
    STATUS_OK,
    STATUS_OUTSIDE,
    check_points,
    parse_point,
)
from gzspatial.i18n import _
from gzspatial.layers import layer_set
from gzspatial.settings import DEFAULT_CORRIDOR_KM

#: Version of the ``to_dict()`` / ``--json`` schema; bumped on any incompatible change.
SCHEMA_VERSION = 1


@dataclass
class Location:
    """Where a point lies in the layout. Coordinates are WGS84 degrees, distances metres.

    JSON schema (``to_dict()``, ``gzspatial locate --json``), version 1:
    ``schema``; ``input`` {lon, lat, crs}; ``lon``/``lat`` (WGS84 used); ``status``
    (ok | swapped | outside); ``note``; ``in_guangzhou``; ``district`` {adcode, name_zh, name_en}
    or null; ``core`` {id, core_id, name_zh, name_en, part, part_en} or null; ``nodes`` [{id, name_zh,
    name_en, group, area_km2, precision}] smallest first; ``axis`` {section_id, name_zh, name_en,
    distance_m, on_axis, corridor_km} (the nearest section); ``nearest_node`` {id, name_zh,
    name_en, group, distance_m} or null when a node holds the point; ``layers`` {origin, folder,
    version}: the layer set that answered (added in place, version 1 readers ignore it).
    """

    input: dict
    lon: float
    lat: float
    status: str
    note: str
    in_guangzhou: bool
    district: dict | None
    core: dict | None
    nodes: list[dict] = field(default_factory=list)
    axis: dict | None = None
    nearest_node: dict | None = None
    layers: dict | None = None
    schema: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        """The stable JSON-ready form (see the class docstring)."""
        return asdict(self)


def _pick(props: dict, *keys: str) -> dict:
    return {key: props.get(key) for key in keys}


def locate(
    lon: float | str,
    lat: float | str,
    crs: str = "wgs84",
    *,
    corridor_km: float = DEFAULT_CORRIDOR_KM,
    layers: str | Path | None = None,
) -> Location:
    """Locate one point given in ``crs`` (degrees; text such as DMS is parsed).

    A swapped pair (lat, lon) is corrected and reported.

    Parameters
    ----------
    lon, lat : float or str
        Longitude and latitude in ``crs`` (decimal degrees, or text such as ``113°19'28"E``).
    crs : str, default "wgs84"
        The point's system: wgs84, cgcs2000, gcj02 (Amap, Tencent), bd09 (Baidu) or ``EPSG:<n>``.
    corridor_km : float, default 2.0
        Half-width (km) of the innovation axis corridor: ``axis.on_axis`` within it.
    layers : str or Path, optional
        A folder of replacement layers (see :func:`load_layers`).

    Returns
    -------
    Location
        District, core, nodes (smallest first), nearest axis section and node, status and note;
        ``to_dict()`` gives the JSON form.

    Raises
    ------
    CoordinateError
        Blank, non-numeric or out-of-range input, or a negative corridor.

    Examples
    --------
    >>> import gzspatial
    >>> where = gzspatial.locate(113.3245, 23.1066, crs="gcj02")
    >>> where.status, where.district["name_en"], where.axis["on_axis"]
    ('ok', 'Haizhu', True)
    """
    if not corridor_km >= 0:
        raise CoordinateError(
            _("corridor half-width {corridor_km!r} km must be a number >= 0").format(corridor_km=corridor_km)
        )
    system = _crs.normalize_crs(crs)
    x, y = parse_point(lon, lat)
    _crs.check_plausible(x, y, system)
    checked = check_points([x], [y], geographic=_crs.is_geographic(system))
    if checked.status[0] in (STATUS_INVALID, STATUS_MISSING):
        raise CoordinateError(_("{note}: give longitude then latitude in degrees").format(note=checked.note[0]))
    w_lon, w_lat = _crs.transform(checked.lon, checked.lat, system, _crs.WGS84)
    if not (abs(w_lat[0]) <= 90 and abs(w_lon[0]) <= 180):
        raise CoordinateError(
            _(
                "{x:g}, {y:g} in {system} converts to {w_lon:g}, {w_lat:g}, out of range: check the values and --crs"
            ).format(x=x, y=y, system=system, w_lon=w_lon[0], w_lat=w_lat[0])
        )
    index = layout_index(layers)
    point = np.asarray(shapely.points(w_lon, w_lat), dtype=object)  # one point, an array as the layers take
    status, note = checked.status[0], checked.note[0]
    in_city = bool(index.city.first_containing(point)[0] >= 0)
    if not in_city and status == STATUS_OK:
        status, note = STATUS_OUTSIDE, "outside Guangzhou"

    district_idx = index.districts.first_containing(point)[0]
    district = (
        None
        if district_idx < 0
        else _pick(index.districts.layer.properties[district_idx], "adcode", "name_zh", "name_en")
    )

    core = None
    if index.cores is not None and (core_idx := index.cores.first_containing(point)[0]) >= 0:
        props = index.cores.layer.properties[core_idx]
        core = {
            "id": props["id"],
            "core_id": props["core_id"],
            "name_zh": schema.core_name(props, "zh"),
            "name_en": schema.core_name(props, "en"),
            "part": schema.core_part_name(props, "zh") or None,
            "part_en": schema.core_part_name(props, "en") or None,
        }

    nodes, nearest, axis = [], None, None
    mx, my = _crs.transform(w_lon, w_lat, _crs.WGS84, _crs.METRIC_CRS)
    if index.nodes is not None:
        node_idx = index.nodes.containing_pairs(point)[1]
        nodes = [
            {
                **_pick(index.nodes.layer.properties[i], "id", "name_zh", "name_en", "group", "precision"),
                "area_km2": round(float(index.nodes.area_km2[i]), 3),
            }
            for i in node_idx
        ]
        if not nodes:
            nearest_idx, distance = index.nearest_node(mx, my)
            nearest = {
                **_pick(index.nodes.layer.properties[nearest_idx[0]], "id", "name_zh", "name_en", "group"),
                "distance_m": round(float(distance[0]), 1),
            }
    if index.axis is not None:
        section_idx, distance = index.axis_distance(mx, my)
        props = index.axis.properties[section_idx[0]]
        axis = {
            "section_id": props["id"],
            "name_zh": props["name_zh"],
            "name_en": props["name_en"],
            "distance_m": round(float(distance[0]), 1),
            "on_axis": bool(distance[0] <= corridor_km * 1000),
            "corridor_km": corridor_km,
        }
    return Location(
        input={"lon": x, "lat": y, "crs": system},
        lon=round(float(w_lon[0]), 8),
        lat=round(float(w_lat[0]), 8),
        status=status,
        note=note,
        in_guangzhou=in_city,
        district=district,
        core=core,
        nodes=nodes,
        axis=axis,
        nearest_node=nearest,
        layers=layer_set(layers).to_dict(),
    )


@dataclass
class AddressLocation:
    """What an address gives: ``parsed`` (the offline reading, see gzspatial.address.ParsedAddress),
    ``geocode`` ({result, note} when a geocoder was asked, else None) and ``location`` (the site's
    Location when the geocoder matched at street level or finer, else None)."""

    address: str
    parsed: dict
    geocode: dict | None = None
    location: Location | None = None

    def to_dict(self) -> dict:
        """JSON-ready form: address, parsed, geocode, location (Location.to_dict() or null)."""
        data = asdict(self)
        data["location"] = self.location.to_dict() if self.location is not None else None
        return data


def locate_address(
    text: str, *, geocoder=None, corridor_km: float = DEFAULT_CORRIDOR_KM, layers: str | Path | None = None
) -> AddressLocation:
    """Locate an address: its district read offline, and with a ``geocoder``
    (:class:`gzspatial.geocode.Geocoder`) the full answer for a site-level match. Raises
    GeocodeError when the geocoder refused to go on (invalid key, exhausted quota)."""
    from gzspatial.address import parse_address
    from gzspatial.geocode import GeocodeError

    parsed = parse_address(text)
    found = AddressLocation(str(text), asdict(parsed))
    if geocoder is None or parsed.status == "outside":
        return found
    answer = geocoder.geocode(text)
    if geocoder.stopped:
        raise GeocodeError(_("geocoding stopped: {stopped}").format(stopped=geocoder.stopped))
    result = answer.result
    found.geocode = {"result": asdict(result) if result else None, "note": answer.note}
    if result is not None and not result.coarse:
        found.location = locate(result.lon, result.lat, "wgs84", corridor_km=corridor_km, layers=layers)
    return found


# --- name search -------------------------------------------------------------------------

_SEARCH_LAYERS = ("cores", "nodes", "axis", "districts", "platforms")


def _names(props: dict) -> list[str]:
    names = [
        props.get("id"),
        props.get("name_zh"),
        props.get("name_en"),
        props.get("part"),
        *(props.get("aliases") or []),
    ]
    return [str(n) for n in names if n]


def _score(query: str, names: list[str]) -> int:
    """100 exact, 80 prefix, 60 substring (case-insensitive), 0 no match."""
    q = query.casefold()
    best = 0
    for name in names:
        n = name.casefold()
        best = max(best, 100 if n == q else 80 if n.startswith(q) else 60 if q in n else 0)
    return best


def find(query: str, *, layers: str | Path | None = None, limit: int = 10) -> list[dict]:
    """Features whose id, zh/en name or alias matches ``query``, best first.

    Parameters
    ----------
    query : str
        Part of an id, a Chinese or English name or an alias (case and width insensitive).
    layers : str or Path, optional
        A folder of replacement layers (see :func:`load_layers`).
    limit : int, default 10
        At most this many results.

    Returns
    -------
    list of dict
        Each: layer, id, name_zh, name_en, score, group (or role), districts (names),
        area_km2, precision, seed_ref.

    Raises
    ------
    CoordinateError
        The query is blank.

    Examples
    --------
    >>> import gzspatial
    >>> best = gzspatial.find("知识城")[0]
    >>> best["layer"], best["id"]
    ('cores', 'knowledge-city')
    """
    query = str(query).strip()
    if not query:
        raise CoordinateError(_("name query is blank: give part of a name, e.g. 琶洲 or Knowledge City"))
    index = layout_index(layers)
    district_names = {p["adcode"]: p["name_zh"] for p in index.districts.layer.properties}
    results: list[dict[str, Any]] = []
    for name in _SEARCH_LAYERS:
        layer = index.layers.get(name)
        if layer is None:
            continue
        for props in layer.properties:
            score = _score(query, _names(props))
            if score:
                codes = props.get("district_codes") or ([props["adcode"]] if "adcode" in props else [])
                results.append(
                    {
                        "layer": name,
                        "id": props.get("id"),
                        "name_zh": props.get("name_zh"),
                        "name_en": props.get("name_en"),
                        "score": score,
                        "group": props.get("group") or props.get("role") or name.rstrip("s"),
                        "districts": [district_names.get(c, c) for c in codes],
                        "area_km2": props.get("area_km2"),
                        "precision": props.get("precision"),
                        "seed_ref": props.get("seed_ref"),
                    }
                )
    order = np.argsort([-r["score"] for r in results], kind="stable")
    return [results[i] for i in order[:limit]]
