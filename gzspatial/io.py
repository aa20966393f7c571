"""Files in and out: atomic writes (and, for tables, reading CSV/Excel/GIS formats).

Every output goes through one scheme (:func:`atomic_output`, or :func:`atomic_output_path` for writers
that need a file name, such as GDAL): the data is written to a temporary file created exclusively beside
the target, named ``.<name>.gztmp-<pid>-<random><suffix>`` (a folder ``….d`` for GDAL), flushed to disk,
then renamed over the target in one step. Nothing else in the folder is touched; a failed, interrupted
(SIGINT, SIGTERM) or refused write leaves the old output as it was and removes its temporary file; the
leftover of a killed run (``kill -9``) is removed by the next run writing the same output.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from gzspatial._errors import GzError, InputError, OutputError
from gzspatial.i18n import N_, _

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

#: Marks gzspatial's temporary files: ``.<name>.gztmp-<pid>-<12 hex digits><suffix>``.
TEMP_MARK = ".gztmp-"
#: errno values that mean "this output cannot be written here" (reported as one line, exit 2).
_WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
     errno.EISDIR, errno.ENAMETOOLONG, errno.EIO, errno.EXDEV}
)  # fmt: skip
_KINDS = {stat.S_IFDIR: N_("a folder"), stat.S_IFCHR: N_("a character device"), stat.S_IFBLK: N_("a block device"),
          stat.S_IFIFO: N_("a FIFO (named pipe)"), stat.S_IFSOCK: N_("a socket")}  # fmt: skip


class Terminated(SystemExit):
    """Raised in place of SIGTERM's default action while an output is being written, so the
    temporary file is removed; exits with the conventional status 128 + 15."""


def check_output_path(path: str | Path) -> None:
    """Refuse an output that is not (or would not be) a regular file in a writable folder.

    Refused, with a one-line :class:`OutputError`: a folder, device node, FIFO or socket; a symbolic
    link (whatever it points to: replacing it would surprise, writing through it would change another
    file); a path under something that is not a folder; a folder that cannot be written. ``-``
    (stdout) is always accepted.
    """
    if str(path) == "-":
        return
    path = Path(path)
    shown = str(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:  # ENOTDIR (a file in the path), ENAMETOOLONG, EACCES …
        raise OutputError(_("cannot write {shown!r}: {strerror}").format(shown=shown, strerror=exc.strerror)) from None
    if mode is not None and stat.S_ISLNK(mode):
        target = os.path.realpath(path)
        raise OutputError(
            _(
                "output {shown!r} is a symbolic link (to {target!r}): give the real path to write, or remove the "
                "link (gzspatial never writes through links)"
            ).format(shown=shown, target=target)
        )
    if mode is not None and not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), N_("not a regular file"))
        hint = _("e.g. {path}/out.csv").format(path=shown.rstrip("/")) if kind == "a folder" else _("a regular file")
        raise OutputError(
            _("output {shown!r} is {kind}: give the name of a file to write ({hint})").format(
                shown=shown, kind=_(kind), hint=hint
            )
        )
    folder = _existing_ancestor(path.parent)
    if not folder.is_dir():
        raise OutputError(
            _("cannot write {shown!r}: {folder!r} is not a folder").format(shown=shown, folder=str(folder))
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            _("cannot write {shown!r}: folder {folder!r} is not writable (or read-only)").format(
                shown=shown, folder=str(folder)
            )
        )


def _existing_ancestor(folder: Path) -> Path:
    folder = Path(os.path.abspath(folder))
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


@contextlib.contextmanager
def atomic_output(path: str | Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a new temporary file beside ``path``; on success flush it to disk and rename it over
    ``path``, else delete it. ``mode`` is ``"w"`` (text; give ``encoding``) or ``"wb"``.

    Readers never see a half-written file; a failed or interrupted run leaves any old file untouched.
    Write errors (disk full, read-only folder…) become one-line :class:`OutputError`.
    """
    if "w" not in mode or any(c in mode for c in "ax+"):
        raise ValueError(f"atomic_output writes new files only (mode 'w' or 'wb'), not {mode!r}")
    path = _prepare(path)
    with _writing(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        with open(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _replace(tmp, path)
    _fsync_folder(path.parent)


@contextlib.contextmanager
def atomic_output_path(path: str | Path) -> Iterator[Path]:
    """:func:`atomic_output` for writers that open the file by name (GDAL/pyogrio, pyarrow…).

    Yields a path of the same name inside a new private folder beside ``path`` (``.<name>.gztmp-…d``):
    drivers chosen by suffix and side files (journals) stay in that folder. On success the file is
    flushed and renamed over ``path``; the folder is always removed.
    """
    path = _prepare(path)
    with _writing(path, folder=True) as tmp_dir:
        os.mkdir(tmp_dir, 0o700)
        tmp = tmp_dir / path.name
        try:
            yield tmp
            if not tmp.is_file():
                raise OutputError(_("cannot write {path!r}: the writer produced no file").format(path=str(path)))
            fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            _replace(tmp, path)
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    _fsync_folder(path.parent)


def _replace(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except FileNotFoundError:  # only if someone else removed it: never report success then
        raise OutputError(
            _(
                "cannot write {path!r}: its temporary file {name!r} was removed while writing (by another "
                "program, or a gzspatial run on another machine); run again"
            ).format(path=str(path), name=tmp.name)
        ) from None


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _prepare(path: str | Path) -> Path:
    """Checks before any byte is written: the target is writable; a killed run's leftovers are removed."""
    path = Path(path)
    check_output_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            _("cannot write {path!r}: cannot create its folder ({strerror})").format(
                path=str(path), strerror=exc.strerror
            )
        ) from None
    remove_leftovers(path)
    return path


def temp_name_pattern(path: str | Path) -> re.Pattern:
    """The names of gzspatial's temporary files for ``path``; group ``pid`` is the writing process."""
    path = Path(path)
    return re.compile(
        rf"\.{re.escape(path.name)}{re.escape(TEMP_MARK)}(?P<pid>[0-9]+)-[0-9a-f]{{12}}"
        rf"(?:{re.escape(path.suffix)}|\.d)"
    )


def remove_leftovers(path: str | Path) -> list[Path]:
    """Remove temporary files (or folders) of ``path`` left by runs that died (``kill -9``).

    Only names matching :func:`temp_name_pattern` whose process id is no longer running are removed;
    links and other files are never touched. Returns what was removed.
    """
    path = Path(path)
    pattern = temp_name_pattern(path)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or _running(int(match["pid"])) or entry.is_symlink():
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False) and entry.name.endswith(".d"):
                shutil.rmtree(entry.path)
            elif entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
            else:
                continue
            removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True


@contextlib.contextmanager
def _writing(path: Path, *, folder: bool = False) -> Iterator[Path]:
    """A fresh temporary name beside ``path`` (yielded); on any failure or signal it is removed and
    write errors are reported as one line; SIGTERM is turned into :class:`Terminated` meanwhile."""
    suffix = ".d" if folder else path.suffix
    tmp = path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(6)}{suffix}")
    try:
        with _sigterm_raises():
            yield tmp
    except BaseException as exc:
        with contextlib.suppress(OSError):
            if folder:
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            unchanged = _("the old file is unchanged") if path.exists() else _("nothing was written")
            raise OutputError(
                _("cannot write {path!r}: {reason}; {unchanged}").format(
                    path=str(path), reason=exc.strerror or exc, unchanged=unchanged
                )
            ) from None
        raise


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While writing, SIGTERM (if left at its default action) raises :class:`Terminated` instead of
    killing the process at once, so the temporary file is removed. SIGINT already raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --- tables -------------------------------------------------------------------------------

