"""Tests of gzspatial.geocode against a local server (127.0.0.1) speaking each provider's protocol.

The server implements the documented request parameters and response shapes of Amap v3
geocode/geo, Baidu geocoding v3 and the Tianditu geocoder, including their error codes. It runs in
a thread for one test, answers at most MAX_REQUESTS requests and is shut down by the fixture.
"""

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from gzspatial import crs
from gzspatial._errors import InputError
from gzspatial.geocode import Cache, GeocodeError, Geocoder, clear_cache

from .conftest import invoke_cli

SITE = (113.3438, 23.1565)  # WGS84: 五山路381号 (华南理工大学), 天河区
KEY = "s3cr3t-KEY-9f2d"
MAX_REQUESTS = 200
ADDRESS = "天河区五山路381号"


class _State:
    def __init__(self):
        self.requests: list[tuple[str, dict]] = []
        self.seen: dict[str, int] = {}
        self.quota_left = 10**6


def _site_in(system):
    lon, lat = crs.transform(*SITE, "wgs84", system)
    return round(lon, 9), round(lat, 9)


def _amap(q, state):
    for name in ("key", "address"):
        if not q.get(name):
            return {"status": "0", "info": "MISSING_REQUIRED_PARAMS", "infocode": "20001"}
    if q["key"] != KEY and q["key"] != "limited":
        return {"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"}
    if state.quota_left <= 0:
        return {"status": "0", "info": "DAILY_QUERY_OVER_LIMIT", "infocode": "10003"}
    state.quota_left -= 1
    address = q["address"]
    lon, lat = _site_in("gcj02")
    one = {"formatted_address": "广东省广州市天河区五山路381号", "province": "广东省", "city": "广州市",
           "district": "天河区", "adcode": "440106", "location": f"{lon},{lat}", "level": "门牌号"}  # fmt: skip
    if "无此地址" in address:
        return {"status": "1", "info": "OK", "infocode": "10000", "count": "0", "geocodes": []}
    if "中山路" in address:
        other = {**one, "district": "越秀区", "adcode": "440104", "location": "113.27,23.13", "level": "道路"}
        return {"status": "1", "info": "OK", "infocode": "10000", "count": "2", "geocodes": [one, other]}
    if address.endswith("区"):  # a district alone: Amap answers at 区县 level
        return {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "geocodes": [{**one, "level": "区县"}]}
    return {"status": "1", "info": "OK", "infocode": "10000", "count": "1", "geocodes": [one]}


def _baidu(q, state):
    if not q.get("ak"):
        return {"status": 101, "message": "AK参数不存在"}
    if q["ak"] != KEY and q["ak"] != "limited":
        return {"status": 200, "message": "APP不存在，AK有误请检查再重试"}
    if state.quota_left <= 0:
        return {"status": 302, "message": "天配额超限，限制访问"}
    state.quota_left -= 1
    if q.get("output") != "json" or not q.get("address"):
        return {"status": 2, "message": "请求参数非法"}
    if "无此地址" in q["address"]:
        return {"status": 1, "msg": "Internal Service Error:无相关结果", "results": []}
    lon, lat = _site_in("gcj02" if q.get("ret_coordtype") == "gcj02ll" else "bd09")
    result = {"location": {"lng": lon, "lat": lat}, "precise": 1, "confidence": 80, "comprehension": 100,
              "level": "门址"}  # fmt: skip
    if "中山路" in q["address"]:
        result.update(precise=0, confidence=20, comprehension=30, level="道路")
    return {"status": 0, "result": result}


def _tianditu(q, state):
    if q.get("tk") != KEY:
        return 403, {"msg": "权限类型错误", "resolve": "请检查tk", "code": 12}
    ds = json.loads(q.get("ds") or "{}")
    keyword = ds.get("keyWord", "")
    if not keyword:
        return 200, {"msg": "keyWord参数错误", "status": "1"}
    if "无此地址" in keyword:
        return 200, {"msg": "无结果", "status": "1"}
    lon, lat = _site_in("cgcs2000")
    location = {"score": 96, "level": "门址", "lon": lon, "lat": lat, "keyWord": keyword}
    return 200, {"msg": "ok", "location": location, "searchVersion": "6.4.9V", "status": "0"}


