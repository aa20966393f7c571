"""Tests of gzspatial.address: the offline parser, its name list, and rows placed by address in join."""

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gzspatial
from gzspatial._errors import InputError
from gzspatial.address import DISTRICTS, parse_address, townships_path
from gzspatial.attribute import GZ_COLUMNS, Options, join_csv
from gzspatial.summary import stats

from .conftest import invoke_cli

FIXTURE = Path(__file__).parent / "data" / "addresses.csv"


def _fixture():
    with open(FIXTURE, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _answer(text):
    parsed = parse_address(text)
    return parsed.district if parsed.status == "guangzhou" else parsed.status


# --- the fixture: >= 200 addresses, >= 95 % right, never a wrong district ----------------------


def test_fixture_covers_what_it_should():
    rows = _fixture()
    assert len(rows) >= 200
    expected = {r["expected"] for r in rows}
    assert {name for name, _ in DISTRICTS.values()} <= expected and {"outside", "unknown"} <= expected
    forms = {r["form"] for r in rows}
    assert {"old_name", "zone", "typo", "bare", "fullwidth", "traditional", "outside", "garbage"} <= forms


def test_fixture_accuracy_and_no_wrong_answers():
    rows = _fixture()
    answers = [_answer(r["address"]) for r in rows]
    right = sum(a == r["expected"] for a, r in zip(answers, rows, strict=True))
    assert right / len(rows) >= 0.95, f"{right}/{len(rows)}"
    # A miss may only ever be "unknown": never another district, never a Guangzhou district for an
    # address outside or undeterminable, never "outside" for a Guangzhou address.
    wrong = [(r["address"], r["expected"], a) for a, r in zip(answers, rows, strict=True)
             if a != r["expected"] and a != "unknown"]  # fmt: skip
    assert wrong == []


# --- forms, one by one ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "district", "subdistrict", "note"),
    [
        ("广东省广州市天河区五山路381号", "天河区", "", ""),
        ("天河区五山街道五山路", "天河区", "五山街道", ""),
        ("番禺区市桥街", "番禺区", "市桥街道", ""),
        ("天河去五山路", "天河区", "", "read 天河去 as 天河区"),
        ("天河五山路", "天河区", "", "read 天河 as 天河区"),
        ("广州市萝岗区科学大道", "黄埔区", "", "former 萝岗区, now 黄埔区"),
        ("从化市街口街道", "从化区", "街口街道", "former 从化市, now 从化区"),
        ("番禺市市桥镇", "番禺区", "", "former 番禺市, now 番禺区"),
        ("花县新华镇", "花都区", "", "former 花县, now 花都区"),
        ("广州经济技术开发区", "黄埔区", "", "广州经济技术开发区 is in 黄埔区"),
        ("南沙新区", "南沙区", "", "南沙新区 is in 南沙区"),
        ("广州市黄埔区九佛街道", "黄埔区", "九佛街道", ""),
        ("新塘镇", "增城区", "新塘镇", "district from 新塘镇"),
        ("广州市天河区新塘街道", "天河区", "新塘街道", ""),
        ("越秀区白云街道", "越秀区", "白云街道", ""),
        ("廣州市天河區天河路", "天河区", "", ""),
        ("ｇｚ　广州市　海珠区", "海珠区", "", ""),
        ("番禺区石碁镇", "番禺区", "石基镇", ""),
    ],
)
def test_guangzhou_forms(text, district, subdistrict, note):
    parsed = parse_address(text)
    assert (parsed.status, parsed.district, parsed.subdistrict, parsed.note) == (
        "guangzhou",
        district,
        subdistrict,
        note,
    )
    assert parsed.district_code == {name: code for code, (name, _) in DISTRICTS.items()}[district]


