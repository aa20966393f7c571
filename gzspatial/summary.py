"""Counting joined rows per unit of the layout: node, core, core part, district, group, axis section.

Every unit of the layers is listed, with zero where no row falls in it (planners need to see the
empty nodes). Shares are of the rows located inside Guangzhou (gz_status ok, swapped or geocoded;
by district also address_only and geocoded_coarse, whose district is known but not their site);
density is rows per km² of the unit's area (EPSG:4547; axis sections: their corridor's area).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from gzspatial import crs as _crs
from gzspatial import schema
from gzspatial._engine import DEFAULT_CORRIDOR_KM, layout_index
from gzspatial._errors import InputError
from gzspatial.layers import layer_set

BY_OPTIONS = ("node", "core", "core_part", "district", "group", "axis_section")
GROUP_NAMES = {"central": ("中部", "central"), "east_north": ("东部北部", "east and north"), "south": ("南部", "south")}
LOCATED = ("ok", "swapped", "geocoded")
#: Rows placed in a district without a site (from the address, or a coarse geocode) count by district only.
DISTRICT_ONLY = ("address_only", "geocoded_coarse")


def _unit(unit: str, name_zh: str, name_en: str, area_km2: float, keys: set[str]) -> dict:
    return {"unit": unit, "name_zh": name_zh, "name_en": name_en, "area_km2": float(area_km2), "keys": keys}


def _feature_units(polygons, unit_key: str, key_fields: tuple[str, ...]) -> list[dict]:
    """One unit per feature of an indexed polygon layer (areas as the engine computed them)."""
    return [
        _unit(p[unit_key], p["name_zh"], p["name_en"], area, {p[f] for f in key_fields})
        for p, area in zip(polygons.layer.properties, polygons.area_km2, strict=True)
    ]


def _units(by: str, layers, corridor_km: float) -> tuple[list[dict], str]:
    """Units as dicts (unit, name_zh, name_en, area_km2, keys: names that identify it) and the column."""
    index = layout_index(layers)
    needs = {"axis_section": index.axis, "node": index.nodes, "group": index.nodes,
             "core": index.cores, "core_part": index.cores}  # fmt: skip
    if by in needs and needs[by] is None:
        raise InputError(f"no layer to count by {by}: the layers folder lacks it")

    def union_area(geometries) -> float:
        return float(shapely.area(_crs.to_metric(shapely.union_all(geometries)))) / 1e6

    if by == "district":
        return _feature_units(index.districts, "adcode", ("adcode",)), "gz_district_code"
    if by == "node":
        return _feature_units(index.nodes, "id", ("name_zh", "name_en")), "gz_nodes"
    if by == "core_part":
        return _feature_units(index.cores, "id", ("id",)), "_core_feature"
    if by == "axis_section":
        corridors = shapely.area(shapely.buffer(index.axis_metric, corridor_km * 1000)) / 1e6
        units = [_unit(p["id"], p["name_zh"], p["name_en"], area, {p["name_zh"], p["name_en"]})
                 for p, area in zip(index.axis.properties, corridors, strict=True)]  # fmt: skip
        return units, "gz_axis_section"
    if by == "group":
        props, geoms = index.nodes.layer.properties, index.nodes.layer.geometries
        units = []
        for group, (name_zh, name_en) in GROUP_NAMES.items():
            members = [g for p, g in zip(props, geoms, strict=True) if p["group"] == group]
            units.append(_unit(group, name_zh, name_en, union_area(members) if members else 0.0, {group}))
        return units, "gz_node_group"
    cores: dict[str, list] = {}
    for p, g in zip(index.cores.layer.properties, index.cores.layer.geometries, strict=True):
        cores.setdefault(p["core_id"], [p]).append(g)
    units = []
    for core_id, (first, *geoms) in cores.items():
        names = (schema.core_name(first, "zh"), schema.core_name(first, "en"))
        units.append(_unit(core_id, *names, union_area(geoms), set(names)))
    return units, "gz_core"


def _core_feature_ids(joined, layers) -> np.ndarray:
    """Core feature id per row, from gz_core + gz_core_part (either language)."""
    index = layout_index(layers)
    lookup = {}
    for p in index.cores.layer.properties:
        for lang in ("zh", "en"):
            lookup[(schema.core_name(p, lang), schema.core_part_name(p, lang))] = p["id"]
    pairs = zip(joined["gz_core"].fillna("").astype(str), joined["gz_core_part"].fillna("").astype(str), strict=True)
    return np.array([lookup.get(pair, "") for pair in pairs], dtype=object)


def stats(
    joined,
    *,
    by: str = "node",
    category: str | None = None,
    layers: str | Path | None = None,
    corridor_km: float = DEFAULT_CORRIDOR_KM,
):
    """Counts per unit of a joined table (from :func:`gzspatial.join`), zero units included.

    Columns: unit, name_zh, name_en, count, share (of located rows, 0–1), area_km2,
    density_per_km2, and with ``category`` one ``count:<value>`` column per category value.
    A row inside two overlapping nodes counts for both. ``attrs``: by, rows, located_rows,
    ``layers`` (the layer set that answered: origin, folder, version) and ``joined_with`` (the
    gz_layers_version values found in the table).
    """
    import pandas as pd

    if by not in BY_OPTIONS:
        raise InputError(f"cannot count by {by!r}: use one of {', '.join(BY_OPTIONS)}")
    missing = [
        c
        for c in (
            "gz_status",
            "gz_district_code",
            "gz_core",
            "gz_core_part",
            "gz_nodes",
            "gz_node_group",
            "gz_axis_section",
        )
        if c not in joined.columns
    ]
    if missing:
        raise InputError(f"not a joined table (no {', '.join(missing)}): run gzspatial join first")
    if category is not None and category not in joined.columns:
        raise InputError(f"category column {category!r} not found; columns are: {', '.join(map(str, joined.columns))}")
    units, column = _units(by, layers, corridor_km)
    counted = LOCATED + DISTRICT_ONLY if by == "district" else LOCATED
    located = joined["gz_status"].astype(str).isin(counted).to_numpy()
    rows = joined.loc[located]
    if column == "_core_feature":
        values = pd.Series(_core_feature_ids(rows, layers), index=rows.index)
    elif column == "gz_nodes":
        values = rows["gz_nodes"].fillna("").astype(str).str.split(";").explode()
    else:
        values = rows[column].fillna("").astype(str)
    key_to_unit = {key: u["unit"] for u in units for key in u["keys"]}
    unit_of_row = values.map(key_to_unit)
    table = pd.DataFrame([{k: u[k] for k in ("unit", "name_zh", "name_en", "area_km2")} for u in units])
    counts = unit_of_row.value_counts()
    table["count"] = table["unit"].map(counts).fillna(0).astype(int)
    total = int(located.sum())
    table["share"] = table["count"] / total if total else 0.0
    table["density_per_km2"] = np.where(table["area_km2"] > 0, table["count"] / table["area_km2"], np.nan)
    table["area_km2"] = table["area_km2"].round(3)
    if category is not None:
        categories = rows.loc[unit_of_row.index, category].fillna("").astype(str).to_numpy()
        crossed = pd.crosstab(unit_of_row.to_numpy(), categories)  # arrays: exploded rows repeat labels
        for value in crossed.columns:
            table[f"count:{value}"] = table["unit"].map(crossed[value]).fillna(0).astype(int)
    answering = layer_set(layers).to_dict()
    joined_with = (
        sorted(set(joined["gz_layers_version"].dropna().astype(str))) if "gz_layers_version" in joined.columns else []
    )
    table.attrs.update(
        {"by": by, "located_rows": total, "rows": len(joined), "layers": answering, "joined_with": joined_with}
    )
    return table[
        [
            "unit",
            "name_zh",
            "name_en",
            "count",
            "share",
            "area_km2",
            "density_per_km2",
            *[c for c in table.columns if c.startswith("count:")],
        ]
    ]