@pytest.fixture
def server():
    state = _State()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if len(state.requests) >= MAX_REQUESTS:
                self.send_error(503)
                return
            path, _, query = self.path.partition("?")
            q = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
            state.requests.append((path, q))
            address = q.get("address") or json.loads(q.get("ds") or "{}").get("keyWord", "")
            state.seen[address] = state.seen.get(address, 0) + 1
            if "flaky" in address and state.seen[address] == 1:
                self.send_error(502)
                return
            if "slow" in address and state.seen[address] == 1:
                time.sleep(0.6)
            code, body = 200, None
            if path == "/amap/v3/geocode/geo":
                body = _amap(q, state)
            elif path == "/baidu/geocoding/v3/":
                body = _baidu(q, state)
            elif path == "/tianditu/geocoder":
                code, body = _tianditu(q, state)
            else:
                code, body = 404, {"error": "not found"}
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield base, state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def cache_file(tmp_path, monkeypatch):
    path = tmp_path / "cache" / "geocode.sqlite"
    monkeypatch.setenv("GZ_GEOCODE_CACHE", str(path))
    for name in ("GZ_AMAP_KEY", "GZ_BAIDU_AK", "GZ_TIANDITU_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


URLS = {"amap": "/amap/v3/geocode/geo", "baidu": "/baidu/geocoding/v3/", "tianditu": "/tianditu/geocoder"}


def _geocoder(server, provider, key=KEY, **kwargs):
    base, _ = server
    options = {"qps": 1000, "backoff": 0.01, "timeout": 2.0, **kwargs}
    return Geocoder(provider, key, url=base + URLS[provider], **options)


# --- providers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "options", "score"),
    [("amap", {}, None), ("baidu", {}, 80.0), ("baidu", {"coordtype": "gcj02ll"}, 80.0), ("tianditu", {}, 96.0)],
)
def test_each_provider_converted_exactly_to_wgs84(server, provider, options, score):
    answer = _geocoder(server, provider, **options).geocode(ADDRESS)
    result = answer.result
    assert result is not None and answer.note == ""
    assert abs(result.lon - SITE[0]) < 1e-7 and abs(result.lat - SITE[1]) < 1e-7
    assert (result.level, result.source, result.score, result.coarse) == ("house_number", provider, score, False)
    path, query = server[1].requests[-1]
    assert path == URLS[provider]
    if provider == "amap":
        assert query == {"key": KEY, "address": ADDRESS, "city": "广州市", "output": "JSON"}
    elif provider == "baidu":
        assert (
            query["ak"] == KEY and query["city"] == "广州市" and query.get("ret_coordtype") == options.get("coordtype")
        )
    else:
        assert json.loads(query["ds"]) == {"keyWord": "广州市" + ADDRESS} and query["tk"] == KEY


@pytest.mark.parametrize("provider", ["amap", "baidu", "tianditu"])
def test_no_result(server, provider):
    answer = _geocoder(server, provider).geocode("无此地址1号")
    assert answer.result is None and "no match" in answer.note


def test_ambiguous_results_are_not_used(server):
    amap = _geocoder(server, "amap").geocode("中山路")
    assert amap.result is None and "2 matches in different districts" in amap.note
    baidu = _geocoder(server, "baidu").geocode("中山路")
    assert baidu.result is None and "comprehension 30" in baidu.note


def test_coarse_level(server):
    result = _geocoder(server, "amap").geocode("天河区").result
    assert result.level == "district" and result.provider_level == "区县" and result.coarse