#: Encodings tried in order when a CSV's encoding is not given: UTF-8 (with or without BOM),
#: then GB18030, the superset of GBK/GB2312 that Chinese Excel and government exports use.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
#: Delimiters a CSV may use (sniffed from the header unless --delimiter says).
DELIMITERS = (",", "\t", ";", "|")


def detect_encoding(data: bytes, *, source: str = "the input") -> str:
    """Encoding of CSV bytes: UTF-8 (BOM or not), else GB18030, else charset-normalizer's guess.

    A file that mixes UTF-8 lines with lines in another encoding (a UTF-8 export appended to a
    GBK one) is an error naming the lines, never read as one encoding into mojibake.
    """
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8-sig"
    check_single_encoding(data.split(b"\n"), source)
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        check_not_big5(data, source)
        return "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(
            _("cannot tell the text encoding of {source}: give it with --encoding (e.g. gbk, utf-8)").format(
                source=source
            )
        )
    return best.encoding


#: A double-byte character (GB18030's four-byte ones kept whole, so that pairs stay aligned).
_DOUBLE_BYTE = re.compile(rb"[\x81-\xfe][\x30-\x39][\x81-\xfe][\x30-\x39]|[\x81-\xfe][\x40-\xfe]")


def check_not_big5(data: bytes, source: str) -> None:
    """Refuse text that decodes as GBK but reads as Big5 (traditional Chinese, Hong Kong and Taiwan).

    GBK decodes nearly any Big5 bytes, into other characters. In GBK text almost every character is
    in the GB2312 rows (second byte 0xA1-0xFE); Big5 gives ~40% of its characters a second byte in
    0x40-0x7E, which GBK reads as rare extension characters. From such characters making a
    quarter of them (two at least), and the bytes being valid Big5, the choice is the user's (exit 2).
    """
    pairs = _DOUBLE_BYTE.findall(data[: 1 << 20])
    low = sum(1 for pair in pairs if len(pair) == 2 and 0x40 <= pair[1] <= 0x7E)
    if low < 2 or low < len(pairs) / 4:
        return
    try:
        data[: 1 << 20].decode("big5", errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start < min(len(data), 1 << 20) - 1:  # not Big5 (a character cut at the sample's end is)
            return
    raise InputError(
        _(
            "{source} reads as Big5 (traditional Chinese) as well as GBK, as different characters: give "
            "--encoding big5, or --encoding gbk if it is GBK"
        ).format(source=source)
    )


def _utf8_cjk_line(line: bytes) -> bool:
    """True for a line that is valid UTF-8 with at least two CJK characters (and only CJK beyond ASCII).

    Bytes of GBK text sometimes form valid UTF-8 by chance, but then decode to Latin, Greek or
    Cyrillic letters, not to a run of CJK ideographs and punctuation.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 0x7F and c != "\ufeff"]
    return len(wide) >= 2 and all(
        "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" for c in wide
    )


def check_single_encoding(lines, source: str) -> None:
    """Raise InputError when UTF-8 lines of CJK text sit beside lines that are not UTF-8 (1-based line numbers)."""
    utf8, other = [], []
    for number, line in enumerate(lines, 1):
        if line.isascii():
            continue
        if _utf8_cjk_line(line):
            utf8.append(number)
        else:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                other.append(number)
        if utf8 and len(other) >= 3:
            break
    if utf8 and other:
        raise InputError(
            _(
                "{source} mixes text encodings: line(s) {utf8} are UTF-8 but line(s) {other} are not (GBK?): "
                "save the file in one encoding (UTF-8) and retry"
            ).format(source=source, utf8=", ".join(map(str, utf8[:3])), other=", ".join(map(str, other[:3])))
        )


def undecodable_lines(lines, encoding: str, limit: int = 3) -> list[int]:
    """1-based numbers of the first ``limit`` lines that ``encoding`` cannot decode."""
    found = []
    for number, line in enumerate(lines, 1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            found.append(number)
            if len(found) >= limit:
                break
    return found


def sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV from its header line: the most frequent of , tab ; | outside quotes (else ,)."""
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def decide_delimiter(given: str | None, header: str, source: str) -> str:
    """``--delimiter`` (a single character; ``\\t`` or ``tab`` for tab) or the sniffed one."""
    if given is None:
        return sniff_delimiter(header)
    value = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(given.lower(), given)
    if len(value) != 1 or value in '\r\n"':
        raise InputError(_("delimiter {given!r} must be one character (e.g. , ; | or tab)").format(given=given))
    return value


def read_csv_text(
    data: bytes, *, source: str, encoding: str | None = None, delimiter: str | None = None
) -> pd.DataFrame:
    """A CSV's bytes as a DataFrame of strings (every cell kept verbatim; blanks stay '')."""
    import pandas as pd

    if not data.strip():
        raise InputError(_("{source} is empty: expected a header row with coordinate columns").format(source=source))
    encoding = encoding or detect_encoding(data, source=source)
    try:
        text = data.decode(encoding)
    except LookupError:
        raise InputError(
            _("unknown encoding {encoding!r}: give e.g. --encoding gbk or utf-8").format(encoding=encoding)
        ) from None
    except UnicodeDecodeError:
        raise _wrong_encoding(source, encoding, undecodable_lines(data.split(b"\n"), encoding)) from None
    delimiter = decide_delimiter(delimiter, text.lstrip("\ufeff").split("\n", 1)[0], source)
    log.info("%s: CSV read whole, encoding %s, delimiter %r", source, encoding, delimiter)
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False, sep=delimiter, engine="c"
        )
        header = pd.read_csv(io.StringIO(text), header=None, nrows=1, dtype=str, keep_default_na=False,
                             sep=delimiter, engine="c")  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            _("{source} is not a well-formed CSV: {exc}").format(source=source, exc=str(exc).splitlines()[-1])
        ) from None
    check_unique_columns(header.iloc[0].tolist() if len(header) else [], source)
    frame.attrs["encoding"] = encoding
    frame.attrs["delimiter"] = delimiter
    return frame


