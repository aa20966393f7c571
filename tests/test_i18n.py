"""Tests of gzspatial.i18n: the default-language rule, --lang on every command, the zh catalog."""

import ast
import json
import re
import string
from pathlib import Path

import pytest

from gzspatial import i18n
from gzspatial._errors import CoordinateError, GzError
from gzspatial._messages_zh import MESSAGES

from .conftest import ROOT, invoke_cli

PACKAGE = ROOT / "gzspatial"
ERROR_CLASSES = {"GzError", "CoordinateError", "LayerError", "InputError", "OutputError", "ExcelLimitError",
                 "GeocodeError", "_fail"}  # fmt: skip


# --- the default-language rule ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),  # LC_ALL first
        ({"LC_MESSAGES": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_MESSAGES before LANG
        ({"LC_ALL": "", "LC_MESSAGES": "zh_CN.GB18030"}, "zh"),  # an empty variable is unset
        ({"GZ_LANG": "zh", "LC_ALL": "C"}, "zh"),  # GZ_LANG before the locale
        ({"GZ_LANG": "EN", "LANG": "zh_CN.UTF-8"}, "en"),
    ],
)
def test_default_language(environ, expected):
    assert i18n.resolve(None, environ) == expected


def test_lang_option_before_gz_lang():
    assert i18n.resolve("en", {"GZ_LANG": "zh"}) == "en"
    assert i18n.resolve("zh", {"LANG": "C"}) == "zh"


@pytest.mark.parametrize(
    ("lang", "environ", "named"), [("fr", {}, "--lang 'fr'"), (None, {"GZ_LANG": "xx"}, "GZ_LANG 'xx'")]
)
def test_bad_language_names_value_and_choices(lang, environ, named):
    with pytest.raises(GzError, match=f"^{named} is not a supported language: use zh or en$"):
        i18n.resolve(lang, environ)


def test_api_speaks_english_unless_asked():
    from gzspatial.crs import normalize_crs

    with pytest.raises(CoordinateError, match=r"^unknown coordinate system 'nope'"):
        normalize_crs("nope")
    with i18n.use("zh"), pytest.raises(CoordinateError, match=r"^未知坐标系 'nope'"):
        normalize_crs("nope")
    assert i18n.current() == "en"  # the block ended


# --- the real CLI -------------------------------------------------------------------------------


