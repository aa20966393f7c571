"""Answer "where is this site in the layout?" for one point, and find features by name.

``locate`` gives district, core (and part), every node holding the point (smallest first), the
axis section with the distance to the axis (m, EPSG:4547) and, when no node holds the point,
the nearest node. ``find`` ranks features whose zh/en name or alias matches a query.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    Status,
    check_points,
    parse_point,
)
from gzspatial.i18n import _
from gzspatial.layers import LayerSet, layer_set
from gzspatial.settings import DEFAULT_CORRIDOR_KM

if TYPE_CHECKING:
    from gzspatial.address import ParsedAddress
    from gzspatial.geocode import Answer

log = logging.getLogger(__name__)

#: Version of the ``to_dict()`` / ``--json`` schema; bumped on any incompatible change.
SCHEMA_VERSION = 1


def _plain(value: Any) -> Any:
    """JSON-ready form of a result field: dataclasses as dicts (their ``to_dict`` if they have one), tuples as
    lists, enum members as their text."""
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


class _Result:
    """``to_dict()`` for the result dataclasses: fields in declaration order (the JSON key order)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: nested results as dicts, tuples as lists, keys in field order."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class InputPoint(_Result):
    """The point as given: ``lon``/``lat`` in ``crs`` (canonical name: wgs84, gcj02, bd09, cgcs2000 or EPSG:n)."""

    lon: float
    lat: float
    crs: str


@dataclass(frozen=True, slots=True)
class District(_Result):
    """The district holding a point: ``adcode`` (6-digit administrative code) and its names."""

    adcode: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Core(_Result):
    """The core (四核) part holding a point: feature ``id``, ``core_id`` of the whole core, core names,
    and ``part``/``part_en`` (None for a core in one piece)."""

    id: str
    core_id: str
    name_zh: str
    name_en: str
    part: str | None
    part_en: str | None


@dataclass(frozen=True, slots=True)
class Node(_Result):
    """A node (多点) holding a point: its group, precision class (as the layer file says) and area (km², EPSG:4547)."""

    id: str
    name_zh: str
    name_en: str
    group: schema.NodeGroup
    precision: str
    area_km2: float


@dataclass(frozen=True, slots=True)
class NearestNode(_Result):
    """The node nearest a point that no node holds, and the distance to its outline (metres, EPSG:4547)."""

    id: str
    name_zh: str
    name_en: str
    group: schema.NodeGroup
    distance_m: float


@dataclass(frozen=True, slots=True)
class AxisSection(_Result):
    """The axis section nearest a point: distance to the axis (metres, EPSG:4547) and whether it is
    within the corridor of half-width ``corridor_km`` (km)."""

    section_id: str
    name_zh: str
    name_en: str
    distance_m: float
    on_axis: bool
    corridor_km: float