def open_csv_text(stream, encoding: str, delimiter: str, source, block_size: int, lines: Callable[[], Iterable[bytes]]):
    """A pyarrow CSV batch reader over ``stream`` (a binary file) reading every column as text
    (cells kept verbatim); blocks of ``block_size`` bytes are parsed as batches are taken.

    ``lines()`` gives the raw lines again, to name the first undecodable ones when ``encoding`` is
    wrong (as :func:`read_csv_text` does); batches raise that error too (see :func:`csv_batch_error`).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    pa_encoding = "utf8" if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig") else encoding

    def open_with(column_types):
        stream.seek(0)
        return pacsv.open_csv(
            stream,
            # one thread: the caller reads in its own stage, and pyarrow's read-ahead would hold blocks
            read_options=pacsv.ReadOptions(encoding=pa_encoding, block_size=block_size, use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=column_types, strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )

    try:
        names = open_with({}).schema.names  # first block only: the header
        return open_with(dict.fromkeys(names, pa.string()))
    except LookupError:
        raise InputError(
            _("unknown encoding {encoding!r}: give e.g. --encoding gbk or utf-8").format(encoding=encoding)
        ) from None
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise csv_batch_error(exc, source, encoding, 0, lines) from None


def _wrong_encoding(source, encoding: str, bad: list[int]) -> InputError:
    """The error naming the first lines (1-based) that ``encoding`` cannot decode."""
    return InputError(
        _(
            "{source} cannot be read as {encoding}: line(s) {lines} are not {encoding}; "
            "give the right --encoding (e.g. gbk, utf-8)"
        ).format(source=source, encoding=encoding, lines=", ".join(map(str, bad)))
    )


def csv_batch_error(
    exc: Exception, source, encoding: str, rows: int, lines: Callable[[], Iterable[bytes]]
) -> InputError:
    """The one-line error for a CSV block pyarrow could not read (after ``rows`` rows): the first
    lines ``encoding`` cannot decode when that is the cause, else the parser's message."""
    message = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in message:
        bad = undecodable_lines(lines(), "utf-8" if encoding.lower() == "utf-8-sig" else encoding)
        if bad:
            return _wrong_encoding(source, encoding, bad)
        return InputError(
            _("{source} is not a readable CSV ({encoding}): {exc}; give the right --encoding").format(
                source=source, encoding=encoding, exc=message
            )
        )
    if "straddl" in message:  # Arrow's "straddling object straddles two block boundaries"
        from gzspatial.settings import CSV_BLOCK_BYTES

        return InputError(
            _(
                "{source}: a row after row {rows} is longer than {mb} MB, the longest a join reads (often a "
                'quote left open: a field that starts with " and never closes runs on to the end of the file)'
            ).format(source=source, rows=rows, mb=CSV_BLOCK_BYTES >> 20)
        )
    return InputError(
        _("{source} is not a well-formed CSV after row {rows}: {exc}").format(source=source, rows=rows, exc=message)
    )


