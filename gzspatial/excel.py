"""Excel (.xlsx) output: one streaming writer for every table gzspatial writes to Excel.

Guarantees (tested in tests/test_excel.py and tests/hostile/test_spreadsheet.py):

- Text is always stored as text: every text cell is written with the string type set explicitly,
  so ``=HYPERLINK(…)``, ``+1+1``, ``@SUM(1)``, ``#N/A`` or a tab-led cell is shown literally and
  never becomes a formula or an error value.
- Numbers stay numbers. A text column (CSV and Excel inputs are read as text) is written as
  numbers when every non-blank cell is a *plain decimal* (:data:`PLAIN_DECIMAL`: optional ``-``,
  no leading zero, no ``+``, exponent, spaces or separators) that Excel can hold without change:
  at most 11 integer digits (Excel shows longer whole numbers as ``4.40103E+11``) and 15
  significant digits (its precision). Otherwise the whole column stays text, so codes such as
  ``0440103`` or ``440103000000`` keep every digit. Trailing fraction zeros are not kept
  (``113.30`` is the number 113.3). Categorical columns of text (join's ``gz_`` names and codes)
  are labels and stay text, so their type does not depend on the data.
- Limits are checked before anything is written: more than 1,048,575 rows below the header,
  more than 16,384 columns, a cell over 32,767 characters, or a character XML cannot hold
  (NUL and other control characters except tab, CR, LF) raise :class:`ExcelLimitError` naming the
  row (data rows count from 1) and column. Nothing is truncated or dropped.
- Known limits of the format: a carriage return inside a cell reads back as a line feed (XML
  line-end normalisation), and Excel (not openpyxl or pandas) shows a literal ``_x000D_``-style
  sequence in text as the character it encodes.
- Header row bold and frozen, an autofilter over the data rows, column widths fitted to the
  header and the widest cells (CJK characters count double).
- Written through :func:`gzspatial.io.atomic_output`; openpyxl's write-only mode streams rows
  to a temporary part, so memory stays bounded beyond the table itself. A failure (e.g. a full
  disk) closes the archive and removes openpyxl's temporary parts before the error propagates.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gzspatial._errors import InputError
from gzspatial.i18n import _

if TYPE_CHECKING:
    import pandas as pd

MAX_ROWS = 1_048_576  #: rows in a sheet, header included
MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767
MAX_TITLE_CHARS = 31
#: Characters XML 1.0 cannot hold (tab, LF and CR are allowed).
ILLEGAL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: A text cell that becomes a number: -?digits[.digits], no leading zero (0 and 0.x allowed).
PLAIN_DECIMAL = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"
MAX_INTEGER_DIGITS = 11
MAX_SIGNIFICANT_DIGITS = 15
#: Column widths (Excel character units): padding beside the text, and the bounds.
WIDTH_PADDING, MIN_WIDTH, MAX_WIDTH = 2, 6, 60
#: Cells looked at to fit widths: the first rows and the longest cells.
WIDTH_SAMPLE_HEAD, WIDTH_SAMPLE_LONGEST = 10_000, 200
ROWS_PER_CHUNK = 20_000
_FORBIDDEN_IN_TITLE = re.compile(r"[\[\]:*?/\\]")


class ExcelLimitError(InputError):
    """A table does not fit in an .xlsx sheet (rows, columns, cell length or characters)."""


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its title, its table (a DataFrame), number formats by column name
    (e.g. ``{"share": "0.0%"}``) and how many last rows are totals (bold, outside the filter)."""

    title: str
    frame: pd.DataFrame
    number_formats: Mapping[str, str] = field(default_factory=dict)
    total_rows: int = 0