@pytest.mark.parametrize(
    ("text", "status", "why"),
    [
        ("深圳市南山区科技园", "outside", "深圳市"),
        ("南山区科技园", "outside", "深圳市"),
        ("贵州省贵阳市白云区", "outside", "贵州省"),
        ("北京市海淀区", "outside", "北京"),
        ("北京路", "unknown", "no Guangzhou district"),  # 北京路 is in 越秀区: not Beijing, not guessed
        ("中山大道西", "unknown", "no Guangzhou district"),
        ("广州空港经济区", "unknown", "spans 白云区 and 花都区"),
        ("黄浦区南京路", "unknown", "Shanghai"),
        ("天河区海珠区", "unknown", "several districts"),
        ("白云山", "unknown", "no Guangzhou district"),
        ("黄埔村", "unknown", "no Guangzhou district"),  # in 海珠区
        ("广州市", "unknown", "names no district"),
        ("", "unknown", "no Chinese place name"),
        (None, "unknown", "no Chinese place name"),
        ("12345", "unknown", "no Chinese place name"),
    ],
)
def test_outside_and_unknown(text, status, why):
    parsed = parse_address(text)
    assert parsed.status == status and parsed.district == "" and why in parsed.note


def test_suffixed_district_outranks_zone_name():
    assert _answer("天河区广州高新区天河科技园") == "天河区"
    assert _answer("广州市黄埔区广州开发区科学大道") == "黄埔区"


