"""Mark literal GzError messages for translation: ``raise InputError(f"... {x!r} ...")`` becomes
``raise InputError(_("... {x!r} ...").format(x=x))``, and print the templates without a Chinese
translation in gzspatial/_messages_zh.py (to add there by hand).

Usage: python scripts/mark_messages.py gzspatial/*.py  (then ruff check --fix, ruff format, and review the names
chosen for placeholders: a name is taken from the expression, e.g. ``{', '.join(cols)}`` → ``{cols}``).
Messages built with ``+`` or from a variable are listed, not rewritten.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
import sys
from pathlib import Path

ERRORS = {"GzError", "CoordinateError", "LayerError", "InputError", "OutputError", "ExcelLimitError", "GeocodeError",
          "_fail"}  # fmt: skip
IMPORT = "from gzspatial.i18n import _\n"


def _name(node: ast.expr) -> str:
    """A placeholder name for an f-string expression."""
    if isinstance(node, ast.Name):
        return node.id.strip("_") or "value"
    if isinstance(node, ast.Attribute):
        return node.attr.strip("_") or "value"
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isidentifier():
            return key.value
        return _name(node.value)
    if isinstance(node, ast.Call):
        func, args = node.func, node.args
        if isinstance(func, ast.Name) and args:
            if func.id == "len":
                return "n_" + _name(args[0])
            return _name(args[1] if func.id == "map" and len(args) > 1 else args[0])
        if isinstance(func, ast.Attribute):
            if func.attr == "join" and args:
                first = args[0]
                return _name(first.generators[0].iter if isinstance(first, ast.GeneratorExp | ast.ListComp) else first)
            return _name(func.value)
    if isinstance(node, ast.BoolOp):
        return _name(node.values[0])
    if isinstance(node, ast.IfExp):
        return _name(node.orelse if isinstance(node.body, ast.Constant) else node.body)
    return "value"


def _template(message: ast.JoinedStr | ast.Constant, source: str) -> tuple[str, dict[str, str]]:
    """(template, {placeholder: expression source}) of a literal message."""
    if isinstance(message, ast.Constant):
        return str(message.value), {}
    parts, names = [], {}  # expression source -> placeholder
    for value in message.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value).replace("{", "{{").replace("}", "}}"))
            continue
        assert isinstance(value, ast.FormattedValue)
        expression = ast.get_source_segment(source, value.value) or "value"
        if expression not in names:
            base = _name(value.value)
            base = base + "_" if keyword.iskeyword(base) else base
            name, i = base, 2
            while name in names.values():
                name, i = f"{base}{i}", i + 1
            names[expression] = name
        conversion = {-1: "", 115: "!s", 114: "!r", 97: "!a"}[value.conversion]
        spec = ""
        if value.format_spec is not None:
            spec = ":" + "".join(
                str(c.value) if isinstance(c, ast.Constant) else "{" + (ast.get_source_segment(source, c) or "") + "}"
                for c in value.format_spec.values  # type: ignore[attr-defined]
            )
        parts.append("{" + names[expression] + conversion + spec + "}")
    return "".join(parts), {name: expression for expression, name in names.items()}


def _literal(template: str) -> str:
    """The template as Python string literal(s), split at spaces to stay under the line length."""
    chunks, current = [], ""
    for word in re.split(r"(?<= )", template):
        if current and len(current) + len(word) > 90:
            chunks.append(current)
            current = ""
        current += word
    chunks.append(current)
    quoted = [json.dumps(chunk, ensure_ascii=False) for chunk in chunks]
    return quoted[0] if len(quoted) == 1 else "\n" + "\n".join(quoted) + "\n"


def mark(path: Path) -> list[str]:
    """Rewrite the literal messages of ``path``; return the templates marked."""
    source = path.read_text(encoding="utf-8")
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line.encode()))
    data, edits, templates = source.encode(), [], []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
            continue
        if not (isinstance(node.exc.func, ast.Name) and node.exc.func.id in ERRORS):
            continue
        message = node.exc.args[0]
        if not isinstance(message, ast.JoinedStr | ast.Constant):
            if not (isinstance(message, ast.Call) and isinstance(message.func, ast.Attribute | ast.Name)):
                print(f"{path}:{node.lineno}: not a literal message, mark it by hand", file=sys.stderr)
            continue
        template, names = _template(message, source)
        new = f"_({_literal(template)})"
        if names and isinstance(message, ast.JoinedStr):
            new += ".format(" + ", ".join(f"{name}={expression}" for name, expression in names.items()) + ")"
        start = starts[message.lineno - 1] + message.col_offset
        end = starts[message.end_lineno - 1] + message.end_col_offset  # type: ignore[operator]
        edits.append((start, end, new.encode()))
        templates.append(template)
    for start, end, new in sorted(edits, reverse=True):
        data = data[:start] + new + data[end:]
    if edits:
        text = data.decode()
        if IMPORT not in text and "from gzspatial.i18n import" not in text:
            imports = list(re.finditer(r"^from gzspatial[.\w]* import [^\n(]*(\([^)]*\))?\n", text, re.MULTILINE))
            at = imports[-1].end() if imports else text.index("\n\n", text.index('"""', 3)) + 2
            text = text[:at] + IMPORT + text[at:]
        path.write_text(text, encoding="utf-8")
    return templates


def main(paths: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from gzspatial._messages_zh import MESSAGES

    for path in map(Path, paths):
        for template in mark(path):
            if template not in MESSAGES:
                print(f'{json.dumps(template, ensure_ascii=False)}: "",  # {path.name}')


if __name__ == "__main__":
    main(sys.argv[1:])