def write_xlsx(sheets: Sheet | Iterable[Sheet], path: str | Path) -> None:
    """Write one or more tables to an .xlsx file, atomically (see the module docstring)."""
    from openpyxl import Workbook

    from gzspatial.io import atomic_output

    sheets = [sheets] if isinstance(sheets, Sheet) else list(sheets)
    if not sheets:
        raise InputError(_("nothing to write: no sheets"))
    plans = [_plan(sheet) for sheet in sheets]  # every limit is checked before the file is opened
    workbook = Workbook(write_only=True)
    try:
        with atomic_output(Path(path), "wb") as handle:
            for plan in plans:
                _write_sheet(workbook, plan)
            _save(workbook, handle)
    finally:
        _remove_parts(workbook)


def safe_title(title: str) -> str:
    """A valid sheet title: characters Excel forbids (``[]:*?/\\``) replaced, at most 31 long."""
    text = _FORBIDDEN_IN_TITLE.sub("_", ILLEGAL_CHARACTERS.sub("", str(title))).strip("'")
    return (text or "Sheet1")[:MAX_TITLE_CHARS]


def check_rows(rows: int) -> None:
    """Refuse a table of ``rows`` data rows that would not fit below the header of a sheet."""
    if rows + 1 > MAX_ROWS:
        raise ExcelLimitError(
            _(
                "{rows:,} rows do not fit in an Excel sheet (at most {limit:,} below the header): write .csv or "
                ".parquet instead"
            ).format(rows=rows, limit=MAX_ROWS - 1)
        )


def display_width(text: str) -> int:
    """Width of text in a fixed-width grid: East Asian wide and full-width characters count 2."""
    return max((sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
                for line in str(text).splitlines() or [""]), default=0)  # fmt: skip


# --- planning: column kinds, limits, widths -------------------------------------------------


@dataclass
class _Column:
    name: str
    kind: str  # number, bool, decimal_text, text, datetime, object
    values: pd.Series  # prepared for its kind
    width: float
    number_format: str | None = None


@dataclass
class _Plan:
    title: str
    columns: list[_Column]
    rows: int
    total_rows: int


def _plan(sheet: Sheet) -> _Plan:
    frame = sheet.frame
    title = safe_title(sheet.title)
    check_rows(len(frame))
    if len(frame.columns) > MAX_COLUMNS:
        raise ExcelLimitError(
            _(
                "{n_columns:,} columns do not fit in an Excel sheet (at most {MAX_COLUMNS:,}): write .csv or "
                ".parquet instead"
            ).format(n_columns=len(frame.columns), MAX_COLUMNS=MAX_COLUMNS)
        )
    columns = []
    for position in range(len(frame.columns)):
        name = str(frame.columns[position])
        _check_text(name, f"the header of column {position + 1}")
        kind, values = _prepare(frame.iloc[:, position])
        if kind in ("text", "object"):
            _check_cells(values, name)
        fmt = sheet.number_formats.get(name)
        columns.append(_Column(name, kind, values, _fit_width(name, kind, values, fmt), fmt))
    return _Plan(title, columns, len(frame), sheet.total_rows)


def _prepare(series: pd.Series) -> tuple[str, pd.Series]:
    """(kind, values) of a column: numeric and boolean dtypes as they are, text as text unless
    every non-blank cell is a plain decimal Excel holds exactly (then numbers)."""
    import pandas as pd

    dtype = series.dtype
    if getattr(dtype, "name", "") == "geometry":
        import shapely

        return "text", pd.Series(shapely.to_wkt(np.asarray(series.values)), dtype=object)
    if isinstance(dtype, pd.CategoricalDtype):
        labels = series.cat.categories
        series = series.astype(object)
        if all(isinstance(label, str) for label in labels):  # labels (e.g. join's gz_ names and codes) stay text
            return "text", series.where(series.notna(), "")
        dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool", series
    if pd.api.types.is_numeric_dtype(dtype):
        return "number", series
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if getattr(dtype, "tz", None) is not None:  # Excel has no time zones: keep the ISO text
            return "text", series.map(lambda v: "" if pd.isna(v) else v.isoformat()).astype(object)
        return "datetime", series
    values = series.astype(object)
    blank = values.isna()
    if not (values.map(_is_exact_str) | blank).all():
        return "object", values
    values = values.where(~blank, "")  # text kinds hold only str; "" is a blank cell
    return ("decimal_text" if _is_decimal_column(values[values != ""]) else "text"), values


