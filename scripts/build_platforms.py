"""Regenerate data/geojson/platforms.geojson: the innovation platforms the plan names.

Names, kinds and levels come from the plan's sections 一, 三, 五, 六 and 九 (../shared/seed/).
The plan gives no addresses, so every location is APPROXIMATE: a point on the host institution's
publicly known campus or site (WGS84, to about 0.5 km), or, where the site is not known, the
centre of the layout feature the plan ties it to (said in `source`). `precision` says so.

    python scripts/build_platforms.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import shapely

from gzspatial._geojson import write_feature_collection
from gzspatial.layers import read_layers

ROOT = Path(__file__).resolve().parents[1]
PLAN = "广州市科技创新“十四五”规划（2021—2025年）（征求意见稿）"
LAB = f"{PLAN} 五（一）1 / 重大工程1 实验室体系建设工程"
TIC = f"{PLAN} 五（一）2 / 重大工程2 国家技术创新中心建设工程"
FAC = f"{PLAN} 五（一）3 / 重大工程3 重大科技基础设施建设工程"
INST = f"{PLAN} 五（一）4 / 重大工程4 高水平科研院所建设工程"
IND = f"{PLAN} 六（一）3 / 重大工程5 产业技术创新平台建设工程"
JOINT = f"{PLAN} 九 / 重大工程10 穗港澳协同创新机制构建工程: 粤港澳联合实验室"
TRANS = f"{PLAN} 六（二）1 / 重大工程6 科技成果转化平台建设工程"
UNIV = f"{PLAN} 三（一）专栏 “一轴”重点建设内容 / 五（三）"

# Known sites (WGS84 lon, lat): campuses and landmarks the platforms sit on or near.
SITES = {
    "bio-island": ((113.369, 23.067), "广州国际生物岛 (官洲岛)"),
    "sysu-south": ((113.298, 23.097), "中山大学 南校区 (海珠)"),
    "sysu-east": ((113.393, 23.065), "中山大学 东校区 (广州大学城)"),
    "scut-wushan": ((113.344, 23.154), "华南理工大学 五山校区 (天河)"),
    "scau": ((113.357, 23.161), "华南农业大学 (天河 五山)"),
    "jnu": ((113.348, 23.130), "暨南大学 石牌校区 (天河)"),
    "gdut-hemc": ((113.397, 23.041), "广东工业大学 大学城校区"),
    "gzucm-hemc": ((113.404, 23.058), "广州中医药大学 大学城校区"),
    "gzhmu": ((113.265, 23.128), "广州医科大学附属第一医院 (越秀)"),
    "gig-cas": ((113.352, 23.147), "中国科学院广州地球化学研究所 (天河 五山)"),
    "pazhou": ((113.381, 23.098), "琶洲 (海珠)"),
    "hkust-gz": ((113.490, 22.895), "香港科技大学（广州）(南沙 庆盛)"),
    "ucas-gz": ((113.560, 22.785), "中国科学院大学广州学院 (南沙 明珠科学园)"),
    "gzhu-nansha": ((113.540, 22.770), "广州大学南沙校区 (approximate)"),
    "gdou-nansha": ((113.600, 22.765), "广东海洋大学广州（南沙）研究生院 (approximate)"),
    "nansha-port": ((113.650, 22.700), "南沙港区 (ship home port, approximate)"),
    "nscs": ((113.392, 23.066), "国家超级计算广州中心 (中山大学 东校区, 广州大学城)"),
}

# (id, name_zh, name_en, type, level, seed_ref, where): where is a SITES key or a layout feature id.
PLATFORMS = [
    ("guangzhou-laboratory", "广州实验室", "Guangzhou Laboratory", "laboratory", "national", LAB, "bio-island"),
    (
        "pengcheng-lab-guangzhou",
        "鹏城国家实验室广州基地",
        "Peng Cheng Laboratory Guangzhou Base",
        "laboratory",
        "national",
        LAB,
        "pazhou",
    ),
    (
        "zhangjiang-lab-guangzhou",
        "张江国家实验室广州基地（争取建设）",
        "Zhangjiang Laboratory Guangzhou Base (sought)",
        "laboratory",
        "national",
        LAB,
        "science-city",
    ),
    ("bioland-laboratory", "生物岛实验室", "Bioland Laboratory", "laboratory", "provincial", LAB, "bio-island"),
    (
        "southern-marine-lab",
        "南方海洋科学与工程广东省实验室（广州）",
        "Southern Marine Science and Engineering Guangdong Laboratory (Guangzhou)",
        "laboratory",
        "provincial",
        LAB,
        "mingzhu-science-park",
    ),
    (
        "pazhou-lab",
        "人工智能与数字经济广东省实验室（广州）",
        "Guangdong Laboratory of AI and Digital Economy (Guangzhou, Pazhou Lab)",
        "laboratory",
        "provincial",
        LAB,
        "pazhou",
    ),
    (
        "lingnan-agri-lab",
        "岭南现代农业科学与技术广东省实验室",
        "Lingnan Modern Agriculture Science and Technology Guangdong Laboratory",
        "laboratory",
        "provincial",
        LAB,
        "scau",
    ),
    (
        "gba-national-tic",
        "粤港澳大湾区国家技术创新中心",
        "GBA National Technology Innovation Center",
        "technology_innovation_center",
        "national",
        TIC,
        "science-city",
    ),
    (
        "new-display-tic",
        "国家新型显示技术创新中心",
        "National New Display Technology Innovation Center",
        "technology_innovation_center",
        "national",
        TIC,
        "zengcheng-economic-dev",
    ),
    (
        "cell-lineage-facility",
        "人类细胞谱系大科学研究设施",
        "Human Cell Lineage Research Facility",
        "major_facility",
        "national",
        FAC,
        "bio-island",
    ),
    (
        "cold-seep-facility",
        "冷泉生态系统研究装置",
        "Cold Seep Ecosystem Research Facility",
        "major_facility",
        "national",
        FAC,
        "mingzhu-science-park",
    ),
    (
        "hypersonic-wind-tunnel",
        "动态宽域高超声速风洞",
        "Dynamic Wide-range Hypersonic Wind Tunnel",
        "major_facility",
        "national",
        FAC,
        "nansha-science-city",
    ),
    (
        "extreme-ocean-facility",
        "极端海洋动态过程多尺度自主观测科考设施",
        "Multi-scale Autonomous Observation Facility for Extreme Ocean Dynamics",
        "major_facility",
        "national",
        FAC,
        "nansha-science-city",
    ),
    (
        "national-supercomputing-gz",
        "国家超级计算广州中心",
        "National Supercomputer Center in Guangzhou",
        "major_facility",
        "national",
        FAC,
        "nscs",
    ),
    (
        "shiyan-6",
        "新型地球物理综合科学考察船（“实验6”号）",
        "Geophysical research vessel Shiyan 6",
        "major_facility",
        "national",
        FAC,
        "nansha-port",
    ),
    (
        "drilling-vessel",
        "天然气水合物钻采船（大洋钻探船）",
        "Gas hydrate drilling vessel (ocean drilling ship)",
        "major_facility",
        "national",
        FAC,
        "nansha-port",
    ),
    (
        "aviation-tyre-facility",
        "航空轮胎动力学大科学装置",
        "Aviation Tyre Dynamics Facility",
        "major_facility",
        "national",
        FAC,
        "science-city",
    ),
    ("huiyan-facility", "慧眼大设施", "Huiyan Facility", "major_facility", "national", FAC, "science-city"),
    (
        "nano-institute",
        "广东粤港澳大湾区国家纳米科技创新研究院",
        "GBA National Institute for Nanotechnology Innovation",
        "research_institute",
        "provincial",
        INST,
        "science-city",
    ),
    (
        "aerospace-institute",
        "广东空天科技研究院",
        "Guangdong Aerospace Research Academy",
        "research_institute",
        "provincial",
        INST,
        "nansha-science-city",
    ),
    (
        "unmanned-systems-institute",
        "广东智能无人系统研究院",
        "Guangdong Institute of Intelligent Unmanned Systems",
        "research_institute",
        "provincial",
        INST,
        "nansha-science-city",
    ),
    (
        "precision-medicine-institute",
        "粤港澳大湾区精准医学研究院（广州）",
        "GBA Institute of Precision Medicine (Guangzhou)",
        "research_institute",
        "provincial",
        INST,
        "wanqingsha-precision-medicine",
    ),
    (
        "aircas-gba",
        "中国科学院空天信息研究院粤港澳大湾区研究院",
        "AIRCAS Guangdong-HK-Macao GBA Research Institute",
        "research_institute",
        "provincial",
        INST,
        "science-city",
    ),
    (
        "ic-institute",
        "广东省大湾区集成电路与系统应用研究院",
        "GBA Institute of Integrated Circuits and Systems",
        "research_institute",
        "provincial",
        INST,
        "knowledge-city",
    ),
    (
        "huangpu-materials-institute",
        "中科院长春应化所黄埔先进材料研究院",
        "Huangpu Institute of Materials (CIAC, CAS)",
        "research_institute",
        "provincial",
        INST,
        "huangpu-yunpu",
    ),
    (
        "hard-tech-institute",
        "广东粤港澳大湾区硬科技创新研究院",
        "GBA Hard Technology Innovation Institute",
        "research_institute",
        "provincial",
        INST,
        "science-city",
    ),
    (
        "corrosion-institute",
        "广东腐蚀科学与技术创新研究院",
        "Guangdong Institute of Corrosion Science and Technology",
        "research_institute",
        "provincial",
        INST,
        "science-city",
    ),
    (
        "collaborative-innovation-institute",
        "广东粤港澳大湾区协同创新研究院",
        "GBA Collaborative Innovation Institute",
        "research_institute",
        "provincial",
        INST,
        "nansha-science-city",
    ),
    (
        "casia-ai-institute",
        "中国科学院自动化研究所广州人工智能与先进计算研究院",
        "Guangzhou Institute of AI and Advanced Computing (CASIA)",
        "research_institute",
        "provincial",
        INST,
        "qingsheng-base",
    ),
    (
        "polymer-innovation-center",
        "国家先进高分子材料产业创新中心",
        "National Advanced Polymer Materials Innovation Center",
        "industrial_innovation_center",
        "national",
        IND,
        "science-city",
    ),
    (
        "south-sea-research-center",
        "南海科学国家研究中心（创建）",
        "National Research Center for South China Sea Science (proposed)",
        "industrial_innovation_center",
        "national",
        IND,
        "nansha-science-city",
    ),
    (
        "gas-hydrate-center",
        "天然气水合物勘查开发国家工程研究中心（创建）",
        "National Engineering Research Center of Gas Hydrate Exploration and Development (proposed)",
        "industrial_innovation_center",
        "national",
        IND,
        "nansha-science-city",
    ),
    (
        "joint-lab-optoelectronic",
        "粤港澳光电磁功能材料联合实验室",
        "GBA Joint Laboratory of Optoelectronic and Magnetic Functional Materials",
        "joint_laboratory",
        "provincial",
        JOINT,
        "sysu-south",
    ),
    (
        "joint-lab-discrete-manufacturing",
        "粤港澳离散制造智能化联合实验室",
        "GBA Joint Laboratory of Intelligent Discrete Manufacturing",
        "joint_laboratory",
        "provincial",
        JOINT,
        "gdut-hemc",
    ),
    (
        "joint-lab-respiratory",
        "粤港澳呼吸系统传染病联合实验室",
        "GBA Joint Laboratory of Respiratory Infectious Diseases",
        "joint_laboratory",
        "provincial",
        JOINT,
        "gzhmu",
    ),
    (
        "joint-lab-kidney",
        "粤港慢性肾病免疫与遗传研究联合实验室",
        "Guangdong-HK Joint Laboratory on Immunological and Genetic Kidney Diseases",
        "joint_laboratory",
        "provincial",
        JOINT,
        "sysu-south",
    ),
    (
        "joint-lab-pollution-control",
        "粤港澳大湾区环境污染过程与控制联合实验室",
        "GBA Joint Laboratory of Environmental Pollution and Control",
        "joint_laboratory",
        "provincial",
        JOINT,
        "gig-cas",
    ),
    (
        "joint-lab-environment-quality",
        "粤港澳环境质量协同创新联合实验室",
        "GBA Joint Laboratory for Environmental Quality",
        "joint_laboratory",
        "provincial",
        JOINT,
        "jnu",
    ),
    (
        "joint-lab-quantum-matter",
        "粤港量子物质联合实验室",
        "Guangdong-HK Joint Laboratory of Quantum Matter",
        "joint_laboratory",
        "provincial",
        JOINT,
        "sysu-east",
    ),
    (
        "joint-lab-rna",
        "粤港RNA医学联合实验室",
        "Guangdong-HK Joint Laboratory of RNA Medicine",
        "joint_laboratory",
        "provincial",
        JOINT,
        "sysu-east",
    ),
    (
        "joint-lab-tcm-immunity",
        "粤港澳中医药与免疫疾病研究联合实验室",
        "GBA Joint Laboratory of Chinese Medicine and Immune Diseases",
        "joint_laboratory",
        "provincial",
        JOINT,
        "gzucm-hemc",
    ),
    (
        "joint-lab-pollutant-health",
        "粤港澳污染物暴露与健康联合实验室",
        "GBA Joint Laboratory of Pollutant Exposure and Health",
        "joint_laboratory",
        "provincial",
        JOINT,
        "gdut-hemc",
    ),
    (
        "hkust-gz",
        "香港科技大学（广州）",
        "The Hong Kong University of Science and Technology (Guangzhou)",
        "university",
        "national",
        UNIV,
        "hkust-gz",
    ),
    (
        "ucas-guangzhou",
        "中国科学院大学广州学院",
        "University of Chinese Academy of Sciences, Guangzhou",
        "university",
        "national",
        UNIV,
        "ucas-gz",
    ),
    (
        "gzhu-nansha",
        "广州大学南沙校区",
        "Guangzhou University, Nansha campus",
        "university",
        "municipal",
        UNIV,
        "gzhu-nansha",
    ),
    (
        "gdou-nansha",
        "广东海洋大学广州（南沙）研究生院",
        "Guangdong Ocean University Graduate School (Nansha)",
        "university",
        "provincial",
        UNIV,
        "gdou-nansha",
    ),
    ("scut", "华南理工大学", "South China University of Technology", "university", "national", UNIV, "scut-wushan"),
    (
        "scau-university",
        "华南农业大学",
        "South China Agricultural University",
        "university",
        "provincial",
        UNIV,
        "scau",
    ),
    ("sysu", "中山大学", "Sun Yat-sen University", "university", "national", UNIV, "sysu-south"),
    ("jnu-university", "暨南大学", "Jinan University", "university", "national", UNIV, "jnu"),
    (
        "gzucm",
        "广州中医药大学",
        "Guangzhou University of Chinese Medicine",
        "university",
        "provincial",
        UNIV,
        "gzucm-hemc",
    ),
    (
        "transfer-base-scut",
        "环华工科技成果转化基地（广州（国际）科技成果转化天河基地）",
        "Technology transfer base around SCUT (Tianhe)",
        "transfer_base",
        "municipal",
        TRANS,
        "scut-wushan",
    ),
    (
        "transfer-base-university-town",
        "环大学城科技成果转化基地",
        "Technology transfer base around University Town",
        "transfer_base",
        "municipal",
        TRANS,
        "panyu-smart-city-park",
    ),
    (
        "transfer-base-sysu",
        "环中大科技成果转化基地",
        "Technology transfer base around SYSU",
        "transfer_base",
        "municipal",
        TRANS,
        "sysu-innovation-valley",
    ),
    (
        "transfer-base-nansha",
        "南沙科技成果转化基地",
        "Nansha technology transfer base",
        "transfer_base",
        "municipal",
        TRANS,
        "qingsheng-base",
    ),
]


def _locate(where: str, features: dict[str, tuple[dict, shapely.Geometry]]) -> tuple[shapely.Point, str]:
    if where in SITES:
        (lon, lat), name = SITES[where]
        return shapely.Point(lon, lat), f"placed at the publicly known site of {name}"
    props, geometry = features[where]
    point = geometry.representative_point()
    return point, (f"exact site not known: placed inside {props['name_zh']} ({where}), the layout feature the "
                   "plan ties it to")  # fmt: skip


def build(out: Path, generated: str) -> None:
    layers = read_layers()
    features = {p["id"]: (p, g) for name in ("cores", "nodes")
                for p, g in zip(layers[name].properties, layers[name].geometries, strict=True)}  # fmt: skip
    out_features = []
    for pid, name_zh, name_en, kind, level, seed_ref, where in PLATFORMS:
        point, how = _locate(where, features)
        props = {"id": pid, "name_zh": name_zh, "name_en": name_en, "aliases": [], "type": kind, "level": level,
                 "seed_ref": seed_ref, "precision": "approximate",
                 "source": f"APPROXIMATE location: {how}; WGS84, about 0.5 km"}  # fmt: skip
        out_features.append((props, point))
    ids = [p["id"] for p, _ in out_features]
    assert len(ids) == len(set(ids)), "duplicate platform ids"
    metadata = {
        "source": f"{PLAN}, sections 一, 三, 五, 六 and 九 (names, kinds, levels); locations approximate",
        "precision": "approximate: see each feature's 'source'",
        "license": "CC0 (gzspatial's own approximation)",
        "generated": generated,
        "script": "scripts/build_platforms.py",
    }
    write_feature_collection(out / "platforms.geojson", out_features, name="platforms", metadata=metadata)
    print(f"wrote {len(out_features)} platforms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "geojson")
    parser.add_argument("--generated", default=str(np.datetime64("today")))
    args = parser.parse_args()
    build(args.out, args.generated)


if __name__ == "__main__":
    main()
