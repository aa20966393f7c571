"""Reading Guangzhou addresses offline: address text → district (adcode) and 街道/镇, or "outside".

A small parser over the official names (the 11 districts and ``data/townships.csv``) rather than a
national library (cpca, jionlp): those load tables of every Chinese county to answer a question
about one city, and know neither Guangzhou's former names (萝岗区, 从化市, 番禺市, 花县…) nor its
development-zone names, so this module's rules would be needed on top of them anyway.

Nothing is guessed: an address that names two districts, or a zone spanning two (空港经济区), or
no district at all, is "unknown" with a note saying why; an address in another city is "outside".
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from gzspatial._errors import InputError
from gzspatial.i18n import _

#: The 11 districts: adcode → (name, short name).
DISTRICTS = {
    "440103": ("荔湾区", "荔湾"),
    "440104": ("越秀区", "越秀"),
    "440105": ("海珠区", "海珠"),
    "440106": ("天河区", "天河"),
    "440111": ("白云区", "白云"),
    "440112": ("黄埔区", "黄埔"),
    "440113": ("番禺区", "番禺"),
    "440114": ("花都区", "花都"),
    "440115": ("南沙区", "南沙"),
    "440117": ("从化区", "从化"),
    "440118": ("增城区", "增城"),
}
_CODE_OF = {short: code for code, (_, short) in DISTRICTS.items()}
#: 区 and its usual input-method slips (same pinyin "qu") and the traditional form.
_SUFFIXES = "区區去取曲"

#: Former names: text → (adcode, note). 萝岗区 merged into 黄埔区 (2014); 东山区 into 越秀区 and
#: 芳村区 into 荔湾区 (2005); the county-level cities became districts (番禺, 花都 2000; 从化, 增城 2014).
_FORMER = {
    "萝岗": ("440112", "former 萝岗区, now 黄埔区"),
    "东山": ("440104", "former 东山区, now 越秀区"),
    "芳村": ("440103", "former 芳村区, now 荔湾区"),
}
_FORMER_CITIES = {"从化": "440117", "增城": "440118", "番禺": "440113", "花都": "440114"}
_FORMER_COUNTIES = {"从化县": "440117", "增城县": "440118", "番禺县": "440113", "花县": "440114"}

#: Development zones and well-known areas lying in one district: text → adcode.
_ZONES = {
    "广州经济技术开发区": "440112",
    "广州开发区": "440112",
    "黄埔开发区": "440112",
    "广州保税区": "440112",
    "广州出口加工区": "440112",
    "中新广州知识城": "440112",
    "广州知识城": "440112",
    "知识城": "440112",
    "广州科学城": "440112",
    "科学城": "440112",
    "广州国际生物岛": "440112",
    "生物岛": "440112",
    "南沙新区": "440115",
    "南沙开发区": "440115",
    "南沙经济技术开发区": "440115",
    "南沙自贸区": "440115",
    "南沙自贸片区": "440115",
    "南沙片区": "440115",
    "增城开发区": "440118",
    "增城经济技术开发区": "440118",
    "花都开发区": "440114",
    "花都经济开发区": "440114",
    "从化经济开发区": "440117",
    "从化开发区": "440117",
    "广州大学城": "440113",
    "大学城": "440113",
    "珠江新城": "440106",
    "天河软件园": "440106",
    "天河智慧城": "440106",
    "琶洲": "440105",
}
#: Zones spanning several districts: named, never guessed.
_AMBIGUOUS_ZONES = {
    "空港经济区": "广州空港经济区 spans 白云区 and 花都区",
    "广州高新区": "广州高新区 has parks in several districts",
    "广州高新技术产业开发区": "广州高新技术产业开发区 has parks in several districts",
    "黄浦区": "黄浦区 is in Shanghai (Guangzhou's is 黄埔区)",
}

#: Provinces other than Guangdong, as they open an address (bare names only where no Guangzhou
#: place starts with them; 河南 is also Guangzhou's old name for 海珠, so it needs 省).
_OTHER_PROVINCES = (
    "北京", "天津", "上海", "重庆", "香港", "澳门", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆",
    "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省", "安徽省", "福建省",
    "江西省", "山东省", "河南省",
    "湖北省", "湖南省", "海南省", "四川省", "贵州省", "云南省", "陕西省", "甘肃省", "青海省",
)  # fmt: skip
#: Guangdong's other cities (with 市: 中山大道 and 东莞庄路 are Guangzhou streets).
_GD_CITIES = (
    "深圳", "珠海", "汕头", "佛山", "韶关", "湛江", "肇庆", "江门", "茂名", "惠州", "梅州", "汕尾",
    "河源", "阳江", "清远", "东莞", "中山", "潮州", "揭阳", "云浮",
)  # fmt: skip
#: Districts of neighbouring cities, recognised anywhere with their 区.
_NEIGHBOUR_DISTRICTS = {
    **dict.fromkeys(["福田", "罗湖", "南山", "盐田", "宝安", "龙岗", "龙华", "坪山", "光明"], "深圳市"),
    **dict.fromkeys(["禅城", "南海", "顺德", "三水", "高明"], "佛山市"),
    **dict.fromkeys(["香洲", "斗门", "金湾"], "珠海市"),
    **dict.fromkeys(["清城", "清新"], "清远市"),
    **dict.fromkeys(["惠城", "惠阳"], "惠州市"),
    **dict.fromkeys(["蓬江", "江海", "新会"], "江门市"),
    **dict.fromkeys(["端州", "鼎湖", "高要"], "肇庆市"),
}
# Characters after a bare district name that show it is part of a street or place name
# (天河路, 白云山, 黄埔大道 is in 天河区, 海珠广场 in 越秀区, 黄埔村 in 海珠区).
_NOT_DISTRICT_NEXT = set("路大道街北南东西中广公山机村桥港古湖")
# Traditional forms of the characters that matter here (addresses copied from HK/TW sources).
_TRADITIONAL = str.maketrans("廣東區鎮號灣從華黃門圍開發員龍嶺雲縣", "广东区镇号湾从华黄门围开发员龙岭云县")

STATUS_GUANGZHOU = "guangzhou"
STATUS_OUTSIDE = "outside"
STATUS_UNKNOWN = "unknown"


@dataclass(frozen=True)
class ParsedAddress:
    """What an address says: ``status`` guangzhou (district found), outside, or unknown.

    ``district``/``district_code`` (adcode), ``subdistrict``/``subdistrict_code`` (街道/镇 and its
    statistical code, '' when not known), ``place`` (for outside: the province or city named) and
    ``note`` (how it was read: former names, typos, zones; or why nothing was found).
    """

    text: str
    status: str
    district: str = ""
    district_code: str = ""
    subdistrict: str = ""
    subdistrict_code: str = ""
    place: str = ""
    note: str = ""


def normalize(text) -> str:
    """Address text with full-width forms folded (NFKC), key traditional characters simplified and
    whitespace removed."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).translate(_TRADITIONAL)
    return re.sub(r"\s+", "", folded)


