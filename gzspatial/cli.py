"""The ``gzspatial`` command line: a thin shell over the Python API.

Every command parses options, calls the library and prints. Errors the library raises on
purpose (GzError) are printed as one line with exit code 2; nothing prints a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from gzspatial import __version__
from gzspatial._errors import GzError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="GIS toolkit for Guangzhou's sci-tech innovation layout (一轴四核多点). Coordinates are lon lat, degrees.",
)

LayersOption = Annotated[
    Path | None, typer.Option("--layers", help="Folder of replacement layers (<name>.geojson, WGS84).")
]
CrsOption = Annotated[str, typer.Option("--crs", help="System of the input: wgs84, cgcs2000, gcj02, bd09 or EPSG:n.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def friendly(command):
    """Print GzError (and anything unexpected) as one line instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except GzError as exc:
            raise _fail(str(exc)) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:
            if os.environ.get("GZ_DEBUG"):
                raise
            raise _fail(f"unexpected {exc.__class__.__name__}: {exc} (set GZ_DEBUG=1 for details)", 1) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gzspatial {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """GIS toolkit for Guangzhou's sci-tech innovation layout (一轴四核多点)."""


@app.command("layers")
@friendly
def layers_command(layers: LayersOption = None, as_json: JsonOption = False) -> None:
    """List the layers with feature count, CRS and provenance."""
    from gzspatial.layers import read_layers

    rows = []
    for name, layer in read_layers(layers).items():
        meta = layer.metadata
        rows.append({
            "layer": name, "features": len(layer), "crs": "EPSG:4326 (WGS84, RFC 7946)",
            "source": meta.get("source", "see features' 'source'"), "license": meta.get("license", ""),
            "generated": meta.get("generated", ""), "path": str(layer.path),
        })
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['layer']:<10} {row['features']:>4} features  {row['crs']}")
        typer.echo(f"           source: {row['source']}")
        if row["license"]:
            typer.echo(f"           license: {row['license']}; generated {row['generated']}")
        typer.echo(f"           file: {row['path']}")


@app.command("convert")
@friendly
def convert_command(
    args: Annotated[list[str], typer.Argument(help="LON LAT of one point, or one CSV/Excel file.", show_default=False)],
    src: Annotated[str, typer.Option("--from", help="System of the input (wgs84, cgcs2000, gcj02, bd09, EPSG:n).")],
    dst: Annotated[str, typer.Option("--to", help="System to convert to.")] = "wgs84",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Output file (.csv/.xlsx); '-' for stdout.")
    ] = None,
    lon: Annotated[str | None, typer.Option("--lon", help="Longitude column (default: found by name).")] = None,
    lat: Annotated[str | None, typer.Option("--lat", help="Latitude column (default: found by name).")] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", help="CSV encoding (default: detected).")] = None,
    excel_bom: Annotated[bool, typer.Option("--excel-bom", help="Write CSV with a UTF-8 BOM for Excel.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Convert a point or a whole table between wgs84, cgcs2000, gcj02, bd09 and EPSG codes.

    Example: gzspatial convert 113.3245 23.1066 --from gcj02 --to wgs84
    """
    from gzspatial import crs

    if len(args) == 2:
        x, y = _point_argument(args[0], args[1], crs.is_geographic(crs.normalize_crs(src)))
        out_lon, out_lat = crs.transform(x, y, src, dst)
        result = {"from": crs.normalize_crs(src), "to": crs.normalize_crs(dst), "input": [x, y],
                  "output": [round(out_lon, 9), round(out_lat, 9)]}
        typer.echo(json.dumps(result) if as_json else f"{out_lon:.7f} {out_lat:.7f}")
        return
    if len(args) != 1:
        raise _fail("give LON LAT for one point, or one input file")
    from gzspatial import io

    source = args[0]
    if output is None:
        raise _fail("converting a file needs -o OUTPUT (.csv, .xlsx, or - for stdout)")
    io.check_not_input(output, source)
    frame = io.read_table(source, encoding=encoding)
    lon_col, lat_col = io.find_coordinate_columns(frame.columns, lon, lat)
    converted = crs.convert_frame(frame, lon=lon_col, lat=lat_col, src=src, dst=dst)
    io.write_table(converted, output, excel_bom=excel_bom)
    counts = converted["gz_status"].value_counts().to_dict()
    summary = {"rows": len(converted), "status": counts, "output": str(output)}
    if as_json and str(output) != "-":
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        typer.echo(f"converted {len(converted)} rows ({', '.join(f'{k}: {v}' for k, v in counts.items())})", err=True)


def _point_argument(lon_text: str, lat_text: str, geographic: bool) -> tuple[float, float]:
    """Parse LON LAT; a swapped pair is corrected with a note on stderr."""
    from gzspatial._validate import STATUS_SWAPPED, check_points, parse_point

    x, y = parse_point(lon_text, lat_text)
    checked = check_points([x], [y], geographic=geographic)
    if checked.status[0] == STATUS_SWAPPED:
        typer.echo(f"note: {lon_text} {lat_text} looks like LAT LON; read as {y} {x}", err=True)
        return y, x
    return x, y


def main() -> None:
    """Console entry point (``gzspatial``)."""
    app()