def read_table(
    path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None, delimiter: str | None = None
) -> pd.DataFrame:
    """Read a CSV (``-`` for stdin) or Excel file as a DataFrame of strings, columns in order.

    ``sheet``: an Excel sheet's name, or its position (1 = first); needed when a workbook has several.
    """
    import pandas as pd

    if str(path) == "-":
        return read_csv_text(sys.stdin.buffer.read(), source="<stdin>", encoding=encoding, delimiter=delimiter)
    path = check_input_path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputError(
            _("{path} is an old Excel 97-2003 .xls file: open it in Excel or WPS and save it as .xlsx").format(
                path=path
            )
        )
    if suffix in (".xlsx", ".xlsm"):
        check_not_empty(path)
        name = _excel_sheet(path, sheet)
        try:
            frame = pd.read_excel(path, sheet_name=name, dtype=str, keep_default_na=False, na_filter=False)
        except ValueError as exc:
            raise InputError(_("{path} cannot be read as Excel: {exc}").format(path=path, exc=exc)) from None
        frame.attrs["sheet"] = name
        unsaved = formulas_without_values(path, name)
        if unsaved:
            shown = ", ".join(unsaved[:5]) + (", …" if len(unsaved) > 5 else "")
            log.warning(
                _(
                    "{path} sheet {sheet!r}: {n} formula cell(s) have no saved value ({cells}): read as blank; open "
                    "and save the file in Excel or WPS to store their values"
                ).format(path=path, sheet=name, n=len(unsaved), cells=shown)
            )
        return frame
    return read_csv_text(path.read_bytes(), source=str(path), encoding=encoding, delimiter=delimiter)