def _is_decimal_column(cells) -> bool:
    """True if there are cells and every one is a plain decimal that survives as an Excel number."""
    if cells.empty:
        return False
    text = cells.astype(str)
    if not text.str.fullmatch(PLAIN_DECIMAL).all():
        return False
    digits = text.str.lstrip("-")
    integer = digits.str.split(".", n=1).str[0]
    significant = digits.str.replace(".", "", regex=False).str.lstrip("0")
    return bool(
        (integer.str.len() <= MAX_INTEGER_DIGITS).all() and (significant.str.len() <= MAX_SIGNIFICANT_DIGITS).all()
    )


def _check_text(text: str, where: str) -> None:
    if len(text) > MAX_CELL_CHARS:
        raise ExcelLimitError(
            _(
                "{where} has {n_text:,} characters, more than an Excel cell holds ({MAX_CELL_CHARS:,}): write "
                ".csv or .parquet instead"
            ).format(where=where, n_text=len(text), MAX_CELL_CHARS=MAX_CELL_CHARS)
        )
    bad = ILLEGAL_CHARACTERS.search(text)
    if bad:
        raise ExcelLimitError(
            _(
                "{where} holds the control character U+{bad:04X}, which an .xlsx file cannot store: remove it "
                "from the input, or write .csv or .parquet instead"
            ).format(where=where, bad=ord(bad.group()))
        )


def _check_cells(values, name: str) -> None:
    """Length and character limits of a text column, vectorised; the first offending row is named."""
    text = _as_text(values)
    for problem in (text.str.len() > MAX_CELL_CHARS, text.str.contains(ILLEGAL_CHARACTERS)):
        hits = np.flatnonzero(problem.to_numpy(dtype=bool))
        if len(hits):
            _check_text(text.iloc[hits[0]], f"row {hits[0] + 1:,}, column {name!r},")


def _fit_width(name: str, kind: str, values, number_format: str | None) -> float:
    """Column width in Excel character units: the header (bold, plus the filter button) or the
    widest of the first and the longest cells, CJK counted double, within MIN_WIDTH..MAX_WIDTH."""
    widest = display_width(name) + 2
    if len(values):
        if kind in ("text", "object", "decimal_text"):
            text = _as_text(values)
            lengths = text.str.len()
            sample = text.iloc[:WIDTH_SAMPLE_HEAD]
            longest = text.loc[lengths.nlargest(WIDTH_SAMPLE_LONGEST).index]
            widest = max(widest, *(display_width(t) for t in set(sample) | set(longest)))
        elif kind == "number":
            finite = values[np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))]
            if len(finite):
                if number_format and "%" in number_format:
                    widest = max(widest, 7)
                elif number_format and "0." in number_format:
                    decimals = len(number_format.split(".", 1)[1])
                    widest = max(widest, len(f"{abs(finite).max():,.{decimals}f}") + 1)
                else:
                    widest = max(widest, *(len(_general(v)) for v in (finite.max(), finite.min())))
        elif kind == "datetime":
            widest = max(widest, 19)
        else:  # bool
            widest = max(widest, 5)
    return float(min(max(widest + WIDTH_PADDING, MIN_WIDTH), MAX_WIDTH))


def _as_text(values: pd.Series) -> pd.Series:
    """A text column as it is; a column of mixed objects as the text each cell will show."""
    if values.map(_is_exact_str).all():
        return values
    return values.map(lambda v: v if isinstance(v, str) else "" if _is_missing(v) else str(v))


def _is_exact_str(value: object) -> bool:
    """True for an exact str; a str subclass takes the mixed-objects path."""
    return type(value) is str


def _general(value) -> str:
    """Roughly how Excel's General format shows a number (at most 11 characters)."""
    text = f"{value:.10g}"
    return text if len(text) <= 11 else f"{value:.5E}"


