"""The layer schema: per layer kind, the feature properties with their type, whether required, allowed values.

One definition used by validation (:mod:`gzspatial.layers`), the importer, ``locate``, ``stats``,
``join`` labels and the maps. Accessors (:func:`core_name`, :func:`core_part_name`) read a core
feature's names the same way everywhere, for old and new layer files.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from numbers import Real


class Precision(StrEnum):
    """Precision classes (issue #10) of a layout feature's ``precision`` property."""

    OFFICIAL = "official"  # imported official boundary
    ROAD_BOUNDED = "road_bounded"  # polygon through the published boundary roads
    SCHEMATIC = "schematic"  # shape at a verified location with the published size
    INDICATIVE = "indicative"  # location or size not verified


class NodeGroup(StrEnum):
    """The plan's three groups of nodes (多点), a node feature's ``group`` property."""

    CENTRAL = "central"
    EAST_NORTH = "east_north"
    SOUTH = "south"


class Role(StrEnum):
    """What a layout feature is, its ``role`` property."""

    CORE = "core"
    CORE_PART = "core_part"
    NODE = "node"
    AXIS_SECTION = "axis_section"


class By(StrEnum):
    """Kinds of layout unit rows are counted by (``stats(by=...)``, ``gzspatial stats --by``)."""

    NODE = "node"
    CORE = "core"
    CORE_PART = "core_part"
    DISTRICT = "district"
    GROUP = "group"  # node group
    AXIS_SECTION = "axis_section"  # the corridor of an axis section


# Plain-text values, as the layer files hold them (and as messages list them).
PRECISIONS = tuple(p.value for p in Precision)
#: Legacy value of layer files built before the precision classes; accepted, read as "indicative".
LEGACY_PRECISIONS = {"approximate": Precision.INDICATIVE.value}
NODE_GROUPS = tuple(g.value for g in NodeGroup)

#: Kind names of the property types, as printed in messages.
_TYPE_NAMES = {"str": "text", "number": "a number", "bool": "true/false", "list[str]": "a list of text"}


@dataclass(frozen=True)
class Prop:
    """One feature property: name, type (str, number, bool, list[str]), required, nullable, allowed values."""

    name: str
    type: str = "str"
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None

    def problem(self, props: dict) -> str | None:
        """What is wrong with this property in ``props`` (None when it is fine)."""
        if self.name not in props:
            return f"missing property {self.name!r}" if self.required else None
        value = props[self.name]
        if value is None:
            return None if self.nullable else f"property {self.name!r} is null; expected {_TYPE_NAMES[self.type]}"
        if not _is_type(value, self.type):
            return f"property {self.name!r} is {value!r} ({type(value).__name__}); expected {_TYPE_NAMES[self.type]}"
        if self.allowed is not None and value not in self.allowed:
            return f"property {self.name!r} is {value!r}; expected one of {', '.join(self.allowed)}"
        return None


def _is_type(value, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, Real) and not isinstance(value, bool) and value == value  # NaN is no number
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


_NAMES = (Prop("id"), Prop("name_zh"), Prop("name_en"))
_PRECISION = Prop("precision", allowed=(*PRECISIONS, *LEGACY_PRECISIONS))
#: Properties every feature of the plan's layout (cores, nodes, axis) carries.
_LAYOUT = (
    *_NAMES,
    Prop("aliases", "list[str]"),
    Prop("district_codes", "list[str]"),
    Prop("seed_ref"),
    Prop("description_zh"),
    _PRECISION,
    Prop("source"),
    # Published size and verification (layout geometry v2); optional so older files stay valid.
    Prop("stated_area_km2", "number", required=False, nullable=True),
    Prop("stated_area_source", required=False, nullable=True),
    Prop("area_ratio", "number", required=False, nullable=True),
    Prop("location_verified", "bool", required=False),
    Prop("note", required=False, nullable=True),
    # Provenance of an imported (official) layer, see gzspatial.layer_import.
    Prop("import_source", required=False),
    Prop("import_crs", required=False),
    Prop("import_date", required=False),
    Prop("import_name", required=False, nullable=True),
)
_ADMIN = (
    *_NAMES,
    Prop("adcode"),
    Prop("aliases", "list[str]", required=False),
    Prop("precision", required=False, allowed=_PRECISION.allowed),
    Prop("source", required=False),
)

#: Per layer kind, its properties (required ones first in each file's usual order).
SCHEMA: dict[str, tuple[Prop, ...]] = {
    "districts": (*_ADMIN, Prop("area_km2", "number")),
    "city": (*_ADMIN, Prop("area_km2", "number", required=False)),
    "cores": (
        *_LAYOUT,
        Prop("role", allowed=(Role.CORE.value, Role.CORE_PART.value)),
        Prop("area_km2", "number"),
        Prop("core_id"),
        Prop("core_name_zh"),
        Prop("core_name_en"),
        Prop("part"),  # "" for a core in one piece
        Prop("part_en", required=False),  # English part name; older files have it in name_en after " — "
    ),
    "nodes": (
        *_LAYOUT,
        Prop("role", allowed=(Role.NODE.value,)),
        Prop("area_km2", "number"),
        Prop("group", allowed=NODE_GROUPS),
        Prop("managed_by_codes", "list[str]", required=False),
    ),
    "axis": (
        *_LAYOUT,
        Prop("role", allowed=(Role.AXIS_SECTION.value,)),
        Prop("places", "list[str]"),
        Prop("length_km", "number", required=False),
    ),
    "platforms": (
        *_NAMES,
        Prop("aliases", "list[str]", required=False),
        Prop("type"),
        Prop("level"),
        Prop("seed_ref"),
        _PRECISION,
        Prop("source"),
        Prop("location_verified", "bool", required=False),
        Prop("import_source", required=False),
        Prop("import_crs", required=False),
        Prop("import_date", required=False),
        Prop("import_name", required=False, nullable=True),
    ),
}
#: Geometry types allowed per layer kind.
GEOMETRY_TYPES = {
    "districts": ("Polygon", "MultiPolygon"),
    "city": ("Polygon", "MultiPolygon"),
    "cores": ("Polygon", "MultiPolygon"),
    "nodes": ("Polygon", "MultiPolygon"),
    "axis": ("LineString", "MultiLineString"),
    "platforms": ("Point",),
}


def required_properties(kind: str) -> tuple[str, ...]:
    """Names of the properties every feature of ``kind`` must carry."""
    return tuple(p.name for p in SCHEMA[kind] if p.required)


def property_problems(kind: str, props: dict) -> list[str]:
    """Every schema problem of one feature's properties (missing, wrong type, value not allowed)."""
    if not isinstance(props, dict):
        return [f"properties are {type(props).__name__}, expected an object"]
    return [problem for prop in SCHEMA[kind] if (problem := prop.problem(props))]


def precision_class(props: dict) -> str | None:
    """The feature's precision class, legacy values mapped (``approximate`` → ``indicative``)."""
    value = props.get("precision")
    if not isinstance(value, str):
        return value  # None, or a wrong type that validation reports
    return LEGACY_PRECISIONS.get(value, value)


def core_name(props: dict, lang: str) -> str:
    """Name of the core a cores feature belongs to, in ``lang`` (zh or en)."""
    return props[f"core_name_{lang}"]


def core_part_name(props: dict, lang: str) -> str:
    """Name of the part of a cores feature in ``lang``; "" for a core in one piece.

    English: ``part_en`` when the file has it, else (older files) the text after " — " in ``name_en``.
    """
    if not props.get("part"):
        return ""
    if lang == "zh":
        return props["part"]
    if props.get("part_en"):
        return props["part_en"]
    return props["name_en"].rsplit(" — ", 1)[-1]