def test_retries_after_5xx_and_timeout(server):
    geocoder = _geocoder(server, "amap", timeout=0.3)
    assert geocoder.geocode("flaky天河区五山路1号").result is not None
    assert geocoder.geocode("slow天河区五山路2号").result is not None
    assert server[1].seen == {"flaky天河区五山路1号": 2, "slow天河区五山路2号": 2}
    assert geocoder.requests == 4


def test_unreachable_service_stops_clearly(server):
    geocoder = Geocoder("amap", KEY, url="http://127.0.0.1:9/none", qps=1000, backoff=0.01, timeout=0.5, retries=1)
    answer = geocoder.geocode(ADDRESS)
    assert answer.result is None and geocoder.stopped and "after 2 tries" in geocoder.stopped
    assert KEY not in geocoder.stopped


@pytest.mark.parametrize("provider", ["amap", "baidu", "tianditu"])
def test_invalid_key_stops(server, provider):
    geocoder = _geocoder(server, provider, key="wrong-key-123")
    first, second = geocoder.geocode(ADDRESS), geocoder.geocode("海珠区新港西路135号")
    assert first.result is None and "refused the key" in geocoder.stopped
    assert second.note == first.note and len(server[1].requests) == 1  # nothing sent after the stop


def test_rate_limit(server):
    geocoder = _geocoder(server, "amap", qps=20)
    start = time.monotonic()
    for i in range(5):
        geocoder.geocode(f"天河区五山路{i}号")
    assert time.monotonic() - start >= 4 / 20


def test_cache_keyed_by_provider_address_city(server, cache_file):
    geocoder = _geocoder(server, "amap")
    geocoder.geocode("天河区 五山路381号")
    geocoder.geocode("天河区五山路３８１号")  # same address once normalised
    geocoder.geocode("无此地址")
    assert geocoder.requests == 2 and geocoder.cache_hits == 1
    again = _geocoder(server, "amap")
    assert again.geocode("无此地址").note == "amap found no match" and again.requests == 0
    assert _geocoder(server, "baidu").geocode(ADDRESS).result.source == "baidu"  # not amap's answer
    uncached = _geocoder(server, "amap", cache=False)
    uncached.geocode(ADDRESS)
    assert uncached.requests == 1
    geocoder.close(), again.close()
    assert KEY.encode() not in cache_file.read_bytes()
    assert clear_cache()[1] == 3 and Cache().get("amap", "无此地址", "广州市") is None


def test_missing_key_and_unknown_provider(monkeypatch):
    with pytest.raises(InputError, match="amap needs a key: give --key or set GZ_AMAP_KEY"):
        Geocoder("amap")
    monkeypatch.setenv("GZ_BAIDU_AK", KEY)
    assert Geocoder("baidu", cache=False).provider.name == "baidu"
    with pytest.raises(InputError, match="not supported"):
        Geocoder("google", KEY)
    assert issubclass(GeocodeError, Exception)


# --- through the command line -------------------------------------------------------------

MIXED = [
    ("坐标", "113.3245", "23.1066", ""),
    ("仅地址", "", "", ADDRESS),
    ("两者", "113.3245", "23.1066", "天河区五山路381号"),
    ("粗略", "", "", "广州市天河区"),
    ("无结果", "", "", "海珠区无此地址1号"),
    ("皆无", "", "", ""),
    ("乱码", "abc", "xyz", "###"),
    ("外市", "", "", "深圳市南山区科技园"),
]


def _write_mixed(path):
    pd.DataFrame(MIXED, columns=["名称", "经度", "纬度", "地址"]).to_csv(path, index=False)