def test_townships_data_has_source_and_the_newer_units():
    frame = pd.read_csv(townships_path(), dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["township_code", "township_name", "short_name", "district_code", "district_name",
                                   "aliases", "status", "source"]  # fmt: skip
    assert set(frame["district_code"]) == set(DISTRICTS) and (frame["source"] != "").all()
    new = frame[frame["township_name"].isin(["九佛街道", "龙湖街道", "新龙镇"])]
    assert len(new) == 3 and set(new["district_code"]) == {"440112"} and (new["township_code"] == "").all()
    assert frame.loc[frame["township_name"] == "九龙镇", "status"].item() == "superseded"
    codes = frame.loc[frame["township_code"] != "", "township_code"]
    assert codes.is_unique and codes.str.startswith(tuple(DISTRICTS)).all()


# --- join ---------------------------------------------------------------------------------

MIXED = pd.DataFrame(
    {
        "企业名称": ["坐标", "仅地址", "两者", "皆无", "乱码坐标", "外市", "乱码地址", "冲突"],
        "经度": ["113.3245", "", "113.36", "", "abc", "", "", "113.3245"],
        "纬度": ["23.1066", "", "23.12", "", "xyz", "", "", "23.1066"],
        "地址": [
            "",
            "天河区五山路381号",
            "天河区天河路",
            "",
            "广州开发区科学大道",
            "深圳市南山区",
            "###",
            "白云区机场路",
        ],
    }
)


def test_join_mixed_rows():
    out = gzspatial.join(MIXED, crs="wgs84")
    assert list(out.columns) == [*MIXED.columns, *GZ_COLUMNS]
    assert out[list(MIXED.columns)].equals(MIXED)
    status = list(out["gz_status"].astype(str))
    assert status == ["ok", "address_only", "ok", "missing", "address_only", "outside", "missing", "ok"]
    assert list(out["gz_district"].astype(str))[:5] == ["海珠区", "天河区", "天河区", "", "黄埔区"]
    notes = list(out["gz_note"].astype(str))
    assert notes[1] == "coordinate is blank; district from the address; cores, nodes and axis need coordinates"
    assert notes[4].startswith("longitude not a number: 'abc'") and "广州开发区 is in 黄埔区" in notes[4]
    assert notes[5] == "coordinate is blank; address is in 深圳市, outside Guangzhou"
    assert notes[6].startswith("coordinate is blank; address not placed")
    assert notes[7] == "address names 白云区, coordinates lie in 海珠区"  # answer kept, disagreement noted
    assert out.loc[7, "gz_district"] == "海珠区"
    assert out.loc[1, ["gz_core", "gz_nodes", "gz_axis_section"]].astype(str).tolist() == ["", "", ""]
    assert pd.isna(out.loc[1, "gz_on_axis"]) and np.isnan(out.loc[1, "gz_axis_distance_m"])


def test_join_english_names_and_subdistrict():
    frame = pd.DataFrame({"address": ["广州市增城区新塘镇港口大道"]})
    out = gzspatial.join(frame, lang="en", crs="wgs84")
    assert out.loc[0, ["gz_district", "gz_district_code", "gz_subdistrict", "gz_status"]].tolist() == [
        "Zengcheng", "440118", "新塘镇", "address_only"]  # fmt: skip


def test_join_without_coordinate_columns():
    frame = pd.DataFrame({"名称": ["a", "b", "c"], "注册地址": ["海珠区新港西路", "", "???"]})
    out = gzspatial.join(frame, crs="wgs84")
    assert list(out["gz_status"].astype(str)) == ["address_only", "missing", "missing"]
    assert list(out["gz_note"].astype(str)) == [
        "district from the address; cores, nodes and axis need coordinates",
        "no coordinates and no address",
        "address not placed: no Chinese place name in the address",
    ]


def test_address_column_choice():
    two = pd.DataFrame({"注册地址": ["海珠区"], "经营地址": ["天河区"]})
    with pytest.raises(InputError, match="several address columns \\(注册地址, 经营地址\\)"):
        gzspatial.join(two, crs="wgs84")
    assert gzspatial.join(two, address="经营地址", crs="wgs84").loc[0, "gz_district"] == "天河区"
    with pytest.raises(InputError, match="address column '地点' not found"):
        gzspatial.join(two, address="地点", crs="wgs84")
    # Several candidates are only a problem when an address is needed.
    located = pd.DataFrame({"lon": [113.3245], "lat": [23.1066], "注册地址": ["x"], "经营地址": ["y"]})
    assert gzspatial.join(located, crs="wgs84").loc[0, "gz_status"] == "ok"


def test_streaming_csv_gives_the_same_answers(tmp_path):
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    MIXED.to_csv(source, index=False)
    counts = join_csv(source, output, options=Options(crs="wgs84"))
    streamed = pd.read_csv(output, dtype=str, keep_default_na=False)
    framed = gzspatial.join(pd.read_csv(source, dtype=str, keep_default_na=False), crs="wgs84")
    for column in ("gz_district", "gz_district_code", "gz_subdistrict", "gz_status", "gz_note"):
        assert list(streamed[column]) == list(framed[column].astype(str)), column
    assert counts["address_only"] == 2 and counts["ok"] == 3


def test_stats_counts_address_only_by_district_only():
    out = gzspatial.join(MIXED, crs="wgs84")
    by_district = stats(out, by="district").set_index("name_zh")["count"]
    assert by_district["天河区"] == 2 and by_district["黄埔区"] == 1 and by_district.sum() == 5
    assert stats(out, by="district").attrs["located_rows"] == 5
    assert stats(out, by="node").attrs["located_rows"] == 3


# --- command line -------------------------------------------------------------------------


def test_cli_join_and_locate_address(tmp_path):
    source, output = tmp_path / "名录.csv", tmp_path / "out.csv"
    source.write_text("名称,地址\n甲,广州市萝岗区科学大道182号\n乙,深圳市南山区\n", encoding="utf-8")
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(output))
    assert result.returncode == 0, result.stderr.decode()
    assert "joined 2 rows: ok 0, outside 1, swapped 0, missing 0, invalid 0, address_only 1" in result.stderr.decode()
    back = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert list(back["gz_district"]) == ["黄埔区", ""] and list(back["名称"]) == ["甲", "乙"]
    located = invoke_cli("locate", "--address", "天河区五山路381号")
    assert located.returncode == 0 and "天河区 (440106)" in located.stdout.decode()
    assert "need coordinates" in located.stdout.decode()
    two = tmp_path / "two.csv"
    two.write_text("注册地址,经营地址\n海珠区,天河区\n", encoding="utf-8")
    failed = invoke_cli("join", "--crs", "wgs84", str(two), "-o", str(tmp_path / "x.csv"))
    assert failed.returncode == 2 and "several address columns" in failed.stderr.decode()
    assert "Traceback" not in failed.stderr.decode() and not (tmp_path / "x.csv").exists()


def test_null_addresses_are_blank():
    frame = pd.DataFrame({"地址": ["海珠区", None, np.nan]})
    out = gzspatial.join(frame, crs="wgs84")
    assert list(out["gz_status"].astype(str)) == ["address_only", "missing", "missing"]
    assert list(out["gz_note"].astype(str))[1:] == ["no coordinates and no address"] * 2


def test_address_placement_can_be_turned_off_for_maps():
    from gzspatial.attribute import join_frame

    frame = pd.DataFrame({"lon": [""], "lat": [""], "注册地址": ["海珠区"], "经营地址": ["天河区"]})
    out, lon, _ = join_frame(frame, crs="wgs84", address=False)
    assert out.loc[0, "gz_status"] == "missing" and np.isnan(lon[0])