def townships_path() -> Path:
    """The packaged 街道/镇 list (inside a wheel, or ``data/townships.csv`` in a checkout)."""
    here = Path(__file__).resolve().parent
    installed = here / "_data" / "townships.csv"
    return installed if installed.is_file() else here.parent / "data" / "townships.csv"


@lru_cache(maxsize=1)
def _townships() -> dict[str, list[tuple[str, str, str]]]:
    """Written forms → [(township name, code, district adcode)]: full names, aliases, and 'XX街'."""
    forms: dict[str, list[tuple[str, str, str]]] = {}
    with open(townships_path(), encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            entry = (row["township_name"], row["township_code"], row["district_code"])
            names = [row["township_name"], *filter(None, row["aliases"].split(";"))]
            if row["township_name"].endswith("街道"):
                names.append(row["township_name"][:-1])  # 五山街 is the common short form of 五山街道
            for name in names:
                forms.setdefault(name, []).append(entry)
    return forms


def _alternation(words) -> re.Pattern:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


@lru_cache(maxsize=1)
def _patterns() -> dict[str, Any]:
    """Compiled patterns: district mentions, townships, openings of other provinces/cities."""
    mentions: dict[str, tuple[str | None, str]] = {}
    for code, (name, short) in DISTRICTS.items():
        for suffix in _SUFFIXES:
            mentions[short + suffix] = (code, "" if suffix in "区區" else f"read {short}{suffix} as {name}")
    for short, (code, note) in _FORMER.items():
        for suffix in _SUFFIXES:
            mentions[short + suffix] = (code, note)
    for short, code in _FORMER_CITIES.items():
        mentions[short + "市"] = (code, f"former {short}市, now {DISTRICTS[code][0]}")
    for text, code in _ZONES.items():
        mentions[text] = (code, f"{text} is in {DISTRICTS[code][0]}")
    for text, why in _AMBIGUOUS_ZONES.items():
        mentions[text] = (None, why)
    neighbours = {f"{name}区": city for name, city in _NEIGHBOUR_DISTRICTS.items()}
    return {
        "mentions": (_alternation(mentions), mentions),
        "townships": _alternation(_townships()),
        "provinces": _alternation(_OTHER_PROVINCES),
        "gd_cities": re.compile("|".join(f"{c}市" for c in _GD_CITIES)),
        "any_city": re.compile(r"([\u4e00-\u9fff]{2,3}?)市(?=[\u4e00-\u9fff]{1,4}?[区县市镇])"),
        "any_province": re.compile(r"([\u4e00-\u9fff]{2,3})省"),
        "neighbours": (_alternation(neighbours), neighbours),
        "bare": re.compile("|".join([*_CODE_OF, *_FORMER, *_FORMER_COUNTIES])),
    }


def _outside_opening(rest: str, p) -> str | None:
    """The other province or city an address opens with, if any."""
    if (m := p["provinces"].match(rest)) and rest[m.end() : m.end() + 1] not in _NOT_DISTRICT_NEXT:
        return m.group()  # 北京路 and 北京街道 are in 越秀区
    if (m := p["any_province"].match(rest)) and m.group(1) != "广东":
        return m.group()
    if m := p["gd_cities"].match(rest):
        return m.group()
    if (m := p["any_city"].match(rest)) and m.group(1) not in ("广州", *_FORMER_CITIES):
        return m.group()
    return None


def _strip_opening(text: str) -> tuple[str, bool]:
    """Text without 中国/广东省/广州市 openings, and whether 广州 was named."""
    rest = re.sub(r"^(中华人民共和国|中国)", "", text)
    rest = re.sub(r"^广东省?", "", rest)
    named = rest.startswith("广州")
    rest = re.sub(r"^广州市?(市辖区)?", "", rest)
    return rest, named


def parse_address(text: object) -> ParsedAddress:
    """Read district and 街道/镇 from one address (with or without 广东省/广州市; see module doc).

    Offline: no service is asked, nothing is geocoded.

    Parameters
    ----------
    text : str
        One address (full-width characters and spaces are normalised first).

    Returns
    -------
    ParsedAddress
        ``status`` (guangzhou, outside, unknown…), district name and code, 街道/镇 name and code
        when named, the place read and a note on any guess made.

    Examples
    --------
    >>> from gzspatial import parse_address
    >>> found = parse_address("广东省广州市天河区天河路385号")
    >>> found.status, found.district, found.district_code
    ('guangzhou', '天河区', '440106')
    """
    norm = normalize(text)
    if not re.search(r"[\u4e00-\u9fff]", norm):
        return ParsedAddress(norm, STATUS_UNKNOWN, note="no Chinese place name in the address")
    p = _patterns()
    rest, named_gz = _strip_opening(norm)
    if not named_gz and (place := _outside_opening(rest, p)):
        return ParsedAddress(norm, STATUS_OUTSIDE, place=place, note=f"address is in {place}, outside Guangzhou")
    regex, mentions = p["mentions"]
    found = [(m.group(), *mentions[m.group()]) for m in regex.finditer(norm)]  # 广州开发区 starts with 广州
    towns = [(m.group(), m.start()) for m in p["townships"].finditer(norm)]
    codes = {code for _, code, _ in found if code}
    notes = [note for _, code, note in found if code and note]
    if len(codes) > 1:
        # A district (or former name) written with its suffix outranks a zone or area name.
        named = {code for text, code, _ in found if code and text[-1] in _SUFFIXES + "市"}
        if len(named) == 1:
            codes = named
        else:
            listed = "、".join(dict.fromkeys(DISTRICTS[c][0] for c in sorted(codes)))
            return ParsedAddress(norm, STATUS_UNKNOWN, note=f"address names several districts ({listed}): not guessed")
    if not codes:
        ambiguous = [note for _, code, note in found if code is None]
        if ambiguous:
            return ParsedAddress(norm, STATUS_UNKNOWN, note=f"{ambiguous[0]}: district not guessed")
        code, note = _bare_district(rest, p)
        if code:
            codes, notes = {code}, [note]
    town = _township(towns, next(iter(codes)) if codes else None)
    if not codes and town is not None:
        codes, notes = {town[2]}, [f"district from {town[0]}"]
    if not codes:
        n_regex, neighbours = p["neighbours"]
        if m := n_regex.search(rest) or p["gd_cities"].search(rest):
            place = neighbours.get(m.group(), m.group())
            return ParsedAddress(norm, STATUS_OUTSIDE, place=place, note=f"address is in {place}, outside Guangzhou")
        why = "address is in Guangzhou but names no district" if named_gz else "address names no Guangzhou district"
        return ParsedAddress(norm, STATUS_UNKNOWN, note=why)
    code = next(iter(codes))
    name, town_code = (town[0], town[1]) if town is not None and town[2] == code else ("", "")
    return ParsedAddress(norm, STATUS_GUANGZHOU, DISTRICTS[code][0], code, name, town_code, "广州市", "; ".join(notes))


def _bare_district(rest: str, p) -> tuple[str | None, str]:
    """A district name without 区 at the start (天河五山路…), unless it begins a street or place name."""
    m = p["bare"].match(rest)
    if not m or rest[m.end() : m.end() + 1] in _NOT_DISTRICT_NEXT:
        return None, ""
    text = m.group()
    if text in _FORMER_COUNTIES:
        code = _FORMER_COUNTIES[text]
        return code, f"former {text}, now {DISTRICTS[code][0]}"
    if text in _FORMER:
        return _FORMER[text]
    return _CODE_OF[text], f"read {text} as {DISTRICTS[_CODE_OF[text]][0]}"


def _township(towns: list[tuple[str, int]], code: str | None) -> tuple[str, str, str] | None:
    """(name, code, district) of the first 街道/镇 named that fits ``code`` (or is unique when None)."""
    forms = _townships()
    for text, _count in towns:
        entries = forms[text]
        if code is not None:
            entries = [e for e in entries if e[2] == code]
        elif text.endswith("街") and not text.endswith("街道"):
            continue  # 'XX街' alone may be a street: only trusted beside a district
        if len(entries) == 1:
            return entries[0]
    return None


# --- join integration ---------------------------------------------------------------------

#: Column names taken as an address column when --address is not given.
ADDRESS_NAMES = ("地址", "注册地址", "经营地址", "详细地址", "通讯地址", "address")
ADDRESS_ONLY_NOTE = "district from the address; cores, nodes and axis need coordinates"


def address_candidates(columns, given: str | None = None) -> list[str]:
    """The address column given (which must exist), else the columns named like one."""
    columns = [str(c) for c in columns]
    if given is not None:
        if given not in columns:
            raise InputError(
                _("address column {given!r} not found; columns are: {columns}").format(
                    given=given, columns=", ".join(columns)
                )
            )
        return [given]
    return [c for c in columns if c.strip().lower() in ADDRESS_NAMES]


def _one_column(candidates: list[str]) -> str:
    if len(candidates) > 1:
        raise InputError(
            _("several address columns ({candidates}): choose one with --address (address=...)").format(
                candidates=", ".join(candidates)
            )
        )
    return candidates[0]


def parse_many(values) -> list[ParsedAddress]:
    """parse_address for a column, each distinct text parsed once."""
    texts = ["" if v is None else str(v) for v in values]
    cache: dict[str, ParsedAddress] = {}
    return [cache[t] if t in cache else cache.setdefault(t, parse_address(t)) for t in texts]


def district_names(options) -> dict[str, str]:
    """adcode → district name in the join's language, from the layers in use."""
    from gzspatial._engine import layout_index

    return {p["adcode"]: p.get(f"name_{options.lang}") or p["name_zh"]
            for p in layout_index(options.layers).districts.layer.properties}  # fmt: skip


def fill_from_addresses(columns: dict, lon, lat, addresses, candidates, *, options, coordinates: bool = True,
                        geocoder=None) -> tuple[dict, np.ndarray, np.ndarray]:  # fmt: skip
    """The join's hook: answer rows without usable coordinates from their address.

    ``columns`` are the gz_* columns of ``attribute.gz_columns`` (``options`` the join's Options);
    ``addresses`` the address column's values, ``candidates`` the address columns found. Rows with
    coordinates keep their answer (a note is added when the address names another district). Rows
    without (``coordinates=False``: the file has no coordinate columns) are geocoded when a
    ``geocoder`` finds them, else given the district read offline (status address_only), or
    ``outside``, or left as they were with a note. Returns (columns, WGS84 lon, lat).
    """
    from gzspatial.attribute import Coded

    status = columns["gz_status"].to_numpy().astype(object)
    unusable = np.isin(status, ("missing", "invalid"))
    if geocoder is not None:
        if not candidates:
            raise InputError(_("a geocoder needs an address column: name it with --address (address=...)"))
        columns = {**columns, **geocode_columns(len(status))}
    if not candidates or (len(candidates) > 1 and not unusable.any()):
        return columns, lon, lat
    _one_column(candidates)
    texts = np.array([_text(v) for v in addresses], dtype=object)
    out = {name: (values.to_numpy().astype(object) if isinstance(values, Coded) else values)
           for name, values in columns.items()}  # fmt: skip
    out["gz_status"] = status
    rows = np.flatnonzero(~unusable & (texts != ""))
    for row, parsed in zip(rows.tolist(), parse_many(texts[rows]), strict=True):
        _cross_check(out, row, parsed)
    todo = np.flatnonzero(unusable & (texts != ""))
    if geocoder is not None:
        todo = geocoder.fill(out, todo, texts, lon, lat, options=options, coordinates=coordinates)
    _place_offline(out, todo, texts, district_names(options), keep_notes=coordinates or geocoder is not None)
    if not coordinates:
        for row in np.flatnonzero(unusable & (texts == "")).tolist():
            out["gz_note"][row] = "no coordinates and no address"
    return {name: _as_coded(values) if values.dtype == object else values for name, values in out.items()}, lon, lat


def _place_offline(out: dict, rows: np.ndarray, texts: np.ndarray, names: dict, *, keep_notes: bool) -> None:
    """Rows placed by the district their address names (address_only), outside, or noted as not placed.

    ``keep_notes``: prefix the row's note so far (a coordinate problem, the geocoder's answer).
    """
    status, notes = out["gz_status"], out["gz_note"]
    for row, parsed in zip(rows.tolist(), parse_many(texts[rows]), strict=True):
        if parsed.status == STATUS_GUANGZHOU:
            out["gz_district"][row] = names.get(parsed.district_code, parsed.district)
            out["gz_district_code"][row] = parsed.district_code
            out["gz_subdistrict"][row] = parsed.subdistrict
            status[row] = "address_only"
            how = f" ({parsed.note})" if parsed.note else ""
            text = ADDRESS_ONLY_NOTE.replace("address;", f"address{how};")
        elif parsed.status == STATUS_OUTSIDE:
            status[row], text = "outside", parsed.note
        else:
            text = f"address not placed: {parsed.note}"
        notes[row] = "; ".join(filter(None, [notes[row] if keep_notes else "", text]))


def geocode_columns(n: int) -> dict:
    """Empty columns for a join with a geocoder (filled by Geocoder.fill)."""
    from gzspatial.geocode import GEOCODE_COLUMNS

    return {name: np.full(n, "", dtype=object) if name in ("gz_geocode_source", "gz_geocode_level")
            else np.full(n, np.nan) for name in GEOCODE_COLUMNS}  # fmt: skip


def _text(value) -> str:
    """A cell as text; None and NaN (empty Excel cells, GIS nulls) are blank."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()


def _cross_check(out: dict, row: int, parsed: ParsedAddress) -> None:
    """Note a row whose coordinates and address disagree (the coordinates' answer is kept)."""
    have = out["gz_district_code"][row]
    if parsed.status == STATUS_GUANGZHOU and have and parsed.district_code != have:
        text = f"address names {parsed.district}, coordinates lie in {out['gz_district'][row]}"
    elif parsed.status == STATUS_OUTSIDE and have:
        text = f"address is in {parsed.place}, coordinates lie in Guangzhou"
    else:
        return
    out["gz_note"][row] = "; ".join(filter(None, [out["gz_note"][row], text]))


def _as_coded(values: np.ndarray):
    import pandas as pd

    from gzspatial.attribute import Coded

    values = np.where(pd.isna(values), "", values).astype(object)
    codes, categories = pd.factorize(values)
    empty = np.flatnonzero(np.asarray(categories, dtype=object) == "")
    codes = codes.astype(np.int64)
    if empty.size:
        codes[codes == empty[0]] = -1
    return Coded(np.asarray(categories, dtype=object), codes)
