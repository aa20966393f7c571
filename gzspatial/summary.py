"""Counting joined rows per unit of the layout: node, core, core part, district, group, axis section.

Every unit of the layers is listed, with zero where no row falls in it (planners need to see the
empty nodes). Shares are of the rows located inside Guangzhou (gz_status ok, swapped or geocoded;
by district also address_only and geocoded_coarse, whose district is known but not their site);
density is rows per km² of the unit's area (EPSG:4547; axis sections: their corridor's area).
With ``totals``, rows for "outside any unit", "not located" and the total follow, so the counts
add up to the rows of the table; :func:`write_stats` writes tables to .xlsx or .csv for Excel.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from gzspatial import crs as _crs
from gzspatial import schema
from gzspatial._engine import layout_index
from gzspatial._errors import InputError
from gzspatial.i18n import _
from gzspatial.layers import layer_set
from gzspatial.schema import By
from gzspatial.settings import DEFAULT_CORRIDOR_KM

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

BY_OPTIONS = tuple(b.value for b in By)
GROUP_NAMES = {"central": ("中部", "central"), "east_north": ("东部北部", "east and north"), "south": ("南部", "south")}
LOCATED = ("ok", "swapped", "geocoded")
#: Rows placed in a district without a site (from the address, or a coarse geocode) count by district only.
DISTRICT_ONLY = ("address_only", "geocoded_coarse")
#: Ids of the rows ``totals=True`` adds below the units (no layer id starts with "_").
OUTSIDE, NOT_LOCATED, TOTAL = "_outside", "_not_located", "_total"
#: What one unit of each kind is called (zh, en): for "outside any …" and sheet titles.
KIND_NAMES = {"node": ("点位", "node"), "core": ("核心", "core"), "core_part": ("核心片区", "core part"),
              "district": ("区", "district"), "group": ("点位组团", "node group"),
              "axis_section": ("轴线廊道", "axis corridor")}  # fmt: skip
#: Chinese headers (--lang zh); ``count:<value>`` becomes ``数量：<value>``.
HEADERS_ZH = {"unit": "编号", "name_zh": "名称", "name_en": "英文名称", "count": "数量",
              "count_primary": "数量(最小点位)", "share": "占比", "area_km2": "面积(km²)",
              "density_per_km2": "密度(个/km²)"}  # fmt: skip


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
        raise InputError(_("no layer to count by {by}: the layers folder lacks it").format(by=by))

    def union_area(geometries) -> float:
        return float(shapely.area(_crs.to_metric(shapely.union_all(geometries)))) / 1e6

    if by == "district":
        return _feature_units(index.districts, "adcode", ("adcode",)), "gz_district_code"
    if by == "node":
        return _feature_units(index.nodes, "id", ("name_zh", "name_en")), "gz_nodes"
    if by == "core_part":
        return _feature_units(index.cores, "id", ("id",)), "_core_feature"
    # The layer each remaining kind needs was checked against None above.
    if by == "axis_section":
        assert index.axis is not None
        corridors = shapely.area(shapely.buffer(index.axis_metric, corridor_km * 1000)) / 1e6
        units = [_unit(p["id"], p["name_zh"], p["name_en"], area, {p["name_zh"], p["name_en"]})
                 for p, area in zip(index.axis.properties, corridors, strict=True)]  # fmt: skip
        return units, "gz_axis_section"
    if by == "group":
        assert index.nodes is not None
        props, geoms = index.nodes.layer.properties, index.nodes.layer.geometries
        units = []
        for group, (name_zh, name_en) in GROUP_NAMES.items():
            members = [g for p, g in zip(props, geoms, strict=True) if p["group"] == group]
            units.append(_unit(group, name_zh, name_en, union_area(members) if members else 0.0, {group}))
        return units, "gz_node_group"
    assert index.cores is not None
    cores: dict[str, tuple[dict, list[shapely.Geometry]]] = {}  # core id: (its first part's properties, parts)
    for p, g in zip(index.cores.layer.properties, index.cores.layer.geometries, strict=True):
        cores.setdefault(p["core_id"], (p, []))[1].append(g)
    units = []
    for core_id, (first, parts) in cores.items():
        names = (schema.core_name(first, "zh"), schema.core_name(first, "en"))
        units.append(_unit(core_id, *names, union_area(parts), set(names)))
    return units, "gz_core"


def _core_feature_ids(joined, layers) -> np.ndarray:
    """Core feature id per row, from gz_core + gz_core_part (either language)."""
    index = layout_index(layers)
    assert index.cores is not None, "no cores layer"  # stats checks it before counting by core_part
    lookup = {}
    for p in index.cores.layer.properties:
        for lang in ("zh", "en"):
            lookup[(schema.core_name(p, lang), schema.core_part_name(p, lang))] = p["id"]
    pairs = zip(joined["gz_core"].fillna("").astype(str), joined["gz_core_part"].fillna("").astype(str), strict=True)
    return np.array([lookup.get(pair, "") for pair in pairs], dtype=object)


#: The columns :func:`stats` reads from a joined table (with the --category column, if any).
STATS_COLUMNS = ("gz_status", "gz_district_code", "gz_core", "gz_core_part", "gz_nodes", "gz_primary_node",
                 "gz_node_group", "gz_axis_section", "gz_layers_version")  # fmt: skip


def read_joined(path: str | Path, *, category: str | None = None) -> pd.DataFrame:
    """Only the columns :func:`stats` needs from a joined file, as categoricals (each distinct name once).

    CSV is streamed by pyarrow (those columns only, batch by batch, encoding and delimiter decided
    once); Parquet is read by those columns only. Other formats (.xlsx, GIS) are read whole.
    """
    from gzspatial import io

    suffix = "" if str(path) == "-" else Path(path).suffix.lower()
    if suffix in ("", ".csv", ".tsv", ".txt") and str(path) != "-":
        return _read_csv_columns(io.check_input_path(path), category)
    if suffix in (".parquet", ".geoparquet"):
        import pyarrow.parquet as pq

        source = pq.ParquetFile(io.check_input_path(path))
        names = source.schema_arrow.names
        wanted = _wanted(names, category, path)
        text = [c for c in wanted if c == category or c in STATS_COLUMNS]
        log.info("%s: Parquet, reading columns %s only", path, ", ".join(wanted))
        table = pq.read_table(path, columns=wanted, read_dictionary=text)
        return _blank_category(table.to_pandas())
    log.info("%s: read whole", path)
    return io.read_input(path)


def _blank_category(frame):
    """Categorical columns that can take '' (stats fills missing cells with '')."""
    for name in frame.columns:
        column = frame[name]
        if hasattr(column, "cat") and "" not in column.cat.categories:
            frame[name] = column.cat.add_categories("")
    return frame


def _wanted(names, category, path) -> list[str]:
    if category is not None and category not in names:
        raise InputError(
            _("category column {category!r} not found; columns are: {names}").format(
                category=category, names=", ".join(map(str, names))
            )
        )
    return [c for c in names if c in STATS_COLUMNS or c == category]


def _read_csv_columns(path: Path, category: str | None):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from gzspatial.io import decide_delimiter, detect_file_encoding
    from gzspatial.settings import STATS_BLOCK_BYTES as BATCH_BYTES

    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise InputError(_("{path} is empty: expected a table written by gzspatial join").format(path=path))
    encoding = detect_file_encoding(path)
    header = head.split(b"\n", 1)[0].decode(encoding, errors="replace").lstrip("\ufeff")
    delimiter = decide_delimiter(None, header, str(path))
    log.info("%s: CSV streamed by pyarrow, encoding %s, delimiter %r", path, encoding, delimiter)
    arrow_encoding = "utf8" if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig") else encoding
    read = pacsv.ReadOptions(encoding=arrow_encoding, block_size=BATCH_BYTES)
    parse = pacsv.ParseOptions(newlines_in_values=True, delimiter=delimiter)
    try:
        names = pacsv.open_csv(path, read_options=read, parse_options=parse).schema.names
        wanted = _wanted(names, category, path)
        text = pa.dictionary(pa.int32(), pa.string())
        convert = pacsv.ConvertOptions(include_columns=wanted, column_types=dict.fromkeys(wanted, text),
                                       strings_can_be_null=False, quoted_strings_can_be_null=False)  # fmt: skip
        reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        batches = list(reader)  # a few dictionary columns: about 4 bytes a cell
    except (pa.ArrowInvalid, LookupError, UnicodeDecodeError) as exc:
        raise InputError(
            _("{path} is not a readable CSV ({encoding}): {exc}").format(
                path=path, encoding=encoding, exc=str(exc).splitlines()[0]
            )
        ) from None
    return _blank_category(pa.Table.from_batches(batches, schema=reader.schema).to_pandas())


def _explode_lists(series):
    """';'-separated lists, one row per item (index repeated, as ``str.split(";").explode()``).

    A categorical column is split once per distinct list, not once per row.
    """
    import pandas as pd

    if not isinstance(series.dtype, pd.CategoricalDtype):
        return series.fillna("").astype(str).str.split(";").explode()
    parts = [str(c).split(";") for c in series.cat.categories] + [[""]]  # last: a missing cell
    flat = np.array([item for items in parts for item in items], dtype=object)
    sizes = np.array([len(items) for items in parts])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    codes = series.cat.codes.to_numpy().astype(np.int64)
    codes[codes < 0] = len(parts) - 1
    lengths = sizes[codes]
    row_start = np.repeat(np.cumsum(lengths) - lengths, lengths)
    position = np.arange(lengths.sum()) - row_start
    items = flat[np.repeat(starts[codes], lengths) + position]
    return pd.Series(items, index=series.index.repeat(lengths), dtype=object)


def stats(
    joined,
    *,
    by: By | str = By.NODE,
    category: str | None = None,
    layers: str | Path | None = None,
    corridor_km: float = DEFAULT_CORRIDOR_KM,
    totals: bool = False,
) -> pd.DataFrame:
    """Counts per unit of a joined table (from :func:`gzspatial.join`), zero units included.

    Columns: unit, name_zh, name_en, count, share (of located rows, 0–1), area_km2,
    density_per_km2, and with ``category`` one ``count:<value>`` column per category value.
    A row inside two overlapping nodes counts for both. ``attrs``: by, rows, located_rows,
    ``layers`` (the layer set that answered: origin, folder, version) and ``joined_with`` (the
    gz_layers_version values found in the table).

    ``totals`` adds three rows: ``_outside`` (located in Guangzhou but in no unit of this kind),
    ``_not_located`` (rows this kind cannot count: outside, missing, invalid, and address-only
    rows except by district) and ``_total`` (each count column summed). By node it also adds
    ``count_primary`` (each row once, in its smallest node), whose total is the number of rows;
    for the other kinds ``count`` itself adds up to the rows.
    """
    import pandas as pd

    if by not in BY_OPTIONS:
        raise InputError(
            _("cannot count by {by!r}: use one of {BY_OPTIONS}").format(by=by, BY_OPTIONS=", ".join(BY_OPTIONS))
        )
    by = By(by)
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
        raise InputError(
            _("not a joined table (no {missing}): run gzspatial join first").format(missing=", ".join(missing))
        )
    if category is not None and category not in joined.columns:
        raise InputError(
            _("category column {category!r} not found; columns are: {columns}").format(
                category=category, columns=", ".join(map(str, joined.columns))
            )
        )
    units, column = _units(by, layers, corridor_km)
    counted = LOCATED + DISTRICT_ONLY if by == "district" else LOCATED
    located = joined["gz_status"].astype(str).isin(counted).to_numpy()
    rows = joined.loc[located]
    if column == "_core_feature":
        values = pd.Series(_core_feature_ids(rows, layers), index=rows.index)
    elif column == "gz_nodes":
        values = _explode_lists(rows["gz_nodes"])
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
        {"by": by.value, "located_rows": total, "rows": len(joined), "layers": answering, "joined_with": joined_with}
    )
    order = ["unit", "name_zh", "name_en", "count", "share", "area_km2", "density_per_km2"]
    table = table[[*order, *[c for c in table.columns if c.startswith("count:")]]]
    if totals:
        table = _with_totals(table, joined, located, unit_of_row, key_to_unit, category)
    return table


def _with_totals(table, joined, located, unit_of_row, key_to_unit, category):
    """``table`` plus the outside / not-located / total rows (and count_primary by node)."""
    import pandas as pd

    by = table.attrs["by"]
    located_rows = joined.loc[located]
    # A located row is outside every unit when none of its (exploded) values names a unit.
    inside = unit_of_row.notna().groupby(level=0).any().reindex(located_rows.index, fill_value=False)
    groups = {OUTSIDE: located_rows.loc[~inside.to_numpy()], NOT_LOCATED: joined.loc[~located]}
    kind_zh, kind_en = KIND_NAMES[by]
    names = {
        OUTSIDE: (f"不在任何{kind_zh}内", f"outside any {kind_en}")
        if by != "axis_section"
        else ("轴线廊道外", "outside the axis corridor"),
        NOT_LOCATED: (
            "未定位（广州以外、缺失或无效坐标，或仅有地址）",
            "not located (outside Guangzhou, missing or invalid, or an address only)",
        ),
    }
    table = table.copy()
    if category is not None:  # a value seen only outside every unit still gets its column
        seen = joined[category].fillna("").astype(str).unique()
        for value in sorted(set(seen) - {c.split(":", 1)[1] for c in table.columns if c.startswith("count:")}):
            table[f"count:{value}"] = 0
        fixed = [c for c in table.columns if not c.startswith("count:")]
        table = table[[*fixed, *sorted(c for c in table.columns if c.startswith("count:"))]]
    counts = [c for c in table.columns if c.startswith("count:")]
    extra = []
    for unit, rows in groups.items():
        row = {"unit": unit, "name_zh": names[unit][0], "name_en": names[unit][1], "count": len(rows)}
        row["share"] = len(rows) / len(located_rows) if unit == OUTSIDE and len(located_rows) else np.nan
        if category is not None:
            values = rows[category].fillna("").astype(str).value_counts()
            row.update({c: int(values.get(c.split(":", 1)[1], 0)) for c in counts})
        extra.append(row)
    if by == "node":
        primary = located_rows["gz_primary_node"].fillna("").astype(str).map(key_to_unit).value_counts()
        table.insert(table.columns.get_loc("count") + 1, "count_primary", table["unit"].map(primary).fillna(0))
        for row in extra:
            row["count_primary"] = row["count"]
    out = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    summed = [c for c in out.columns if c.startswith("count")]
    total = {"unit": TOTAL, "name_zh": "合计", "name_en": "total", **out[summed].sum().to_dict()}
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    for column in summed:
        out[column] = out[column].astype(int)
    out.attrs.update(table.attrs, total_rows=3)
    return out


def display(table: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """``table`` with headers for people: Chinese with ``lang="zh"``, else the stable column names."""
    if lang != "zh":
        return table
    return table.rename(columns=lambda c: HEADERS_ZH.get(c) or (f"数量：{c[6:]}" if c.startswith("count:") else c))


def sheet_title(by: str, lang: str | None = None) -> str:
    """The sheet title for the counts by ``by``: 按点位 (zh) or "by node"."""
    return f"按{KIND_NAMES[by][0]}" if lang == "zh" else f"by {by}"


def write_stats(tables, path: str | Path, *, lang: str | None = None, excel_bom: bool = False, source=None) -> None:
    """Write :func:`stats` tables (``totals=True``) by extension, atomically.

    .xlsx: one sheet per table (numbers as numbers, share as a percentage, total rows in bold)
    and a sheet explaining the columns. .csv/.tsv (one table only; ``excel_bom`` for Excel).
    """
    from gzspatial import excel, io

    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        formats = {"share": "0.0%", "area_km2": "0.000", "density_per_km2": "0.00"}
        sheets = []
        for table in tables:
            shown = display(table, lang)
            named = dict(zip(table.columns, shown.columns, strict=True))
            sheets.append(
                excel.Sheet(
                    sheet_title(table.attrs["by"], lang),
                    shown,
                    number_formats={named[c]: f for c, f in formats.items() if c in named},
                    total_rows=table.attrs.get("total_rows", 0),
                )
            )
        sheets.append(excel.Sheet("说明" if lang == "zh" else "about", _about(tables, lang, source)))
        excel.write_xlsx(sheets, path)
    elif suffix in (".csv", ".tsv", ".txt"):
        if len(tables) != 1:
            raise InputError(
                _("{n_tables} tables (one per --by) need -o FILE.xlsx (a sheet each), not {suffix}").format(
                    n_tables=len(tables), suffix=suffix
                )
            )
        io.write_table(display(tables[0], lang), path, excel_bom=excel_bom)
    else:
        raise InputError(
            _("cannot write stats as {suffix!r}: use .xlsx or .csv").format(
                suffix=suffix or _("a file without extension")
            )
        )


def _about(tables, lang: str | None, source) -> pd.DataFrame:
    """The explanation sheet: input, row counts and what each column means."""
    import pandas as pd

    from gzspatial import __version__

    first = tables[0].attrs
    zh = lang == "zh"
    rows = [
        ("输入" if zh else "input", str(source) if source is not None else ""),
        ("行数" if zh else "rows", first["rows"]),
        ("图层版本" if zh else "layer set", f"{first['layers']['version']} ({first['layers']['origin']})"),
        ("广州境内已定位行数" if zh else "rows located in Guangzhou", first["located_rows"]),
        (
            "占比" if zh else "share",
            "单元行数 ÷ 广州境内已定位行数（gz_status 为 ok 或 swapped）"
            if zh
            else "rows in the unit / rows located in Guangzhou (gz_status ok or swapped)",
        ),
        (
            "面积、密度" if zh else "area, density",
            "面积按 EPSG:4547 计算（轴线廊道为廊道面积）；密度 = 行数 ÷ 面积"
            if zh
            else "areas in EPSG:4547 (axis sections: the corridor's area); density = rows / area",
        ),
        (
            HEADERS_ZH["count_primary"] if zh else "count_primary",
            "按点位统计时，一行只计入包含它的最小点位，合计等于行数；“数量”中一行计入每个包含它的点位"
            if zh
            else "by node: each row once, in its smallest node (adds up to the rows); "
            "count counts a row in every node that contains it",
        ),
        (
            "合计、不在任何…内、未定位" if zh else "_total, _outside, _not_located",
            "合计为各数量列之和；“不在任何…内”为广州境内但不在该类单元内的行；“未定位”为广州以外、缺失或无效坐标的行"
            if zh
            else "_total sums each count column; _outside: located in Guangzhou but in no unit of the kind; "
            "_not_located: outside Guangzhou, missing or invalid coordinates",
        ),
        ("生成" if zh else "generated by", f"gzspatial {__version__}"),
    ]
    return pd.DataFrame(rows, columns=["项目", "说明"] if zh else ["item", "value"])