#: A cell whose formula has no saved value: no <v>, or an empty one, after the <f> (shared formulas too).
_UNSAVED_FORMULA = re.compile(
    rb'<c\b[^>]*?\br="([A-Z]+[0-9]+)"[^>]*>\s*<f(?:\s[^>]*)?(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)


def formulas_without_values(path: Path, sheet: str) -> list[str]:
    """References of the cells of ``sheet`` that hold a formula but no saved value (a workbook a
    script wrote and no spreadsheet program saved): pandas and openpyxl read them as blank.

    Only a spreadsheet program computes formulas; this finds them in the sheet's XML, streamed (a
    sheet without formulas costs one byte search per block). Empty when the sheet cannot be found.
    """
    import zipfile

    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        member = getattr(book[sheet], "_worksheet_path", None)  # openpyxl's; absent: not checked
    finally:
        book.close()
    if not member:
        return []
    found: dict[str, None] = {}
    block, overlap = 8 << 20, 64 << 10  # a cell (formula text included) is far shorter than the overlap
    with zipfile.ZipFile(path) as archive, archive.open(member) as xml:
        carry = b""
        while chunk := xml.read(block):
            text = carry + chunk
            if b"<f" in text:
                found.update(dict.fromkeys(m.decode() for m in _UNSAVED_FORMULA.findall(text)))
            carry = text[-overlap:]
    return list(found)


_NAME_TOKENS = re.compile(r"[_\-\s.()（）]+")
_LON_TOKENS = {"lon", "lng", "long", "longitude", "x", "经度", "东经", "經度", "東經"}  # and traditional forms
_LAT_TOKENS = {"lat", "latitude", "y", "纬度", "北纬", "緯度", "北緯"}
#: Words in a column name that name a coordinate system (``gcj_lng``, ``wgs84_lat``, ``lng_bd09``).
_SYSTEM_TOKENS = {
    "gcj": "gcj02", "gcj02": "gcj02", "amap": "gcj02", "gaode": "gcj02", "高德": "gcj02",
    "wgs": "wgs84", "wgs84": "wgs84", "gps": "wgs84",
    "bd": "bd09", "bd09": "bd09", "bd09ll": "bd09", "baidu": "bd09", "百度": "bd09",
    "cgcs": "cgcs2000", "cgcs2000": "cgcs2000",
}  # fmt: skip
#: Columns that may say, row by row, which system the coordinates are in.
CRS_COLUMN_NAMES = ("坐标系", "坐标系统", "crs", "coord_sys", "coordinate_system", "srs")


def _name_parts(column: str) -> tuple[str | None, str | None]:
    """(axis 'lon'|'lat'|None, system named in the column name or None) of a column name."""
    name = re.sub(r"(gcj|wgs|bd|cgcs)[-_ ]?(02|84|09|2000)", r"\1\2", column.strip().lower())
    tokens = [t for t in _NAME_TOKENS.split(name) if t]
    for system_word in list(_SYSTEM_TOKENS):  # '高德经度', 'gcj02lng': system glued to the axis word
        for axis_word in (*_LON_TOKENS, *_LAT_TOKENS):
            if len(tokens) == 1 and tokens[0] in (system_word + axis_word, axis_word + system_word):
                tokens = [system_word, axis_word]
    systems = {_SYSTEM_TOKENS[t] for t in tokens if t in _SYSTEM_TOKENS}
    axes = [t for t in tokens if t in _LON_TOKENS | _LAT_TOKENS]
    if len(axes) != 1 or len(tokens) != len(axes) + len(systems) or len(systems) > 1:
        return None, None
    return ("lon" if axes[0] in _LON_TOKENS else "lat"), (systems.pop() if systems else None)


def column_system(column: str) -> str | None:
    """The coordinate system a column's name states (``gcj_lng`` -> 'gcj02'), or None."""
    return _name_parts(column)[1]


def _excel_sheet(path: Path, sheet: str | int | None) -> str:
    """The name of the sheet to read (checked: the workbook opens, the sheet exists, its header is unique)."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, OSError) as exc:
        raise InputError(
            _(
                "{path} is not a readable .xlsx workbook ({name}): open it in Excel or WPS and save it again as "
                ".xlsx, or export it as .csv"
            ).format(path=path, name=exc.__class__.__name__)
        ) from None
    try:
        names = book.sheetnames
        listed = ", ".join(repr(n) for n in names)
        if sheet is None and len(names) > 1:
            raise InputError(
                _("{path} has {n_names} sheets ({listed}): choose one with --sheet NAME or --sheet N").format(
                    path=path, n_names=len(names), listed=listed
                )
            )
        if sheet is None:
            name = names[0]
        elif str(sheet) in names:
            name = str(sheet)
        elif str(sheet).isdigit() and 1 <= int(sheet) <= len(names):
            name = names[int(sheet) - 1]
        else:
            raise InputError(
                _("{path} has no sheet {sheet!r}: its sheets are {listed} (or give 1 to {n_names})").format(
                    path=path, sheet=sheet, listed=listed, n_names=len(names)
                )
            )
        header = next(book[name].iter_rows(max_row=1, values_only=True), ())
    finally:
        book.close()
    check_unique_columns([v for v in header if v is not None and str(v) != ""], f"{path} sheet {name!r}")
    return name


def check_unique_columns(names: Iterable[object], source: str) -> None:
    """Refuse a table whose header names a column twice (which of them would be meant is a guess)."""
    seen: set[str] = set()
    repeated: list[str] = []
    for name in map(str, names):
        if name in seen:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise InputError(
            _("{source} has duplicate column names ({names}): rename them so every column has its own name").format(
                source=source, names=", ".join(repr(n) for n in dict.fromkeys(repeated))
            )
        )


def find_coordinate_columns(columns, lon: str | None = None, lat: str | None = None) -> tuple[str, str]:
    """Names of the longitude and latitude columns: given, or the one candidate by name.

    Candidates are names such as lon/lng/longitude/x/经度 and the same with a system word
    (gcj_lng, wgs84_lat). Several candidates for one axis is an error naming them: picking one
    would be a guess (gcj_lng beside wgs_lng, or x/y beside 经度/纬度).
    """
    columns = [str(c) for c in columns]
    found = []
    for given, axis, what, flag in ((lon, "lon", _("longitude"), "--lon"), (lat, "lat", _("latitude"), "--lat")):
        if given is not None:
            if given not in columns:
                raise InputError(
                    _("{what} column {given!r} not found; columns are: {columns}").format(
                        what=what, given=given, columns=", ".join(columns)
                    )
                )
            found.append(given)
            continue
        candidates = [c for c in columns if _name_parts(c)[0] == axis]
        if not candidates:
            raise InputError(
                _(
                    "no {what} column found (looked for lon/lng/longitude/x/经度 and lat/latitude/y/纬度); "
                    "columns are: {columns}; name it with {flag}"
                ).format(what=what, columns=", ".join(columns) or "(none)", flag=flag)
            )
        if len(candidates) > 1:
            raise InputError(
                _("several {what} columns: {candidates}; choose with --lon and --lat (and --crs)").format(
                    what=what, candidates=", ".join(candidates)
                )
            )
        found.append(candidates[0])
    return found[0], found[1]


def find_crs_column(columns) -> str | None:
    """The column that names each row's coordinate system (坐标系, crs, coord_sys…), or None."""
    lowered = {str(c).strip().lower(): str(c) for c in columns}
    matches = [lowered[n] for n in CRS_COLUMN_NAMES if n in lowered]
    if len(matches) > 1:
        raise InputError(
            _("several coordinate-system columns: {matches}; keep one, or give --crs").format(
                matches=", ".join(matches)
            )
        )
    return matches[0] if matches else None


def write_table(
    frame, path: str | Path, *, excel_bom: bool = False, excel_safe: bool = False, sheet_name: str | None = None
) -> None:
    """Write a DataFrame by extension (.csv, .xlsx), atomically; ``-`` writes CSV to stdout.

    .xlsx goes through :mod:`gzspatial.excel` (text as text, numbers as numbers, limits checked);
    its sheet is ``sheet_name``, else the sheet the frame was read from, else ``Sheet1``.
    ``excel_safe`` (CSV only) prefixes text cells that a spreadsheet would run as a formula with ``'``
    (see :func:`excel_safe_frame`).
    """
    if excel_safe and (str(path) == "-" or Path(path).suffix.lower() not in (".xlsx", ".xlsm")):
        frame = excel_safe_frame(frame)  # .xlsx cells are written as text, never as formulas
    if str(path) == "-":
        frame.to_csv(sys.stdout, index=False)
        return
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from gzspatial import excel

        excel.write_xlsx(excel.Sheet(sheet_name or frame.attrs.get("sheet") or "Sheet1", frame), path)
    elif suffix in (".csv", ".txt", ".tsv", ""):
        with atomic_output(path, "wb") as handle:
            if excel_bom:
                handle.write("\ufeff".encode())
            _write_csv(frame, handle, "\t" if suffix == ".tsv" else ",")
    else:
        raise InputError(_("cannot write {suffix!r} files: use .csv or .xlsx").format(suffix=suffix))


def _write_csv(frame, handle, delimiter: str) -> None:
    """UTF-8 CSV through pyarrow (about 10x faster than pandas for millions of rows; strings are
    quoted); pandas for columns pyarrow cannot type (mixed objects)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        handle.write(frame.to_csv(index=False, sep=delimiter).encode("utf-8"))
        return
    pacsv.write_csv(table, handle, write_options=pacsv.WriteOptions(delimiter=delimiter))


# --- CSV for spreadsheets (--excel-safe) ------------------------------------------------------

#: A text cell a spreadsheet may run as a formula (OWASP "CSV injection"): it starts with = + - @, tab, CR
#: (or LF, which some readers turn a CR into).
FORMULA_START = r"^[=+\-@\t\r\n]"
#: A plain decimal number ("-3.5", "+1e3"): a spreadsheet reads it as a number, never as a formula,
#: so it is left alone (coordinates like "-23.1" keep working).
PLAIN_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def excel_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells that could run as spreadsheet formulas start with ``'``.

    Only text cells are changed (numbers, dates, blanks never); a text cell that is a plain number
    (``-3.5``) is kept as it is. Other columns and the row order are unchanged.
    """
    frame = frame.copy()
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.dtype.kind not in "OSU" and str(column.dtype) != "string":
            continue
        # non-strings (numbers in object columns) stay as they are
        text = column.where(column.map(lambda v: isinstance(v, str)).astype(bool))
        risky = text.str.contains(FORMULA_START, regex=True, na=False) & ~text.str.contains(
            PLAIN_NUMBER, regex=True, na=False
        )
        if risky.any():
            column = column.copy()
            column[risky.to_numpy()] = ("'" + text[risky]).to_numpy()
            # pandas-stubs omit Series from isetitem's values; pandas takes any array-like (the dtype is kept)
            frame.isetitem(position, column)  # type: ignore[arg-type]
    return frame


def excel_safe_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """:func:`excel_safe_frame` for a pyarrow RecordBatch (used by the streaming CSV join)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.and_(
                pc.match_substring_regex(column, FORMULA_START),
                pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER)),
            )
            # pyarrow-stubs want every argument of the same array type; pyarrow broadcasts the "'" and "" scalars
            quoted: pa.Array = pc.binary_join_element_wise("'", column, "")  # type: ignore[call-overload]
            column = pc.if_else(pc.fill_null(risky, pa.scalar(False)), quoted, column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def check_input_path(path: str | Path) -> Path:
    """``path`` if it is a regular file (or a link to one); else a one-line InputError saying what it is
    (a device or FIFO would be read forever or not at all)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(_("input file {path!r} not found").format(path=str(path))) from None
    except OSError as exc:
        raise InputError(
            _("input file {path!r} cannot be read: {strerror}").format(path=str(path), strerror=exc.strerror)
        ) from None
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), N_("not a regular file"))
        raise InputError(
            _("input {path!r} is {kind}: give a file (or - for stdin)").format(path=str(path), kind=_(kind))
        )
    return path


