"""The plan's 12 main indicators (二（四）): base values, 2025 targets, and progress from actuals.

Progress toward a target is (actual - base) / (target - base) when the plan gives a base value;
for indicators with no base ("-" in the plan) it is actual / target.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gzspatial._errors import InputError
from gzspatial.i18n import _

if TYPE_CHECKING:
    import pandas as pd


def indicators_path() -> Path:
    """The packaged indicators table (inside a wheel, or ``data/indicators.csv`` in a checkout)."""
    here = Path(__file__).resolve().parent
    installed = here / "_data" / "indicators.csv"
    return installed if installed.is_file() else here.parent / "data" / "indicators.csv"


def load_indicators() -> pd.DataFrame:
    """The 12 indicators as a DataFrame (values as numbers; base_value NaN where the plan has none)."""
    import pandas as pd

    dtypes: dict[str, Any] = {"id": str, "base_year": "Int64", "target_year": "Int64"}
    return pd.read_csv(indicators_path(), dtype=dtypes)


def read_actuals(path: str | Path) -> pd.DataFrame:
    """Actuals from a CSV of ``indicator_id,year,value``; raises InputError naming bad rows."""
    import pandas as pd

    from gzspatial.io import read_table

    table = read_table(path)
    missing = [c for c in ("indicator_id", "year", "value") if c not in table.columns]
    if missing:
        raise InputError(
            _("{path}: missing column(s) {missing}; expected indicator_id,year,value").format(
                path=path, missing=", ".join(missing)
            )
        )
    known = set(load_indicators()["id"])
    unknown = sorted(set(table["indicator_id"]) - known)
    if unknown:
        raise InputError(
            _("{path}: unknown indicator id(s) {unknown}; known: {known}").format(
                path=path, unknown=", ".join(unknown), known=", ".join(sorted(known))
            )
        )
    year = pd.to_numeric(table["year"], errors="coerce")
    value = pd.to_numeric(table["value"], errors="coerce")
    bad = table.index[year.isna() | value.isna()].tolist()
    if bad:
        row = bad[0]
        message = _("{path}: row {row} has year {year!r} and value {value!r}; both must be numbers")
        raise InputError(
            message.format(path=path, row=row + 2, year=table.at[row, "year"], value=table.at[row, "value"])
        )
    return pd.DataFrame({"id": table["indicator_id"], "year": year.astype(int), "value": value.astype(float)})


def progress(actuals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each indicator with its latest actual (if given) and progress toward the 2025 target (0–1+)."""
    table = load_indicators()
    table["actual_year"] = np.nan
    table["actual_value"] = np.nan
    if actuals is not None and len(actuals):
        latest = actuals.sort_values("year").groupby("id").last()
        table["actual_year"] = table["id"].map(latest["year"])
        table["actual_value"] = table["id"].map(latest["value"])
    has_base = table["base_value"].notna()
    span = table["target_value"] - table["base_value"]
    table["progress"] = np.where(has_base, (table["actual_value"] - table["base_value"]) / span,
                                 table["actual_value"] / table["target_value"])  # fmt: skip
    return table