@pytest.mark.parametrize("out_name", ["out.csv", "out.xlsx"])
def test_cli_mixed_file(server, tmp_path, out_name, monkeypatch):
    source, output = tmp_path / "mixed.csv", tmp_path / out_name
    _write_mixed(source)
    monkeypatch.setenv("GZ_AMAP_KEY", KEY)
    base, state = server
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(output), "--geocoder", "amap",
                        "--geocoder-url", base + URLS["amap"], "--qps", "100")  # fmt: skip
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    back = (pd.read_excel if out_name.endswith(".xlsx") else pd.read_csv)(output, dtype=str, keep_default_na=False)
    assert list(back["名称"]) == [row[0] for row in MIXED] and list(back["地址"]) == [row[3] for row in MIXED]
    assert list(back["gz_status"]) == ["ok", "geocoded", "ok", "geocoded_coarse", "address_only", "missing",
                                       "invalid", "outside"]  # fmt: skip
    assert list(back["gz_geocode_source"]) == ["", "amap", "", "amap", "", "", "", ""]
    assert list(back["gz_geocode_level"])[:4] == ["", "house_number", "", "district"]
    geocoded = back.iloc[1]
    assert geocoded["gz_district"] == "天河区" and geocoded["gz_note"] == "geocoded by amap (门牌号)"
    assert abs(float(geocoded["gz_geocode_lon"]) - SITE[0]) < 1e-7 and geocoded["gz_nearest_node"] != ""
    coarse = back.iloc[3]
    assert coarse["gz_district"] == "天河区" and coarse["gz_nearest_node"] == "" and coarse["gz_core"] == ""
    assert "not a site" in coarse["gz_note"]
    assert back.iloc[4]["gz_district"] == "海珠区" and "amap found no match" in back.iloc[4]["gz_note"]
    assert "not geocoded: address is in 深圳市" in back.iloc[7]["gz_note"]
    assert len(state.requests) == 3  # 仅地址, 粗略, 无结果: rows with coordinates and 外市 are not sent
    assert "geocoded 1" in stderr and "geocoded_coarse 1" in stderr and "address_only 1" in stderr
    assert KEY not in stderr + result.stdout.decode() and KEY.encode() not in output.read_bytes()


def test_cli_quota_stop_then_resume(server, tmp_path, cache_file):
    source, output = tmp_path / "list.csv", tmp_path / "out.csv"
    addresses = [f"天河区五山路{i}号" for i in range(5)]
    pd.DataFrame({"地址": addresses}).to_csv(source, index=False)
    base, state = server
    state.quota_left = 2
    args = ("join", "--crs", "wgs84", str(source), "-o", str(output), "--geocoder", "amap", "--key", "limited",
            "--geocoder-url", base + URLS["amap"], "--qps", "100")  # fmt: skip
    first = invoke_cli(*args)
    stderr = first.stderr.decode()
    assert first.returncode == 2 and "geocoding stopped: amap quota exhausted (10003 DAILY_QUERY_OVER_LIMIT)" in stderr
    assert "Traceback" not in stderr and "limited" not in stderr
    back = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert list(back["gz_status"]) == ["geocoded", "geocoded", "address_only", "address_only", "address_only"]
    assert all("not geocoded: amap quota exhausted" in note for note in back["gz_note"][2:])
    assert len(state.requests) == 3  # two answers, then the refusal; nothing after the stop
    state.quota_left = 10
    second = invoke_cli(*args)
    assert second.returncode == 0, second.stderr.decode()
    assert "3 requests, 2 answers from the cache" in second.stderr.decode()
    assert list(pd.read_csv(output, dtype=str)["gz_status"]) == ["geocoded"] * 5
    assert b"limited" not in cache_file.read_bytes()


def test_cli_invalid_key_and_option_errors(server, tmp_path):
    source = tmp_path / "list.csv"
    _write_mixed(source)
    base, _ = server
    bad = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(tmp_path / "o.csv"), "--geocoder", "baidu",
                     "--key", "not-the-key", "--geocoder-url", base + URLS["baidu"])  # fmt: skip
    assert bad.returncode == 2 and "baidu refused the key (200" in bad.stderr.decode()
    assert "not-the-key" not in bad.stderr.decode() + bad.stdout.decode()
    assert (tmp_path / "o.csv").exists()  # written, with the rest flagged
    nokey = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(tmp_path / "p.csv"), "--geocoder", "tianditu")
    assert nokey.returncode == 2 and "GZ_TIANDITU_KEY" in nokey.stderr.decode()
    stray = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(tmp_path / "q.csv"), "--key", "abc")
    assert stray.returncode == 2 and "--key need(s) --geocoder" in stray.stderr.decode()