def check_not_empty(path: str | Path) -> Path:
    """``path`` (an existing regular file) unless it has 0 bytes: a GIS, Parquet or Excel file that
    empty is no table at all (the libraries' own errors talk about drivers and footers)."""
    path = check_input_path(path)
    if path.stat().st_size == 0:
        raise InputError(_("{path} is empty (0 bytes): nothing to read").format(path=path))
    return path


def check_not_input(output: str | Path, input_path: str | Path) -> None:
    """Refuse to write over the input file."""
    if str(output) == "-" or str(input_path) == "-":
        return
    out, inp = Path(output), Path(input_path)
    if temp_name_pattern(out).fullmatch(inp.name) and _same_file(out.parent, inp.parent):
        raise InputError(
            _(
                "input {input_path!r} is named like a temporary file of {output!r} (gzspatial's '{TEMP_MARK}' "
                "names): rename the input"
            ).format(input_path=str(input_path), output=str(output), TEMP_MARK=TEMP_MARK)
        )
    if _same_file(out, inp):
        raise InputError(
            _("output {output!r} is the input file: write to another path (inputs are never overwritten)").format(
                output=str(output)
            )
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


# --- GIS formats and streaming CSV for joins ------------------------------------------------

#: GIS inputs (FlatGeobuf is read as one table: GDAL's Arrow stream of its null geometries is corrupt).
GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".geoparquet")
OUTPUT_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".geojson", ".json", ".gpkg", ".parquet")


def detect_file_encoding(path: Path, block: int = 16 << 20) -> str:
    """Encoding of a (possibly huge) text file, read in blocks: UTF-8, else GB18030, else a guess.

    A file mixing UTF-8 and other lines is an error (see :func:`check_single_encoding`).
    """
    if _decodes(path, "utf-8-sig", block):
        return "utf-8-sig"
    with open(path, "rb") as handle:
        check_single_encoding(handle, str(path))
    if _decodes(path, "gb18030", block):
        with open(path, "rb") as handle:
            check_not_big5(handle.read(1 << 20), str(path))
        return "gb18030"
    with open(path, "rb") as handle:
        return detect_encoding(handle.read(1 << 20), source=str(path))