def _lines(result) -> list[str]:
    return result.stderr.decode().splitlines()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({"LANG": "zh_CN.UTF-8"}, "错误：未知坐标系 'nope'"), ({"LANG": "C"}, "error: unknown coordinate system 'nope'"),
     ({"LC_ALL": "zh_CN.UTF-8", "GZ_LANG": "en"}, "error: unknown coordinate system 'nope'")],
)  # fmt: skip
def test_cli_default_from_locale(monkeypatch, environ, expected):
    for key in ("GZ_LANG", *i18n.LOCALE_VARS):
        monkeypatch.delenv(key, raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    result = invoke_cli("convert", "113.3", "23.1", "--from", "nope")
    assert result.returncode == 2 and _lines(result)[0].startswith(expected) and len(_lines(result)) == 1


@pytest.mark.parametrize("args", [["layers"], ["locate", "113.3", "23.1"], ["stats", "x.csv"], ["config", "show"]])
def test_cli_bad_language_is_one_line(monkeypatch, args):
    bad = invoke_cli(*args, "--lang", "fr")
    assert bad.returncode == 2 and _lines(bad) == ["error: --lang 'fr' is not a supported language: use zh or en"]
    monkeypatch.setenv("GZ_LANG", "klingon")
    bad = invoke_cli(*args)
    assert bad.returncode == 2 and _lines(bad) == ["error: GZ_LANG 'klingon' is not a supported language: use zh or en"]


def _write_points(path: Path) -> Path:
    path.write_text("name,lon,lat\nA,113.36,23.10\nB,113.45,23.17\n", encoding="utf-8")
    return path


def _error_cases(tmp_path):
    """(error class, arguments, English start, Chinese start): one error of each class through the CLI."""
    points = _write_points(tmp_path / "points.csv")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return [
        ("CoordinateError", ["convert", "113.3", "23.1", "--from", "nope"], "unknown coordinate system 'nope'",
         "未知坐标系 'nope'"),
        ("InputError", ["join", str(points), "-o", str(tmp_path / "o.csv")], f"{points} does not say which coordinate",
         f"{points} 未说明坐标所用的坐标系"),
        ("InputError", ["join", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84"],
         "input file", "找不到输入文件"),
        ("LayerError", ["locate", "113.3", "23.1", "--layers", str(tmp_path / "nowhere")], "layers folder",
         "图层文件夹"),
        ("OutputError", ["join", str(points), "--crs", "wgs84", "-o", str(a_file / "o.csv")], "cannot write",
         "无法写入"),
        ("InputError", ["locate", "--address", "天河区五山路381号", "--geocoder", "amap"], "amap needs a key",
         "amap 需要密钥"),
        ("_fail", ["locate", "113.3"], "give LON LAT", "请给出 经度 纬度"),
    ]  # fmt: skip


def test_one_error_of_each_class_in_zh_and_en(tmp_path, monkeypatch):
    for key in ("GZ_AMAP_KEY", "GZ_BAIDU_AK", "GZ_TIANDITU_KEY"):
        monkeypatch.delenv(key, raising=False)
    for _kind, args, english, chinese in _error_cases(tmp_path):
        en = invoke_cli(*args, "--lang", "en")
        zh = invoke_cli(*args, "--lang", "zh")
        assert en.returncode == zh.returncode == 2, (args, _lines(en), _lines(zh))
        assert _lines(en)[0].startswith(f"error: {english}"), _lines(en)
        assert _lines(zh)[0].startswith(f"错误：{chinese}"), _lines(zh)
        assert len(_lines(zh)) == 1


def test_errors_met_past_the_cli_follow_the_language():
    """ExcelLimitError (a million rows) and GeocodeError (a provider's answer) through the API."""
    from gzspatial import excel
    from gzspatial.geocode import Amap, GeocodeError

    refused = {"status": "0", "infocode": "10001", "info": "INVALID_USER_KEY"}
    with i18n.use("zh"):
        with pytest.raises(excel.ExcelLimitError, match="行超出 Excel 工作表容量"):
            excel.check_rows(excel.MAX_ROWS)
        with pytest.raises(GeocodeError, match=r"^高德拒绝了密钥（10001 INVALID_USER_KEY）"):
            Amap().parse(refused)
    with pytest.raises(GeocodeError, match=r"^amap refused the key"):
        Amap().parse(refused)


def test_locate_table_in_zh_and_en():
    zh = invoke_cli("locate", "114.06", "22.54", "--lang", "zh").stdout.decode()
    en = invoke_cli("locate", "114.06", "22.54", "--lang", "en").stdout.decode()
    labels_zh = [line.split()[0] for line in zh.splitlines()]
    labels_en = [line.split()[0] for line in en.splitlines()]
    assert labels_zh == ["坐标", "说明", "行政区", "核心", "节点", "最近节点", "轴线", "图层"]
    assert labels_en == ["Point", "Note", "District", "Core", "Nodes", "Nearest", "Axis", "Layers"]
    assert "—（广州市域外）" in zh and "不在轴线上（廊道半宽 2 千米）" in zh
    assert "outside Guangzhou" in en and "off the axis (corridor 2 km)" in en
    # labels are padded to one display width: the values start in one column
    starts = {len(re.match(r"\S+ +", line).group().encode("gbk")) for line in zh.splitlines()}  # GBK: 2 bytes a 字
    assert len(starts) == 1


def test_indicators_and_config_in_zh():
    table = invoke_cli("indicators", "--lang", "zh").stdout.decode()
    headers = next(line for line in table.splitlines() if "指标" in line and "进度" in line)
    assert [h.strip() for h in headers.strip("┃ \n").split("┃")] == [
        "编号", "指标", "单位", "基期值", "2025年目标", "实际值", "进度"
    ]  # fmt: skip
    assert "Main indicators" in invoke_cli("indicators", "--lang", "en").stdout.decode()
    shown = invoke_cli("config", "show", "--lang", "zh").stdout.decode().splitlines()
    assert shown[0].startswith("文件：") and shown[-1].startswith("图层 ")


def test_layers_table_in_zh():
    zh = invoke_cli("layers", "--lang", "zh").stdout.decode()
    assert zh.startswith("图层集 ") and "个要素" in zh and "来源：" in zh and "features" not in zh


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    folder = tmp_path_factory.mktemp("joined")
    points, out = _write_points(folder / "p.csv"), folder / "joined.csv"
    assert invoke_cli("join", str(points), "-o", str(out), "--crs", "wgs84", "--quiet").returncode == 0
    return out


def test_join_names_stay_zh_unless_lang_given(joined, tmp_path):
    import pandas as pd

    table = pd.read_csv(joined, dtype=str)  # written under GZ_LANG=en, without --lang
    assert table["gz_district"].tolist() == ["海珠区", "黄埔区"]
    out = tmp_path / "en.csv"
    invoke_cli("join", str(_write_points(tmp_path / "p.csv")), "-o", str(out), "--crs", "wgs84", "--lang", "en")
    assert pd.read_csv(out, dtype=str)["gz_district"].tolist() == ["Haizhu", "Huangpu"]
    assert list(pd.read_csv(out, dtype=str).columns) == list(table.columns)  # gz_ names never translated


def test_stats_headers(joined, tmp_path):
    zh = invoke_cli("stats", str(joined), "--by", "core", "--lang", "zh").stdout.decode()
    assert "按核心统计（广州境内已定位 2 行，共 2 行）" in zh and "名称" in zh and "图层 " in zh
    en = invoke_cli("stats", str(joined), "--by", "core", "--lang", "en").stdout.decode()
    assert "rows per core (2 located of 2)" in en and "name_en" in en
    # file headers translate only with --lang, whatever the interface language (scripts read them)
    for lang, first in ((None, '"unit",'), ("zh", '"编号",')):
        out = tmp_path / f"stats_{lang}.csv"
        args = ["stats", str(joined), "--by", "core", "-o", str(out), *(["--lang", lang] if lang else [])]
        assert invoke_cli(*args).returncode == 0
        assert out.read_text(encoding="utf-8").startswith(first)


def test_map_ui_text_in_the_json_block(tmp_path):
    for lang, texts in (("zh", ["搜索：名称或别名", "无匹配", "行政区", "多点（节点）"]),
                        ("en", ["Search a name or alias", "No match", "Districts", "Nodes"])):  # fmt: skip
        out = tmp_path / f"map_{lang}.html"
        result = invoke_cli("map", "-o", str(out), "--basemap", "none", "--cdn", "--lang", lang)
        assert result.returncode == 0, result.stderr
        page = out.read_text(encoding="utf-8")
        for text in texts:
            assert json.dumps(text, ensure_ascii=False) in page, (lang, text)
        done = result.stderr.decode()
        assert done.startswith("已写出 " if lang == "zh" else "wrote ")


def test_print_map_follows_the_interface_language(tmp_path, monkeypatch):
    from gzspatial import figure

    asked = []
    monkeypatch.setattr(figure, "save_figure", lambda *args, **kwargs: None)
    monkeypatch.setattr(figure, "make_figure", lambda **kwargs: asked.append(kwargs["lang"]))
    monkeypatch.setenv("GZ_LANG", "zh")
    invoke_cli("map", "-o", str(tmp_path / "m.png"))
    invoke_cli("map", "-o", str(tmp_path / "m.png"), "--lang", "en")
    assert asked == ["zh", "en"]


def _commands():
    import typer

    from gzspatial.cli import app

    root = typer.main.get_command(app)

    def walk(group, path):
        for name, command in getattr(group, "commands", {}).items():
            yield [*path, name], command
            yield from walk(command, [*path, name])

    return list(walk(root, []))


def test_every_command_has_lang_and_help_works():
    commands = _commands()
    assert len(commands) >= 13
    for path, command in commands:
        if hasattr(command, "commands") and not command.invoke_without_command:
            continue  # a group that only lists its subcommands (config, export…)
        assert "lang" in [p.name for p in command.params], path
        result = invoke_cli(*path, "--help")
        assert result.returncode == 0 and "--lang" in result.stdout.decode(), path
    assert "Chinese unless --lang en" in invoke_cli("join", "--help").stdout.decode()


# --- the catalog ---------------------------------------------------------------------------------


def _marked() -> dict[str, str]:
    """{template: where} of every ``_("...")`` and ``N_("...")`` in gzspatial/ (``_(name)`` translates a
    message marked with N_ elsewhere)."""
    found = {}
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_"):
                where = f"{path.name}:{node.lineno}"
                assert len(node.args) == 1, where
                if isinstance(node.args[0], ast.Name) and node.func.id == "_":
                    continue
                assert isinstance(node.args[0], ast.Constant), where
                found.setdefault(node.args[0].value, where)
    return found


def _fields(template: str) -> list[tuple]:
    return sorted((name, conv, spec) for _, name, spec, conv in string.Formatter().parse(template) if name is not None)


@pytest.mark.parametrize(
    ("args", "zh"),
    [
        (("join", "--bbx"), "错误：没有选项 --bbx（见 "),
        (("map", "-o", "m.html", "--qiuet"), "错误：没有选项 --qiuet（可能的选项："),
        (("nosuch",), "错误：没有命令 'nosuch'（见 "),
        (("join",), "错误：缺少参数 'source'（见 "),
        (("join", "x.csv", "--crs"), "错误：选项 '--crs' 需要一个值"),
        (("stats", "x.csv", "--by", "nod"), "错误：选项 '--by' 的值 'nod' 无效：可选值为 'node', 'core'"),
        (("locate", "113", "23", "--corridor-km", "x"), "错误：选项 '--corridor-km' 的值无效：应为数字（见 "),
    ],
)
def test_usage_errors_follow_gz_lang(monkeypatch, args, zh):
    """typer's own usage errors are one line in the language of GZ_LANG when no --lang is given."""
    monkeypatch.setenv("GZ_LANG", "zh")
    result = invoke_cli(*args)
    err = result.stderr.decode()
    assert result.returncode == 2 and err.startswith(zh) and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("environ", "args", "start"),
    [
        ("en", ("join", "--bbx", "--lang", "zh"), "错误：没有选项 --bbx"),
        ("en", ("stats", "x.csv", "--lang=zh", "--by", "nod"), "错误：选项 '--by' 的值 'nod' 无效"),
        ("zh", ("join", "--bbx", "--lang", "en"), "error: No such option: --bbx"),
        ("en", ("join", "--bbx", "--lang", "xx"), "error: No such option: --bbx"),  # the usage error first
    ],
)
def test_usage_errors_follow_a_lang_on_the_same_command_line(monkeypatch, environ, args, start):
    monkeypatch.setenv("GZ_LANG", environ)
    result = invoke_cli(*args)
    err = result.stderr.decode()
    assert result.returncode == 2 and err.startswith(start) and err.count("\n") == 1, err


def test_usage_patterns_name_only_their_groups_and_unmatched_text_stays():
    """Each pattern of USAGE_ERRORS is a valid expression whose template names only its groups."""
    from gzspatial._messages_zh import USAGE_ERRORS

    for pattern, template in USAGE_ERRORS:
        groups = set(re.compile(pattern).groupindex)
        names = {field for _text, field, _spec, _conv in string.Formatter().parse(template) if field}
        assert names <= groups, (pattern, template)
    with i18n.use("en"):
        assert i18n.usage_error("No such option: --x") == "No such option: --x"
    with i18n.use("zh"):
        assert (
            i18n.usage_error("something click says that has no pattern") == "something click says that has no pattern"
        )


def test_every_marked_template_has_a_chinese_translation_with_the_same_placeholders():
    marked = _marked()
    assert len(marked) > 200
    missing = [f"{where}: {template!r}" for template, where in marked.items() if template not in MESSAGES]
    assert not missing, "untranslated:\n" + "\n".join(missing)
    differ = [t for t in marked if _fields(t) != _fields(MESSAGES[t])]
    assert not differ, differ
    stale = [t for t in MESSAGES if t not in marked]
    assert not stale, f"translations of templates no longer in the code: {stale}"
    for template, chinese in MESSAGES.items():
        assert chinese.strip() and chinese != template and any("\u4e00" <= c <= "\u9fff" for c in chinese), template


def test_no_literal_error_message_is_left_unmarked():
    """A GzError raised with a literal message (str or f-string) must be marked with _()."""
    unmarked = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                func, message = node.exc.func, node.exc.args[0]
                while isinstance(message, ast.BinOp):  # "..." + "..." is a literal message too
                    message = message.left
                literal = isinstance(message, (ast.JoinedStr, ast.Constant))
                if isinstance(func, ast.Name) and func.id in ERROR_CLASSES and literal:
                    unmarked.append(f"{path.name}:{node.lineno}")
    assert not unmarked, unmarked


def test_no_function_shadows_the_marker():
    """``_`` bound in a function (``_, x = ...``) would break the ``_()`` calls in it."""
    clashes = []
    for path in sorted(PACKAGE.glob("*.py")):
        for func in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            body = [n for stmt in func.body for n in ast.walk(stmt)]
            own_scope = {id(n) for c in body if isinstance(c, ast.comprehension) for n in ast.walk(c.target)}
            binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
                        and id(n) not in own_scope for n in body)  # fmt: skip
            calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in body)
            if binds and calls:
                clashes.append(f"{path.name}:{func.lineno} {func.name}")
    assert not clashes, clashes


def test_mark_messages_script_rewrites_an_fstring_to_the_same_message(tmp_path):
    """scripts/mark_messages.py (for messages added later): the marked message reads as the f-string did."""
    import importlib.util

    from gzspatial._errors import InputError

    spec = importlib.util.spec_from_file_location("mark_messages", ROOT / "scripts" / "mark_messages.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    path = tmp_path / "module.py"
    path.write_text('"""Doc."""\n\nfrom gzspatial._errors import InputError\n\n\ndef check(cols, x):\n'
                    "    raise InputError(f\"no {x!r} in {', '.join(cols)} ({len(cols):,} columns) {{kept}}\")\n",
                    encoding="utf-8")  # fmt: skip
    assert script.mark(path) == ["no {x!r} in {cols} ({n_cols:,} columns) {{kept}}"]
    assert "from gzspatial.i18n import _\n" in path.read_text(encoding="utf-8")
    namespace: dict = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    with pytest.raises(InputError) as raised:
        namespace["check"](["a", "b"], "x")
    assert str(raised.value) == "no 'x' in a, b (2 columns) {kept}"