def test_cli_locate_address_and_cache_clear(server, cache_file):
    base, _ = server
    result = invoke_cli("locate", "--address", ADDRESS, "--geocoder", "tianditu", "--key", KEY, "--geocoder-url",
                        base + URLS["tianditu"], "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads(result.stdout)
    assert data["parsed"]["district"] == "天河区" and data["geocode"]["result"]["level"] == "house_number"
    assert data["location"]["district"]["adcode"] == "440106" and data["location"]["nearest_node"] is not None
    text = invoke_cli("locate", "--address", ADDRESS, "--geocoder", "tianditu", "--key", KEY, "--geocoder-url",
                      base + URLS["tianditu"])  # fmt: skip
    assert "tianditu: 113.343800, 23.156500 (WGS84), level house_number" in text.stdout.decode()
    assert "\nNearest " in text.stdout.decode() and KEY not in text.stdout.decode() + text.stderr.decode()
    cleared = invoke_cli("geocode-cache", "clear")
    assert cleared.returncode == 0 and "deleted 1 cached answers" in cleared.stderr.decode()


def test_bad_url_is_refused_and_errors_never_quote_the_key(server):
    with pytest.raises(InputError, match="not an http"):
        Geocoder("amap", KEY, url="ftp://example.invalid/geo")
    geocoder = _geocoder(server, "amap")
    geocoder.url = "http://127.0.0.1:bad-port/geo"  # urllib raises with the full URL in its message
    answer = geocoder.geocode(ADDRESS)
    assert answer.result is None and geocoder.stopped and KEY not in geocoder.stopped and KEY not in answer.note


def test_geojson_output_has_geocoded_points_only(server, tmp_path, monkeypatch):
    import geopandas as gpd

    source, output = tmp_path / "mixed.csv", tmp_path / "out.geojson"
    _write_mixed(source)
    monkeypatch.setenv("GZ_AMAP_KEY", KEY)
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(output), "--geocoder", "amap",
                        "--geocoder-url", server[0] + URLS["amap"], "--qps", "100")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    back = gpd.read_file(output)
    has_point = list(~back.geometry.isna())
    assert has_point == [True, True, True, False, False, False, False, False]  # coarse rows get no point
    assert abs(back.geometry.iloc[1].x - SITE[0]) < 1e-7


@pytest.mark.parametrize(("provider", "code"), [("amap", "10003 DAILY_QUERY_OVER_LIMIT"), ("baidu", "302 天配额超限")])
def test_quota_exhausted_stops(server, provider, code):
    server[1].quota_left = 0
    geocoder = _geocoder(server, provider, key="limited")
    answer = geocoder.geocode(ADDRESS)
    assert answer.result is None and geocoder.stopped.startswith(f"{provider} quota exhausted ({code}")


def test_debug_log_shows_requests_and_cache_hits_never_the_key(server):
    from tests.conftest import invoke_cli

    base, _ = server
    args = ("-vv", "locate", "--address", ADDRESS, "--geocoder", "tianditu", "--key", KEY, "--geocoder-url",
            base + URLS["tianditu"], "--json")  # fmt: skip
    first, second = invoke_cli(*args), invoke_cli(*args)
    assert first.returncode == second.returncode == 0, first.stderr.decode()
    assert "DEBUG gzspatial.geocode: tianditu: asking for" in first.stderr.decode()
    assert "answered from the cache" in second.stderr.decode() and "asking for" not in second.stderr.decode()
    assert KEY not in (first.stderr + second.stderr + first.stdout).decode()
    assert json.loads(second.stdout) == json.loads(first.stdout)
