"""Turning user coordinate text into checked degrees: parsing, DMS, swapped and bad values."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from gzspatial._errors import CoordinateError
from gzspatial.i18n import _

# Guangzhou's bounding box (WGS84 degrees) widened by about 50 km: a point whose (lat, lon) falls
# here while its (lon, lat) does not was almost surely entered the wrong way round.
GZ_WIDE_LON = (112.4, 114.6)
GZ_WIDE_LAT = (22.0, 24.5)


class Status(StrEnum):
    """``gz_status`` of a row (a StrEnum: members compare equal to the text written to data)."""

    OK = "ok"
    OUTSIDE = "outside"
    SWAPPED = "swapped"
    MISSING = "missing"
    INVALID = "invalid"
    ADDRESS_ONLY = "address_only"  # district read from the address offline; no site
    GEOCODED = "geocoded"  # a geocoder placed the address at street level or finer: a site
    GEOCODED_COARSE = "geocoded_coarse"  # a geocoder placed it only coarsely: district at most


# Plain-text names, as written to data (gz_status columns hold str, not the enum).
STATUS_OK = Status.OK.value
STATUS_OUTSIDE = Status.OUTSIDE.value
STATUS_SWAPPED = Status.SWAPPED.value
STATUS_MISSING = Status.MISSING.value
STATUS_INVALID = Status.INVALID.value
STATUS_ADDRESS_ONLY = Status.ADDRESS_ONLY.value
STATUS_GEOCODED = Status.GEOCODED.value
STATUS_GEOCODED_COARSE = Status.GEOCODED_COARSE.value
STATUSES = tuple(status.value for status in Status)  # order = status codes (CheckedPoints.status_code)

# The letter s marks seconds only after minutes marked m (23d6m24s); otherwise a trailing S is the
# southern hemisphere (23 6 24S is -23.1067, not +23.1067).
_DMS = re.compile(
    r"""^\s*(?P<sign>[-+])?\s*(?P<deg>\d+(?:\.\d+)?)\s*(?:°|度|d|\s)?\s*
        (?:(?P<min>\d+(?:\.\d+)?)\s*(?:′|'|分|(?P<m_letter>m)|\s)?\s*)?
        (?:(?P<sec>\d+(?:\.\d+)?)\s*(?:″|′′|"|''|秒|(?(m_letter)s|(?!)))?\s*)?
        (?P<hemi>[NSEW]|北纬|南纬|东经|西经)?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_HEMI_PREFIX = re.compile(r"^\s*(?P<hemi>[NSEW]|北纬|南纬|东经|西经)\s*(?P<rest>.+)$", re.IGNORECASE)
_NEGATIVE_HEMI = {"s", "w", "南纬", "西经"}
_HEMI_AXIS = {
    "n": "lat",
    "s": "lat",
    "北纬": "lat",
    "南纬": "lat",
    "e": "lon",
    "w": "lon",
    "东经": "lon",
    "西经": "lon",
}


def _parse_dms(text: str) -> tuple[float | None, str]:
    """(degrees, hemisphere as written, lower case; '' if none) of a DMS string; (None, '') if not DMS."""
    text = str(text).strip()
    prefix = _HEMI_PREFIX.match(text)
    if prefix and not text[0].isdigit():
        text = f"{prefix['rest']}{prefix['hemi']}"
    match = _DMS.match(text)
    if not match:
        return None, ""
    minutes, seconds = float(match["min"] or 0), float(match["sec"] or 0)
    if minutes >= 60 or seconds >= 60:
        return None, ""
    value = float(match["deg"]) + minutes / 60 + seconds / 3600
    hemisphere = (match["hemi"] or "").lower()
    negative = match["sign"] == "-" or hemisphere in _NEGATIVE_HEMI
    return (-value if negative else value), hemisphere


def parse_dms(text: str) -> float | None:
    """Degrees from a DMS string such as ``113°19′30″E``, ``N 23 6 24`` or ``东经113.3``; None if not DMS."""
    return _parse_dms(text)[0]


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


def _plain_decimals(array) -> np.ndarray | None:
    """A text column as float64 when every cell is a finite plain decimal, else None.

    Arrow's cast accepts a subset of what parse_degrees reads (no spaces, DMS, hemispheres or
    full-width digits: those fail the cast) and, besides decimals, only nan/inf (caught by the
    finite test); a column it takes whole therefore reads the same, ~15x faster.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if array.null_count or not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return None
    try:
        numbers = np.array(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    except pa.ArrowInvalid:
        return None
    return numbers if np.isfinite(numbers).all() else None


def parse_degrees(values, axis: str | None = None) -> tuple[np.ndarray, dict[int, str]]:
    """Parse a column of coordinates (numbers, or text as read from a file) into float degrees.

    Returns (values, problems): NaN where unusable, and {row: problem} for those rows only, the
    problem being 'blank', 'not a number: <text>' or 'not a finite number'. Decimal numbers and
    DMS strings and hemisphere letters are accepted (``113.3E``, ``东经113.3``); with ``axis``
    ("lon" or "lat") a hemisphere of the other axis (``23.1N`` as a longitude) is a problem.
    Vectorized (pyarrow); only cells that are not plain decimals are looked at one by one.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    problems: dict[int, str] = {}
    if isinstance(values, np.ndarray) and values.dtype == np.float64:  # numbers already: one copy, no Arrow
        numbers = values.copy()
        finite = np.isfinite(numbers)
        if finite.all():
            return numbers, problems
        problems.update(dict.fromkeys(np.flatnonzero(np.isnan(numbers)).tolist(), "not a number: NaN"))
        problems.update(dict.fromkeys(np.flatnonzero(np.isinf(numbers)).tolist(), "not a finite number"))
        numbers[~finite] = np.nan
        return numbers, problems
    array = _as_arrow(values)
    if pa.types.is_floating(array.type) or pa.types.is_integer(array.type):
        numbers = np.array(array.to_numpy(zero_copy_only=False), dtype=np.float64)
        problems.update(dict.fromkeys(np.flatnonzero(np.isnan(numbers)).tolist(), "not a number: NaN"))
        if array.null_count:  # a null cell (Parquet, Arrow, pandas' NA) is blank, not a NaN
            problems.update(
                dict.fromkeys(np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False)).tolist(), "blank")
            )
    elif (plain := _plain_decimals(array)) is not None:
        numbers = plain
    else:
        text = pc.utf8_trim_whitespace(array.cast(pa.string()))
        decimal = pc.fill_null(pc.match_substring_regex(text, _DECIMAL), False)
        numbers = np.array(pc.cast(pc.if_else(decimal, text, None), pa.float64()), dtype=np.float64)  # null: NaN
        others = np.flatnonzero(~np.asarray(decimal, dtype=bool))
        for index, cell in zip(others.tolist(), pc.take(text, pa.array(others, pa.int64())).to_pylist(), strict=True):
            numbers[index], problem = parse_number(cell, axis)
            problems[index] = problem
    problems.update(dict.fromkeys(np.flatnonzero(np.isinf(numbers)).tolist(), "not a finite number"))
    numbers[np.isinf(numbers)] = np.nan
    return numbers, {i: p for i, p in problems.items() if p}


@dataclass
class CheckedPoints:
    """Coordinates after checking: values to use (NaN where unusable), a status code per row
    (index into STATUSES) and notes for the rows that have one."""

    lon: np.ndarray
    lat: np.ndarray
    status_code: np.ndarray  # int8
    notes: dict[int, str]

    @property
    def status(self) -> np.ndarray:
        return np.array(STATUSES, dtype=object)[self.status_code]

    @property
    def note(self) -> np.ndarray:
        note = np.full(len(self.lon), "", dtype=object)
        if self.notes:
            note[list(self.notes)] = list(self.notes.values())
        return note


def _in_box(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= GZ_WIDE_LON[0]) & (lon <= GZ_WIDE_LON[1]) & (lat >= GZ_WIDE_LAT[0]) & (lat <= GZ_WIDE_LAT[1])


_CODE = {status: np.int8(i) for i, status in enumerate(STATUSES)}
SWAPPED_NOTE = "longitude and latitude were swapped; corrected"


def check_points(
    lon, lat, *, geographic: bool = True, lon_problems=None, lat_problems=None, row_problems=None, copy: bool = True
) -> CheckedPoints:
    """Classify parsed coordinates: ok, swapped (corrected), missing or invalid, with notes.

    ``lon_problems``/``lat_problems`` are parse_degrees' {row: problem}; ``row_problems``
    ({row: reason}) marks further rows invalid with that reason. ``geographic`` is False
    for projected systems (metres), where swaps and degree ranges do not apply. ``outside`` is
    decided later, against the city outline. ``copy=False``: ``lon``/``lat`` are float arrays the
    caller hands over (corrected in place).
    """
    lon = np.array(lon, dtype=float) if copy else np.asarray(lon, dtype=float)
    lat = np.array(lat, dtype=float) if copy else np.asarray(lat, dtype=float)
    lon_problems, lat_problems = lon_problems or {}, lat_problems or {}
    status = np.full(lon.size, _CODE[STATUS_OK], dtype=np.int8)
    notes: dict[int, str] = {}
    if geographic:
        # only points outside the box around Guangzhou can be swapped or out of range (often none)
        rest = np.flatnonzero(~_in_box(lon, lat))
        swapped = rest[_in_box(lat[rest], lon[rest])]
        lon[swapped], lat[swapped] = lat[swapped], lon[swapped].copy()
        status[swapped] = _CODE[STATUS_SWAPPED]
        notes.update(dict.fromkeys(swapped.tolist(), SWAPPED_NOTE))
        bad_lat, bad_lon = np.abs(lat[rest]) > 90, np.abs(lon[rest]) > 180
        for index in rest[bad_lat].tolist():
            notes[index] = f"latitude {lat[index]:g} is outside ±90°"
        for index in rest[bad_lon & ~bad_lat].tolist():
            notes[index] = f"longitude {lon[index]:g} is outside ±180°"
        status[rest[bad_lat | bad_lon]] = _CODE[STATUS_INVALID]
    for index in set(lon_problems) | set(lat_problems):
        lon_p, lat_p = lon_problems.get(index, ""), lat_problems.get(index, "")
        if "blank" in (lon_p, lat_p):
            status[index], notes[index] = _CODE[STATUS_MISSING], "coordinate is blank"
        else:
            parts = [f"longitude {lon_p}" if lon_p else "", f"latitude {lat_p}" if lat_p else ""]
            status[index], notes[index] = _CODE[STATUS_INVALID], "; ".join(p for p in parts if p)
    for index, reason in (row_problems or {}).items():
        status[index], notes[index] = _CODE[STATUS_INVALID], reason
    unusable = (status == _CODE[STATUS_INVALID]) | (status == _CODE[STATUS_MISSING])
    lon[unusable] = np.nan
    lat[unusable] = np.nan
    return CheckedPoints(lon, lat, status, notes)


_STRICT_DECIMAL = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_NOT_A_NUMBER = re.compile(r"^[-+]?(nan|inf|infinity)$", re.IGNORECASE)


def parse_number(text, axis: str | None = None) -> tuple[float, str]:
    """One coordinate from text or a number: (value, problem) as in :func:`parse_degrees`.

    Text is NFKC-normalised first (full-width ``１１３．３`` reads as 113.3). Only plain decimals
    and DMS are numbers: Python's float() would also take ``1_13.3`` (underscores), which is a
    typo here, not 113.3. Scalar twin of parse_degrees without pandas, for one-point commands.
    """
    if text is None:
        return np.nan, "blank"
    if isinstance(text, int | float | np.integer | np.floating):
        number = float(text)
        return (
            (number, "")
            if np.isfinite(number)
            else (np.nan, "not a number: NaN" if np.isnan(number) else "not a finite number")
        )
    stripped = unicodedata.normalize("NFKC", str(text)).strip().replace("−", "-")
    if not stripped:
        return np.nan, "blank"
    if _NOT_A_NUMBER.match(stripped):
        return np.nan, "not a number: NaN" if "nan" in stripped.lower() else "not a finite number"
    value: float | None
    if _STRICT_DECIMAL.match(stripped):
        value = float(stripped)
    else:
        value, hemisphere = _parse_dms(stripped)
        if value is None:
            return np.nan, f"not a number: {str(text).strip()!r}"
        if axis and hemisphere and _HEMI_AXIS[hemisphere] != axis:
            other = "latitude" if axis == "lon" else "longitude"
            return np.nan, f"{str(text).strip()!r} is a {other} (hemisphere {hemisphere.upper()})"
    if not np.isfinite(value):
        return np.nan, "not a finite number"
    return value, ""


def parse_point(lon_text, lat_text) -> tuple[float, float]:
    """One point from command-line text; raises CoordinateError (one line) when not usable."""
    values = []
    for text, name in ((lon_text, _("longitude")), (lat_text, _("latitude"))):
        number, problem = parse_number(text)
        if problem:
            kind = problem.split(":")[0]
            kind = {
                "blank": _("blank"),
                "not a number": _("not a number"),
                "not a finite number": _("not a finite number"),
            }.get(kind, kind)
            raise CoordinateError(
                _(
                    "{name} {text!r} is {problem}: give decimal degrees (e.g. 113.3245) or DMS (e.g. 113°19′30″E)"
                ).format(name=name, text=str(text), problem=kind)
            )
        values.append(number)
    return values[0], values[1]
