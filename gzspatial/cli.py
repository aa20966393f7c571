"""The ``gzspatial`` command line: a thin shell over the Python API.

Every command parses options, calls the library and prints. Errors the library raises on
purpose (GzError) are printed as one line with exit code 2; nothing prints a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
import typer.core

from gzspatial import i18n
from gzspatial._errors import GzError
from gzspatial.i18n import _
from gzspatial.schema import By
from gzspatial.settings import DEFAULT_CORRIDOR_KM
from gzspatial.style import Basemap

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from rich.table import Table
    from rich.text import Text

    from gzspatial.locator import Location

P = ParamSpec("P")
R = TypeVar("R")

# The UsageError class typer's parser raises: click's, or its vendored copy in newer typer (typer._click).
# Taken from typer's public BadParameter (a UsageError in every click) rather than a private module path.
_UsageError: type = typer.BadParameter.__mro__[1]


class _OneLineUsageError(_UsageError):
    """A usage error shown as one line (click prints usage, a hint and the error on three)."""

    words: tuple[str, ...] = ()  # the command line's words, for a --lang parsing did not reach

    def show(self, file=None) -> None:
        message = self.format_message().replace("Value error, ", "")  # typer's enum check adds this prefix
        try:  # parsing failed: a --lang among the words, else GZ_LANG or the locale decide the language
            lang = i18n.resolve(_lang_word(self.words))
        except GzError:
            lang = i18n.Lang.EN
        with i18n.use(lang):
            message = i18n.usage_error(message)
            if self.ctx is not None:
                message += _(" (see '{command} --help')").format(command=self.ctx.command_path)
            typer.echo(_("error: {message}").format(message=terminal_text(message)), err=True)


class _OneLineErrors(typer.core.TyperGroup):
    """Root command: usage errors of any subcommand (unknown option, bad choice, missing argument) are one line."""

    def make_context(self, info_name, args, *more, **kwargs):
        words = tuple(args)  # the whole command line, kept for the error of a subcommand's parsing
        try:
            ctx = super().make_context(info_name, args, *more, **kwargs)
        except _UsageError as exc:
            raise _one_line(exc, words) from None
        ctx.meta["gzspatial.words"] = words
        return ctx

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _UsageError as exc:
            raise _one_line(exc, ctx.meta.get("gzspatial.words", ())) from None


def _one_line(exc: typer.BadParameter, words) -> _OneLineUsageError:
    if isinstance(exc, _OneLineUsageError):
        return exc
    line = _OneLineUsageError(exc.format_message(), exc.ctx)
    line.exit_code, line.words = exc.exit_code, tuple(words)
    return line


def _lang_word(words: tuple[str, ...]) -> str | None:
    """The value of the last ``--lang X`` / ``--lang=X`` among the command line's words, if any."""
    found = None
    for i, word in enumerate(words):
        if word == "--lang" and i + 1 < len(words):
            found = words[i + 1]
        elif word.startswith("--lang="):
            found = word.split("=", 1)[1]
    return found


app = typer.Typer(
    cls=_OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="GIS toolkit for Guangzhou's sci-tech innovation layout (一轴四核多点). Coordinates are lon lat, degrees.",
)


def _check_layers_folder(ctx: typer.Context, folder: Path | None) -> Path | None:
    """Say so when a --layers folder replaces none of the layers (a typo'd or wrong folder)."""
    if folder is not None and folder.is_dir():
        from gzspatial.layers import LAYER_NAMES, replaced_layers

        if not replaced_layers(folder):
            expected = ", ".join(f"{name}.geojson" for name in LAYER_NAMES)
            with i18n.use(_lang_in(ctx)):
                message = _("warning: --layers {folder} replaces no layer (expected {expected}); the packaged "
                            "layers are used").format(folder=folder, expected=expected)  # fmt: skip
            typer.echo(terminal_text(message), err=True)
    return folder


def _lang_in(ctx: typer.Context) -> i18n.Lang:
    """The interface language of this command line (set by --lang's callback; else GZ_LANG / the locale)."""
    lang = ctx.meta.get(_LANG_KEY)
    return lang if isinstance(lang, i18n.Lang) else _resolve_lang(None)


def _resolve_lang(value: str | None) -> i18n.Lang:
    """--lang, else GZ_LANG, else the locale; a bad value is a one-line exit 2 (in the locale's language)."""
    try:
        return i18n.resolve(value)
    except GzError:
        with i18n.use(i18n.locale_lang()):  # raised again, so that the message is in the locale's language
            try:
                i18n.resolve(value)
            except GzError as exc:
                raise _fail(str(exc)) from None
        raise


_LANG_KEY = "gzspatial.lang"


def _lang_callback(ctx: typer.Context, value: str | None) -> str | None:
    """Decide the interface language before any other option is read (--lang is eager)."""
    ctx.meta[_LANG_KEY] = _resolve_lang(value)
    return None if value is None else ctx.meta[_LANG_KEY]  # given: zh or en; None: not given