def _is_missing(value) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


# --- writing ----------------------------------------------------------------------------------


def _write_sheet(workbook, plan: _Plan) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(plan.title)
    for number, column in enumerate(plan.columns, 1):
        sheet.column_dimensions[get_column_letter(number)].width = column.width
    sheet.freeze_panes = "A2"
    data_rows = plan.rows - plan.total_rows
    if plan.columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(plan.columns))}{data_rows + 1}"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, column.name, font=bold) for column in plan.columns])
    for start in range(0, plan.rows, ROWS_PER_CHUNK):
        stop = min(start + ROWS_PER_CHUNK, plan.rows)
        cells = [_cells(sheet, column, start, stop) for column in plan.columns]
        for offset, row in enumerate(zip(*cells, strict=True)):
            sheet.append([_styled(sheet, value, font=bold) for value in row] if start + offset >= data_rows else row)


def _cells(sheet, column: _Column, start: int, stop: int) -> list:
    """Cell values for rows start..stop of a column: numbers, booleans, dates, None for blanks,
    and text as cells whose type is set to string explicitly."""
    values = column.values.iloc[start:stop]
    fmt = column.number_format
    if column.kind == "number":
        out = [
            None if _is_missing(v) else v if math.isfinite(v) else _text_cell(sheet, str(v)) for v in values.tolist()
        ]
    elif column.kind == "bool":
        out = [None if _is_missing(v) else bool(v) for v in values.tolist()]
    elif column.kind == "datetime":
        out = [None if _is_missing(v) else v.to_pydatetime() for v in values.tolist()]
    elif column.kind == "decimal_text":
        out = [None if not v else float(v) if "." in v else int(v) for v in values.tolist()]
    elif column.kind == "text":
        out = [None if not v else _text_cell(sheet, v) for v in values.tolist()]
    else:
        out = [_object_value(sheet, v) for v in values.tolist()]
    if fmt:
        out = [_styled(sheet, v, number_format=fmt) for v in out]
    return out


def _object_value(sheet, value):
    """A cell from a column of mixed Python objects."""
    if isinstance(value, np.ndarray | list | tuple | dict):  # a list-valued property (GIS formats): JSON text
        value = json.dumps(value.tolist() if isinstance(value, np.ndarray) else value, ensure_ascii=False, default=str)
    if _is_missing(value) or value == "":
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating) and math.isfinite(value):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, _dt.datetime | _dt.date | _dt.time) and getattr(value, "tzinfo", None) is None:
        return value
    return _text_cell(sheet, value if isinstance(value, str) else str(value))


def _text_cell(sheet, text: str, **style):
    """A cell holding ``text`` as a string, whatever it starts with (never a formula or error)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"  # openpyxl reads a leading '=' as a formula and '#N/A' as an error: not here
    for key, value in style.items():
        setattr(cell, key, value)
    return cell


def _styled(sheet, value, **style):
    """``value`` (a plain value or a cell) with a style (font, number_format) applied."""
    from openpyxl.cell import Cell, WriteOnlyCell

    if value is None:
        return None
    cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value)
    for key, setting in style.items():
        setattr(cell, key, setting)
    return cell


def _save(workbook, handle) -> None:
    """Zip the workbook into ``handle``; on failure close the archive without raising again
    (otherwise ZipFile.__del__ retries on a full disk and prints 'Exception ignored')."""
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    archive = zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    try:
        ExcelWriter(workbook, archive).write_data()
    except BaseException:
        with contextlib.suppress(Exception):
            archive.close()
        raise
    archive.close()


def _remove_parts(workbook) -> None:
    """Close every sheet and delete the temporary part openpyxl's write-only mode streams it to
    (the save removes them; after a failure they would stay in the temp folder until exit)."""
    for sheet in workbook.worksheets:
        with contextlib.suppress(Exception):
            if not sheet.closed:
                sheet.close()
        with contextlib.suppress(Exception):
            sheet._writer.cleanup()  # no public API; already gone after a successful save