def _decodes(path: Path, encoding: str, block: int) -> bool:
    """True when the whole file decodes as ``encoding`` (read in blocks of ``block`` bytes)."""
    import codecs

    if encoding in ("utf-8", "utf-8-sig"):
        return _valid_utf8(path, block)

    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(block):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _valid_utf8(path: Path, block: int) -> bool:
    """True when the whole file is valid UTF-8, checked by Arrow's validator block by block: 3x
    Python's decoder and no decoded text is built (a UTF-8 check is all the encoding choice needs).
    A character cut by a block's end is carried over to the next block."""
    import pyarrow as pa

    carry = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            data = carry + chunk if carry else chunk
            cut = _utf8_complete(data)
            carry = data[cut:]
            text = pa.Array.from_buffers(
                pa.large_string(),
                1,
                [None, pa.py_buffer(np.array([0, cut], dtype=np.int64).tobytes()), pa.py_buffer(data)],
            )
            try:
                text.validate(full=True)
            except pa.ArrowInvalid:
                return False
    return not carry  # a character cut by the end of the file


def _utf8_complete(data: bytes) -> int:
    """Length of ``data`` without a UTF-8 character its end cuts (at most 3 bytes shorter)."""
    for back in range(1, min(4, len(data)) + 1):
        lead = data[-back]
        if lead & 0xC0 == 0x80:  # a continuation byte: the character starts further back
            continue
        size = (
            1
            if lead < 0x80
            else 2
            if lead >> 5 == 0b110
            else 3
            if lead >> 4 == 0b1110
            else 4
            if lead >> 3 == 0b11110
            else 1
        )
        return len(data) - back if size > back else len(data)
    return len(data)  # no lead byte in the last 4: not UTF-8 (the validator says so)


def dbf_encoding(shp: Path) -> str | None:
    """Encoding of a Shapefile's attributes: its .cpg if any (None: GDAL reads it), else detected.

    Without a .cpg GDAL assumes ISO-8859-1, which turns GBK text (what Chinese GIS software
    writes) into mojibake such as ``¹ãÖÝËþ``; the field names and records are checked instead.
    """
    if shp.with_suffix(".cpg").is_file() or shp.with_suffix(".CPG").is_file():
        return None
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.is_file()), None)
    if dbf is None:
        return None
    data = dbf.read_bytes()
    if len(data) < 32:
        return None
    header_length = int.from_bytes(data[8:10], "little")
    names = b"".join(data[i : i + 11].rstrip(b"\0 ") + b"\n" for i in range(32, header_length - 1, 32))
    text = names + data[header_length:]
    if text.isascii():
        return None
    return "utf-8" if detect_encoding(text, source=str(dbf)) == "utf-8-sig" else "gb18030"


