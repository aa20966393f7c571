"""Turning user coordinate text into checked degrees: parsing, DMS, swapped and bad values."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from gzspatial._errors import CoordinateError

# Guangzhou's bounding box (WGS84 degrees) widened by about 50 km: a point whose (lat, lon) falls
# here while its (lon, lat) does not was almost surely entered the wrong way round.
GZ_WIDE_LON = (112.4, 114.6)
GZ_WIDE_LAT = (22.0, 24.5)

STATUS_OK = "ok"
STATUS_OUTSIDE = "outside"
STATUS_SWAPPED = "swapped"
STATUS_MISSING = "missing"
STATUS_INVALID = "invalid"
STATUSES = (STATUS_OK, STATUS_OUTSIDE, STATUS_SWAPPED, STATUS_MISSING, STATUS_INVALID)

_DMS = re.compile(
    r"""^\s*(?P<sign>[-+])?\s*(?P<deg>\d+(?:\.\d+)?)\s*(?:°|度|d|\s)\s*
        (?:(?P<min>\d+(?:\.\d+)?)\s*(?:′|'|分|m|\s)?\s*)?
        (?:(?P<sec>\d+(?:\.\d+)?)\s*(?:″|"|''|秒|s)?\s*)?
        (?P<hemi>[NSEW]|北纬|南纬|东经|西经)?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_HEMI_PREFIX = re.compile(r"^\s*(?P<hemi>[NSEW]|北纬|南纬|东经|西经)\s*(?P<rest>.+)$", re.IGNORECASE)
_NEGATIVE_HEMI = {"s", "w", "南纬", "西经"}


def parse_dms(text: str) -> float | None:
    """Degrees from a DMS string such as ``113°19′30″E`` or ``N 23 6 24``; None if not DMS."""
    text = str(text).strip()
    prefix = _HEMI_PREFIX.match(text)
    if prefix and not text[0].isdigit():
        text = f"{prefix['rest']}{prefix['hemi']}"
    match = _DMS.match(text)
    if not match:
        return None
    minutes, seconds = float(match["min"] or 0), float(match["sec"] or 0)
    if minutes >= 60 or seconds >= 60:
        return None
    value = float(match["deg"]) + minutes / 60 + seconds / 3600
    negative = match["sign"] == "-" or (match["hemi"] or "").lower() in _NEGATIVE_HEMI
    return -value if negative else value


_DECIMAL = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def _as_arrow(values):
    """Values as a pyarrow array: numbers stay numeric, anything else becomes text."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        return pa.array(array.astype(np.float64))
    try:
        return pa.array(array, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects: numbers, None, text
        return pa.array([None if v is None else str(v) for v in array], type=pa.string())


def parse_degrees(values) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of coordinates (numbers, or text as read from a file) into float degrees.

    Returns (values, problem) where problem is '' for a good number, 'blank', 'not a number: <text>'
    or 'not a finite number'. Decimal numbers and DMS strings are accepted. Vectorized (pyarrow);
    only cells that are not plain decimals are looked at one by one.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = _as_arrow(values)
    n = len(array)
    problem = np.full(n, "", dtype=object)
    if pa.types.is_floating(array.type) or pa.types.is_integer(array.type):
        numbers = np.array(array.to_numpy(zero_copy_only=False), dtype=np.float64)
        problem[np.isnan(numbers)] = "not a number: NaN"
        problem[np.isinf(numbers)] = "not a finite number"
        return numbers, problem
    text = pc.utf8_trim_whitespace(array.cast(pa.string()))
    decimal = pc.fill_null(pc.match_substring_regex(text, _DECIMAL), False)
    numbers = np.array(pc.cast(pc.if_else(decimal, text, None), pa.float64()).to_numpy(zero_copy_only=False))
    blank = pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False)
    problem[blank] = "blank"
    others = np.flatnonzero(~decimal.to_numpy(zero_copy_only=False) & ~blank)
    for index, cell in zip(others, pc.take(text, pa.array(others)).to_pylist(), strict=True):
        value, problem[index] = parse_number(cell)
        numbers[index] = value
    problem[np.isinf(numbers)] = "not a finite number"
    return numbers, problem


@dataclass
class CheckedPoints:
    """Coordinates after checking: values to use (NaN where unusable), status and note per row."""

    lon: np.ndarray
    lat: np.ndarray
    status: np.ndarray
    note: np.ndarray


def _in_box(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= GZ_WIDE_LON[0]) & (lon <= GZ_WIDE_LON[1]) & (lat >= GZ_WIDE_LAT[0]) & (lat <= GZ_WIDE_LAT[1])


def check_points(lon, lat, *, geographic: bool = True, lon_problem=None, lat_problem=None) -> CheckedPoints:
    """Classify parsed coordinates: ok, swapped (corrected), missing or invalid, with a note.

    ``geographic`` is False for projected systems (metres), where swaps and degree ranges do
    not apply. ``outside`` is decided later, against the city outline.
    """
    lon = np.asarray(lon, dtype=float).copy()
    lat = np.asarray(lat, dtype=float).copy()
    n = lon.size
    lon_problem = np.full(n, "", dtype=object) if lon_problem is None else np.asarray(lon_problem, dtype=object)
    lat_problem = np.full(n, "", dtype=object) if lat_problem is None else np.asarray(lat_problem, dtype=object)
    status = np.full(n, STATUS_OK, dtype=object)
    note = np.full(n, "", dtype=object)

    swapped = np.zeros(n, dtype=bool)
    if geographic:
        swapped = ~_in_box(lon, lat) & _in_box(lat, lon)
        lon[swapped], lat[swapped] = lat[swapped], lon[swapped].copy()
        status[swapped] = STATUS_SWAPPED
        note[swapped] = "longitude and latitude were swapped; corrected"
        bad_lat, bad_lon = np.abs(lat) > 90, np.abs(lon) > 180
        for index in np.flatnonzero(bad_lat):
            note[index] = f"latitude {lat[index]:g} is outside ±90°"
        for index in np.flatnonzero(bad_lon & ~bad_lat):
            note[index] = f"longitude {lon[index]:g} is outside ±180°"
        out_of_range = bad_lat | bad_lon
        status[out_of_range] = STATUS_INVALID

    missing = (lon_problem == "blank") | (lat_problem == "blank")
    invalid_text = ((lon_problem != "") | (lat_problem != "")) & ~missing
    for index in np.flatnonzero(invalid_text):
        parts = [
            f"longitude {lon_problem[index]}" if lon_problem[index] else "",
            f"latitude {lat_problem[index]}" if lat_problem[index] else "",
        ]
        note[index] = "; ".join(p for p in parts if p)
    status[invalid_text] = STATUS_INVALID
    note[missing] = "coordinate is blank"
    status[missing] = STATUS_MISSING
    unusable = (status == STATUS_INVALID) | (status == STATUS_MISSING)
    lon[unusable] = np.nan
    lat[unusable] = np.nan
    return CheckedPoints(lon, lat, status, note)


def parse_number(text) -> tuple[float, str]:
    """One coordinate from text or a number: (value, problem) as in :func:`parse_degrees`.

    Scalar twin of parse_degrees without pandas, for one-point commands that must start fast.
    """
    if text is None:
        return np.nan, "blank"
    stripped = str(text).strip()
    if not stripped:
        return np.nan, "blank"
    try:
        value = float(stripped)
    except ValueError:
        value = parse_dms(stripped)
        if value is None:
            return np.nan, f"not a number: {stripped!r}"
    if np.isnan(value):
        return np.nan, "not a number: NaN"
    if not np.isfinite(value):
        return np.nan, "not a finite number"
    return value, ""


def parse_point(lon_text, lat_text) -> tuple[float, float]:
    """One point from command-line text; raises CoordinateError (one line) when not usable."""
    values = []
    for text, name in ((lon_text, "longitude"), (lat_text, "latitude")):
        number, problem = parse_number(text)
        if problem:
            raise CoordinateError(
                f"{name} {str(text)!r} is {problem.split(':')[0]}: give decimal degrees "
                "(e.g. 113.3245) or DMS (e.g. 113°19′30″E)"
            )
        values.append(number)
    return values[0], values[1]