@dataclass(frozen=True, slots=True)
class Location(_Result):
    """Where a point lies in the layout. Coordinates are WGS84 degrees, distances metres.

    JSON schema (``to_dict()``, ``gzspatial locate --json``), version 1:
    ``schema``; ``input`` {lon, lat, crs}; ``lon``/``lat`` (WGS84 used); ``status``
    (ok | swapped | outside); ``note``; ``in_guangzhou``; ``district`` {adcode, name_zh, name_en}
    or null; ``core`` {id, core_id, name_zh, name_en, part, part_en} or null; ``nodes`` [{id, name_zh,
    name_en, group, precision, area_km2}] smallest first; ``axis`` {section_id, name_zh, name_en,
    distance_m, on_axis, corridor_km} (the nearest section); ``nearest_node`` {id, name_zh,
    name_en, group, distance_m} or null when a node holds the point; ``layers`` {origin, folder,
    version}: the layer set that answered (added in place, version 1 readers ignore it).
    """

    input: InputPoint
    lon: float
    lat: float
    status: Status
    note: str
    in_guangzhou: bool
    district: District | None
    core: Core | None
    nodes: tuple[Node, ...] = ()
    axis: AxisSection | None = None
    nearest_node: NearestNode | None = None
    layers: LayerSet | None = None
    schema: int = SCHEMA_VERSION


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
    >>> print(where.status, where.district.name_en, where.axis.on_axis, where.axis.distance_m < 2000)
    ok Haizhu True True
    """
    if not corridor_km >= 0:
        raise CoordinateError(
            _("corridor half-width {corridor_km!r} km must be a number >= 0").format(corridor_km=corridor_km)
        )
    started = time.perf_counter()
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
    log.debug("locate %r %r in %s: WGS84 %.8f, %.8f (%s)", x, y, system, w_lon[0], w_lat[0], checked.status[0])
    index = layout_index(layers)
    point = np.asarray(shapely.points(w_lon, w_lat), dtype=object)  # one point, an array as the layers take
    status, note = checked.status[0], checked.note[0]
    in_city = bool(index.city.first_containing(point)[0] >= 0)
    if not in_city and status == STATUS_OK:
        status, note = STATUS_OUTSIDE, "outside Guangzhou"

    district_idx = index.districts.first_containing(point)[0]
    district = None
    if district_idx >= 0:
        props = index.districts.layer.properties[district_idx]
        district = District(props["adcode"], props["name_zh"], props["name_en"])

    core = None
    if index.cores is not None and (core_idx := index.cores.first_containing(point)[0]) >= 0:
        props = index.cores.layer.properties[core_idx]
        core = Core(
            id=props["id"],
            core_id=props["core_id"],
            name_zh=schema.core_name(props, "zh"),
            name_en=schema.core_name(props, "en"),
            part=schema.core_part_name(props, "zh") or None,
            part_en=schema.core_part_name(props, "en") or None,
        )

    nodes: tuple[Node, ...] = ()
    nearest, axis = None, None
    mx, my = _crs.transform(w_lon, w_lat, _crs.WGS84, _crs.METRIC_CRS)
    if index.nodes is not None:
        node_idx = index.nodes.containing_pairs(point)[1]
        props_of = index.nodes.layer.properties
        nodes = tuple(
            Node(
                **_pick(props_of[i], "id", "name_zh", "name_en", "precision"),
                group=schema.NodeGroup(props_of[i]["group"]),
                area_km2=round(float(index.nodes.area_km2[i]), 3),
            )
            for i in node_idx
        )
        if not nodes:
            nearest_idx, distance = index.nearest_node(mx, my)
            props = props_of[nearest_idx[0]]
            nearest = NearestNode(
                **_pick(props, "id", "name_zh", "name_en"),
                group=schema.NodeGroup(props["group"]),
                distance_m=round(float(distance[0]), 1),
            )
    if index.axis is not None:
        section_idx, distance = index.axis_distance(mx, my)
        props = index.axis.properties[section_idx[0]]
        axis = AxisSection(
            section_id=props["id"],
            name_zh=props["name_zh"],
            name_en=props["name_en"],
            distance_m=round(float(distance[0]), 1),
            on_axis=bool(distance[0] <= corridor_km * 1000),
            corridor_km=corridor_km,
        )
    answering = layer_set(layers)
    log.debug("located in %.1f ms, answered by %s", (time.perf_counter() - started) * 1000, answering.describe())
    return Location(
        input=InputPoint(x, y, system),
        lon=round(float(w_lon[0]), 8),
        lat=round(float(w_lat[0]), 8),
        status=Status(status),
        note=note,
        in_guangzhou=in_city,
        district=district,
        core=core,
        nodes=nodes,
        axis=axis,
        nearest_node=nearest,
        layers=answering,
    )


@dataclass(frozen=True, slots=True)
class AddressLocation(_Result):
    """What an address gives: ``parsed`` (the offline reading), ``geocode`` (the geocoder's answer when
    one was asked, else None) and ``location`` (the site's Location when the geocoder matched at
    street level or finer, else None). ``to_dict()``: address, parsed, geocode {result, note} or null,
    location (``Location.to_dict()``) or null."""

    address: str
    parsed: ParsedAddress
    geocode: Answer | None = None
    location: Location | None = None


def locate_address(
    text: str, *, geocoder=None, corridor_km: float = DEFAULT_CORRIDOR_KM, layers: str | Path | None = None
) -> AddressLocation:
    """Locate an address: its district read offline, and with a ``geocoder``
    (:class:`gzspatial.geocode.Geocoder`) the full answer for a site-level match. Raises
    GeocodeError when the geocoder refused to go on (invalid key, exhausted quota)."""
    from gzspatial.address import parse_address
    from gzspatial.geocode import GeocodeError

    parsed = parse_address(text)
    if geocoder is None or parsed.status == "outside":
        return AddressLocation(str(text), parsed)
    answer = geocoder.geocode(text)
    if geocoder.stopped:
        raise GeocodeError(_("geocoding stopped: {stopped}").format(stopped=geocoder.stopped))
    result = answer.result
    location = None
    if result is not None and not result.coarse:
        location = locate(result.lon, result.lat, "wgs84", corridor_km=corridor_km, layers=layers)
    return AddressLocation(str(text), parsed, answer, location)


# --- name search -------------------------------------------------------------------------

_SEARCH_LAYERS = ("cores", "nodes", "axis", "districts", "platforms")


@dataclass(frozen=True, slots=True)
class Match(_Result):
    """A feature whose name matches a query: ``layer`` it is in, ``score`` (100 exact, 80 prefix,
    60 substring), ``group`` (node group, else the feature's role or kind), ``districts`` (Chinese
    names), ``area_km2`` (km², None for lines and points), ``precision`` class and ``seed_ref`` (the
    plan's wording) as the layer file gives them."""

    layer: str
    id: str
    name_zh: str
    name_en: str
    score: int
    group: str
    districts: tuple[str, ...]
    area_km2: float | None
    precision: str | None
    seed_ref: str | None


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


def find(query: str, *, layers: str | Path | None = None, limit: int = 10) -> list[Match]:
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
    list of Match
        Each: layer, id, name_zh, name_en, score, group (or role), districts (names),
        area_km2, precision, seed_ref; ``to_dict()`` gives the JSON form.

    Raises
    ------
    CoordinateError
        The query is blank.

    Examples
    --------
    >>> import gzspatial
    >>> best = gzspatial.find("知识城")[0]
    >>> best.layer, best.id
    ('cores', 'knowledge-city')
    """
    query = str(query).strip()
    if not query:
        raise CoordinateError(_("name query is blank: give part of a name, e.g. 琶洲 or Knowledge City"))
    index = layout_index(layers)
    district_names = {p["adcode"]: p["name_zh"] for p in index.districts.layer.properties}
    results: list[Match] = []
    for name in _SEARCH_LAYERS:
        layer = index.layers.get(name)
        if layer is None:
            continue
        for props in layer.properties:
            score = _score(query, _names(props))
            if score:
                codes = props.get("district_codes") or ([props["adcode"]] if "adcode" in props else [])
                results.append(
                    Match(
                        layer=name,
                        id=props["id"],
                        name_zh=props["name_zh"],
                        name_en=props["name_en"],
                        score=score,
                        group=props.get("group") or props.get("role") or name.rstrip("s"),
                        districts=tuple(district_names.get(c, c) for c in codes),
                        area_km2=props.get("area_km2"),
                        precision=props.get("precision"),
                        seed_ref=props.get("seed_ref"),
                    )
                )
    order = np.argsort([-r.score for r in results], kind="stable")
    log.debug("find %r: %d matches, %d kept", query, len(results), min(limit, len(results)))
    return [results[i] for i in order[:limit]]