LayersOption = Annotated[
    Path | None,
    typer.Option(
        "--layers",
        help="Folder of replacement layers (<name>.geojson, WGS84); default: GZ_LAYERS, then 'gzspatial config'.",
        callback=_check_layers_folder,
    ),
]
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="Language of messages, tables and maps: zh or en (default: GZ_LANG, then the locale: zh_* gives zh, "
        "anything else en). gz_ column names, gz_status values and JSON keys stay English.",
        callback=_lang_callback,
        is_eager=True,
        show_default=False,
    ),
]
CrsOption = Annotated[str, typer.Option("--crs", help="System of the input: wgs84, cgcs2000, gcj02, bd09 or EPSG:n.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
CorridorOption = Annotated[float, typer.Option("--corridor-km", help="Axis corridor half-width, km.")]
DelimiterOption = Annotated[
    str | None, typer.Option("--delimiter", help="CSV delimiter: , ; | or tab (default: sniffed from the header).")
]


#: C0/C1 control characters and DEL: shown as visible escapes, never sent to a terminal raw.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL_IN_LINE = {c: v for c, v in _CONTROL.items() if c != 0x0A}


def terminal_text(text, *, multiline: bool = False) -> str:
    """``text`` with control characters (escape sequences, bells, carriage returns) made visible.

    Data reaches the terminal only through this: an ``ESC]0;…`` or ``ESC[2J`` in a name cannot
    retitle or clear the user's terminal. ``multiline`` keeps line feeds.
    """
    return str(text).translate(_CONTROL_IN_LINE if multiline else _CONTROL)


def echo(text, *, err: bool = False) -> None:
    """Print human-readable text (lines kept, control characters made visible)."""
    typer.echo(terminal_text(text, multiline=True), err=err)


SheetOption = Annotated[
    str | None, typer.Option("--sheet", help="Excel input: sheet name or number (1 = first); needed if several.")
]
ExcelSafeOption = Annotated[
    bool,
    typer.Option("--excel-safe", help="CSV output: prefix text cells starting with = + - @ (not numbers) with '."),
]
GeocoderOption = Annotated[
    str | None, typer.Option("--geocoder", help="Opt-in online geocoding: amap, baidu or tianditu (needs a key).")
]
KeyOption = Annotated[
    str | None,
    typer.Option("--key", help="Geocoder key (better: GZ_AMAP_KEY / GZ_BAIDU_AK / GZ_TIANDITU_KEY). Never printed."),
]
GeocoderUrlOption = Annotated[
    str | None,
    typer.Option("--geocoder-url", help="Geocoder endpoint URL instead of the provider's (proxy, on-premise)."),
]
QpsOption = Annotated[float | None, typer.Option("--qps", help="Geocoder requests per second (default 2).")]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the geocode cache.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(
        _("error: {message}").format(message=terminal_text(message)), err=True
    )  # one line, whatever the message holds
    return typer.Exit(code)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Print GzError (and anything unexpected) as one line instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        lang = kwargs.get("lang")  # every command has --lang (LangOption): zh/en if given, else None
        with i18n.use(lang if isinstance(lang, i18n.Lang) else _resolve_lang(None)):  # messages follow --lang
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
                message = _("unexpected {name}: {exc} (set GZ_DEBUG=1 for details)")
                raise _fail(message.format(name=exc.__class__.__name__, exc=exc), 1) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        from gzspatial import __version__  # here: reading package metadata costs every other command time

        typer.echo(f"gzspatial {__version__}")
        raise typer.Exit()


#: Options of the root callback for this run (reset by every invocation).
_run = {"quiet": False}


class _StderrLog(logging.Handler):
    """Log records of the gzspatial logger on stderr, one line each, control characters made visible.

    Writes to the stderr of the moment (click resolves it per call), so in-process runs are captured.
    Warnings read ``warning: …`` like the CLI's own; with -v/-vv lines name the module (and the time).
    """

    def __init__(self, level: int) -> None:
        super().__init__(level)
        detail = "%(relativeCreated)7.0f ms %(levelname)s %(name)s: %(message)s"
        self.formatter = logging.Formatter(detail if level <= logging.DEBUG else "%(levelname)s %(name)s: %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.levelno >= logging.WARNING and self.level > logging.DEBUG:
                line = f"{record.levelname.lower()}: {record.getMessage()}"
            else:
                line = self.format(record)
            typer.echo(terminal_text(line), err=True)  # data in messages cannot reach the terminal raw
        except Exception:
            self.handleError(record)


def _configure_logging(ctx: typer.Context, verbose: int, quiet: bool) -> None:
    """The gzspatial logger on stderr for this run: warnings, -v info, -vv debug, -q errors only."""
    if verbose and quiet:
        raise _fail(_("-q/--quiet and -v/--verbose contradict each other: give one of them"))
    level = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logger = logging.getLogger("gzspatial")
    handler, saved = _StderrLog(level), logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    shown = warnings.showwarning

    def one_line(message, category, filename, lineno, file=None, line=None) -> None:
        """A library's warning (GDAL's through pyogrio, …) as one ``warning:`` line, not file:line + source."""
        text = str(message).strip().splitlines()
        logger.warning("%s", text[0] if text else category.__name__)

    warnings.showwarning = one_line

    def restore() -> None:  # an in-process run (tests, notebooks) leaves the logger as it found it
        logger.removeHandler(handler)
        logger.setLevel(saved)
        warnings.showwarning = shown

    ctx.call_on_close(restore)
    _run["quiet"] = quiet


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "-v",
            "--verbose",
            count=True,
            show_default=False,
            help="Log on stderr what is decided (-v steps, -vv details); before the command: gzspatial -v join …",
        ),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Log errors only; no progress bars or join summary.")
    ] = False,
) -> None:
    """GIS toolkit for Guangzhou's sci-tech innovation layout (一轴四核多点)."""
    _configure_logging(ctx, verbose, quiet)


LayerKindOption = Annotated[str, typer.Option("--as", help="Layer kind: cores, nodes, axis, districts or platforms.")]

layers_app = typer.Typer(
    help="List the layers (no subcommand) or import official boundaries (layers import).", no_args_is_help=False
)
app.add_typer(layers_app, name="layers")


