"""Exceptions of gzspatial: one root the CLI catches and prints as one line."""


class GzError(Exception):
    """Root of every error gzspatial raises on purpose; its message is one line for the user."""


class CoordinateError(GzError, ValueError):
    """A coordinate value or coordinate system is not usable (names the value and the fix)."""


class LayerError(GzError, ValueError):
    """A layer file or directory is missing, unreadable or does not meet the layer schema."""


class InputError(GzError, ValueError):
    """A user's input file or table cannot be read as asked (names the file/column and the fix)."""


class OutputError(GzError, OSError):
    """An output cannot be written where asked (not a regular file, read-only folder, disk full…)."""