def read_input(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | int | None = None,
    layer: str | None = None,
    delimiter: str | None = None,
) -> pd.DataFrame:
    """Read a join input by extension: CSV/Excel as text tables, GIS formats as GeoDataFrames.

    ``sheet`` chooses an Excel sheet, ``layer`` a layer of a multi-layer file (GeoPackage): needed when
    there are several.
    """
    if str(path) == "-" or Path(path).suffix.lower() not in GEO_SUFFIXES:
        return read_table(path, encoding=encoding, sheet=sheet, delimiter=delimiter)
    path = check_not_empty(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            return _read_parquet(path)
        import geopandas
        import pyogrio

        if suffix == ".shp" and encoding is None:
            encoding = dbf_encoding(path)
        try:
            return geopandas.read_file(path, layer=_gis_layer(path, layer), encoding=encoding or None)
        except pyogrio.errors.DataSourceError as exc:
            raise InputError(
                _("{path} cannot be read as {suffix}: {exc}").format(
                    path=path, suffix=suffix[1:], exc=str(exc).splitlines()[0]
                )
            ) from None
    except GzError:
        raise
    except (ValueError, OSError) as exc:
        raise InputError(_("{path} cannot be read: {exc}").format(path=path, exc=str(exc).splitlines()[0])) from None


def _gis_layer(path: Path, layer: str | None) -> str:
    """The layer to read from a GIS file: the only one, or ``layer`` (which must exist)."""
    import pyogrio

    names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    listed = ", ".join(repr(n) for n in names)
    if layer is None and len(names) > 1:
        raise InputError(
            _("{path} has {n_names} layers ({listed}): choose one with --layer NAME").format(
                path=path, n_names=len(names), listed=listed
            )
        )
    if layer is not None and layer not in names:
        raise InputError(
            _("{path} has no layer {layer!r}: its layers are {listed}").format(path=path, layer=layer, listed=listed)
        )
    if not names:
        raise InputError(_("{path} has no layer to read").format(path=path))
    return layer or names[0]


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file as a frame of Arrow-backed columns: its types as written (an int column with
    a null stays int, a null stays null: a blank cell, apart from NaN; nested values keep theirs),
    as the streamed route reads it."""
    import geopandas
    import pandas as pd
    import pyarrow.parquet as pq

    if b"geo" in (pq.read_schema(path).metadata or {}):
        return geopandas.read_parquet(path, to_pandas_kwargs={"types_mapper": pd.ArrowDtype})
    return pd.read_parquet(path, dtype_backend="pyarrow")


def geometry_coordinates(frame) -> tuple[np.ndarray, np.ndarray, str | None, dict[int, str]]:
    """(x, y, declared CRS, problems) of a GeoDataFrame's geometries.

    Points are used as they are; other geometries by a point on their surface. Missing or empty
    geometries give None (reported as blank); invalid ones are not repaired but reported in
    ``problems`` ({row: reason}).
    """
    from gzspatial import crs as _crs

    x, y, problems = geometry_points(np.asarray(frame.geometry.values))
    declared = None if frame.crs is None else _crs.normalize_crs(frame.crs)
    return x, y, declared, problems


def geometry_points(geometry: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """(x, y, problems) of an array of shapely geometries (see :func:`geometry_coordinates`), in their CRS."""
    import shapely

    missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    invalid = ~missing & ~shapely.is_valid(geometry)
    problems = {int(i): f"invalid geometry: {shapely.is_valid_reason(geometry[i])} (not repaired)"
                for i in np.flatnonzero(invalid)}  # fmt: skip
    points = geometry.copy()
    points[missing | invalid] = None
    others = np.flatnonzero(shapely.get_type_id(points) > 0)  # points are their own (most rows, often all)
    points[others] = shapely.point_on_surface(points[others])
    x, y = shapely.get_x(points), shapely.get_y(points)
    if missing.any():  # None: no position (a blank cell to the join), unlike NaN
        x, y = x.astype(object), y.astype(object)
        x[missing] = y[missing] = None
    return x, y, problems


def wkb_points(wkb) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """(x, y, problems) of a WKB geometry column (pyarrow binary), as :func:`geometry_points` gives
    for its geometries (float arrays when every row has a position).

    Rows that are 2D points in little-endian WKB with finite coordinates (21 bytes: nearly every row
    of a point layer) are read straight from the bytes. Hand-written because shapely.from_wkb builds a
    GEOS geometry per row (~0.5 µs, most of a GeoParquet join's time) to give back the same two
    numbers; every other row (null, other types, Z/M, big-endian, empty, not finite) goes through shapely.
    """
    import pyarrow as pa
    import shapely

    if isinstance(wkb, pa.ChunkedArray):
        wkb = wkb.combine_chunks()
    if isinstance(wkb, pa.ExtensionArray):
        wkb = wkb.storage
    n = len(wkb)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    simple = np.zeros(n, dtype=bool)
    if pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type):
        kind = np.int64 if pa.types.is_large_binary(wkb.type) else np.int32
        _, offset_buffer, data_buffer = wkb.buffers()[:3]
        start = wkb.offset * np.dtype(kind).itemsize
        offsets = np.frombuffer(offset_buffer, dtype=kind, count=n + 1, offset=start).astype(np.int64)
        data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
        rows = np.flatnonzero(wkb.is_valid().to_numpy(zero_copy_only=False) & (np.diff(offsets) == 21))
        record = data[offsets[rows][:, None] + np.arange(21)]  # (rows, 21) bytes: order, type, x, y
        xy = record[:, 5:].copy().view("<f8")
        point = (record[:, 0] == 1) & (record[:, 1:5].copy().view("<u4")[:, 0] == 1) & np.isfinite(xy).all(axis=1)
        rows, xy = rows[point], xy[point]
        x[rows], y[rows], simple[rows] = xy[:, 0], xy[:, 1], True
    rest = np.flatnonzero(~simple)
    if not len(rest):
        return x, y, {}
    blobs = wkb.take(rest).to_numpy(zero_copy_only=False)
    geometries = shapely.from_wkb(blobs, on_invalid="ignore")  # unreadable bytes: None, flagged below
    rest_x, rest_y, rest_problems = geometry_points(geometries)
    for k in np.flatnonzero(shapely.is_missing(geometries) & np.array([b is not None for b in blobs])).tolist():
        rest_x[k] = rest_y[k] = np.nan
        rest_problems[k] = "geometry is not readable WKB"
    problems = {int(rest[k]): reason for k, reason in rest_problems.items()}
    if any(v is None for v in rest_x):  # a row without a position: None, as geometry_points gives
        x, y = x.astype(object), y.astype(object)
    x[rest], y[rest] = rest_x, rest_y
    return x, y, problems


def write_output(frame, path: str | Path, *, lon=None, lat=None, excel_bom: bool = False,
                 excel_safe: bool = False) -> None:  # fmt: skip
    """Write a joined table by extension; geo formats get WGS84 points from ``lon``/``lat``
    (or keep a GeoDataFrame's own geometry). Atomic; ``-`` is CSV on stdout. ``excel_safe``: CSV only."""
    suffix = "" if str(path) == "-" else Path(path).suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg", ".parquet"):
        write_table(frame, path, excel_bom=excel_bom, excel_safe=excel_safe)
        return
    import geopandas

    if not isinstance(frame, geopandas.GeoDataFrame):
        geometry = geopandas.points_from_xy(lon, lat, crs="EPSG:4326")
        # types-geopandas omits None from GeometryArray.__setitem__; None (a missing geometry) is valid at runtime.
        geometry[np.isnan(lon) | np.isnan(lat)] = None  # type: ignore[assignment]
        frame = geopandas.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
    import pyogrio

    path = Path(path)
    with atomic_output_path(path) as tmp:
        try:
            if suffix == ".parquet":
                frame.to_parquet(tmp)
            elif suffix == ".gpkg":
                frame.to_file(tmp, driver="GPKG", layer="joined")
            else:
                frame.to_file(tmp, driver="GeoJSON")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:  # GDAL's write errors
            raise gdal_write_error(path, exc) from None


def gdal_write_error(path: Path, exc: Exception) -> OutputError:
    """The one-line error for GDAL's failure to write ``path`` (its messages never say "disk full")."""
    reason = _("No space left on device") if _disk_full(path.parent) else str(exc).splitlines()[0]
    unchanged = _("the old file is unchanged") if path.exists() else _("nothing was written")
    return OutputError(
        _("cannot write {path!r}: {reason}; {unchanged}").format(path=str(path), reason=reason, unchanged=unchanged)
    )


def _disk_full(folder: Path) -> bool:
    """True when the file system of ``folder`` has under 1 MiB free: GDAL's messages do not say "disk full"."""
    try:
        fs = os.statvfs(folder)
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize < 1 << 20