@layers_app.callback(invoke_without_command=True)
@friendly
def layers_command(
    ctx: typer.Context, layers: LayersOption = None, as_json: JsonOption = False, lang: LangOption = None
) -> None:
    """List the layers with feature count, CRS, version and provenance, and which layer set answers."""
    if ctx.invoked_subcommand is not None:
        return
    from gzspatial.layers import layer_set, read_layers

    answering = layer_set(layers)
    rows = []
    for name, layer in read_layers(layers).items():
        meta = layer.metadata
        rows.append(
            {
                "layer": name,
                "features": len(layer),
                "crs": "EPSG:4326 (WGS84, RFC 7946)",
                "version": layer.version,
                "source": meta.get("source", _("see features' 'source'")),
                "license": meta.get("license", ""),
                "generated": meta.get("generated", ""),
                "path": str(layer.path),
                "layer_set": answering.to_dict(),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    echo(_("layer set {version}, chosen by {origin}: {folder}").format(**answering.to_dict()))
    for row in rows:
        echo(_("{layer:<10} {features:>4} features  {crs}  version {version}").format(**row))
        echo(_("           source: {source}").format(**row))
        if row["license"]:
            echo(_("           license: {license}; generated {generated}").format(**row))
        echo(_("           file: {path}").format(**row))


@layers_app.command("import")
@friendly
def layers_import_command(
    source: Annotated[str, typer.Argument(help="Any vector file GDAL reads: .shp, .gpkg, .dxf, .geojson…")],
    kind: LayerKindOption,
    output: Annotated[Path, typer.Option("-o", "--output", help="Layer folder to write <kind>.geojson into.")],
    crs: Annotated[
        str | None, typer.Option("--crs", help="The file's CRS if it declares none: EPSG:n, WKT or PROJ string.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Attribute encoding (default: .cpg, else detected).")
    ] = None,
    layer: Annotated[str | None, typer.Option("--layer", help="Layer of a multi-layer file (GeoPackage).")] = None,
    id_field: Annotated[str | None, typer.Option("--id-field", help="Field holding layout ids.")] = None,
    name_field: Annotated[
        str | None, typer.Option("--name-field", help="Field holding feature names (default: 名称, name…).")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option("--map", help="CSV of user_value,layout_id pairs ('-' leaves a feature out).")
    ] = None,
    keep_missing: Annotated[
        bool, typer.Option("--keep-missing", help="Keep packaged features the file lacks (else an error).")
    ] = False,
    lang: LangOption = None,
) -> None:
    """Import official boundaries as a layer marked 'official' (reprojected to WGS84, matched to layout ids).

    Example: gzspatial layers import 分区.shp --as nodes -o my-layers; then GZ_LAYERS=my-layers gzspatial locate …
    """
    from gzspatial.layer_import import import_layer

    report = import_layer(
        source,
        kind,
        output,
        crs=crs,
        encoding=encoding,
        layer=layer,
        id_field=id_field,
        name_field=name_field,
        mapping=mapping,
        keep_missing=keep_missing,
    )
    for line in report.lines():
        echo(line, err=True)


config_app = typer.Typer(help="Settings: the default layers folder.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("set")
@friendly
def config_set_command(
    key: Annotated[str, typer.Argument(help="Setting: layers.")],
    value: Annotated[str, typer.Argument(help="Its value (for layers: a folder); '' removes it.")],
    lang: LangOption = None,
) -> None:
    """Set a setting, e.g. gzspatial config set layers DIR (below --layers and GZ_LAYERS)."""
    from gzspatial.config import set_value

    path = set_value(key, value or None)
    done = _("removed {key} in {path}") if not value else _("set {key} in {path}")
    typer.echo(done.format(key=key, path=path), err=True)


@config_app.command("show")
@friendly
def config_show_command(as_json: JsonOption = False, lang: LangOption = None) -> None:
    """Show the settings file, its values, and which layer set answers now."""
    from gzspatial.config import config_path, read_config
    from gzspatial.layers import layer_set

    settings, answering = read_config(), layer_set()
    if as_json:
        typer.echo(json.dumps({"file": str(config_path()), "settings": settings, "layer_set": answering.to_dict()},
                              ensure_ascii=False, indent=2))  # fmt: skip
        return
    typer.echo(
        (_("file: {path}") if config_path().exists() else _("file: {path} (none yet)")).format(path=config_path())
    )
    for key, value in settings.items():
        typer.echo(f"{key} = {value}")
    typer.echo(answering.describe())


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
    delimiter: DelimiterOption = None,
    excel_bom: Annotated[bool, typer.Option("--excel-bom", help="Write CSV with a UTF-8 BOM for Excel.")] = False,
    excel_safe: ExcelSafeOption = False,
    sheet: SheetOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Convert a point or a whole table between wgs84, cgcs2000, gcj02, bd09 and EPSG codes.

    Example: gzspatial convert 113.3245 23.1066 --from gcj02 --to wgs84
    """
    from gzspatial import crs

    if len(args) == 1 and not Path(args[0]).exists() and args[0] != "-":
        args = _pair_in_one_argument(args) or args  # "113.3245,23.1066": a point, not a file name
    if len(args) == 2:
        x, y = _point_argument(args[0], args[1], crs.is_geographic(crs.normalize_crs(src)))
        out_lon, out_lat = crs.transform(x, y, src, dst)
        result = {
            "from": crs.normalize_crs(src),
            "to": crs.normalize_crs(dst),
            "input": [x, y],
            "output": [round(out_lon, 9), round(out_lat, 9)],
        }
        typer.echo(json.dumps(result) if as_json else f"{out_lon:.7f} {out_lat:.7f}")
        return
    if len(args) != 1:
        raise _fail(_("give LON LAT for one point, or one input file"))
    from gzspatial import io

    source = args[0]
    if output is None:
        raise _fail(_("converting a file needs -o OUTPUT (.csv, .xlsx, or - for stdout)"))
    io.check_output_path(output)
    io.check_not_input(output, source)
    frame = io.read_table(source, encoding=encoding, sheet=sheet, delimiter=delimiter)
    lon_col, lat_col = io.find_coordinate_columns(frame.columns, lon, lat)
    converted = crs.convert_frame(frame, lon=lon_col, lat=lat_col, src=src, dst=dst)
    io.write_table(converted, output, excel_bom=excel_bom, excel_safe=excel_safe)
    counts = converted["gz_status"].value_counts().to_dict()
    summary = {"rows": len(converted), "status": counts, "output": str(output)}
    if as_json and str(output) != "-":
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        statuses = ", ".join(f"{k}: {v}" for k, v in counts.items())
        typer.echo(_("converted {rows} rows ({statuses})").format(rows=len(converted), statuses=statuses), err=True)


@app.command("locate")
@friendly
def locate_command(
    point: Annotated[list[str] | None, typer.Argument(help="LON LAT of the site.", show_default=False)] = None,
    crs: CrsOption = "wgs84",
    corridor_km: Annotated[
        float, typer.Option("--corridor-km", help="Axis corridor half-width, km.")
    ] = DEFAULT_CORRIDOR_KM,
    name: Annotated[str | None, typer.Option("--name", help="Find features by zh/en name or alias instead.")] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Locate an address: district offline, all with --geocoder.")
    ] = None,
    geocoder: GeocoderOption = None,
    key: KeyOption = None,
    geocoder_url: GeocoderUrlOption = None,
    no_cache: NoCacheOption = False,
    layers: LayersOption = None,
    as_json: JsonOption = False,
    lang: LangOption = None,
) -> None:
    """Which district, core, node and axis section a site falls in (or --name to find a feature).

    Example: gzspatial locate 113.3245 23.1066 --crs gcj02
    """
    if address is not None:
        session = _geocoder(geocoder, key, geocoder_url, None, no_cache)
        _locate_address(address, session, corridor_km, layers, as_json)
        return
    if name is not None:
        from gzspatial.locator import find

        found = find(name, layers=layers)
        if as_json:
            typer.echo(json.dumps([item.to_dict() for item in found], ensure_ascii=False, indent=2))
        elif not found:
            echo(_("no feature matches {name!r}").format(name=name))
        for item in [] if as_json else found:
            area = f"{item.area_km2:.1f} km²" if item.area_km2 is not None else ""
            echo(f"{item.name_zh}  {item.name_en}  [{item.layer}: {item.id}]")
            echo(f"    {item.group} · {'、'.join(item.districts)} · {area} · {item.precision}")
            if item.seed_ref:
                echo(f"    {item.seed_ref}")
        return
    point = _pair_in_one_argument(point)
    if not point or len(point) != 2:
        raise _fail(_("give LON LAT (e.g. gzspatial locate 113.3245 23.1066), or --name NAME"))
    from gzspatial.locator import locate

    location = locate(point[0], point[1], crs, corridor_km=corridor_km, layers=layers)
    if as_json:
        typer.echo(json.dumps(location.to_dict(), ensure_ascii=False, indent=2))
        return
    echo(_format_location(location))


def _format_location(loc: Location) -> str:
    """The short table of a Location, labelled in the language in force."""
    point = f"{loc.lon:.6f}, {loc.lat:.6f} (WGS84)"
    if loc.input.crs != "wgs84":
        point += _("  from {crs} {lon}, {lat}").format(crs=loc.input.crs, lon=loc.input.lon, lat=loc.input.lat)
    rows = [(_("Point"), point)]
    if loc.note:
        rows.append((_("Note"), _known_note(loc.note)))
    district = loc.district
    rows.append(
        (
            _("District"),
            f"{district.name_zh} {district.name_en} ({district.adcode})" if district else _("— (outside Guangzhou)"),
        )
    )
    core = loc.core
    rows.append(
        (
            _("Core"),
            "—" if core is None else f"{core.name_zh}{' · ' + core.part if core.part else ''}  {core.name_en}",
        )
    )
    nodes = "; ".join(f"{n.name_zh} {n.name_en} ({n.group}, {n.area_km2:.1f} km²)" for n in loc.nodes)
    rows.append((_("Nodes"), nodes or "—"))
    if loc.nearest_node:
        near = loc.nearest_node
        rows.append((_("Nearest"), f"{near.name_zh} {near.name_en}: {near.distance_m:,.0f} m"))
    if loc.axis:
        axis = loc.axis
        where = _("on the axis (corridor {km:g} km)") if axis.on_axis else _("off the axis (corridor {km:g} km)")
        where = where.format(km=axis.corridor_km)
        rows.append((_("Axis"), f"{axis.name_zh} {axis.name_en}: {axis.distance_m:,.0f} m, {where}"))
    if loc.layers:
        rows.append((_("Layers"), f"{loc.layers.version} ({loc.layers.origin}: {loc.layers.folder})"))
    return _label_rows(rows)


def _known_note(note: str) -> str:
    """A locate note in the language in force (gz_note texts themselves stay English, like gz_status)."""
    from gzspatial._validate import SWAPPED_NOTE

    known = {
        SWAPPED_NOTE: _("longitude and latitude were swapped; corrected"),
        "outside Guangzhou": _("outside Guangzhou"),
    }
    return known.get(note, note)


def _label_rows(rows: list[tuple[str, str]]) -> str:
    """``label  value`` lines, labels padded to one display width (a Chinese character is two columns)."""
    from gzspatial.excel import display_width

    width = max(display_width(label) for label, _value in rows)
    return "\n".join(f"{label}{' ' * (width - display_width(label))}  {terminal_text(value)}" for label, value in rows)


@app.command("join")
@friendly
def join_command(
    source: Annotated[str, typer.Argument(help="Input: CSV (- for stdin), .xlsx, .geojson, .gpkg, .shp, .parquet.")],
    output: Annotated[
        str,
        typer.Option(
            "-o", "--output", help="Output by extension: .csv (- for stdout), .xlsx, .geojson, .gpkg, .parquet."
        ),
    ],
    crs: Annotated[
        str | None,
        typer.Option(
            "--crs",
            help="System of the coordinates: wgs84, cgcs2000, gcj02, bd09, EPSG:n. Required unless the data "
            "says (a file's declared CRS, gcj_lng-style column names, a 坐标系 column), and must agree with it.",
        ),
    ] = None,
    lon: Annotated[str | None, typer.Option("--lon", help="Longitude column (default: found by name).")] = None,
    lat: Annotated[str | None, typer.Option("--lat", help="Latitude column (default: found by name).")] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", help="CSV encoding (default: detected).")] = None,
    delimiter: DelimiterOption = None,
    excel_bom: Annotated[bool, typer.Option("--excel-bom", help="Write CSV with a UTF-8 BOM for Excel.")] = False,
    corridor_km: Annotated[
        float, typer.Option("--corridor-km", help="Axis corridor half-width, km.")
    ] = DEFAULT_CORRIDOR_KM,
    lang: LangOption = None,
    overwrite_gz: Annotated[bool, typer.Option("--overwrite-gz", help="Replace the input's own gz_ columns.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No summary or progress on stderr.")] = False,
    excel_safe: ExcelSafeOption = False,
    sheet: SheetOption = None,
    layer: Annotated[
        str | None, typer.Option("--layer", help="GeoPackage (GIS) input: layer name; needed if several.")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Address column for rows without coordinates (default: 地址…).")
    ] = None,
    geocoder: GeocoderOption = None,
    key: KeyOption = None,
    geocoder_url: GeocoderUrlOption = None,
    qps: QpsOption = None,
    no_cache: NoCacheOption = False,
    layers: LayersOption = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Dataset input: start a local Dask cluster of N processes.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dataset input: use a running Dask scheduler tcp://HOST:PORT.")
    ] = None,
    overwrite_output: Annotated[
        bool, typer.Option("--overwrite-output", help="Dataset output: replace a non-empty OUTDIR (once complete).")
    ] = False,
) -> None:
    """Attach every row to the layout: district, core, nodes, axis; nothing is dropped.

    SOURCE may be a folder or a glob ('data/*.parquet') of Parquet or CSV files: then -o names a folder
    and a partitioned Parquet dataset is written there with Dask (--workers / --scheduler for a cluster).

    Adds gz_district, gz_district_code, gz_core, gz_core_part, gz_nodes, gz_primary_node, gz_node_group,
    gz_on_axis, gz_axis_section, gz_axis_distance_m, gz_nearest_node, gz_nearest_node_m, gz_subdistrict,
    gz_status (ok, outside, swapped, missing, invalid, address_only, geocoded, geocoded_coarse) and gz_note;
    with --geocoder also gz_geocode_source, gz_geocode_level, gz_geocode_score, gz_geocode_lon, gz_geocode_lat.

    Names in the output (gz_district, gz_core…) are Chinese unless --lang en is given: GZ_LANG and the
    locale change only the messages, so an output does not depend on the machine that wrote it.
    """
    from gzspatial import attribute, io, pipeline
    from gzspatial.dask import is_dataset

    quiet = quiet or _run["quiet"]  # gzspatial -q join …

    if is_dataset(source):
        _join_dataset(source, output, crs=crs, lon=lon, lat=lat, encoding=encoding, delimiter=delimiter,
                      corridor_km=corridor_km, lang=lang or "zh", overwrite_gz=overwrite_gz, address=address,
                      layers=layers, workers=workers, scheduler=scheduler, overwrite_output=overwrite_output,
                      quiet=quiet, geocoder=geocoder)  # fmt: skip
        return
    if workers is not None or scheduler is not None or overwrite_output:
        raise _fail(_("--workers, --scheduler and --overwrite-output are for a dataset input (a folder or a glob)"))
    session = _geocoder(geocoder, key, geocoder_url, qps, no_cache)

    io.check_output_path(output)  # first: a folder or device is said to be one, whatever its name
    suffix = "" if output == "-" else Path(output).suffix.lower()
    if output != "-" and suffix not in io.OUTPUT_SUFFIXES:
        raise _fail(
            _("cannot write {suffix!r}: use {OUTPUT_SUFFIXES}").format(
                suffix=suffix or _("files without an extension"), OUTPUT_SUFFIXES=", ".join(io.OUTPUT_SUFFIXES)
            )
        )
    io.check_not_input(output, source)
    options = attribute.Options(crs, corridor_km, lang or "zh", layers, overwrite_gz)  # names: zh unless --lang
    progress = _Progress(quiet)
    try:
        counts = pipeline.join_file(
            source, output, lon=lon, lat=lat, options=options, encoding=encoding, delimiter=delimiter, sheet=sheet,
            layer=layer, excel_bom=excel_bom, excel_safe=excel_safe, address=address, geocoder=session,
            on_batch=progress,
        )  # fmt: skip
    finally:
        progress.done()
    if not quiet:
        from gzspatial.layers import layer_set

        total = sum(counts.values())
        basic = ("ok", "outside", "swapped", "missing", "invalid")
        parts = ", ".join(f"{status} {count:,}" for status, count in counts.items() if count or status in basic)
        typer.echo(_("joined {total:,} rows: {parts}").format(total=total, parts=parts), err=True)
        echo(_("answered by {layers} (column gz_layers_version)").format(layers=layer_set(layers).describe()), err=True)
    if session is not None:
        session.close()
        if not quiet:
            done = _("{geocoder}: {requests:,} requests, {hits:,} answers from the cache")
            typer.echo(done.format(geocoder=geocoder, requests=session.requests, hits=session.cache_hits), err=True)
        if session.stopped:
            raise _fail(
                _("geocoding stopped: {stopped}; the output was written, rows not geocoded are flagged").format(
                    stopped=session.stopped
                )
            )


def _join_dataset(source, output, *, geocoder, quiet, workers, scheduler, **options) -> None:
    """join DIR|GLOB -o OUTDIR: a partitioned Parquet dataset written with Dask."""
    from gzspatial.dask import join_dataset

    if geocoder is not None:
        raise _fail(_("--geocoder is not offered for a dataset (one rate-limited session): join files one by one"))
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise _fail(
            _("--scheduler {scheduler!r} is not a scheduler address: give tcp://HOST:PORT").format(scheduler=scheduler)
        )
    if workers is not None and workers < 1:
        raise _fail(_("--workers {workers} must be 1 or more").format(workers=workers))
    rows = join_dataset(source, output, workers=workers, scheduler=scheduler,
                        progress=not quiet and sys.stderr.isatty(), **options)  # fmt: skip
    if not quiet:
        typer.echo(_("joined {rows:,} rows into the dataset {output}").format(rows=rows, output=output), err=True)


def _geocoder(name, key, url, qps, no_cache):
    """A geocoding session, or None when --geocoder is not given (then its options are errors)."""
    if name is None:
        given = [flag for flag, value in (("--key", key), ("--geocoder-url", url), ("--qps", qps)) if value is not None]
        if given:
            raise _fail(_("{given} need(s) --geocoder amap|baidu|tianditu").format(given=", ".join(given)))
        return None
    from gzspatial.geocode import Geocoder

    return Geocoder(name, key, url=url, qps=qps, cache=not no_cache)


def _locate_address(text: str, session, corridor_km: float, layers, as_json: bool) -> None:
    """locate --address: the district read offline, or the full answer from a geocoded site."""
    from gzspatial.locator import locate_address

    try:
        found = locate_address(text, geocoder=session, corridor_km=corridor_km, layers=layers)
    finally:
        if session is not None:
            session.close()
    if as_json:
        typer.echo(json.dumps(found.to_dict(), ensure_ascii=False, indent=2))
        return
    parsed, geocode = found.parsed, found.geocode
    district = f"{parsed.district} ({parsed.district_code})" if parsed.district else f"— ({parsed.status})"
    rows = [(_("Address"), text), (_("District"), f"{district}  {parsed.subdistrict}".rstrip())]
    if parsed.note:
        rows.append((_("Note"), parsed.note))
    result = geocode.result if geocode else None
    if geocode is not None:
        got = (
            _("no match")
            if result is None
            else _("{lon:.6f}, {lat:.6f} (WGS84), level {level}").format(
                lon=result.lon, lat=result.lat, level=result.level
            )
        )
        rows.append((_("Geocode"), f"{session.provider.name}: {got}" + (f"; {geocode.note}" if geocode.note else "")))
    echo(_label_rows(rows))
    if found.location is not None:
        echo(_format_location(found.location))
    elif result is not None:
        typer.echo(
            _("(level {level} is coarser than a street: not a site, no cores, nodes or axis)").format(
                level=result.level
            )
        )
    else:
        typer.echo(_("(cores, nodes and axis need coordinates: give LON LAT or --geocoder)"))


class _Progress:
    """A rich progress bar with rows/s on stderr for a file join, only when stderr is a terminal."""

    def __init__(self, quiet: bool = False) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, rows: int, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            speed = TextColumn(_("{task.fields[rows]:,} rows, {task.fields[speed]:,.0f} rows/s"))
            self.bar = Progress(BarColumn(), TextColumn("{task.percentage:>3.0f}%"), speed, TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)  # fmt: skip
            self.bar.start()
            self.task = self.bar.add_task("join", total=total, rows=0, speed=0.0)
        assert self.task is not None  # added with the bar
        elapsed = self.bar.tasks[0].elapsed
        self.bar.update(self.task, completed=done, rows=rows, speed=rows / elapsed if elapsed else 0.0)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command("stats")
@friendly
def stats_command(
    joined: Annotated[str, typer.Argument(help="A table written by gzspatial join.")],
    by: Annotated[list[By] | None, typer.Option("--by", help="Kind of unit to count by; repeat for several.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Break counts down by this column.")] = None,
    corridor_km: Annotated[
        float, typer.Option("--corridor-km", help="Corridor for axis_section areas, km.")
    ] = DEFAULT_CORRIDOR_KM,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Write .xlsx (a sheet per --by) or .csv instead of printing.")
    ] = None,
    excel_bom: Annotated[bool, typer.Option("--excel-bom", help="Write CSV with a UTF-8 BOM for Excel.")] = False,
    lang: LangOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
    as_json: JsonOption = False,
    layers: LayersOption = None,
) -> None:
    """Count joined rows per node, core, district… with share and density per km² (zeros listed).

    Below the units: rows outside every unit, rows not located, and the total (counts add up).
    Headers of a file (-o) or of --csv are the column names unless --lang is given (scripts read them).
    """
    from gzspatial import io
    from gzspatial.summary import display, read_joined, stats, write_stats

    by = by or [By.NODE]
    if output is not None and output != "-":
        io.check_output_path(output)
        io.check_not_input(output, joined)
    frame = read_joined(joined, category=category)
    tables = [stats(frame, by=b, category=category, layers=layers, corridor_km=corridor_km, totals=True) for b in by]
    version = tables[0].attrs["layers"]["version"]
    other = [v for v in tables[0].attrs["joined_with"] if v != version]
    if other:
        note = _("note: the table was joined with layers {other}; counted with {version}")
        echo(note.format(other=", ".join(other), version=version), err=True)
    if as_csv or as_json or (output is not None and not output.lower().endswith(".xlsx")):
        tables = [t.assign(gz_layers_version=version) for t in tables]  # the layer set that answered, every row
    if output is not None and output != "-":
        write_stats(tables, output, lang=lang, excel_bom=excel_bom, source=joined)
        echo(_("wrote {output}").format(output=output), err=True)
    elif as_json:
        records = {t.attrs["by"]: json.loads(t.to_json(orient="records", force_ascii=False)) for t in tables}
        typer.echo(json.dumps(records if len(tables) > 1 else records[by[0]], ensure_ascii=False, indent=2))
    elif as_csv or output == "-":
        if len(tables) > 1:
            raise _fail(_("several --by give several tables: use -o FILE.xlsx (a sheet each) or --json"))
        display(tables[0], lang).to_csv(sys.stdout, index=False)
    else:
        for table in tables:
            # without --lang: Chinese under a zh interface, else the column names and both names (as before)
            _print_stats(table, lang or (i18n.Lang.ZH if i18n.current() == i18n.Lang.ZH else None))


def _cell(value: object) -> Text:
    """A rich table cell as plain text: never parsed as rich markup, controls made visible."""
    from rich.text import Text

    return Text(terminal_text(value))


def _print_stats(table, lang: str | None, console=None) -> None:
    """A stats table on the terminal: the unit columns, then the category counts in as many
    tables as the width needs (headers are never cut to 'coun…'; long names wrap)."""
    from rich.console import Console
    from rich.table import Table

    from gzspatial.excel import display_width
    from gzspatial.summary import display, sheet_title

    console = console or Console(width=None if sys.stdout.isatty() else 160)
    shown = display(table, lang)
    names = dict(zip(table.columns, shown.columns, strict=True))
    categories = [c for c in table.columns if c.startswith("count:")]
    main = [c for c in table.columns if c not in categories]
    if lang in ("zh", "en"):  # names in one language; the ids are for scripts (--json, --csv)
        main = [c for c in main if c not in ("unit", "name_en" if lang == "zh" else "name_zh")]
    units = len(table) - table.attrs.get("total_rows", 0)
    located, rows = table.attrs["located_rows"], table.attrs["rows"]
    title = (
        f"{sheet_title(table.attrs['by'], 'zh')}统计（广州境内已定位 {located:,} 行，共 {rows:,} 行）"
        if lang == "zh"
        else f"rows per {table.attrs['by']} ({located:,} located of {rows:,})"
    )
    label = "name_zh" if lang != "en" else "name_en"

    def cell(column, value) -> str:
        if value is None or value != value:
            return ""
        if column == "share":
            return f"{value:.1%}"
        return f"{value:,.2f}" if isinstance(value, float) else str(value)

    shown_text = _cell  # data as literal terminal text: never rich markup, control characters made visible

    def new_table(title_text: str | None, columns: list[str], name_width: int | None = None) -> Table:
        view = Table(title=title_text)
        for column in columns:
            numeric = table[column].dtype.kind in "if"
            header = names[column]
            view.add_column(shown_text(header), justify="right" if numeric else "left", overflow="fold",
                            min_width=display_width(header) if numeric else None, no_wrap=numeric,
                            max_width=None if numeric else name_width)  # fmt: skip
        for i, row in enumerate(table[columns].itertuples(index=False)):
            cells = [shown_text(cell(c, v)) for c, v in zip(columns, row, strict=True)]
            view.add_row(*cells, end_section=i == units - 1)
        return view

    view = new_table(title, main)
    view.caption = _("layers {version} ({origin})").format(**table.attrs["layers"])
    console.print(view)
    # Category counts: the unit's name, then as many category columns as fit beside it.
    name_width = min(max(display_width(str(v)) for v in table[label]), 24)
    chunk: list[str] = []  # the category columns of the table being filled
    chunks: list[list[str]] = []
    room = console.width - name_width - 4
    for column in categories:
        width = max(display_width(names[column]), len(f"{table[column].max():,}")) + 3
        if chunk and room - width < 0:
            chunks.append(chunk)
            chunk, room = [], console.width - name_width - 4
        chunk.append(column)
        room -= width
    if chunk:
        chunks.append(chunk)
    for part in chunks:
        console.print(new_table(None, [label, *part], name_width))


@app.command("map")
@friendly
def map_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="maps/layout.html (interactive) or .png/.svg/.pdf.")],
    points: Annotated[str | None, typer.Option("--points", help="Points to show: any file join reads.")] = None,
    crs: Annotated[str | None, typer.Option("--crs", help="System of the points' coordinates.")] = None,
    heatmap: Annotated[bool, typer.Option("--heatmap", help="Add a heat layer of the points.")] = False,
    choropleth: Annotated[
        str | None, typer.Option("--choropleth", help="Colour nodes by points: count or density.")
    ] = None,
    basemap: Annotated[
        Basemap, typer.Option("--basemap", help="Tiles under the web map (amap: GCJ-02).")
    ] = Basemap.CARTO,
    tianditu_key: Annotated[
        str | None, typer.Option("--tianditu-key", help="Tianditu key (or GZ_TIANDITU_KEY).")
    ] = None,
    offline: Annotated[
        bool,
        typer.Option("--offline/--cdn", help="Self-contained page with its JS/CSS inlined (default), or CDN links."),
    ] = True,
    category: Annotated[
        str | None, typer.Option("--category", help="HTML: a checkbox filter per value of this column of the points.")
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", help="HTML: a year slider over this column (years or dates), e.g. 成立年份.")
    ] = None,
    lang: LangOption = None,
    title: Annotated[str | None, typer.Option("--title", help="Map title.")] = None,
    dpi: Annotated[int, typer.Option("--dpi", help="Static maps: dots per inch.")] = 200,
    size: Annotated[
        str | None, typer.Option("--size", help="Static maps: WIDTHxHEIGHT in inches (default 15x11).")
    ] = None,
    page: Annotated[str | None, typer.Option("--page", help="Static maps: fill an A4 or A3 page.")] = None,
    orientation: Annotated[
        str | None, typer.Option("--orientation", help="Static maps with --page: portrait or landscape (default).")
    ] = None,
    transparent: Annotated[
        bool, typer.Option("--transparent", help="Static maps: transparent background (for slides).")
    ] = False,
    corridor_km: Annotated[
        float, typer.Option("--corridor-km", help="Axis corridor half-width, km.")
    ] = DEFAULT_CORRIDOR_KM,
    layers: LayersOption = None,
) -> None:
    """Draw the layout: an interactive HTML map or a static PNG/SVG/PDF figure."""
    from gzspatial.io import check_output_path

    check_output_path(output)
    suffix = output.suffix.lower()
    if suffix in (".html", ".htm"):
        from gzspatial.maps import make_map, save_map

        static = [name for name, value in (("--page", page), ("--orientation", orientation), ("--size", size),
                                           ("--transparent", transparent)) if value]  # fmt: skip
        if static:
            raise _fail(
                _("{static}: only for static maps (.png, .svg, .pdf), not for {suffix}; drop it").format(
                    static=", ".join(static), suffix=suffix
                )
            )

        m = make_map(
            layers=layers,
            basemap=basemap,
            lang=i18n.current(),
            title=title,
            points=points,
            points_crs=crs,
            heatmap=heatmap,
            choropleth=choropleth,
            corridor_km=corridor_km,
            tianditu_key=tianditu_key,
            category=category,
            time=time,
        )
        save_map(m, output, offline=offline)
    else:
        web = [name for name, value in (("--category", category), ("--time", time)) if value]
        if web:
            raise _fail(
                _("{web}: only for interactive maps (.html), not for {suffix}; drop it").format(
                    web=", ".join(web), suffix=suffix
                )
            )
        from gzspatial.figure import check_request, make_figure, save_figure

        inches = check_request(size, page, orientation, dpi)
        figure = make_figure(
            layers=layers,
            lang=i18n.current(),
            title=title,
            points=points,
            points_crs=crs,
            size=inches,
            page=page,
            orientation=orientation,
            corridor_km=corridor_km,
        )
        save_figure(figure, output, dpi=dpi, transparent=transparent)
    echo(_("wrote {output}").format(output=output), err=True)


cache_app = typer.Typer(help="The geocode cache (SQLite; GZ_GEOCODE_CACHE overrides its path).", no_args_is_help=True)
app.add_typer(cache_app, name="geocode-cache")


@cache_app.command("clear")
@friendly
def geocode_cache_clear_command(lang: LangOption = None) -> None:
    """Delete every cached geocoder answer."""
    from gzspatial.geocode import clear_cache

    path, count = clear_cache()
    typer.echo(_("deleted {count:,} cached answers from {path}").format(count=count, path=path), err=True)


sample_app = typer.Typer(help="Synthetic sample data (labelled synthetic; no real companies).", no_args_is_help=True)
app.add_typer(sample_app, name="sample")


@sample_app.command("enterprises")
@friendly
def sample_enterprises_command(
    output: Annotated[str, typer.Option("-o", "--output", help="Output file (.csv, .xlsx, .parquet; - for stdout).")],
    n: Annotated[int, typer.Option("-n", help="Number of enterprises.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same rows.")] = 0,
    crs: Annotated[str, typer.Option("--crs", help="System of the written coordinates.")] = "gcj02",
    layers: LayersOption = None,
    lang: LangOption = None,
) -> None:
    """Write a SYNTHETIC enterprise registry (合成样例数据, not real companies) for demos and tests.

    Columns: 企业名称, 类别, 行业, 成立年份, 所在区, 经度, 纬度, 坐标系, 数据说明. Points cluster in the cores
    and nodes with a thinner spread by district; coordinates default to GCJ-02, as Amap exports are.
    """
    from gzspatial import io
    from gzspatial.sample import sample_enterprises

    if n < 0:
        raise _fail(_("-n {n} must be 0 or more").format(n=n))
    io.check_output_path(output)
    frame = sample_enterprises(n, seed=seed, crs=crs, layers=layers)
    if output != "-" and Path(output).suffix.lower() == ".parquet":
        with io.atomic_output(Path(output), "wb") as handle:
            frame.to_parquet(handle, index=False)
    else:
        io.write_table(frame, output)
    if output != "-":
        echo(_("wrote {n:,} synthetic enterprises ({crs}) to {output}").format(n=n, crs=crs, output=output), err=True)


export_app = typer.Typer(help="Hand the layout on to other tools (QGIS).", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("qgis")
@friendly
def export_qgis_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for gzspatial_layout.gpkg and .qgz.")],
    points: Annotated[
        str | None, typer.Option("--points", help="Points to add, attributed: any file join reads.")
    ] = None,
    crs: Annotated[str | None, typer.Option("--crs", help="System of the points' coordinates.")] = None,
    corridor_km: Annotated[
        float, typer.Option("--corridor-km", help="Axis corridor half-width, km.")
    ] = DEFAULT_CORRIDOR_KM,
    layers: LayersOption = None,
    lang: LangOption = None,
) -> None:
    """Write a styled GeoPackage (EPSG:4326) and a QGIS project (EPSG:4547, A3 print layout) of the layout.

    Example: gzspatial export qgis -o build/qgis --points 企业.csv --crs gcj02
    """
    from gzspatial.qgis import export_qgis

    result = export_qgis(output, layers=layers, points=points, points_crs=crs, corridor_km=corridor_km)
    done = _("wrote {gpkg} ({layers}) and {project}")
    typer.echo(done.format(gpkg=result.gpkg, layers=", ".join(result.layers), project=result.project), err=True)


@app.command("indicators")
@friendly
def indicators_command(
    actuals: Annotated[
        str | None, typer.Option("--actuals", help="CSV of indicator_id,year,value (latest year is used).")
    ] = None,
    lang: LangOption = None,
    as_json: JsonOption = False,
) -> None:
    """The plan's 12 main indicators: base value, 2025 target, and progress from --actuals."""
    from gzspatial import indicators

    lang = i18n.current()
    table = indicators.progress(indicators.read_actuals(actuals) if actuals else None)
    if as_json:
        typer.echo(table.to_json(orient="records", force_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    view = Table(title="广州市科技创新“十四五”主要目标指标" if lang == "zh" else "Main indicators, 2021–2025")
    headers = (_("id"), _("indicator"), _("unit"), _("base"), _("2025 target"), _("actual"), _("progress"))
    for i, header in enumerate(headers):
        view.add_column(header, justify="left" if i < 3 else "right")
    for row in table.to_dict("records"):  # NaN: not known
        base = "—" if row["base_value"] != row["base_value"] else f"{row['base_value']:g} ({row['base_year']})"
        actual = (
            "—"
            if row["actual_value"] != row["actual_value"]
            else f"{row['actual_value']:g} ({int(row['actual_year'])})"
        )
        done = "—" if row["progress"] != row["progress"] else f"{row['progress']:.0%}"
        view.add_row(*map(_cell, (row["id"], row["name_zh"] if lang == "zh" else row["name_en"], row["unit"], base,
                                  f"{row['target_value']:g}", actual, done)))  # fmt: skip
    Console(width=None if sys.stdout.isatty() else 160).print(view)


def _pair_in_one_argument(args: list[str] | None) -> list[str] | None:
    """``["113.3245,23.1066"]`` (a map's coordinate picker copies one string; ASCII or full-width
    comma, or a space) as ``["113.3245", "23.1066"]``; any other arguments as they are."""
    if args and len(args) == 1:
        parts = [part for part in re.split(r"[,，\s]+", args[0].strip()) if part]
        if len(parts) == 2:
            return parts
    return args


def _point_argument(lon_text: str, lat_text: str, geographic: bool) -> tuple[float, float]:
    """Parse LON LAT; a swapped pair is corrected with a note on stderr."""
    from gzspatial._validate import STATUS_SWAPPED, check_points, parse_point

    x, y = parse_point(lon_text, lat_text)
    checked = check_points([x], [y], geographic=geographic)
    if checked.status[0] == STATUS_SWAPPED:
        echo(
            _("note: {lon} {lat} looks like LAT LON; read as {y} {x}").format(lon=lon_text, lat=lat_text, y=y, x=x),
            err=True,
        )
        return y, x
    return x, y


#: Exit statuses of an interrupted run: SIGINT (typer's 130) and SIGTERM (io.Terminated, 128 + 15).
INTERRUPTED = (130, 143)


def main() -> None:
    """Console entry point (``gzspatial``)."""
    try:
        app()
    except SystemExit as exc:
        if exc.code in INTERRUPTED:
            _exit_at_once(exc.code)
        raise


def _exit_at_once(code: int) -> None:
    """Leave an interrupted run without the interpreter's finalization. The run's own cleanup is done
    (temporary files removed, a cluster closed), but native threads may still be at work: pyarrow's
    I/O thread reading ahead from the CSV's file object, a kernel of a stage. Finalizing the
    interpreter under them can crash the process (seen once in CI as status -11 instead of 143;
    apache/arrow#43604, #38352); there is nothing left to do but flush and exit."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more to say on it
            stream.flush()
    os._exit(code)
